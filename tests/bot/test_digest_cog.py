"""The digest cog: preview, post, and the scheduler under a controlled clock."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.client import NewsBot, make_bot
from bot.digest_embeds import NOW_ANSWERED_NAME, UNANSWERED_NAME
from bot.errors import DigestUnavailable
from bot.limits import message_problems
from index.services import Services
from index.settings import Settings
from tests.bot.support import (
    DIGEST_CHANNEL,
    checked,
    command,
    interaction,
    invoke,
    moderator_by_role,
    sent,
)

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
    assert bot.get_cog("WeeklyDigest").service.last_run() is not None


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
    cog.service.mark_posted(cog.service.build(clock.now - timedelta(days=8)))
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
    cog.service.mark_posted(cog.service.build(datetime(2026, 3, 2, 9, 5, tzinfo=UTC)))
    assert await cog.post_if_due() is True
    [embed] = channel.send.await_args.kwargs["embeds"]
    assert "No new stories" in embed.description
    assert "content" not in channel.send.await_args.kwargs

    channel = _with_digest(bot, digest_empty="skip")
    clock.now += timedelta(days=7)
    assert await cog.post_if_due() is False
    channel.send.assert_not_awaited()
    assert cog.service.due(clock.now) is False  # the skipped week is not retried


async def test_failed_send_is_retried_not_lost(bot: NewsBot) -> None:
    channel = _with_digest(bot)
    cog = bot.get_cog("WeeklyDigest")
    bot.clock = Clock(datetime.now(UTC) + timedelta(minutes=1))
    cog.service.mark_posted(cog.service.build(bot.clock() - timedelta(days=8)))
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
        bot.services.ask(question)
    bot.services.ask("Who won the 2026 FIFA World Cup final?", private=True)  # never shown
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
    cog.service.mark_posted(cog.service.build(now - timedelta(days=1)))
    bot.services.ask("Price of bananas in Peru?")  # refused: the index holds no story
    bot.clock = Clock(now + timedelta(days=7))
    channel = _with_digest(bot, digest_empty="skip")
    assert await cog.post_if_due() is True
    fields = {f.name: f.value for e in channel.send.await_args.kwargs["embeds"] for f in e.fields}
    assert fields[UNANSWERED_NAME] == "1. Price of bananas in Peru? (×1)"
