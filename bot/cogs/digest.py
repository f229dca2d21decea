"""The weekly digest: posted on schedule (exactly once per slot), previewed and posted on demand."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot.checks import moderator_only
from bot.client import NewsBot
from bot.digest_embeds import OutgoingMessage, digest_messages
from bot.errors import DigestUnavailable
from bot.loops import stop_loop
from index.digest import Digest, DigestService
from index.errors import LeaseBusyError, LeaseLostError, NewsbotError

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
        self._lock = asyncio.Lock()  # the scheduler and /digest post never post at once
        self._warned_at: float | None = None  # time.monotonic() of the last refused-send warning
        self._adopted = False  # the pre-libraries digest state went to its channel's server

    def service_for(self, guild_id: int | None) -> DigestService:
        """Return a server's digest: its own schedule, state, questions and libraries."""
        return self.bot.services.digest(guild_id)

    async def cog_load(self) -> None:
        """Start the scheduler when any server has a digest channel."""
        await self.ensure_scheduler()

    async def ensure_scheduler(self) -> None:
        """Start the scheduler if a digest channel is set and it is not running yet."""
        if self.scheduler.is_running() or not await self._any_channel():
            return
        self.scheduler.change_interval(seconds=self.bot.settings.digest_check_seconds)
        self.scheduler.start()

    async def _any_channel(self) -> bool:
        """Return True when the environment or any server names a digest channel."""
        if self.bot.settings.digest_channel_id is not None:
            return True
        servers = self.bot.services.servers
        guilds = await self.bot.run_core(servers.guilds_configured)
        return any(servers.for_guild(g).digest_channel_id is not None for g in guilds)

    async def cog_unload(self) -> None:
        """Stop the scheduler."""
        await stop_loop(self.scheduler)

    @tasks.loop(seconds=CHECK_EVERY_SECONDS)
    async def scheduler(self) -> None:
        """Check whether any server's digest is due; a failure is logged and retried next time."""
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
        """Post every server's digest whose slot passed uncovered; return whether any posted.

        A server that set nothing uses NEWSBOT_DIGEST_CHANNEL_ID, which belongs to one server:
        only that server's digest goes there, so no server ever posts into another's channel.
        """
        posted = False
        error: Exception | None = None
        for guild_id in await self._digest_guilds():
            try:
                posted = await self.post_if_due_in(guild_id) or posted
            except (discord.HTTPException, NewsbotError) as exc:  # the other servers still post
                error = exc
        if error is not None:
            raise error
        return posted

    async def _digest_guilds(self) -> list[int]:
        """Return the servers with a digest channel of their own."""
        servers = self.bot.services.servers
        guilds = [
            g
            for g in await self.bot.run_core(servers.guilds_configured)
            if servers.for_guild(g).digest_channel_id is not None
        ]
        default = self.bot.settings.digest_channel_id
        if default is not None:
            owner = await self._channel_guild(default)
            if owner is not None and servers.for_guild(owner).digest_channel_id == default:
                if not self._adopted:  # an older version's one digest continues here
                    await self.bot.run_core(self.service_for(owner).adopt_legacy_state)
                    self._adopted = True
                guilds.append(owner)
        return sorted(set(guilds))

    async def post_if_due_in(self, guild_id: int) -> bool:
        """Post one server's digest if its slot passed uncovered; return whether it posted."""
        async with self._lock:
            now = self.bot.clock()
            service = self.service_for(guild_id)
            if not await self.bot.run_core(service.due, now):
                return False
            async with self._lease(guild_id) as held:
                # Due looked again once held: the lease's last holder may have just posted it.
                if not held or not await self.bot.run_core(service.due, now):
                    return False
                digest = await self.bot.run_core(service.build, now)
                settings = self.bot.services.servers.for_guild(guild_id)
                if digest.is_empty and settings.digest_empty == "skip":
                    log.info("server %d: no new stories this week: digest skipped", guild_id)
                    await self.bot.run_core(service.mark_posted, digest)
                    return False
                await self._publish(service, digest)
                return True

    @asynccontextmanager
    async def _lease(self, guild_id: int | None) -> AsyncIterator[bool]:
        """Hold a server's digest lease while posting; False: another bot process holds it.

        Of every process serving this server, one posts; if it dies mid-post, another takes
        the lease over once it lapses and resumes after the last message recorded as sent.
        """
        leases, name = self.bot.services.leases, f"digest:{guild_id}"
        if not await self.bot.run_core(leases.claim, name):
            yield False
            return
        try:
            yield True
        finally:
            await self.bot.run_core(leases.release, name)

    async def _publish(self, service: DigestService, digest: Digest) -> discord.abc.Messageable:
        """Send the digest's unsent messages to its server's channel, then record it as posted.

        Each message sent is recorded, so a retry, `/digest post` or a restart resumes after it
        and the role is pinged once. The digest is rebuilt at each attempt (same period start,
        later end), so a story added meanwhile may shift fields between messages: resuming by
        message index accepts that rare overlap or gap rather than reposting the whole digest.
        """
        channel = await self.digest_channel(service.guild_id)
        settings = self.bot.services.servers.for_guild(service.guild_id)
        done = await self.bot.run_core(service.sent_so_far, digest)
        role_id = settings.digest_role_id if done == 0 else None  # ping once
        messages = digest_messages(digest, role_id)
        leases, name = self.bot.services.leases, f"digest:{service.guild_id}"
        for count, message in enumerate(messages[done:], start=done + 1):
            # Discord drops a repeat of the nonce: a message another process (or this one,
            # before a restart) posted without recording it is not posted twice.
            await _send(channel, message, service.message_nonce(digest, count))
            await self.bot.run_core(service.record_sent, digest, count)
            if not await self.bot.run_core(leases.renew, name):  # too slow: another took over
                raise LeaseLostError(f"digest of server {service.guild_id} taken over")
        await self.bot.run_core(service.mark_posted, digest)
        self._warned_at = None
        log.info("posted the weekly digest: %d stories", len(digest.stories))
        return channel

    async def digest_channel(self, guild_id: int | None = None) -> discord.abc.Messageable:
        """Return a server's digest channel (its own setting, else the environment's)."""
        channel_id = self.bot.services.servers.for_guild(guild_id).digest_channel_id
        if channel_id is None:
            raise DigestUnavailable(
                "No digest channel is set (`/settings set digest_channel_id`, or "
                "NEWSBOT_DIGEST_CHANNEL_ID)."
            )
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except discord.HTTPException as exc:
                raise DigestUnavailable(f"I cannot see the digest channel {channel_id}.") from exc
        if not isinstance(channel, discord.abc.Messageable):
            raise DigestUnavailable(f"The digest channel {channel_id} cannot receive messages.")
        owner = _guild_of(channel)
        if guild_id is not None and owner is not None and owner != guild_id:
            # Moderators of one server do not decide when another server's digest posts.
            raise DigestUnavailable(
                "The digest channel belongs to another server: post it from there, or set "
                "this server's own with `/settings set digest_channel_id`."
            )
        return channel

    async def _channel_guild(self, channel_id: int) -> int | None:
        """Return the server of a channel, or None when it cannot be seen."""
        channel = self.bot.get_channel(channel_id)
        if channel is None:
            try:
                channel = await self.bot.fetch_channel(channel_id)
            except discord.HTTPException:
                log.warning("weekly digest: I cannot see channel %d", channel_id)
                return None
        return _guild_of(channel)

    @app_commands.command(name="preview")
    @moderator_only()
    async def preview(self, interaction: discord.Interaction[NewsBot]) -> None:
        """Show the next weekly digest to you only, without posting it."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        now = self.bot.clock()
        # This server's questions and libraries only: another server's never show here.
        service = self.service_for(interaction.guild_id)
        digest = await self.bot.run_core(service.build, now)
        messages = digest_messages(digest)
        messages[0].content = self._schedule_note(service, now)
        for message in messages:
            await interaction.followup.send(ephemeral=True, **_payload(message))

    @app_commands.command(name="post")
    @moderator_only()
    async def post(self, interaction: discord.Interaction[NewsBot]) -> None:
        """Post this server's digest to its channel now; the next one covers from here on."""
        await interaction.response.defer(ephemeral=True, thinking=True)
        async with self._lock, self._lease(interaction.guild_id) as held:
            if not held:
                raise LeaseBusyError("posting this server's digest")
            service = self.service_for(interaction.guild_id)
            await self.digest_channel(interaction.guild_id)  # refuses another server's channel
            digest = await self.bot.run_core(service.build, self.bot.clock())
            channel = await self._publish(service, digest)
        where = (
            f"<#{channel.id}>" if isinstance(channel, discord.abc.GuildChannel) else "its channel"
        )
        await interaction.followup.send(
            f"Posted the digest ({len(digest.stories)} stories) to {where}.",
            ephemeral=True,
            allowed_mentions=discord.AllowedMentions.none(),
        )

    def _schedule_note(self, service: DigestService, now: datetime) -> str:
        """Return the preview's heading: when the digest posts next, or that it is off."""
        settings = self.bot.services.servers.for_guild(service.guild_id)
        if settings.digest_channel_id is None:
            return (
                "Preview (not posted). Automatic posting is off: set a channel with "
                "`/settings set digest_channel_id` (or NEWSBOT_DIGEST_CHANNEL_ID)."
            )
        slot = service.schedule.next_slot(now)
        return f"Preview (not posted). Next scheduled posting: <t:{int(slot.timestamp())}:F>."


def _guild_of(channel: object) -> int | None:
    """Return the server id of a channel (None for a DM or an unknown kind)."""
    guild = getattr(channel, "guild", None)
    return getattr(guild, "id", None)


def _payload(message: OutgoingMessage) -> dict[str, Any]:
    """Return the keyword arguments that send one outgoing message."""
    payload: dict[str, Any] = {
        "embeds": message.embeds,
        "allowed_mentions": message.allowed_mentions,
    }
    if message.content:
        payload["content"] = message.content
    return payload


async def _send(channel: discord.abc.Messageable, message: OutgoingMessage, nonce: str) -> None:
    """Send one message of the digest."""
    await channel.send(nonce=nonce, **_payload(message))


async def setup(bot: NewsBot) -> None:
    """Add the WeeklyDigest cog."""
    await bot.add_cog(WeeklyDigest(bot))
