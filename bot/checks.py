"""Who may run what: the moderator rule, the per-member /ask cooldown and the server allow-list."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import discord
from discord import app_commands

from index.library import SHARED

if TYPE_CHECKING:
    from bot.client import NewsBot

T = TypeVar("T")


class NotModerator(app_commands.CheckFailure):
    """The member has neither Manage Server nor a moderator role."""

    def __init__(self) -> None:
        super().__init__(
            "Only moderators can use this command: it needs the Manage Server permission "
            "or one of the moderator roles."
        )


class NotOperator(app_commands.CheckFailure):
    """The shared library was asked for from a server that does not curate it."""

    def __init__(self) -> None:
        super().__init__(
            "The shared library is curated only by moderators of the operator's servers; "
            "this server's moderators curate this server's library."
        )


class GuildNotServed(app_commands.CheckFailure):
    """The command came from a server (or a DM) that newsbot is not configured to serve."""

    def __init__(self) -> None:
        super().__init__("newsbot is not enabled here.")


def is_moderator(
    manage_guild: bool, role_ids: Iterable[int], moderator_role_ids: Iterable[int]
) -> bool:
    """Return True for Manage Server, or for any role listed as a moderator role."""
    return manage_guild or not set(role_ids).isdisjoint(moderator_role_ids)


def member_is_moderator(user: discord.abc.User, moderator_role_ids: Iterable[int]) -> bool:
    """Return True when a server member may curate stories (a plain User never may)."""
    if not isinstance(user, discord.Member):
        return False
    # An interaction carries Discord's own resolution of the member's permissions (server owner
    # and administrators included); it is right even before the server's roles are cached.
    resolved = user.resolved_permissions
    permissions = resolved if isinstance(resolved, discord.Permissions) else user.guild_permissions
    roles = [role.id for role in user.roles]
    manage = permissions.manage_guild or permissions.administrator
    return is_moderator(manage, roles, moderator_role_ids)


def moderator_roles(bot: NewsBot, guild_id: int | None) -> list[int]:
    """Return a server's moderator roles (its own setting, else NEWSBOT_MODERATOR_ROLE_IDS)."""
    return bot.services.servers.for_guild(guild_id).moderator_role_ids


async def _moderator_predicate(interaction: discord.Interaction[Any]) -> bool:
    """Raise NotModerator unless the member moderates this server (checked in code, every time)."""
    bot: NewsBot = interaction.client
    if not member_is_moderator(interaction.user, moderator_roles(bot, interaction.guild_id)):
        raise NotModerator()
    return True


LibraryChoice = Literal["server", "shared"]


def chosen_library(bot: NewsBot, guild_id: int | None, choice: str = "server") -> int:
    """Return the library a moderator's command acts on: their server's, or the shared one
    from an operator server (NEWSBOT_OPERATOR_GUILD_IDS) only."""
    if guild_id is None:
        raise GuildNotServed()
    if choice == "shared":
        if guild_id not in bot.settings.operator_guild_ids:
            raise NotOperator()
        return SHARED
    return guild_id


def moderator_only() -> Callable[[T], T]:
    """Decorate a command so only moderators may run it, whatever default_permissions allows."""
    return app_commands.check(_moderator_predicate)


def guild_served(guild_id: int | None, allowed: Iterable[int]) -> bool:
    """Return True when newsbot serves this server: in the allow-list, or no list at all."""
    allowed = list(allowed)
    if guild_id is None:
        return False
    return not allowed or guild_id in allowed


class UserCooldowns:
    """A per-member rate limit: `rate` uses per `per` seconds, tracked in memory."""

    def __init__(self, rate: int, per: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.per = per
        self._clock = clock
        self._buckets: dict[int, app_commands.Cooldown] = {}

    def hit(self, user_id: int) -> app_commands.Cooldown | None:
        """Count one use; return the exhausted bucket when the member must wait, else None."""
        if self.per <= 0:
            return None
        now = self._clock()
        self._forget_idle(now)
        bucket = self._buckets.setdefault(user_id, app_commands.Cooldown(self.rate, self.per))
        if bucket.update_rate_limit(now) is None:
            return None
        return bucket

    def retry_after(self, user_id: int) -> float:
        """Return seconds until the member may ask again (0 when they may now)."""
        bucket = self._buckets.get(user_id)
        return bucket.get_retry_after(self._clock()) if bucket else 0.0

    def _forget_idle(self, now: float) -> None:
        """Drop buckets whose window ended, so memory stays bounded by active members."""
        idle = [k for k, b in self._buckets.items() if b.get_tokens(now) >= b.rate]
        for key in idle:
            del self._buckets[key]


async def _ask_cooldown_predicate(interaction: discord.Interaction[Any]) -> bool:
    """Raise CommandOnCooldown when the member asked too often recently."""
    bot: NewsBot = interaction.client
    cooldowns = bot.ask_cooldowns(interaction.guild_id)
    bucket = cooldowns.hit(interaction.user.id)
    if bucket is not None:
        raise app_commands.CommandOnCooldown(bucket, cooldowns.retry_after(interaction.user.id))
    return True


def ask_cooldown() -> Callable[[T], T]:
    """Decorate a command with the per-member cooldown from settings (ask_rate/ask_per_seconds)."""
    return app_commands.check(_ask_cooldown_predicate)
