"""The bot: a commands.Bot that holds the core services and runs core calls off the event loop."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from bot.checks import GuildNotServed, UserCooldowns, guild_served
from bot.clock import clock_from_settings
from bot.errors import report_error
from index.digest import Clock
from index.services import Services
from index.settings import Settings

log = logging.getLogger(__name__)

EXTENSIONS = (
    "bot.cogs.ask",
    "bot.cogs.stories",
    "bot.cogs.digest",
    "bot.cogs.feedback",
    "bot.cogs.follow",
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
        self.settings: Settings = services.settings
        # None: the real clock, or the time in NEWSBOT_CLOCK_FILE when that is set.
        self.clock: Callable[[], datetime] = clock or clock_from_settings(self.settings)
        self.warm_model = warm_model
        self.ask_cooldowns = UserCooldowns(self.settings.ask_rate, self.settings.ask_per_seconds)
        self._core_slots = asyncio.Semaphore(self.settings.worker_threads)

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

    async def on_ready(self) -> None:
        """Log who the bot is and how many servers it sees."""
        user_id = self.user.id if self.user else None
        log.info("logged in as %s (%s) in %d servers", self.user, user_id, len(self.guilds))

    async def on_message(self, message: discord.Message, /) -> None:
        """Ignore messages here: there are no prefix commands (the Ask cog handles mentions)."""


class ShardedNewsBot(NewsBot, commands.AutoShardedBot):
    """NewsBot over several gateway shards, for large communities (NEWSBOT_SHARD_COUNT > 1)."""


def make_bot(services: Services, **options: Any) -> NewsBot:
    """Return a NewsBot, sharded when settings ask for more than one shard."""
    shards = services.settings.shard_count
    if shards is not None and shards > 1:
        return ShardedNewsBot(services, shard_count=shards, **options)
    return NewsBot(services, **options)
