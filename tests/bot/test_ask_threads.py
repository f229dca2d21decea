"""/ask in threads, in-thread follow-ups and where the bot speaks, through the Ask cog."""

from __future__ import annotations

from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.client import NewsBot
from bot.threads import THREAD_NAME, place, thread_name
from tests.bot.support import GUILD_ID, checked, command, interaction, invoke, member

FIRST = "Are Hollywood writers training AI?"
CHANNEL = 555_000
ELSEWHERE = 556_000
THREAD = 777_000


def thread_channel(thread_id: int = THREAD, parent_id: int = CHANNEL) -> MagicMock:
    """Return a fake public thread in the ask channel, recording what is sent into it."""
    fake = MagicMock(spec=discord.Thread)
    fake.id, fake.parent_id = thread_id, parent_id
    fake.send = checked(discord.Thread.send)
    return fake


def in_channel(bot: NewsBot, channel: Any = None, *, user: Any = None) -> MagicMock:
    """Return an /ask interaction in a text channel (or the given thread); a starter message
    sent with wait=True can start a thread."""
    fake = interaction(bot, user)
    fake.channel = channel or MagicMock(spec=discord.TextChannel, id=CHANNEL)
    fake.channel_id = fake.channel.id
    started = thread_channel(THREAD + 1)
    starter = MagicMock(spec=discord.WebhookMessage)
    fake.channel.create_thread = checked(
        discord.TextChannel.create_thread, AsyncMock(return_value=started)
    )
    fake.followup.send = checked(discord.Webhook.send, AsyncMock(return_value=starter))
    fake.started, fake.starter = started, starter
    return fake


async def ask(bot: NewsBot, fake: MagicMock, question: str, **options: Any) -> None:
    """Run /ask as the command tree would."""
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), fake, question=question, **options)


def logged_threads(bot: NewsBot) -> list[tuple[str, int | None]]:
    """Return (question, thread id) of every logged question, oldest first."""
    with bot.services.registry.read() as db:
        return [tuple(r) for r in db.execute("SELECT question, thread_id FROM questions")]  # type: ignore[misc]


async def test_thread_true_answers_in_a_new_thread_named_after_the_question(bot: NewsBot) -> None:
    fake = in_channel(bot)
    await ask(bot, fake, FIRST, thread=True)
    fake.response.defer.assert_awaited_once_with(ephemeral=False, thinking=True)
    starter = fake.followup.send.await_args
    assert starter.kwargs["wait"] is True and FIRST in starter.args[0]
    assert starter.kwargs["allowed_mentions"].to_dict()["parse"] == []
    fake.channel.create_thread.assert_awaited_once_with(name=FIRST, message=fake.starter)
    answer = fake.started.send.await_args.kwargs
    assert answer["embed"].title == FIRST and answer["allowed_mentions"].to_dict()["parse"] == []
    assert logged_threads(bot) == [(FIRST, THREAD + 1)]  # its questions are the thread's context


async def test_a_long_question_names_its_thread_within_discords_limit(bot: NewsBot) -> None:
    question = "Are Hollywood writers training AI " + "and so on " * 30 + "?"
    fake = in_channel(bot)
    await ask(bot, fake, question, thread=True)
    name = fake.channel.create_thread.await_args.kwargs["name"]
    assert len(name) == THREAD_NAME and name.endswith("…") and question.startswith(name[:-1])


async def test_a_follow_up_in_the_thread_is_read_with_its_context(bot: NewsBot) -> None:
    await ask(bot, in_channel(bot, thread_channel()), FIRST)
    fake = in_channel(bot, thread_channel())
    await ask(bot, fake, "Which companies?")
    footer = fake.followup.send.await_args.kwargs["embed"].footer.text
    assert f"Read as a follow-up to: {FIRST}" in footer
    # Outside the thread the same words are read on their own.
    alone = in_channel(bot)
    await ask(bot, alone, "Which companies?")
    assert "follow-up" not in (alone.followup.send.await_args.kwargs["embed"].footer.text or "")
    assert logged_threads(bot)[:2] == [(FIRST, THREAD), ("Which companies?", THREAD)]


async def test_without_permission_to_start_a_thread_it_answers_in_the_channel(
    bot: NewsBot,
) -> None:
    fake = in_channel(bot)
    forbidden = discord.Forbidden(MagicMock(status=403, reason="Forbidden"), "Missing Permissions")
    fake.channel.create_thread.side_effect = forbidden
    await ask(bot, fake, FIRST, thread=True)
    answer = fake.followup.send.await_args.kwargs
    assert answer["embed"].title == FIRST and answer["allowed_mentions"].to_dict()["parse"] == []
    assert logged_threads(bot) == [(FIRST, None)]


