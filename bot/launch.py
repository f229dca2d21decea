"""Entry points the CLI calls: `newsbot run` (serve) and `newsbot sync` (publish commands)."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys

import aiohttp
import discord
import yarl
from discord import app_commands

from bot.client import NewsBot, make_bot
from index.errors import NewsbotError
from index.services import Services, build_services
from index.settings import Settings

log = logging.getLogger(__name__)

TOKEN_MISSING = (
    "newsbot needs a Discord bot token: set NEWSBOT_DISCORD_TOKEN (in the environment or .env)."
)
TOKEN_REJECTED = (
    "Discord rejected the token in NEWSBOT_DISCORD_TOKEN; reset it in the Developer Portal."
)
DISCORD_UNREACHABLE = "newsbot could not reach Discord ({reason}); check the network, then retry."


def bot_token(settings: Settings) -> str | None:
    """Return the configured token, or None when it is unset or blank."""
    if settings.discord_token is None:
        return None
    return settings.discord_token.get_secret_value().strip() or None


def configure_logging(level: int = logging.INFO) -> None:
    """Log to stderr in discord.py's format, unless the CLI already set logging up."""
    root = logging.getLogger()
    if root.handlers:  # `newsbot run` configured it: only raise the level (no duplicate lines)
        root.setLevel(level)
    else:
        discord.utils.setup_logging(level=level, root=True)


def use_discord_endpoints(settings: Settings) -> None:
    """Point discord.py at the configured REST base and gateway (before it connects)."""
    # Both are class attributes discord.py reads at request and connect time; unset settings
    # leave Discord's own URLs alone.
    if settings.discord_api_base:
        discord.http.Route.BASE = settings.discord_api_base.rstrip("/")
        log.info("Discord REST calls go to %s", discord.http.Route.BASE)
    if settings.discord_gateway:
        gateway = yarl.URL(settings.discord_gateway)
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
        log.info("Discord gateway is %s", gateway)


def run(settings: Settings) -> int:
    """Run the bot until stopped; return the process exit code."""
    token = bot_token(settings)
    if token is None:
        print(TOKEN_MISSING, file=sys.stderr)
        return 2
    configure_logging()
    use_discord_endpoints(settings)
    try:
        services = build_services(settings)
    except NewsbotError as exc:  # e.g. a damaged file (no rebuild behind the operator's back)
        log.error("cannot start: %s", exc)  # the operator's version: where, never a password
        return 2
    try:
        asyncio.run(_serve(services, token))
    except discord.LoginFailure:
        print(TOKEN_REJECTED, file=sys.stderr)
        return 2
    except (aiohttp.ClientError, OSError) as exc:  # logging in: the gateway reconnects itself
        print(DISCORD_UNREACHABLE.format(reason=exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        log.info("stopped")
    finally:
        services.close()
    return 0


async def _serve(services: Services, token: str) -> None:
    """Connect and serve; SIGTERM closes the connection cleanly."""
    async with make_bot(services) as bot:
        loop = asyncio.get_running_loop()
        try:
            loop.add_signal_handler(signal.SIGTERM, lambda: asyncio.ensure_future(bot.close()))
        except NotImplementedError:  # Windows event loops have no signal handlers
            log.debug("SIGTERM handler not installed")
        await bot.start(token)


def sync(settings: Settings, guild_id: int | None = None) -> int:
    """Publish the slash commands globally, or to one server at once; return the exit code."""
    token = bot_token(settings)
    if token is None:
        print(TOKEN_MISSING, file=sys.stderr)
        return 2
    configure_logging(logging.WARNING)
    use_discord_endpoints(settings)
    services = build_services(settings)
    try:
        names = asyncio.run(_sync(services, token, guild_id))
    except discord.LoginFailure:
        print(TOKEN_REJECTED, file=sys.stderr)
        return 2
    finally:
        services.close()
    where = f"to server {guild_id}" if guild_id is not None else "globally"
    print(f"Synced {len(names)} commands {where}: {', '.join(sorted(names))}")
    return 0


async def _sync(services: Services, token: str, guild_id: int | None) -> list[str]:
    """Log in over HTTP only (no gateway), load the cogs and sync the tree."""
    async with make_bot(services, warm_model=False) as bot:
        await bot.login(token)
        synced = await sync_tree(bot, guild_id)
    return [command.name for command in synced]


async def sync_tree(bot: NewsBot, guild_id: int | None) -> list[app_commands.AppCommand]:
    """Sync the command tree globally, or copy it to one server and sync that server."""
    if guild_id is None:
        return await bot.tree.sync()
    guild = discord.Object(id=guild_id)
    bot.tree.copy_global_to(guild=guild)
    return await bot.tree.sync(guild=guild)
