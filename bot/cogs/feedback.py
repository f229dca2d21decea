"""Feedback on answers: thumbs up/down buttons, the "what was wrong?" form, /feedback."""

from __future__ import annotations

from functools import partial
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import moderator_only
from bot.client import NewsBot
from bot.feedback_embeds import negative_feedback_embed, page_count
from bot.views import FeedbackButton, PagedView
from index import feedback

NONE = discord.AllowedMentions.none()


class Feedback(commands.Cog):
    """Members vote on answers; moderators review the answers marked unhelpful."""

    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        """Listen for vote buttons on every answer ever posted, from before a restart too."""
        self.bot.add_dynamic_items(FeedbackButton)

    async def cog_unload(self) -> None:
        """Stop listening for vote buttons."""
        self.bot.remove_dynamic_items(FeedbackButton)

    @app_commands.command(name="feedback")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)  # a hint only: moderator_only() decides
    @app_commands.describe(limit="How many answers to list, newest 👎 first (1-50)")
    @moderator_only()
    async def feedback_list(
        self,
        interaction: discord.Interaction[NewsBot],
        limit: app_commands.Range[int, 1, 50] = feedback.RECENT_DEFAULT,
    ) -> None:
        """List recent answers members marked unhelpful, with their reasons and sources."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        items = await self.bot.run_core(feedback.recent_negative, self.bot.services.registry, limit)
        pages = page_count(len(items))
        render = partial(negative_feedback_embed, items)
        mods = self.bot.settings.moderator_role_ids
        view = PagedView(interaction.user.id, mods, pages, render)
        kwargs: dict[str, Any] = {"view": view, "wait": True} if pages > 1 else {}
        message = await interaction.followup.send(
            embed=render(0), ephemeral=True, allowed_mentions=NONE, **kwargs
        )
        view.message = message if pages > 1 else None


async def setup(bot: NewsBot) -> None:
    """Add the Feedback cog."""
    await bot.add_cog(Feedback(bot))
