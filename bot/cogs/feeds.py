"""/feed add, list, remove, pause, resume, and the background poller of due feeds.

Polling runs in a worker thread (`run_core`), never on the event loop; a feed failing for a
day is reported once in its server's digest channel.
"""

from __future__ import annotations

import asyncio
import logging

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.checks import LibraryChoice, chosen_library, moderator_only
from bot.client import NewsBot
from bot.feed_embeds import (
    added_reply,
    announcement,
    changed_reply,
    failure_report,
    feeds_embed,
)  # fmt: skip
from bot.loops import stop_loop
from index.feeds import FeedResult, FeedRow
from index.library import SHARED

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
LIBRARY_HELP = "server: this server's feeds · shared: the shared library (operator servers)"
FeedId = app_commands.Range[int, 1, 2**53]
# New stories posted per feed and pass; more (a backfill) get one "…and N more" line instead.
ANNOUNCE_MAX = 10


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)  # a hint only: moderator_only() decides
class Feeds(commands.GroupCog, group_name="feed", group_description="Subscribe to news feeds"):
    """Moderators subscribe their library to RSS and Atom feeds; due feeds are polled."""

    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot
        self.service = bot.services.feeds
        self._polling = asyncio.Lock()  # one pass at a time in this process (leases do the rest)

    async def cog_load(self) -> None:
        """Start polling every NEWSBOT_FEED_CHECK_SECONDS."""
        self.poller.change_interval(seconds=self.bot.settings.feed_check_seconds)
        self.poller.start()

    async def cog_unload(self) -> None:
        """Stop the poller."""
        await stop_loop(self.poller)

    @app_commands.command(name="add")
    @app_commands.describe(
        url="The feed's address (RSS or Atom)", name="What the feed is called in /feed list",
        include="Comma-separated words: only items naming one are indexed",
        exclude="Comma-separated words: items naming one are skipped", library=LIBRARY_HELP,
        announce="A channel where each new story of the feed is posted once",
    )  # fmt: skip
    @moderator_only()
    async def add(
        self, interaction: discord.Interaction[NewsBot], url: str, name: str | None = None,
        include: str | None = None, exclude: str | None = None,
        library: LibraryChoice = "server", announce: discord.TextChannel | None = None,
    ) -> None:  # fmt: skip
        """Subscribe to an RSS or Atom feed: its new stories are indexed by themselves."""
        chosen = chosen_library(self.bot, interaction.guild_id, library)
        await interaction.response.defer(ephemeral=True, thinking=True)
        feed = await self.bot.run_core(
            self.service.add, url, chosen, name=name, include=include or "",
            exclude=exclude or "", added_by=interaction.user.name,
            announce_channel_id=announce.id if announce is not None else None,
        )  # fmt: skip
        await interaction.followup.send(added_reply(feed), ephemeral=True, allowed_mentions=NONE)

    @app_commands.command(name="list")
    @app_commands.describe(library=LIBRARY_HELP)
    @moderator_only()
    async def list_feeds(
        self, interaction: discord.Interaction[NewsBot], library: LibraryChoice = "server"
    ) -> None:
        """List the feeds with their last poll and last error."""
        chosen = chosen_library(self.bot, interaction.guild_id, library)
        await interaction.response.defer(ephemeral=True, thinking=True)
        feeds = await self.bot.run_core(self.service.list_feeds, (chosen,))
        await interaction.followup.send(
            embed=feeds_embed(feeds, chosen), ephemeral=True, allowed_mentions=NONE
        )

    @app_commands.command(name="remove")
    @app_commands.describe(feed="The feed's number in /feed list", library=LIBRARY_HELP)
    @moderator_only()
    async def remove(
        self, interaction: discord.Interaction[NewsBot], feed: FeedId,
        library: LibraryChoice = "server",
    ) -> None:  # fmt: skip
        """Unsubscribe from a feed (the stories it brought stay)."""
        await self._change(interaction, "remove", feed, library)

    @app_commands.command(name="pause")
    @app_commands.describe(feed="The feed's number in /feed list", library=LIBRARY_HELP)
    @moderator_only()
    async def pause(
        self, interaction: discord.Interaction[NewsBot], feed: FeedId,
        library: LibraryChoice = "server",
    ) -> None:  # fmt: skip
        """Stop polling a feed until it is resumed."""
        await self._change(interaction, "pause", feed, library)

    @app_commands.command(name="resume")
    @app_commands.describe(feed="The feed's number in /feed list", library=LIBRARY_HELP)
    @moderator_only()
    async def resume(
        self, interaction: discord.Interaction[NewsBot], feed: FeedId,
        library: LibraryChoice = "server",
    ) -> None:  # fmt: skip
        """Poll a paused feed again."""
        await self._change(interaction, "resume", feed, library)

    async def _change(
        self, interaction: discord.Interaction[NewsBot], action: str, feed_id: int, library: str
    ) -> None:
        """Remove, pause or resume one of the library's feeds."""
        scope = (chosen_library(self.bot, interaction.guild_id, library),)
        await interaction.response.defer(ephemeral=True, thinking=True)
        if action == "remove":
            feed = await self.bot.run_core(self.service.remove, feed_id, scope)
        else:
            feed = await self.bot.run_core(
                self.service.set_paused, feed_id, scope, action == "pause"
            )
        await interaction.followup.send(
            changed_reply(action, feed), ephemeral=True, allowed_mentions=NONE
        )

    # -- polling ------------------------------------------------------------------------------

    @tasks.loop(seconds=60)
    async def poller(self) -> None:
        """Poll due feeds; a failure is logged and the next tick tries again."""
        try:
            await self.poll_once()
        except Exception:
            log.exception("feed poll failed")

    async def poll_once(self) -> list[FeedResult]:
        """Poll every due feed once in a worker thread, then report day-long failures."""
        async with self._polling:
            results = await self.bot.run_core(self.service.poll_due)
            reports = await self.bot.run_core(self.service.take_failure_reports)
        for result in results:
            if result.added and result.announce_channel_id is not None:
                await self.announce(result)
        for feed in reports:
            await self.report_failure(feed)
        return results

    async def announce(self, result: FeedResult) -> int:
        """Post a feed's newly added stories once in its channel; return how many were posted."""
        channel = self.bot.get_channel(result.announce_channel_id or 0)
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("feed %d: announcement channel %s not found", result.feed_id,
                        result.announce_channel_id)  # fmt: skip
            return 0
        ids = result.added[:ANNOUNCE_MAX]
        # Stories a moderator removed since the poll are skipped.
        articles = await self.bot.run_core(
            self.bot.services.stories.still_present, ids, (result.library,)
        )
        posted = 0
        for article in articles:
            try:  # discord.py waits out rate limits (429) on its own; one post at a time
                await channel.send(announcement(article), allowed_mentions=NONE)
            except discord.HTTPException:
                log.warning("feed %d: could not post %s", result.feed_id, article.id)
                continue
            posted += 1
        left = len(result.added) - len(ids)
        if left > 0:
            await channel.send(f"…and {left} more new stories from this feed.",
                               allowed_mentions=NONE)  # fmt: skip
        return posted

    async def report_failure(self, feed: FeedRow) -> bool:
        """Tell the feed's moderators, in their digest channel, that it has failed for a day."""
        guild_id = None if feed.library == SHARED else feed.library
        channel_id = self.bot.services.servers.for_guild(guild_id).digest_channel_id
        channel = self.bot.get_channel(channel_id) if channel_id is not None else None
        if not isinstance(channel, discord.abc.Messageable):
            log.warning("feed %d has failed for a day (%s); no digest channel to say so in",
                        feed.id, feed.last_error)  # fmt: skip
            return False
        try:
            await channel.send(failure_report(feed), allowed_mentions=NONE)
        except discord.HTTPException:
            log.warning("could not report failing feed %d in channel %s", feed.id, channel_id)
            return False
        return True


async def setup(bot: NewsBot) -> None:
    """Load the feeds cog."""
    await bot.add_cog(Feeds(bot))
