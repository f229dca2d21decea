"""/ask and @mention questions through the cog, on the real core with the fake embedder."""

from __future__ import annotations

from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.client import NewsBot
from bot.cogs.ask import MENTION_HINT, strip_mention
from bot.embeds import FOOTER
from index.models import REFUSAL_TEXT
from tests.bot.support import checked, command, interaction, invoke, last_embed, member, sent

QUESTION = "Are Hollywood writers being replaced by AI?"


async def test_ask_answers_with_quoted_excerpts_and_numbered_sources(bot: NewsBot) -> None:
    fake = interaction(bot)
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), fake, question=QUESTION)

    fake.response.defer.assert_awaited_once_with(ephemeral=False, thinking=True)
    embed = last_embed(fake)
    assert embed.title == QUESTION
    assert "[1]" in embed.description and "\u201c" in embed.description
    assert "**Sources**" in embed.description
    assert "[1] **Hollywood Writers AI Trainers** — publisher not stated, undated — no link" in (
        embed.description
    )
    assert embed.footer.text.startswith(FOOTER)
    kwargs = fake.followup.send.await_args.kwargs
    assert kwargs["allowed_mentions"].to_dict()["parse"] == []


async def test_ask_logs_the_question_without_the_user(bot: NewsBot) -> None:
    before = bot.services.registry.count_questions()
    fake = interaction(bot, member(name="secret-name"))
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), fake, question=QUESTION)
    logged = bot.services.registry.questions_since(bot.clock().replace(year=2000))
    assert bot.services.registry.count_questions() == before + 1
    assert logged[-1].question == QUESTION and not logged[-1].refused
    assert all("secret-name" not in repr(q) for q in logged)


async def test_ask_refusal_says_so_and_lists_nearest_stories(bot: NewsBot) -> None:
    fake = interaction(bot)
    await invoke(
        command(bot, "ask"), bot.get_cog("Ask"), fake, question="Price of bananas in Peru?"
    )
    embed = last_embed(fake)
    assert REFUSAL_TEXT in embed.description
    assert "**Nearest stories**" in embed.description
    assert "Hollywood" in embed.description


async def test_private_flag_defers_ephemerally(bot: NewsBot) -> None:
    fake = interaction(bot)
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), fake, question=QUESTION, private=True)
    fake.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    assert "embed" in fake.followup.send.await_args.kwargs


async def test_invalid_question_gets_a_short_ephemeral_reason(bot: NewsBot) -> None:
    fake = interaction(bot)
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), fake, question="x" * 5000)
    reply = sent(fake)[-1]
    assert reply["ephemeral"] is True
    assert "Traceback" not in reply["content"] and len(reply["content"]) < 300


async def test_cooldown_from_settings_refuses_the_fourth_question(bot: NewsBot) -> None:
    user = member(4242)
    for _ in range(bot.settings.ask_rate):
        await invoke(
            command(bot, "ask"), bot.get_cog("Ask"), interaction(bot, user), question=QUESTION
        )
    fake = interaction(bot, user)
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), fake, question=QUESTION)
    fake.response.defer.assert_not_awaited()
    reply = sent(fake)[-1]
    assert reply["ephemeral"] is True and "wait" in reply["content"]
    # Another member is not slowed down.
    other = interaction(bot, member(4343))
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), other, question=QUESTION)
    assert "embed" in other.followup.send.await_args.kwargs


def _message(bot: NewsBot, content: str, *, author_bot: bool = False) -> MagicMock:
    """Return a fake guild message."""
    message = MagicMock(spec=discord.Message)
    message.content = content
    message.author = member(5005)
    message.author.bot = author_bot
    message.guild = MagicMock(id=bot.settings.guild_ids[0])
    message.reply = checked(discord.Message.reply)
    message.add_reaction = checked(discord.Message.add_reaction)
    message.channel.typing = MagicMock(return_value=AsyncMock())
    return message


@pytest.fixture
def bot_user(bot: NewsBot, monkeypatch: pytest.MonkeyPatch) -> int:
    """Give the offline bot a user id, as login would."""
    me = MagicMock(id=999_000_999_000_999_000)
    monkeypatch.setattr(type(bot), "user", property(lambda self: me))
    return me.id


async def test_mention_with_a_question_is_answered(bot: NewsBot, bot_user: int) -> None:
    message = _message(bot, f"<@{bot_user}> {QUESTION}")
    await bot.get_cog("Ask").on_message(message)
    kwargs = message.reply.await_args.kwargs
    assert kwargs["embed"].title == QUESTION
    assert kwargs["mention_author"] is False
    assert kwargs["allowed_mentions"].to_dict()["parse"] == []


async def test_mentions_from_bots_or_without_the_bot_are_ignored(
    bot: NewsBot, bot_user: int
) -> None:
    from_bot = _message(bot, f"<@{bot_user}> {QUESTION}", author_bot=True)
    unmentioned = _message(bot, QUESTION)
    for message in (from_bot, unmentioned):
        await bot.get_cog("Ask").on_message(message)
        message.reply.assert_not_awaited()


async def test_bare_mention_gets_a_hint(bot: NewsBot, bot_user: int) -> None:
    message = _message(bot, f"<@!{bot_user}>  ")
    await bot.get_cog("Ask").on_message(message)
    assert message.reply.await_args.args[0] == MENTION_HINT


def test_strip_mention() -> None:
    assert strip_mention("<@42> what is up?", 42) == "what is up?"
    assert strip_mention("hey <@!42>, what is up?", 42) == "hey , what is up?"
    assert strip_mention("<@43> what?", 42) is None
