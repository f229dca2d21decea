"""The weekly digest: posted on schedule (exactly once per slot), previewed and posted on demand."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.checks import moderator_only
from bot.client import NewsBot
from bot.digest_embeds import OutgoingMessage, digest_messages
from bot.errors import DigestUnavailable
from index.digest import Digest, DigestService
from index.errors import NewsbotError

log = logging.getLogger(__name__)

# How often the schedule is checked until cog_load applies NEWSBOT_DIGEST_CHECK_SECONDS;
# a post is at most this late.
CHECK_EVERY_SECONDS = 60.0
# A digest message Discord keeps refusing is retried at every check but warned about this often.
WARN_EVERY_SECONDS = 3600.0


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)  # a hint only: moderator_only() decides
class WeeklyDigest(commands.GroupCog, group_name="digest", group_description="The weekly digest"):
    """Posts the weekly digest and lets moderators preview or post it."""

    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot
        core = bot.services
        self.service = DigestService(
            core.registry, bot.settings, embedder=core.embedder, answerer=core.answerer
        )
        self._lock = asyncio.Lock()  # the scheduler and /digest post never post at once
        self._warned_at: float | None = None  # time.monotonic() of the last refused-send warning

    async def cog_load(self) -> None:
        """Start the scheduler when a digest channel is configured."""
        if self.bot.settings.digest_channel_id is not None:
            self.scheduler.change_interval(seconds=self.bot.settings.digest_check_seconds)
            self.scheduler.start()

    async def cog_unload(self) -> None:
        """Stop the scheduler."""
        self.scheduler.cancel()

    @tasks.loop(seconds=CHECK_EVERY_SECONDS)
    async def scheduler(self) -> None:
        """Check whether the digest is due; a failure is logged and retried next time."""
        try:
            await self.post_if_due()
        except discord.HTTPException as exc:  # messages sent are recorded: the retry resumes
            now = time.monotonic()
            if self._warned_at is None or now - self._warned_at >= WARN_EVERY_SECONDS:
                self._warned_at = now
                log.warning(
                    "weekly digest: Discord refused a message (%s %s); retrying every %g s",
                    exc.status, exc.text or "", self.scheduler.seconds,
                )  # fmt: skip
        except NewsbotError as exc:
            log.warning("weekly digest not posted: %s", exc.user_message())
        except Exception:  # the loop must outlive a Discord or database hiccup
            log.exception("weekly digest failed; retrying in %g s", self.scheduler.seconds)

    @scheduler.before_loop
    async def _before_scheduler(self) -> None:
        """Wait for the gateway connection before the first check."""
        await self.bot.wait_until_ready()

    async def post_if_due(self) -> bool:
        """Post the digest if a scheduled slot passed that no digest covered; return if posted."""
        async with self._lock:
            now = self.bot.clock()
            if not await self.bot.run_core(self.service.due, now):
                return False
            guild_id = await self.digest_guild_id()  # its server's questions only
            digest = await self.bot.run_core(self.service.build, now, guild_id)
            if digest.is_empty and self.bot.settings.digest_empty == "skip":
                log.info("no new stories this week: digest skipped (NEWSBOT_DIGEST_EMPTY=skip)")
                await self.bot.run_core(self.service.mark_posted, digest)
                return False
            await self._publish(digest)
            return True

    async def _publish(self, digest: Digest) -> discord.abc.Messageable:
        """Send the digest's unsent messages to its channel, then record it as posted.

        Each message sent is recorded, so a retry, `/digest post` or a restart resumes after it
        and the role is pinged once. The digest is rebuilt at each attempt (same period start,
        later end), so a story added meanwhile may shift fields between messages: resuming by
        message index accepts that rare overlap or gap rather than reposting the whole digest.
        """
        channel = await self.digest_channel()
        done = await self.bot.run_core(self.service.sent_so_far, digest)
        role_id = self.bot.settings.digest_role_id if done == 0 else None  # ping once
        messages = digest_messages(digest, role_id)
        for count, message in enumerate(messages[done:], start=done + 1):
            await _send(channel, message)
            await self.bot.run_core(self.service.record_sent, digest, count)
        await self.bot.run_core(self.service.mark_posted, digest)
        self._warned_at = None
        log.info("posted the weekly digest: %d stories", len(digest.stories))
        return channel

    async def digest_channel(self) -> discord.abc.Messageable:
        """Return the configured digest channel."""
        channel_id = self.bot.settings.digest_channel_id
        if channel_id is None:
            raise DigestUnavailable("No digest channel is set (NEWSBOT_DIGEST_CHANNEL_ID).")
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except discord.HTTPException as exc:
                raise DigestUnavailable(f"I cannot see the digest channel {channel_id}.") from exc
        if not isinstance(channel, discord.abc.Messageable):
            raise DigestUnavailable(f"The digest channel {channel_id} cannot receive messages.")
        return channel

    async def digest_guild_id(self) -> int | None:
        """Return the server of the digest channel, whose questions alone the digest shows."""
        channel = await self.digest_channel()
        if isinstance(channel, discord.abc.GuildChannel | discord.Thread):
            return channel.guild.id
        return None

    @app_commands.command(name="preview")
    @moderator_only()
    async def preview(self, interaction: discord.Interaction[NewsBot]) -> None:
        """Show the next weekly digest to you only, without posting it."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.bot.clock()
        # This server's questions only: another server's never show here.
        digest = await self.bot.run_core(self.service.build, now, interaction.guild_id)
        messages = digest_messages(digest)
        messages[0].content = self._schedule_note(now)
        for message in messages:
            await interaction.followup.send(ephemeral=True, **_payload(message))

    @app_commands.command(name="post")
    @moderator_only()
    async def post(self, interaction: discord.Interaction[NewsBot]) -> None:
        """Post the digest to the digest channel now; the next one covers from here on."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._lock:
            guild_id = await self.digest_guild_id()  # the channel's server's questions only
            if guild_id is not None and guild_id != interaction.guild_id:
                # Moderators of one server do not decide when another server's digest posts.
                raise DigestUnavailable(
                    "The digest channel belongs to another server: post it from there."
                )
            digest = await self.bot.run_core(self.service.build, self.bot.clock(), guild_id)
            channel = await self._publish(digest)
        where = (
            f"<#{channel.id}>" if isinstance(channel, discord.abc.GuildChannel) else "its channel"
        )
        await interaction.followup.send(
            f"Posted the digest ({len(digest.stories)} stories) to {where}.",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    def _schedule_note(self, now: datetime) -> str:
        """Return the preview's heading: when the digest posts next, or that it is off."""
        if self.bot.settings.digest_channel_id is None:
            return "Preview (not posted). Automatic posting is off: set NEWSBOT_DIGEST_CHANNEL_ID."
        slot = self.service.schedule.next_slot(now)
        return f"Preview (not posted). Next scheduled posting: <t:{int(slot.timestamp())}:F>."


def _payload(message: OutgoingMessage) -> dict[str, Any]:
    """Return the keyword arguments that send one outgoing message."""
    payload: dict[str, Any] = {
        "embeds": message.embeds,
        "allowed_mentions": message.allowed_mentions,
    }
    if message.content:
        payload["content"] = message.content
    return payload


async def _send(channel: discord.abc.Messageable, message: OutgoingMessage) -> None:
    """Send one message of the digest."""
    await channel.send(**_payload(message))


async def setup(bot: NewsBot) -> None:
    """Add the WeeklyDigest cog."""
    await bot.add_cog(WeeklyDigest(bot))
