"""The digest cog: preview, post, and the scheduler under a controlled clock."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.client import NewsBot, make_bot
from bot.digest_embeds import NOW_ANSWERED_NAME, UNANSWERED_NAME
from bot.errors import DigestUnavailable
from bot.limits import message_problems
from index.digest import Digest, DigestService, DigestStory, floor_second
from index.errors import LeaseBusyError
from index.leases import Leases
from index.registry import Registry
from index.services import Services
from index.settings import Settings
from tests.bot.support import (
    DIGEST_CHANNEL,
    GUILD_ID,
    checked,
    command,
    interaction,
    invoke,
    moderator_by_role,
    sent,
)

pytestmark = pytest.mark.both_backends  # registry tests run on SQLite and PostgreSQL

DIGEST_ROLE = 555_555_555_555_555_555


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def _channel() -> MagicMock:
    channel = MagicMock(spec=discord.TextChannel)
    channel.id = DIGEST_CHANNEL
    channel.guild = SimpleNamespace(id=GUILD_ID)
    channel.send = checked(discord.TextChannel.send)
    return channel


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """Return settings with a Monday 09:00 UTC digest (the scheduler is started by cog_load)."""
    return settings.model_copy(
        update={"digest_channel_id": DIGEST_CHANNEL, "digest_time": time(9, 0),
                "digest_weekday": "monday", "digest_timezone": "UTC"}
    )  # fmt: skip


def _with_digest(bot: NewsBot, **overrides: Any) -> MagicMock:
    """Give a loaded bot a fake digest channel (and settings read at call time)."""
    bot.settings = bot.settings.model_copy(update=overrides)
    channel = _channel()
    bot.get_channel = MagicMock(return_value=channel)  # type: ignore[method-assign]
    return channel


async def test_preview_shows_the_new_stories_only_to_the_moderator(bot: NewsBot) -> None:
    _with_digest(bot)
    bot.clock = Clock(datetime.now(UTC) + timedelta(minutes=1))  # the seeds were added just now
    fake = interaction(bot, moderator_by_role())
    await invoke(command(bot, "digest preview"), bot.get_cog("WeeklyDigest"), fake)
    fake.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    [message] = sent(fake)
    assert message["ephemeral"] is True
    assert message["content"].startswith("Preview (not posted). Next scheduled posting: <t:")
    embeds = message["embeds"]
    assert embeds[0].title.startswith("Weekly digest")
    names = [f.name for e in embeds for f in e.fields]
    assert "Hollywood Writers AI Trainers" in names
    assert "Hollywood Professionals Transition to AI Training Roles" in names
    assert message_problems(message.get("content"), embeds) == []


async def test_post_sends_to_the_channel_pings_only_the_opt_in_role(bot: NewsBot) -> None:
    channel = _with_digest(bot, digest_role_id=DIGEST_ROLE)
    bot.clock = Clock(datetime.now(UTC) + timedelta(minutes=1))
    fake = interaction(bot, moderator_by_role())
    await invoke(command(bot, "digest post"), bot.get_cog("WeeklyDigest"), fake)
    kwargs = channel.send.await_args_list[0].kwargs
    assert kwargs["content"] == f"<@&{DIGEST_ROLE}>"
    mentions = kwargs["allowed_mentions"].to_dict()
    assert mentions["parse"] == [] and mentions["roles"] == [DIGEST_ROLE]
    assert "users" not in mentions or mentions["users"] == []
    assert f"<#{DIGEST_CHANNEL}>" in sent(fake)[-1]["content"]
    assert bot.get_cog("WeeklyDigest").service_for(GUILD_ID).last_run() is not None


async def test_post_without_a_channel_says_which_setting(bot: NewsBot) -> None:
    _with_digest(bot, digest_channel_id=None)
    fake = interaction(bot, moderator_by_role())
    await invoke(command(bot, "digest post"), bot.get_cog("WeeklyDigest"), fake)
    assert "NEWSBOT_DIGEST_CHANNEL_ID" in sent(fake)[-1]["content"].replace("\\", "")


async def test_scheduler_posts_once_when_due_under_a_controlled_clock(bot: NewsBot) -> None:
    channel = _with_digest(bot)
    cog = bot.get_cog("WeeklyDigest")
    clock = Clock(datetime.now(UTC) + timedelta(minutes=1))
    bot.clock = clock
    cog.service_for(GUILD_ID).mark_posted(
        cog.service_for(GUILD_ID).build(clock.now - timedelta(days=8))
    )
    assert await cog.post_if_due() is True
    assert channel.send.await_count >= 1
    sends = channel.send.await_count
    clock.now += timedelta(minutes=1)
    assert await cog.post_if_due() is False
    assert channel.send.await_count == sends
    # A restart (a new cog over the same registry) does not post again.
    fresh = type(cog)(bot)
    assert await fresh.post_if_due() is False


async def test_empty_week_posts_a_note_or_nothing(empty_bot: NewsBot) -> None:
    bot = empty_bot
    cog = bot.get_cog("WeeklyDigest")
    clock = Clock(datetime(2026, 3, 9, 9, 5, tzinfo=UTC))
    bot.clock = clock
    channel = _with_digest(bot)
    cog.service_for(GUILD_ID).mark_posted(
        cog.service_for(GUILD_ID).build(datetime(2026, 3, 2, 9, 5, tzinfo=UTC))
    )
    assert await cog.post_if_due() is True
    [embed] = channel.send.await_args.kwargs["embeds"]
    assert "No new stories" in embed.description
    assert "content" not in channel.send.await_args.kwargs

    channel = _with_digest(bot, digest_empty="skip")
    clock.now += timedelta(days=7)
    assert await cog.post_if_due() is False
    channel.send.assert_not_awaited()
    assert cog.service_for(GUILD_ID).due(clock.now) is False  # the skipped week is not retried


async def test_failed_send_is_retried_not_lost(bot: NewsBot) -> None:
    channel = _with_digest(bot)
    cog = bot.get_cog("WeeklyDigest")
    bot.clock = Clock(datetime.now(UTC) + timedelta(minutes=1))
    cog.service_for(GUILD_ID).mark_posted(
        cog.service_for(GUILD_ID).build(bot.clock() - timedelta(days=8))
    )
    channel.send.side_effect = discord.HTTPException(MagicMock(status=500), "boom")
    with pytest.raises(discord.HTTPException):
        await cog.post_if_due()
    channel.send.side_effect = None
    assert await cog.post_if_due() is True


async def test_unreachable_channel_is_a_clear_error(bot: NewsBot) -> None:
    _with_digest(bot)
    bot.get_channel = MagicMock(return_value=None)  # type: ignore[method-assign]
    bot.fetch_channel = AsyncMock(side_effect=discord.NotFound(MagicMock(status=404), "gone"))  # type: ignore[method-assign]
    with pytest.raises(DigestUnavailable, match="cannot see"):
        await bot.get_cog("WeeklyDigest").digest_channel()


async def test_scheduler_runs_only_with_a_channel(services: Services) -> None:
    async with make_bot(services, warm_model=False) as bot:
        await bot.load_extension("bot.cogs.digest")
        loop = bot.get_cog("WeeklyDigest").scheduler
        assert loop.is_running()
    assert bot.get_cog("WeeklyDigest") is None
    assert not loop.is_running()

    services.settings = services.settings.model_copy(update={"digest_channel_id": None})
    async with make_bot(services, warm_model=False) as bot:
        await bot.load_extension("bot.cogs.digest")
        assert not bot.get_cog("WeeklyDigest").scheduler.is_running()


async def test_scheduler_checks_as_often_as_settings_say(services: Services) -> None:
    services.settings = services.settings.model_copy(update={"digest_check_seconds": 0.5})
    async with make_bot(services, warm_model=False) as bot:
        await bot.load_extension("bot.cogs.digest")
        assert bot.get_cog("WeeklyDigest").scheduler.seconds == 0.5


async def test_preview_lists_the_questions_we_could_not_answer(bot: NewsBot) -> None:
    _with_digest(bot)
    for question in ("Price of bananas in Peru?", "What is the price of bananas in Peru?"):
        bot.services.ask(question, guild_id=GUILD_ID)
    bot.services.ask("Who won the 2026 FIFA World Cup final?", private=True, guild_id=GUILD_ID)
    bot.services.ask("Price of apples in Chile?")  # from the CLI: in no server's digest
    bot.clock = Clock(datetime.now(UTC) + timedelta(minutes=1))
    fake = interaction(bot, moderator_by_role())
    await invoke(command(bot, "digest preview"), bot.get_cog("WeeklyDigest"), fake)
    fields = {f.name: f.value for m in sent(fake) for e in m["embeds"] for f in e.fields}
    assert fields[UNANSWERED_NAME] == "1. Price of bananas in Peru? (×2)"
    assert NOW_ANSWERED_NAME not in fields


async def test_skip_still_posts_a_week_whose_only_news_is_unanswered_questions(
    empty_bot: NewsBot,
) -> None:
    bot = empty_bot
    cog = bot.get_cog("WeeklyDigest")
    now = datetime.now(UTC)
    cog.service_for(GUILD_ID).mark_posted(cog.service_for(GUILD_ID).build(now - timedelta(days=1)))
    bot.services.ask("Price of bananas in Peru?", guild_id=GUILD_ID)  # refused: no story
    bot.clock = Clock(now + timedelta(days=7))
    channel = _with_digest(bot, digest_empty="skip")
    assert await cog.post_if_due() is True
    fields = {f.name: f.value for e in channel.send.await_args.kwargs["embeds"] for f in e.fields}
    assert fields[UNANSWERED_NAME] == "1. Price of bananas in Peru? (×1)"


# -- a digest that fails partway ----------------------------------------------------------------


def _long_build(self: DigestService, now: datetime, *args: Any, **kwargs: Any) -> Digest:
    """Build a digest of the real period whose stories need several messages."""
    stories = tuple(
        DigestStory(f"a{i}", f"Story {i} " + "t" * 200, "Pub", date(2026, 5, 1),
                    f"https://example.com/{i}", "s" * 299, "k" * 150)
        for i in range(24)
    )  # fmt: skip
    return Digest(self.period_start(now), floor_second(now), "UTC", stories, 0, ())


class FlakyChannel:
    """Records what reached the channel; the sends in `fail_on` (1-based) raise a 503, and so
    does every follow-up message (one without the digest's title) when `follow_ups_fail`."""

    def __init__(
        self, channel: MagicMock, fail_on: set[int], *, follow_ups_fail: bool = False
    ) -> None:
        self.fail_on = fail_on
        self.follow_ups_fail = follow_ups_fail
        self.attempts = 0
        self.delivered: list[dict[str, Any]] = []
        channel.send = checked(discord.TextChannel.send, self._send)

    async def _send(self, *args: Any, **kwargs: Any) -> MagicMock:
        self.attempts += 1
        follow_up = kwargs["embeds"][0].title is None
        if self.attempts in self.fail_on or (self.follow_ups_fail and follow_up):
            raise discord.HTTPException(MagicMock(status=503, reason="unavailable"), "try later")
        self.delivered.append(kwargs)
        return MagicMock()

    def bodies(self) -> list[list[dict[str, Any]]]:
        """Return each delivered message's embeds as dicts (to spot a message sent twice)."""
        return [[e.to_dict() for e in kwargs["embeds"]] for kwargs in self.delivered]

    def pings(self) -> int:
        """Return how many delivered messages mention the opt-in role."""
        return sum(kwargs.get("content") == f"<@&{DIGEST_ROLE}>" for kwargs in self.delivered)


@pytest.fixture
def long_digest(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make every DigestService (a restarted one too) build a digest of several messages."""
    monkeypatch.setattr(DigestService, "build", _long_build)
    yield


def _due_with_role(bot: NewsBot) -> tuple[Any, MagicMock, Clock]:
    """Return the digest cog with a due digest, a role to ping, and its channel."""
    channel = _with_digest(bot, digest_role_id=DIGEST_ROLE)
    cog = bot.get_cog("WeeklyDigest")
    clock = Clock(datetime.now(UTC) + timedelta(minutes=1))
    bot.clock = clock
    cog.service_for(GUILD_ID).mark_posted(
        cog.service_for(GUILD_ID).build(clock.now - timedelta(days=8))
    )
    return cog, channel, clock


def _expected_messages(cog: Any, clock: Clock) -> int:
    """Return how many messages the due digest needs."""
    from bot.digest_embeds import digest_messages

    return len(digest_messages(cog.service_for(GUILD_ID).build(clock.now), DIGEST_ROLE))


async def test_retry_after_a_partial_post_sends_only_the_rest(
    bot: NewsBot, long_digest: None
) -> None:
    cog, channel, clock = _due_with_role(bot)
    total = _expected_messages(cog, clock)
    assert total >= 3
    flaky = FlakyChannel(channel, fail_on={2})
    with pytest.raises(discord.HTTPException):
        await cog.post_if_due()
    assert cog.service_for(GUILD_ID).due(clock.now) is True
    clock.now += timedelta(minutes=1)  # the scheduler's retry rebuilds the digest
    assert await cog.post_if_due() is True
    bodies = flaky.bodies()
    assert len(bodies) == total
    assert all(bodies.count(body) == 1 for body in bodies)
    assert flaky.pings() == 1 and flaky.delivered[0].get("content") == f"<@&{DIGEST_ROLE}>"
    assert cog.service_for(GUILD_ID).due(clock.now) is False
    clock.now += timedelta(minutes=1)
    assert await cog.post_if_due() is False
    assert len(flaky.delivered) == total


async def test_a_restart_mid_post_resumes_where_it_stopped(bot: NewsBot, long_digest: None) -> None:
    cog, channel, clock = _due_with_role(bot)
    total = _expected_messages(cog, clock)
    flaky = FlakyChannel(channel, fail_on={3})
    with pytest.raises(discord.HTTPException):
        await cog.post_if_due()
    assert len(flaky.delivered) == 2
    # A restart: a new cog over a new connection to the same database.
    fresh = type(cog)(bot)
    registry = Registry(bot.settings.db_path, url=bot.settings.database_url.get_secret_value())
    try:
        fresh.service_for = lambda guild_id: DigestService(  # type: ignore[method-assign]
            registry, bot.settings, guild_id=guild_id
        )
        clock.now += timedelta(minutes=5)
        assert await fresh.post_if_due() is True
    finally:
        registry.close()
    bodies = flaky.bodies()
    assert len(bodies) == total and all(bodies.count(body) == 1 for body in bodies)
    assert flaky.pings() == 1


async def test_digest_post_after_a_partial_scheduled_post_sends_only_the_rest(
    bot: NewsBot, long_digest: None
) -> None:
    cog, channel, clock = _due_with_role(bot)
    total = _expected_messages(cog, clock)
    flaky = FlakyChannel(channel, fail_on={2})
    with pytest.raises(discord.HTTPException):
        await cog.post_if_due()
    clock.now += timedelta(minutes=10)
    fake = interaction(bot, moderator_by_role())
    await invoke(command(bot, "digest post"), cog, fake)
    assert f"<#{DIGEST_CHANNEL}>" in sent(fake)[-1]["content"]
    bodies = flaky.bodies()
    assert len(bodies) == total and all(bodies.count(body) == 1 for body in bodies)
    assert flaky.pings() == 1
    assert cog.service_for(GUILD_ID).due(clock.now) is False


async def test_a_lasting_failure_retries_one_message_and_warns_hourly(
    bot: NewsBot, long_digest: None, caplog: pytest.LogCaptureFixture
) -> None:
    cog, channel, clock = _due_with_role(bot)
    flaky = FlakyChannel(channel, fail_on=set(), follow_ups_fail=True)
    with caplog.at_level(logging.WARNING, logger="bot.cogs.digest"):
        for _ in range(5):  # five scheduler checks, a minute apart
            await cog.scheduler.coro(cog)
            clock.now += timedelta(minutes=1)
    assert len(flaky.delivered) == 1 and flaky.attempts == 6  # message 1 once, then message 2
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(problems) == 1, [r.getMessage() for r in problems]


async def test_a_digest_shows_only_its_own_servers_questions(bot: NewsBot) -> None:
    other_server = 999_999_999_999_999_999
    bot.settings = bot.settings.model_copy(update={"guild_ids": [GUILD_ID, other_server]})
    channel = _with_digest(bot)  # in GUILD_ID
    bot.services.ask("Will Acme lay me off over AI tools?", private=True, guild_id=GUILD_ID)
    for _ in range(2):
        bot.services.ask("Price of bananas in Peru?", guild_id=GUILD_ID)
        bot.services.ask("Price of apples in Chile?", guild_id=other_server)
    bot.clock = Clock(datetime.now(UTC) + timedelta(minutes=1))

    def shown(embeds: list[discord.Embed]) -> str:
        return " ".join(str(e.to_dict()) for e in embeds)

    elsewhere = interaction(bot, moderator_by_role(), guild_id=other_server)
    await invoke(command(bot, "digest preview"), bot.get_cog("WeeklyDigest"), elsewhere)
    text = shown([e for m in sent(elsewhere) for e in m["embeds"]])
    assert "apples" in text and "bananas" not in text and "Acme" not in text

    here = interaction(bot, moderator_by_role())
    await invoke(command(bot, "digest post"), bot.get_cog("WeeklyDigest"), here)
    text = shown([e for c in channel.send.await_args_list for e in c.kwargs["embeds"]])
    assert "bananas" in text and "apples" not in text and "Acme" not in text


async def test_another_servers_moderator_cannot_post_the_digest(bot: NewsBot) -> None:
    other_server = 999_999_999_999_999_999
    bot.settings = bot.settings.model_copy(update={"guild_ids": [GUILD_ID, other_server]})
    channel = _with_digest(bot)  # in GUILD_ID
    bot.clock = Clock(datetime.now(UTC) + timedelta(minutes=1))
    cog = bot.get_cog("WeeklyDigest")
    last = cog.service_for(GUILD_ID).last_run()
    elsewhere = interaction(bot, moderator_by_role(), guild_id=other_server)
    await invoke(command(bot, "digest post"), cog, elsewhere)
    channel.send.assert_not_awaited()
    assert "another server" in sent(elsewhere)[-1]["content"]
    assert cog.service_for(GUILD_ID).last_run() == last  # nothing recorded as posted


# -- several bot processes: the digest lease ----------------------------------------------------


async def test_a_digest_another_process_is_posting_is_left_to_it(
    bot: NewsBot, long_digest: None
) -> None:
    cog, channel, clock = _due_with_role(bot)
    other = Leases(bot.services.registry, 0.3, owner="other-process")
    assert other.claim(f"digest:{GUILD_ID}")
    flaky = FlakyChannel(channel, fail_on=set())
    assert await cog.post_if_due() is False
    assert flaky.delivered == []
    with pytest.raises(LeaseBusyError):  # /digest post too waits for the other process
        await cog.post.callback(cog, interaction(bot, moderator_by_role()))
    await asyncio.sleep(0.4)  # the other process stopped renewing: its lease lapsed
    assert await cog.post_if_due() is True
    assert len(flaky.delivered) == _expected_messages(cog, clock)


async def test_a_process_killed_mid_post_is_finished_by_another_once_its_lease_lapses(
    bot: NewsBot, long_digest: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    cog, channel, clock = _due_with_role(bot)
    total = _expected_messages(cog, clock)
    flaky = FlakyChannel(channel, fail_on={3})
    dead = Leases(bot.services.registry, 0.3, owner="dead-process")
    monkeypatch.setattr(bot.services, "leases", dead)
    monkeypatch.setattr(dead, "release", lambda name: None)  # killed: it never lets go
    with pytest.raises(discord.HTTPException):
        await cog.post_if_due()
    assert len(flaky.delivered) == 2
    survivor = Leases(bot.services.registry, 30, owner="survivor")
    monkeypatch.setattr(bot.services, "leases", survivor)
    fresh = type(cog)(bot)
    assert await fresh.post_if_due() is False  # the dead process's lease still holds
    await asyncio.sleep(0.4)
    clock.now += timedelta(minutes=1)
    assert await fresh.post_if_due() is True
    bodies = flaky.bodies()
    assert len(bodies) == total and all(bodies.count(body) == 1 for body in bodies)
    assert flaky.pings() == 1
    assert survivor.holder(f"digest:{GUILD_ID}") is None  # released once done
