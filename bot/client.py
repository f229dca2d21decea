"""The bot: a commands.Bot that holds the core services and runs core calls off the event loop."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import GuildNotServed, UserCooldowns, guild_served
from bot.errors import report_error
from index.clock import Clock
from index.services import Services
from index.settings import Settings

log = logging.getLogger(__name__)

EXTENSIONS = (
    "bot.cogs.ask",
    "bot.cogs.stories",
    "bot.cogs.digest",
    "bot.cogs.feedback",
    "bot.cogs.follow",
    "bot.cogs.settings",
    "bot.cogs.feeds",
)

P = ParamSpec("P")
R = TypeVar("R")


class NewsTree(app_commands.CommandTree["NewsBot"]):
    """The command tree: refuses servers newsbot does not serve and routes errors to one handler."""

    async def interaction_check(self, interaction: discord.Interaction[NewsBot]) -> bool:
        """Allow commands only in served servers (NEWSBOT_GUILD_IDS, or any when empty)."""
        if guild_served(interaction.guild_id, self.client.settings.guild_ids):
            return True
        if interaction.type is discord.InteractionType.autocomplete:
            await interaction.response.autocomplete([])
        else:
            await report_error(interaction, GuildNotServed())
        return False

    async def on_error(
        self, interaction: discord.Interaction[NewsBot], error: app_commands.AppCommandError
    ) -> None:
        """Turn any command error into a short ephemeral reply (and log the unexpected)."""
        await report_error(interaction, error)


def intents() -> discord.Intents:
    """Return the gateway intents: the defaults, without any privileged intent."""
    # No message_content: Discord still sends the content of messages that mention the bot,
    # which is all the mention-to-ask feature reads.
    chosen = discord.Intents.default()
    chosen.message_content = False
    chosen.members = False
    chosen.presences = False
    return chosen


class NewsBot(commands.Bot):
    """newsbot's Discord client; cogs reach the core through `bot.services` and `bot.run_core`."""

    def __init__(
        self,
        services: Services,
        *,
        clock: Clock | None = None,
        warm_model: bool = True,
        **options: Any,
    ) -> None:
        super().__init__(
            command_prefix=commands.when_mentioned,  # unused: no prefix commands are registered
            help_command=None,
            intents=intents(),
            allowed_mentions=discord.AllowedMentions.none(),
            tree_cls=NewsTree,
            **options,
        )
        self.services = services
        if clock is not None:
            self.clock = clock
        self.warm_model = warm_model
        self._cooldowns: dict[int | None, UserCooldowns] = {}
        self._core_slots = asyncio.Semaphore(self.settings.worker_threads)

    @property
    def settings(self) -> Settings:
        """Return the environment's settings: every server's defaults."""
        return self.services.settings

    @settings.setter
    def settings(self, settings: Settings) -> None:
        """Replace the defaults for the bot and every server (tests change settings)."""
        self.services.settings = settings
        self.services.servers.rebase(settings)

    @property
    def clock(self) -> Callable[[], datetime]:
        """Return the one clock the core services share (built from settings)."""
        return self.services.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:
        """Move the bot and every core service to another clock (tests move time)."""
        self.services.clock = clock

    def ask_cooldowns(self, guild_id: int | None) -> UserCooldowns:
        """Return a server's per-member /ask cooldown, on its own rate settings."""
        s = self.services.servers.for_guild(guild_id)
        current = self._cooldowns.get(guild_id)
        if current is None or (current.rate, current.per) != (s.ask_rate, s.ask_per_seconds):
            current = UserCooldowns(s.ask_rate, s.ask_per_seconds)
            self._cooldowns[guild_id] = current
        return current

    async def run_core(self, func: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        """Run a blocking core call in a worker thread, at most worker_threads at once."""
        async with self._core_slots:
            return await asyncio.to_thread(func, *args, **kwargs)

    async def setup_hook(self) -> None:
        """Load the cogs, then load the embedding model so the first question is fast."""
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        if self.warm_model:
            log.info("loading the embedding model")
            await self.run_core(self.services.embedder.encode, ["newsbot warm-up"])
        # A full collection stops every thread, the event loop too, for as long as it takes to
        # scan the heap (0.1-0.5 s with the model and indexes loaded): freeze what startup
        # built, so collections scan only what requests create.
        gc.collect()
        gc.freeze()

    async def on_ready(self) -> None:
        """Log who the bot is and how many servers it sees."""
        user_id = self.user.id if self.user else None
        log.info("logged in as %s (%s) in %d servers", self.user, user_id, len(self.guilds))

    async def on_message(self, message: discord.Message, /) -> None:
        """Ignore messages here: there are no prefix commands (the Ask cog handles mentions)."""


class ShardedNewsBot(NewsBot, commands.AutoShardedBot):
    """NewsBot over several gateway shards, for large communities (NEWSBOT_SHARD_COUNT > 1)."""


def make_bot(services: Services, **options: Any) -> NewsBot:
    """Return a NewsBot, sharded when settings ask for more than one shard or for some."""
    shards, ids = services.settings.shard_count, services.settings.shard_ids
    if ids:  # one process of several, each running its own range of the shards
        return ShardedNewsBot(services, shard_count=shards, shard_ids=ids, **options)
    if shards is not None and shards > 1:
        return ShardedNewsBot(services, shard_count=shards, **options)
    return NewsBot(services, **options)
