"""Fake Discord objects shaped like the parts of discord.py the cogs touch."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
from discord import app_commands
from discord.utils import maybe_coroutine

from bot.errors import report_error

GUILD_ID = 111_111_111_111_111_111
MOD_ROLE = 222_222_222_222_222_222
OTHER_ROLE = 333_333_333_333_333_333
DIGEST_CHANNEL = 444_444_444_444_444_444


def member(
    user_id: int = 1001,
    *,
    roles: tuple[int, ...] = (),
    manage_guild: bool = False,
    name: str = "ann",
) -> MagicMock:
    """Return a fake server member (isinstance(..., discord.Member) holds)."""
    fake = MagicMock(spec=discord.Member)
    fake.id = user_id
    fake.name = name
    fake.display_name = name
    fake.bot = False
    fake.roles = [SimpleNamespace(id=r) for r in roles]
    fake.guild_permissions = discord.Permissions(manage_guild=manage_guild)
    fake.mention = f"<@{user_id}>"
    return fake


def moderator_by_role() -> MagicMock:
    """Return a member who moderates through a moderator role."""
    return member(2002, roles=(MOD_ROLE,), name="mod")


def moderator_by_permission() -> MagicMock:
    """Return a member who moderates through Manage Server."""
    return member(3003, roles=(OTHER_ROLE,), manage_guild=True, name="admin")


def checked(real: Callable[..., Any], then: Callable[..., Any] | None = None) -> AsyncMock:
    """Return an AsyncMock that refuses arguments the real discord.py method would refuse."""

    async def call(*args: Any, **kwargs: Any) -> Any:
        inspect.signature(real).bind(None, *args, **kwargs)  # None stands for self
        return await then(*args, **kwargs) if then else MagicMock()

    return AsyncMock(side_effect=call)


class FakeResponse:
    """interaction.response: records what was sent and whether it was answered."""

    def __init__(self) -> None:
        self.done = False
        real = discord.InteractionResponse
        self.defer = checked(real.defer, self._answer)
        self.send_message = checked(real.send_message, self._answer)
        self.send_modal = checked(real.send_modal, self._answer)
        self.edit_message = checked(real.edit_message, self._answer)
        self.autocomplete = checked(real.autocomplete, self._answer)

    async def _answer(self, *args: Any, **kwargs: Any) -> None:
        if self.done:
            raise discord.InteractionResponded(MagicMock())
        self.done = True

    def is_done(self) -> bool:
        """Return True once the interaction was answered."""
        return self.done


def interaction(bot: Any, user: Any | None = None, *, guild_id: int | None = GUILD_ID) -> MagicMock:
    """Return a fake interaction from `user` in a served server."""
    fake = MagicMock(spec=discord.Interaction)
    fake.client = bot
    fake.user = user if user is not None else member()
    fake.guild_id = guild_id
    fake.guild = SimpleNamespace(id=guild_id) if guild_id else None
    fake.response = FakeResponse()
    fake.followup = SimpleNamespace(send=checked(discord.Webhook.send))
    fake.edit_original_response = checked(discord.Interaction.edit_original_response)
    fake.created_at = datetime.now(UTC)
    fake.command = None
    return fake


def sent(fake: MagicMock) -> list[dict[str, Any]]:
    """Return the keyword arguments of every follow-up and direct reply, in order."""
    calls = [*fake.response.send_message.await_args_list, *fake.followup.send.await_args_list]
    out = []
    for call in calls:
        kwargs = dict(call.kwargs)
        if call.args:
            kwargs["content"] = call.args[0]
        out.append(kwargs)
    return out


def last_embed(fake: MagicMock) -> discord.Embed:
    """Return the embed of the last follow-up."""
    return fake.followup.send.await_args.kwargs["embed"]


async def invoke(
    command: app_commands.Command[Any, ..., Any], cog: Any, fake: Any, **options: Any
) -> None:
    """Run a command as the tree would: its checks, then the callback; errors go to the handler."""
    try:
        for check in command.checks:
            if not await maybe_coroutine(check, fake):
                raise app_commands.CheckFailure("check failed")
        try:
            await command.callback(cog, fake, **options)
        except app_commands.AppCommandError:
            raise
        except Exception as exc:
            raise app_commands.CommandInvokeError(command, exc) from exc
    except app_commands.AppCommandError as error:
        await report_error(fake, error)


def command(bot: Any, path: str) -> app_commands.Command[Any, ..., Any]:
    """Return a slash command by its path, e.g. 'story add'."""
    found = bot.tree.get_command(path.split()[0])
    for part in path.split()[1:]:
        assert isinstance(found, app_commands.Group)
        found = found.get_command(part)
    assert isinstance(found, app_commands.Command), path
    return found
