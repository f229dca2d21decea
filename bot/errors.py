"""The one place errors become short ephemeral replies; only the unexpected are logged."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot import limits
from bot.text import escape_text, truncate
from index.errors import NewsbotError

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on my side. The moderators can find the details in the logs."


class DigestUnavailable(NewsbotError):
    """The digest channel is not configured or cannot be posted to."""


def user_message(error: BaseException) -> str | None:
    """Return the short message a user sees for an expected error, or None if unexpected."""
    if isinstance(error, app_commands.CommandInvokeError):
        return user_message(error.original)
    if isinstance(error, app_commands.TransformerError):
        shown = truncate(escape_text(str(error.value)), 200)
        return f"That value is not valid for this option: {shown}"
    if isinstance(error, NewsbotError):
        return escape_text(error.user_message())
    if isinstance(error, app_commands.CommandOnCooldown):
        return f"You're asking quickly: please wait {error.retry_after:.0f} s and ask again."
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command works in a server, not in direct messages."
    if isinstance(error, app_commands.MissingPermissions | app_commands.MissingAnyRole):
        return "You don't have permission to use this command."
    if isinstance(error, app_commands.BotMissingPermissions):
        missing = ", ".join(p.replace("_", " ") for p in error.missing_permissions)
        return f"I lack permissions here: {missing}."
    if isinstance(error, app_commands.CheckFailure):
        return str(error) or "You can't use this command here."
    if isinstance(error, discord.Forbidden):
        return "I'm not allowed to do that here (missing Discord permissions)."
    return None


async def send_ephemeral(interaction: discord.Interaction[Any], text: str) -> None:
    """Send a short private message, as a reply or as a follow-up if already answered."""
    text = truncate(text, limits.MESSAGE_CONTENT)
    mentions = discord.AllowedMentions.none()
    if interaction.response.is_done():
        await interaction.followup.send(text, ephemeral=True, allowed_mentions=mentions)
    else:
        await interaction.response.send_message(text, ephemeral=True, allowed_mentions=mentions)


async def report_error(interaction: discord.Interaction[Any], error: BaseException) -> None:
    """Answer an interaction that failed: the known reason, or a generic apology and a log entry."""
    message = user_message(error)
    if message is None:
        original = getattr(error, "original", None) or error
        command = interaction.command.qualified_name if interaction.command else "component"
        log.error("unexpected error in %s", command, exc_info=original)
        message = APOLOGY
    try:
        await send_ephemeral(interaction, message)
    except discord.HTTPException:
        log.warning("could not tell the user about an error (interaction expired?)")
