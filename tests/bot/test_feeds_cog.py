"""The feeds cog: /feed commands for moderators, and the poller on real feeds from 127.0.0.1."""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from unittest.mock import MagicMock

import discord
import pytest

from bot.client import NewsBot
from index.services import Services
from index.settings import Settings
from tests.bot.conftest import loaded_bot
from tests.bot.support import (
    DIGEST_CHANNEL,
    GUILD_ID,
    checked,
    command,
    interaction,
    invoke,
    member,
    moderator_by_role,
    sent,
)  # fmt: skip
from tests.index.feeds import conftest as feed_fixtures
from tests.index.feeds.feedkit import Clock
from tests.index.httpserver import Route, Server

# The feed tests' own fixtures: a movable clock, the feed server, connections to 127.0.0.1 only.
clock = feed_fixtures.clock
server = feed_fixtures.server
connections = feed_fixtures.connections


@pytest.fixture
def settings(settings: Settings, server: Server) -> Settings:
    return settings.model_copy(update={
        "fetch_allow_private_hosts": [server.hostport], "feed_min_interval_seconds": 60,
        "feed_interval_seconds": 600, "digest_channel_id": DIGEST_CHANNEL,
    })  # fmt: skip


@pytest.fixture
async def bot(services: Services, clock: Clock) -> AsyncIterator[NewsBot]:
    async with loaded_bot(services) as running:
        running.clock = clock
        running.get_cog("Feeds").poller.cancel()  # the test drives each pass itself
        yield running


def _channel(bot: NewsBot) -> MagicMock:
    channel = MagicMock(spec=discord.TextChannel)
    channel.id = DIGEST_CHANNEL
    channel.send = checked(discord.TextChannel.send)
    bot.get_channel = MagicMock(return_value=channel)  # type: ignore[method-assign]
    return channel


async def _run(bot: NewsBot, path: str, user: Any = None, **options: Any) -> str:
    fake = interaction(bot, user or moderator_by_role())
    await invoke(command(bot, path), bot.get_cog("Feeds"), fake, **options)
    last = sent(fake)[-1]
    return str(last.get("content") or last["embed"].description)


async def test_a_moderator_subscribes_and_the_poller_indexes_each_item_once(
    bot: NewsBot, server: Server, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    reply = await _run(bot, "feed add", url=f"{server.base}/wire.rss", name="Wire")
    assert reply.startswith(f"Subscribed server {GUILD_ID}'s library to feed #1 Wire")
    threads: list[str] = []
    service = bot.services.feeds
    real = service.poll_due
    monkeypatch.setattr(service, "poll_due", lambda: threads.append(
        threading.current_thread().name) or real())  # fmt: skip
    cog = bot.get_cog("Feeds")
    first = await cog.poll_once()
    assert [(r.status, len(r.added)) for r in first] == [("polled", 3)]
    assert threads and threads[0] != threading.main_thread().name  # never on the event loop
    assert bot.services.stories.count((GUILD_ID,)) == 3 and bot.services.stories.count((0,)) == 0
    clock.advance(601)
    assert [r.status for r in await cog.poll_once()] == ["unchanged"]
    listing = await _run(bot, "feed list")
    assert "#1 Wire" in listing and "last poll" in listing


async def test_members_cannot_manage_feeds(bot: NewsBot, server: Server) -> None:
    reply = await _run(bot, "feed add", member(), url=f"{server.base}/wire.rss")
    assert "permission" in reply.lower() or "moderator" in reply.lower()
    assert bot.services.feeds.list_feeds(None) == []


async def test_bad_feeds_are_refused_with_the_reason(bot: NewsBot, server: Server) -> None:
    reply = await _run(bot, "feed add", url=f"{server.base}/moved.rss")
    assert "refused: the address 169.254.169.254 is link-local" in reply
    reply = await _run(bot, "feed add", url=f"{server.base}/broken.rss")
    assert "not a well-formed feed" in reply
    assert "No feeds yet" in await _run(bot, "feed list")
    assert "No feed with id 5" in await _run(bot, "feed remove", feed=5)


async def test_pause_resume_remove(bot: NewsBot, server: Server) -> None:
    await _run(bot, "feed add", url=f"{server.base}/wire.rss")
    assert (await _run(bot, "feed pause", feed=1)).startswith("Paused feed #1 AI Wire")
    assert await bot.get_cog("Feeds").poll_once() == []
    assert (await _run(bot, "feed resume", feed=1)).startswith("Resumed feed #1")
    assert "stay indexed" in await _run(bot, "feed remove", feed=1)
    assert bot.services.feeds.list_feeds(None) == []


async def test_a_feed_failing_for_a_day_is_reported_once_in_the_digest_channel(
    bot: NewsBot, server: Server, clock: Clock
) -> None:
    channel = _channel(bot)
    await _run(bot, "feed add", url=f"{server.base}/wire.rss", name="Wire")
    server.routes["/wire.rss"] = Route(b"down", status=503)
    cog = bot.get_cog("Feeds")
    for _ in range(12):  # a day and a half of polls as they come due
        await cog.poll_once()
        feed = bot.services.feeds.get(1, None)
        clock.now = max(clock.now + timedelta(hours=1), clock.now.fromtimestamp(
            feed.next_poll, clock.now.tzinfo))  # fmt: skip
    assert channel.send.await_count == 1
    text = channel.send.await_args.args[0]
    assert text.startswith("Feed #1 Wire (<http://127.0.0.1:") and "HTTP 503" in text
    assert "failing (" in await _run(bot, "feed list")


async def test_new_stories_are_announced_once_in_the_feeds_channel(
    bot: NewsBot, server: Server, clock: Clock
) -> None:
    channel = _channel(bot)
    await _run(bot, "feed add", url=f"{server.base}/wire.rss", announce=channel)
    cog = bot.get_cog("Feeds")
    await cog.poll_once()
    posts = [call.args[0] for call in channel.send.await_args_list]
    assert len(posts) == 3
    vexa = next(p for p in posts if "Vexa" in p)
    assert vexa.startswith("📰 **Tallinn regulator fines chipmaker Vexa over export papers**")
    assert "AI Wire, " in vexa and f"<{server.base}/a/vexa>" in vexa
    clock.advance(601)
    await cog.poll_once()
    assert channel.send.await_count == 3  # unchanged feed: nothing posted again
