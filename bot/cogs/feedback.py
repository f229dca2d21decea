"""Feedback on answers: thumbs up/down buttons, the "what was wrong?" form, /feedback."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import GuildNotServed, UserCooldowns, guild_served, moderator_only, moderator_roles
from bot.client import NewsBot
from bot.errors import report_error
from bot.feedback_embeds import negative_feedback_embed, page_count
from bot.views import (
    REASON_TEMPLATE,
    FeedbackButton,
    PagedView,
    send_pages,
    submit_vote,
    submitted_text,
)
from index import feedback

NONE = discord.AllowedMentions.none()
REASON_FORM = re.compile(REASON_TEMPLATE)
# Votes per member: 5 a minute is more than anyone reads answers; past it, votes are spam.
VOTE_RATE, VOTE_PER = 5, 60.0


class Feedback(commands.Cog):
    """Members vote on answers; moderators review the answers marked unhelpful."""

    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot
        # submit_vote (bot/views.py) counts every 👍 and every submitted 👎 form against these.
        self.votes = UserCooldowns(VOTE_RATE, VOTE_PER)

    async def cog_load(self) -> None:
        """Listen for vote buttons on every answer ever posted, from before a restart too."""
        self.bot.add_dynamic_items(FeedbackButton)

    async def cog_unload(self) -> None:
        """Stop listening for vote buttons."""
        self.bot.remove_dynamic_items(FeedbackButton)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: discord.Interaction[NewsBot]) -> None:
        """Record a submitted "what was wrong?" form by the question id it carries."""
        if interaction.type is not discord.InteractionType.modal_submit:
            return
        data: dict[str, Any] = dict(interaction.data or {})
        match = REASON_FORM.fullmatch(str(data.get("custom_id", "")))
        if match is None:
            return
        try:
            if not guild_served(interaction.guild_id, self.bot.settings.guild_ids):
                raise GuildNotServed()
            reason = submitted_text(data.get("components", [])).strip() or None
            await submit_vote(interaction, int(match["question_id"]), helpful=False, reason=reason)
        except Exception as exc:  # the one error path: a short private reply, logged if unexpected
            await report_error(interaction, exc)

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
        items = await self.bot.run_core(  # this server's answers only
            self.bot.services.feedback.recent_negative, interaction.guild_id, limit
        )
        pages = page_count(len(items))
        render = partial(negative_feedback_embed, items)
        mods = moderator_roles(self.bot, interaction.guild_id)
        await send_pages(interaction, PagedView(interaction.user.id, mods, pages, render))


async def setup(bot: NewsBot) -> None:
    """Add the Feedback cog."""
    await bot.add_cog(Feedback(bot))