async def test_no_thread_starts_inside_a_thread(bot: NewsBot) -> None:
    fake = in_channel(bot, thread_channel())
    await ask(bot, fake, FIRST, thread=True)
    fake.channel.create_thread.assert_not_awaited()
    assert "embed" in fake.followup.send.await_args.kwargs


async def test_thread_channels_setting_makes_threads_the_default(bot: NewsBot) -> None:
    bot.services.servers.set(GUILD_ID, "thread_channel_ids", str(CHANNEL))
    fake = in_channel(bot)
    await ask(bot, fake, FIRST)
    fake.channel.create_thread.assert_awaited_once()
    opted_out = in_channel(bot, user=member(5005))
    await ask(bot, opted_out, FIRST, thread=False)
    opted_out.channel.create_thread.assert_not_awaited()


async def test_ask_outside_the_bots_channels_answers_privately(bot: NewsBot) -> None:
    bot.services.servers.set(GUILD_ID, "mention_channel_ids", str(ELSEWHERE))
    fake = in_channel(bot)
    await ask(bot, fake, FIRST, thread=True)
    fake.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    fake.channel.create_thread.assert_not_awaited()
    # In a thread of one of its channels, the bot answers in public.
    inside = in_channel(bot, thread_channel(parent_id=ELSEWHERE), user=member(5006))
    await ask(bot, inside, FIRST)
    inside.response.defer.assert_awaited_once_with(ephemeral=False, thinking=True)


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, (False, False)),
        ({"thread": True}, (False, True)),
        ({"thread": True, "private": True}, (True, False)),
        ({"threads_in": [1]}, (False, True)),
        ({"threads_in": [1], "thread": False}, (False, False)),
        ({"speaks_in": [2]}, (True, False)),
        ({"speaks_in": [2], "thread": True}, (True, False)),
        ({"thread": True, "thread_id": 9}, (False, False)),
    ],
)
def test_place(kwargs: dict[str, Any], expected: tuple[bool, bool]) -> None:
    options: dict[str, Any] = {
        "channel_id": 1, "thread_id": None, "private": False, "thread": None,
        "speaks_in": [], "threads_in": [],
    }  # fmt: skip
    where = place(**(options | kwargs))
    assert (where.private, where.new_thread) == expected


def test_thread_name_is_one_line() -> None:
    assert thread_name("Who\nwon?") == "Who won?"
    assert thread_name("x" * 500) == "x" * (THREAD_NAME - 1) + "…"


BOT_ID = 999_000_999_000_999_000


def mention_in(bot: NewsBot, channel: Any, question: str) -> MagicMock:
    """Return a member's message mentioning the bot in a channel or thread."""
    message = MagicMock(spec=discord.Message)
    message.content = f"<@{BOT_ID}> {question}"
    message.author = member(5005)
    message.guild = MagicMock(id=GUILD_ID)
    message.channel = channel
    message.channel.typing = MagicMock(return_value=AsyncMock())
    message.reply = checked(discord.Message.reply)
    message.add_reaction = checked(discord.Message.add_reaction)
    return message


@pytest.fixture
def bot_user(bot: NewsBot, monkeypatch: pytest.MonkeyPatch) -> int:
    """Give the offline bot a user id, as login would."""
    me = MagicMock(id=BOT_ID)
    monkeypatch.setattr(type(bot), "user", property(lambda self: me))
    return BOT_ID


async def test_a_mention_in_the_thread_is_answered_with_its_context(
    bot: NewsBot, bot_user: int
) -> None:
    await ask(bot, in_channel(bot, thread_channel()), FIRST)
    message = mention_in(bot, thread_channel(), "How much do they earn?")
    await bot.get_cog("Ask").on_message(message)
    reply = message.reply.await_args.kwargs
    assert f"Read as a follow-up to: {FIRST}" in reply["embed"].footer.text
    assert reply["allowed_mentions"].to_dict()["parse"] == [] and reply["mention_author"] is False


async def test_mentions_outside_the_bots_channels_are_ignored_silently(
    bot: NewsBot, bot_user: int
) -> None:
    bot.services.servers.set(GUILD_ID, "mention_channel_ids", str(ELSEWHERE))
    before = bot.services.registry.count_questions()
    for channel in (MagicMock(spec=discord.TextChannel, id=CHANNEL), thread_channel()):
        message = mention_in(bot, channel, FIRST)
        await bot.get_cog("Ask").on_message(message)
        message.reply.assert_not_awaited()
        message.add_reaction.assert_not_awaited()
    assert bot.services.registry.count_questions() == before
    inside = mention_in(bot, thread_channel(parent_id=ELSEWHERE), FIRST)  # a thread of its own
    await bot.get_cog("Ask").on_message(inside)
    assert inside.reply.await_args.kwargs["embed"].title == FIRST
