"""The emulated Discord's world: one application, one server, its channels, roles and members."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

DISCORD_EPOCH_MS = 1_420_070_400_000
TOKEN = "MTAwMDAwMDAwMDAwMDAwMDAx.e2e-emulator.not-a-real-token"

APP_ID = 100_000_000_000_000_001  # a bot user's id is its application's id
OWNER_ID = 100_000_000_000_000_009
GUILD_ID = 200_000_000_000_000_001  # the @everyone role shares the server's id
GENERAL_CHANNEL_ID = 300_000_000_000_000_001
DIGEST_CHANNEL_ID = 300_000_000_000_000_002
MOD_ROLE_ID = 400_000_000_000_000_001
MEMBER_ROLE_ID = 400_000_000_000_000_002
DIGEST_ROLE_ID = 400_000_000_000_000_003  # members opt into it to be pinged with the digest
# A second server (only in a World made with second_guild=True): its own channels, no roles.
OTHER_GUILD_ID = 200_000_000_004_194_305  # GUILD_ID + 2**22: the other shard of two
OTHER_GENERAL_CHANNEL_ID = 300_000_000_000_000_011
OTHER_DIGEST_CHANNEL_ID = 300_000_000_000_000_012

# Permission bits (https://discord.com/developers/docs/topics/permissions).
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
ADD_REACTIONS = 1 << 6
USE_APPLICATION_COMMANDS = 1 << 31
MANAGE_GUILD = 1 << 5
ADMINISTRATOR = 1 << 3
EVERYONE_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_APPLICATION_COMMANDS
)
# Privileged gateway intents: the emulated application has none of them enabled in its portal.
GUILD_MESSAGES_INTENT = 1 << 9
GUILD_MEMBERS_INTENT = 1 << 1
GUILD_PRESENCES_INTENT = 1 << 8
MESSAGE_CONTENT_INTENT = 1 << 15
PRIVILEGED_INTENTS = GUILD_MEMBERS_INTENT | GUILD_PRESENCES_INTENT | MESSAGE_CONTENT_INTENT


class Snowflakes:
    """Discord-shaped ids: milliseconds since 2015 in the high bits, a counter in the low ones."""

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._lock = threading.Lock()

    def next(self) -> int:
        """Return a new unique snowflake."""
        with self._lock:
            increment = next(self._counter) & 0xFFF
        return ((int(time.time() * 1000) - DISCORD_EPOCH_MS) << 22) | increment


def iso_now() -> str:
    """Return the current time as Discord writes timestamps."""
    return datetime.now(UTC).isoformat()


def user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    """Return a user object."""
    return {
        "id": str(user_id),
        "username": name,
        "global_name": None if bot else name.title(),
        "discriminator": "0",
        "avatar": None,
        "bot": bot,
        "public_flags": 0,
    }


@dataclass(frozen=True)
class Person:
    """A server member the tests act as: their roles and their computed channel permissions."""

    user_id: int
    name: str
    role_ids: tuple[int, ...] = ()
    permissions: int = EVERYONE_PERMISSIONS

    def member(self, *, with_permissions: bool = False) -> dict[str, Any]:
        """Return the member object (interactions add the computed `permissions`)."""
        payload: dict[str, Any] = {
            "user": user(self.user_id, self.name),
            "roles": [str(r) for r in self.role_ids],
            "nick": None,
            "avatar": None,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "pending": False,
            "flags": 0,
        }
        if with_permissions:
            payload["permissions"] = str(self.permissions)
        return payload


FIRST_MEMBER_ID = 500_000_000_000_000_000
MEMBERS_MAX = 100_000  # member_person(n) for n below this is a member of the server


def member_person(n: int) -> Person:
    """Return the n-th ordinary member (no moderator role, no Manage Server)."""
    return Person(FIRST_MEMBER_ID + n, f"member{n}", (MEMBER_ROLE_ID,))


# A moderator only through NEWSBOT_MODERATOR_ROLE_IDS: no Manage Server permission.
MODERATOR = Person(600_000_000_000_000_001, "moderator", (MOD_ROLE_ID,))
ADMIN = Person(OWNER_ID, "owner", (), EVERYONE_PERMISSIONS | ADMINISTRATOR | MANAGE_GUILD)


def known_person(user_id: int) -> Person | None:
    """Return the server member with this id, or None (nobody else exists in this world)."""
    if 0 <= user_id - FIRST_MEMBER_ID < MEMBERS_MAX:
        return member_person(user_id - FIRST_MEMBER_ID)
    return next((p for p in (MODERATOR, ADMIN) if p.user_id == user_id), None)


@dataclass
class World:
    """The application, bot user and server the emulator serves, and the bot's DM channels."""

    token: str = TOKEN
    second_guild: bool = False  # a second server, for tests of what each server sees
    ids: Snowflakes = field(default_factory=Snowflakes)
    _dms: dict[int, dict[str, Any]] = field(default_factory=dict)  # by recipient id
    _closed_dms: set[int] = field(default_factory=set)  # members who accept no DMs from the bot
    _threads: dict[int, dict[str, Any]] = field(default_factory=dict)  # threads started, by id
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def bot_user(self) -> dict[str, Any]:
        """Return the bot's user object."""
        return user(APP_ID, "newsbot-e2e", bot=True) | {"verified": True, "mfa_enabled": False}

    def application(self) -> dict[str, Any]:
        """Return the application object `GET /oauth2/applications/@me` sends."""
        return {
            "id": str(APP_ID),
            "name": "newsbot-e2e",
            "icon": None,
            "description": "emulated application",
            "rpc_origins": [],
            "bot_public": False,
            "bot_require_code_grant": False,
            "bot": self.bot_user(),
            "owner": user(OWNER_ID, "owner"),
            "verify_key": "0" * 64,
            "team": None,
            "flags": 0,  # no privileged intent is enabled for this application
            "summary": "",
        }

    def guild_ids(self) -> tuple[int, ...]:
        """Return the servers the bot is in."""
        return (GUILD_ID, OTHER_GUILD_ID) if self.second_guild else (GUILD_ID,)

    def guild_of(self, channel_id: int) -> int:
        """Return the server a channel belongs to (the first server for DMs and unknowns)."""
        for guild_id in self.guild_ids():
            if any(int(c["id"]) == channel_id for c in self.channels(guild_id)):
                return guild_id
        thread = self.thread(channel_id)
        return int(thread["guild_id"]) if thread else GUILD_ID

    def roles(self, guild_id: int = GUILD_ID) -> list[dict[str, Any]]:
        """Return a server's roles: @everyone, a moderator role and a member role (the second
        server has @everyone only)."""
        if guild_id == OTHER_GUILD_ID:
            return [_role(OTHER_GUILD_ID, "@everyone", EVERYONE_PERMISSIONS, 0)]
        return [
            _role(GUILD_ID, "@everyone", EVERYONE_PERMISSIONS, 0),
            _role(MOD_ROLE_ID, "Moderators", 0, 2),
            _role(MEMBER_ROLE_ID, "Members", 0, 1),
            _role(DIGEST_ROLE_ID, "Digest readers", 0, 1) | {"mentionable": True},
        ]

    def channels(self, guild_id: int = GUILD_ID) -> list[dict[str, Any]]:
        """Return a server's text channels."""
        if guild_id == OTHER_GUILD_ID:
            return [
                _text_channel(OTHER_GENERAL_CHANNEL_ID, "other-general", 0),
                _text_channel(OTHER_DIGEST_CHANNEL_ID, "other-digest", 1),
            ]
        return [
            _text_channel(GENERAL_CHANNEL_ID, "general", 0),
            _text_channel(DIGEST_CHANNEL_ID, "ai-news-digest", 1),
        ]

    def channel(self, channel_id: int) -> dict[str, Any] | None:
        """Return one channel object (with its guild_id, as REST sends it), or None."""
        for guild_id in self.guild_ids():
            for channel in self.channels(guild_id):
                if int(channel["id"]) == channel_id:
                    return channel | {"guild_id": str(guild_id)}
        with self._lock:
            if channel_id in self._threads:
                return dict(self._threads[channel_id])
            return next((dict(c) for c in self._dms.values() if int(c["id"]) == channel_id), None)

    def add_thread(self, thread: dict[str, Any]) -> None:
        """Keep a thread the bot started: it is a channel messages and commands can be in."""
        with self._lock:
            self._threads[int(thread["id"])] = dict(thread)

    def thread(self, channel_id: int) -> dict[str, Any] | None:
        """Return a thread by id, or None."""
        with self._lock:
            found = self._threads.get(channel_id)
        return dict(found) if found else None

    def open_dm(self, person: Person) -> dict[str, Any]:
        """Return the bot's DM channel with a member, creating it once (Discord reuses it)."""
        with self._lock:
            if person.user_id not in self._dms:
                self._dms[person.user_id] = {
                    "id": str(self.ids.next()),
                    "type": 1,  # DM
                    "last_message_id": None,
                    "recipients": [user(person.user_id, person.name)],
                    "flags": 0,
                }
            return dict(self._dms[person.user_id])

    def dm_channel_id(self, user_id: int) -> int | None:
        """Return the id of the bot's DM channel with a member, or None if never opened."""
        with self._lock:
            channel = self._dms.get(user_id)
        return int(channel["id"]) if channel else None

    def dm_recipient(self, channel_id: int) -> int | None:
        """Return the member a DM channel reaches, or None for a server channel."""
        with self._lock:
            for user_id, channel in self._dms.items():
                if int(channel["id"]) == channel_id:
                    return user_id
        return None

    def set_dms_closed(self, user_id: int, closed: bool = True) -> None:
        """Make a member refuse (or accept again) direct messages from the bot."""
        with self._lock:
            (self._closed_dms.add if closed else self._closed_dms.discard)(user_id)

    def dms_closed(self, user_id: int) -> bool:
        """Return True when a member does not accept DMs from the bot."""
        with self._lock:
            return user_id in self._closed_dms

    def guild_create(self, guild_id: int = GUILD_ID) -> dict[str, Any]:
        """Return the full GUILD_CREATE payload of a server."""
        bot_member = Person(APP_ID, "newsbot-e2e").member() | {"user": self.bot_user()}
        members = [bot_member, MODERATOR.member(), ADMIN.member(), member_person(0).member()]
        if guild_id == OTHER_GUILD_ID:
            members = [bot_member, ADMIN.member(), member_person(0).member()]
        return {
            "id": str(guild_id),
            "name": "newsbot e2e server" if guild_id == GUILD_ID else "another e2e server",
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "owner_id": str(OWNER_ID),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 0,
            "roles": self.roles(guild_id),
            "emojis": [],
            "stickers": [],
            "features": [],
            "mfa_level": 0,
            "application_id": None,
            "system_channel_id": self.channels(guild_id)[0]["id"],
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": "en-US",
            "public_updates_channel_id": None,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": False,
            "joined_at": "2024-01-01T00:00:00+00:00",
            "large": False,
            "unavailable": False,
            "member_count": len(members),
            "voice_states": [],
            "members": members,
            "channels": self.channels(guild_id),
            "threads": [],
            "presences": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
        }

    def ready(self, session_id: str, resume_url: str) -> dict[str, Any]:
        """Return the READY payload: the bot user, the server as unavailable, the application."""
        return {
            "v": 10,
            "user": self.bot_user(),
            "guilds": [{"id": str(g), "unavailable": True} for g in self.guild_ids()],
            "session_id": session_id,
            "resume_gateway_url": resume_url,
            "application": {"id": str(APP_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "user_settings": {},
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "_trace": ["newsbot-e2e-emulator"],
        }


def _role(role_id: int, name: str, permissions: int, position: int) -> dict[str, Any]:
    """Return a role object."""
    return {
        "id": str(role_id),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "icon": None,
        "unicode_emoji": None,
        "position": position,
        "permissions": str(permissions),
        "managed": False,
        "mentionable": False,
        "flags": 0,
    }


def _text_channel(channel_id: int, name: str, position: int) -> dict[str, Any]:
    """Return a guild text channel object (everyone may read and write)."""
    return {
        "id": str(channel_id),
        "type": 0,
        "name": name,
        "position": position,
        "parent_id": None,
        "topic": None,
        "nsfw": False,
        "last_message_id": None,
        "rate_limit_per_user": 0,
        "permission_overwrites": [],
        "flags": 0,
    }
