"""Threads: `POST /channels/{id}/threads`, `POST /channels/{id}/messages/{id}/threads`, and the
THREAD_CREATE dispatch that follows, with the limits and refusals Discord applies."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from tests.e2e.emulator.fields import Problem, required_text
from tests.e2e.emulator.interactions import Refusal
from tests.e2e.emulator.messages import MessageStore
from tests.e2e.emulator.replies import Reply
from tests.e2e.emulator.world import APP_ID, World, iso_now

ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD = 10, 11, 12
THREAD_TYPES = {ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD}
TEXT_CHANNEL = 0
THREAD_NAME_MAX = (
    100  # https://discord.com/developers/docs/resources/channel#start-thread-from-message
)
ARCHIVE_MINUTES = (60, 1440, 4320, 10080)
SLOWMODE_MAX = 21600
FROM_MESSAGE_FIELDS = {"name", "auto_archive_duration", "rate_limit_per_user"}
WITHOUT_MESSAGE_FIELDS = FROM_MESSAGE_FIELDS | {"type", "invitable"}

THREAD_EXISTS = Refusal(
    400, {"message": "A thread has already been created for this message", "code": 160004}
)
WRONG_CHANNEL_TYPE = Refusal(
    400, {"message": "Cannot execute action on this channel type", "code": 50024}
)

Dispatch = Callable[[str, dict[str, Any]], Awaitable[object]]


def thread_problems(body: object, fields: set[str]) -> list[Problem]:
    """Return every reason Discord would refuse a thread's creation body."""
    if not isinstance(body, Mapping):
        return [Problem((), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")]
    problems = [Problem((k,), "UNKNOWN_FIELD", "Unknown field.") for k in body if k not in fields]
    problems += required_text(("name",), body.get("name"), THREAD_NAME_MAX)
    if isinstance(body.get("name"), str) and "\n" in body["name"]:
        problems.append(Problem(("name",), "BASE_TYPE_BAD_NAME", "Names cannot hold new lines."))
    duration = body.get("auto_archive_duration")
    if duration is not None and duration not in ARCHIVE_MINUTES:
        choices = ", ".join(map(str, ARCHIVE_MINUTES))
        message = f"Value must be one of ({choices})."
        problems.append(Problem(("auto_archive_duration",), "BASE_TYPE_CHOICES", message))
    slowmode = body.get("rate_limit_per_user")
    if slowmode is not None and not (isinstance(slowmode, int) and 0 <= slowmode <= SLOWMODE_MAX):
        message = f"int value should be between 0 and {SLOWMODE_MAX}."
        problems.append(Problem(("rate_limit_per_user",), "NUMBER_TYPE_MAX", message))
    kind = body.get("type", PRIVATE_THREAD)
    if "type" in fields and kind not in THREAD_TYPES:
        problems.append(Problem(("type",), "BASE_TYPE_CHOICES", "Value must be a thread type."))
    return problems


def thread_object(
    thread_id: int, parent: Mapping[str, Any], body: Mapping[str, Any], kind: int
) -> dict[str, Any]:
    """Return the channel object of a new thread the bot started (the bot is its member)."""
    now = iso_now()
    return {
        "id": str(thread_id),
        "type": kind,
        "guild_id": parent["guild_id"],
        "parent_id": parent["id"],
        "owner_id": str(APP_ID),
        "name": body["name"],
        "last_message_id": None,
        "rate_limit_per_user": body.get("rate_limit_per_user") or 0,
        "message_count": 0,
        "member_count": 1,
        "total_message_sent": 0,
        "flags": 0,
        "applied_tags": [],
        "thread_metadata": {
            "archived": False,
            "auto_archive_duration": body.get("auto_archive_duration") or 1440,
            "archive_timestamp": now,
            "locked": False,
            "invitable": body.get("invitable", True),
            "create_timestamp": now,
        },
        "member": {"id": str(thread_id), "user_id": str(APP_ID), "join_timestamp": now, "flags": 0},
    }


class Threads:
    """Starts threads in the world's text channels and tells the gateway about them."""

    def __init__(self, world: World, messages: MessageStore, dispatch: Dispatch) -> None:
        self.world = world
        self.messages = messages
        self.dispatch = dispatch

    def parent_refusal(self, channel_id: int) -> Refusal | None:
        """Refuse a parent that cannot hold threads (a thread, a DM): only text channels can."""
        channel = self.world.channel(channel_id)
        if channel is None or channel.get("type") != TEXT_CHANNEL or "guild_id" not in channel:
            return WRONG_CHANNEL_TYPE
        return None

    async def serve(self, channel_id: int, named: str | None, body: Any) -> Reply:
        """Answer a thread route for a known channel: 201 and the thread, or the refusal."""
        refusal = self.parent_refusal(channel_id)
        if refusal is not None:
            return Reply.refuse(refusal)
        problems = thread_problems(
            body, WITHOUT_MESSAGE_FIELDS if named is None else FROM_MESSAGE_FIELDS
        )
        if problems:
            return Reply.invalid(problems)
        started = await self.start(channel_id, None if named is None else int(named), body)
        return Reply.refuse(started) if isinstance(started, Refusal) else Reply(201, started)

    async def start(
        self, channel_id: int, message_id: int | None, body: Mapping[str, Any]
    ) -> dict[str, Any] | Refusal:
        """Start a thread (from a message: the thread takes the message's id, once), keep it
        and dispatch THREAD_CREATE."""
        parent = self.world.channel(channel_id)
        assert parent is not None, "the route checked the channel"
        if message_id is None:
            thread_id, kind = self.world.ids.next(), int(body.get("type", PRIVATE_THREAD))
        else:
            message = self.messages.get(message_id)
            if message is None or int(message["channel_id"]) != channel_id:
                return Refusal(404, {"message": "Unknown Message", "code": 10008})
            if self.world.thread(message_id) is not None:
                return THREAD_EXISTS
            thread_id, kind = message_id, PUBLIC_THREAD
        thread = thread_object(thread_id, parent, body, kind)
        self.world.add_thread(thread)
        await self.dispatch("THREAD_CREATE", thread | {"newly_created": True})
        return thread
