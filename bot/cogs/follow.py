"""Followed questions: /follow, /unfollow, /follows, and re-answers when new stories arrive."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from functools import partial
from typing import Literal

import discord
from discord import app_commands
from discord.ext import commands, tasks

from bot import limits
from bot.checks import UserCooldowns, ask_cooldown
from bot.client import NewsBot
from bot.embeds import answer_embed
from bot.follow_embeds import (
    follow_choice_name,
    followed_reply,
    follows_embed,
    follows_page_count,
    notification_content,
    only_mention,
    unfollowed_reply,
)
from bot.loops import stop_loop
from bot.views import MemberPagedView, send_pages
from index.answer import clean_question
from index.errors import FollowLimitError
from index.follows import Follow, FollowUpdate, question_key

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
# /follows and /unfollow each read or write the registry: a member may run either 5 times in
# 30 s (/follow shares the /ask cooldown, since it answers the question too).
LIST_RATE, LIST_PER = 5, 30.0
# How often stories are checked until cog_load applies NEWSBOT_FOLLOW_CHECK_SECONDS.
CHECK_EVERY_SECONDS = 60.0
Outcome = Literal["sent", "skipped", "retry"]


class Follows(commands.Cog):
    """Members follow questions and hear when a new story changes an answer."""

    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot
        self.service = bot.services.follows
        # Every member's follows, for autocomplete (it cannot wait on the database). This cog
        # reloads a member's after each change and everyone's at each check that finds news,
        # so follows made through another bot process are delivered too.
        # Keyed by (member, server): a member's follows in one server are theirs there only.
        self.mine: dict[tuple[int, int | None], list[Follow]] = {}
        self._checking = asyncio.Lock()  # one check (and delivery) at a time
        self.list_cooldowns = UserCooldowns(LIST_RATE, LIST_PER)

    async def cog_load(self) -> None:
        """Load every follow, then start looking for new answers."""
        await self._reload_all()
        self.checker.change_interval(seconds=self.bot.settings.follow_check_seconds)
        self.checker.start()

    async def cog_unload(self) -> None:
        """Stop the checker."""
        await stop_loop(self.checker)

    # -- commands ---------------------------------------------------------------------------

    @app_commands.command(name="follow")
    @app_commands.guild_only()
    @app_commands.describe(
        question="The question; I'll tell you when a new story changes its answer"
    )
    @ask_cooldown()
    async def follow(self, interaction: discord.Interaction[NewsBot], question: str) -> None:
        """Follow a question: get its answer again whenever a new story changes it."""
        settings = self.bot.services.servers.for_guild(interaction.guild_id)
        # Bad questions and a full list are refused before deferring, from memory.
        key = question_key(clean_question(question, settings.max_question_chars))
        mine = self.mine.get((interaction.user.id, interaction.guild_id), [])
        if len(mine) >= settings.follow_limit and all(f.key != key for f in mine):
            raise FollowLimitError(settings.follow_limit)
        await interaction.response.defer(ephemeral=True, thinking=True)
        followed = await self.bot.run_core(
            self.service.follow,
            interaction.user.id,
            question,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            limit=settings.follow_limit,
            today=self.bot.clock().date(),
        )
        await self._reload(interaction.user.id, interaction.guild_id)
        await interaction.followup.send(
            followed_reply(followed, settings.follow_delivery, settings.follow_limit),
            embed=answer_embed(followed.answer),
            ephemeral=True,
            allowed_mentions=NONE,
        )

    @app_commands.command(name="unfollow")
    @app_commands.guild_only()
    @app_commands.describe(question="A question you follow")
    async def unfollow(self, interaction: discord.Interaction[NewsBot], question: str) -> None:
        """Stop following a question."""
        self._slow_down(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        gone = await self.bot.run_core(
            self.service.unfollow, interaction.user.id, question, interaction.guild_id
        )
        await self._reload(interaction.user.id, interaction.guild_id)
        left = len(self.mine.get((interaction.user.id, interaction.guild_id), []))
        await interaction.followup.send(
            unfollowed_reply(gone, left),
            ephemeral=True,
            allowed_mentions=NONE,
        )

    def _slow_down(self, interaction: discord.Interaction[NewsBot]) -> None:
        """Raise CommandOnCooldown when a member ran /follows or /unfollow too often."""
        bucket = self.list_cooldowns.hit(interaction.user.id)
        if bucket is not None:
            wait = self.list_cooldowns.retry_after(interaction.user.id)
            raise app_commands.CommandOnCooldown(bucket, wait)

    @app_commands.command(name="follows")
    @app_commands.guild_only()
    async def follows(self, interaction: discord.Interaction[NewsBot]) -> None:
        """List the questions you follow (only you see it)."""
        self._slow_down(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._reload(interaction.user.id, interaction.guild_id)
        settings = self.bot.services.servers.for_guild(interaction.guild_id)
        mine = self.mine.get((interaction.user.id, interaction.guild_id), [])
        pages = follows_page_count(len(mine))
        render = partial(follows_embed, mine, settings.follow_limit, settings.follow_delivery)
        await send_pages(interaction, MemberPagedView(interaction.user.id, pages, render))

    @unfollow.autocomplete("question")
    async def follow_choices(
        self, interaction: discord.Interaction[NewsBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """Suggest the member's own followed questions, from memory, valued by ref ('#12')."""
        wanted = " ".join(current.split()).casefold()
        found = [
            f
            for f in self.mine.get((interaction.user.id, interaction.guild_id), [])
            if wanted in f.question.casefold()
        ]
        return [
            # A ref, not the bare id: a followed question "42" must not name follow 42.
            app_commands.Choice(name=follow_choice_name(f.question), value=f.ref)
            for f in found[: limits.AUTOCOMPLETE_CHOICES]
        ]

    async def _reload(self, user_id: int, guild_id: int | None) -> None:
        """Refresh one member's cached follows in one server from the database."""
        self.mine[(user_id, guild_id)] = await self.bot.run_core(
            self.service.follows_of, user_id, guild_id
        )

    # -- checking and delivering ------------------------------------------------------------

    @tasks.loop(seconds=CHECK_EVERY_SECONDS)
    async def checker(self) -> None:
        """Deliver new answers to followed questions; a failure is logged and retried next time."""
        try:
            await self.check_now()
        except Exception:  # the loop must outlive a Discord or database hiccup
            log.exception("followed questions not checked; retrying in %g s", self.checker.seconds)

    @checker.before_loop
    async def _before_checker(self) -> None:
        """Wait for the gateway connection before the first check."""
        await self.bot.wait_until_ready()

    async def check_now(self) -> int:
        """Re-answer followed questions if stories changed, deliver the news; return how many."""
        leases, name = self.bot.services.leases, "follows.check"
        async with self._checking:
            # One process checks and delivers at a time; if it dies, another takes over once
            # its lease lapses (updates it recorded are not sent again).
            if not await self.bot.run_core(leases.claim, name):
                return 0
            try:
                return await self._check_and_deliver(leases.renew, name)
            finally:
                await self.bot.run_core(leases.release, name)

    async def _check_and_deliver(self, renew: Callable[[str], bool], name: str) -> int:
        """Check once and deliver what changed (the follow-check lease is held)."""
        found = await self.bot.run_core(self.service.check, self.bot.clock().date())
        if found is None:
            return 0
        # Follows made through another bot process are delivered too.
        await self._reload_all()
        sent, complete = 0, True
        for update in found.updates:
            # Sent, then recorded: stopping in between means it is sent again after a
            # restart (at least once, never lost; see FollowService.check).
            outcome = await self.deliver(update)
            if outcome == "retry":
                complete = False  # not recorded: the next check finds it again
                continue
            await self.bot.run_core(self.service.record, update)
            sent += outcome == "sent"
            if not await self.bot.run_core(renew, name):
                log.warning("the follow check was taken over by another process; stopping")
                return sent
        if complete:
            await self.bot.run_core(self.service.mark_checked, found.generation)
        return sent

    async def _reload_all(self) -> None:
        """Reload every member's follows from the database."""
        mine: dict[tuple[int, int | None], list[Follow]] = {}
        for follow in await self.bot.run_core(self.service.all_follows):
            mine.setdefault((follow.user_id, follow.guild_id), []).append(follow)
        self.mine = mine

    async def deliver(self, update: FollowUpdate) -> Outcome:
        """Send one new answer by DM or in its channel, as settings say; never raise."""
        follow = update.follow
        if all(f.id != follow.id for f in self.mine.get((follow.user_id, follow.guild_id), [])):
            return "skipped"  # unfollowed while the check ran
        embed = answer_embed(update.answer)
        try:
            # Each server chooses how its members hear (its own setting, else the default).
            delivery = self.bot.services.servers.for_guild(follow.guild_id).follow_delivery
            if delivery == "dm":
                try:
                    await self._send_dm(follow, embed, update.nonce)
                    return "sent"
                except discord.Forbidden:
                    # Closed DMs: the /follow reply said we would mention them instead.
                    log.info("follow %d: DMs closed, posting in its channel", follow.id)
                    return await self._send_to_channel(follow, embed, update.nonce, dm_closed=True)
            return await self._send_to_channel(follow, embed, update.nonce)
        except (discord.Forbidden, discord.NotFound) as exc:
            log.warning("follow %d: not delivered, skipped (%s)", follow.id, exc)
            return "skipped"
        except discord.HTTPException as exc:
            if exc.status >= 500:  # Discord's side: try again at the next check
                log.warning("follow %d: delivery failed, will retry (%s)", follow.id, exc)
                return "retry"
            log.error("follow %d: delivery refused, skipped (%s)", follow.id, exc)
            return "skipped"

    async def _send_dm(self, follow: Follow, embed: discord.Embed, nonce: str) -> None:
        """Send a new answer to the member's DMs."""
        dm = await self.bot.create_dm(discord.Object(id=follow.user_id))
        # The update's own nonce (discord.py sends enforce_nonce with it): Discord drops a
        # repeat that a process taking over a crashed check sends within a few minutes.
        await dm.send(
            notification_content(follow.question), embed=embed, allowed_mentions=NONE, nonce=nonce
        )

    async def _send_to_channel(
        self, follow: Follow, embed: discord.Embed, nonce: str, *, dm_closed: bool = False
    ) -> Outcome:
        """Post a new answer where the member followed, mentioning them and nobody else."""
        if follow.channel_id is None:
            log.warning("follow %d: no channel recorded, skipped", follow.id)
            return "skipped"
        cached = self.bot.get_channel(follow.channel_id)
        channel: discord.abc.Messageable = (
            cached
            if isinstance(cached, discord.abc.Messageable)
            # Not cached: a partial channel can still send, no need to fetch it first.
            else self.bot.get_partial_messageable(follow.channel_id, guild_id=follow.guild_id)
        )
        await channel.send(
            notification_content(follow.question, follow.user_id, dm_closed=dm_closed),
            embed=embed,
            allowed_mentions=only_mention(follow.user_id),
            nonce=nonce,
        )
        return "sent"


async def setup(bot: NewsBot) -> None:
    """Add the Follows cog."""
    await bot.add_cog(Follows(bot))
