"""Every extension loads into a real commands.Bot offline; the command tree is what we publish."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.client import EXTENSIONS, NewsBot, ShardedNewsBot, intents, make_bot
from index.services import Services
from tests.bot.support import command

EXPECTED = {
    "ask": ["question", "private", "thread"],
    "story add": ["url", "file", "library"],
    "story paste": ["library"],
    "story remove": ["story", "library"],
    "story list": ["library"],
    "story info": ["story", "library"],
    "story review": ["story", "status", "confidence", "note", "library"],
    "digest preview": [],
    "digest post": [],
    "feedback": ["limit"],
    "follow": ["question"],
    "unfollow": ["question"],
    "follows": [],
    "settings show": [],
    "settings set": ["key", "value"],
    "feed add": ["url", "name", "include", "exclude", "library", "announce"],
    "feed list": ["library"],
    "feed remove": ["feed", "library"],
    "feed pause": ["feed", "library"],
    "feed resume": ["feed", "library"],
}
MEMBER_COMMANDS = {"ask", "follow", "unfollow", "follows"}
MODERATOR_ONLY = [path for path in EXPECTED if path not in MEMBER_COMMANDS]


def _paths(bot: NewsBot) -> list[str]:
    paths = []
    for cmd in bot.tree.walk_commands():
        if isinstance(cmd, app_commands.Command):
            paths.append(cmd.qualified_name)
    return sorted(paths)


async def test_extensions_load_and_register_the_commands(empty_bot: NewsBot) -> None:
    bot = empty_bot
    assert set(bot.extensions) == set(EXTENSIONS)
    assert _paths(bot) == sorted(EXPECTED)
    for path, options in EXPECTED.items():
        cmd = command(bot, path)
        assert [p.name for p in cmd.parameters] == options
        assert 1 <= len(cmd.description) <= 100
        for param in cmd.parameters:
            assert 1 <= len(param.description) <= 100
    params = {p.name: p for p in command(bot, "ask").parameters}
    assert params["question"].required and not params["private"].required
    assert params["private"].type is discord.AppCommandOptionType.boolean
    add = {p.name: p for p in command(bot, "story add").parameters}
    assert add["file"].type is discord.AppCommandOptionType.attachment
    assert command(bot, "story remove").parameters[0].autocomplete
    assert command(bot, "story info").parameters[0].autocomplete


async def test_payload_is_guild_only_with_a_manage_server_hint(empty_bot: NewsBot) -> None:
    bot = empty_bot
    payloads: dict[str, dict[str, Any]] = {
        c.name: c.to_dict(bot.tree) for c in bot.tree.get_commands()
    }
    assert set(payloads) >= {"ask", "story", "digest", "follow", "unfollow", "follows"}
    for payload in payloads.values():
        assert payload["contexts"] == [0]  # guild only
    manage_guild = discord.Permissions(manage_guild=True).value
    assert payloads["story"]["default_member_permissions"] == manage_guild
    assert payloads["digest"]["default_member_permissions"] == manage_guild
    assert payloads["feedback"]["default_member_permissions"] == manage_guild
    assert payloads["ask"]["default_member_permissions"] is None


async def test_every_moderator_command_checks_in_code(empty_bot: NewsBot) -> None:
    bot = empty_bot
    from bot.checks import _moderator_predicate

    for path in MODERATOR_ONLY:
        assert _moderator_predicate in command(bot, path).checks, path
    assert _moderator_predicate not in command(bot, "ask").checks


def test_bot_defaults_ping_nothing_and_need_no_privileged_intent(services: Services) -> None:
    bot = make_bot(services, warm_model=False)
    assert bot.allowed_mentions is not None
    assert bot.allowed_mentions.to_dict() == discord.AllowedMentions.none().to_dict()
    chosen = intents()
    assert not chosen.message_content and not chosen.members and not chosen.presences
    assert chosen.guild_messages and chosen.guilds
    assert type(bot) is NewsBot


def test_sharded_bot_when_asked(services: Services) -> None:
    services.settings = services.settings.model_copy(update={"shard_count": 3})
    bot = make_bot(services, warm_model=False)
    assert isinstance(bot, ShardedNewsBot) and isinstance(bot, NewsBot)
    assert bot.shard_count == 3


async def test_setup_hook_loads_cogs_and_warms_the_model(services: Services) -> None:
    async with make_bot(services) as bot:
        calls = services.embedder.calls  # type: ignore[attr-defined]
        await bot.setup_hook()
        assert set(bot.extensions) == set(EXTENSIONS)
        assert services.embedder.calls == calls + 1  # type: ignore[attr-defined]


async def test_run_core_caps_concurrency(services: Services) -> None:
    import threading
    import time

    services.settings = services.settings.model_copy(update={"worker_threads": 2})
    bot = make_bot(services, warm_model=False)
    active, peak, lock = [0], [0], threading.Lock()

    def work() -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.02)
        with lock:
            active[0] -= 1

    import asyncio

    await asyncio.gather(*(bot.run_core(work) for _ in range(10)))
    assert peak[0] == 2
