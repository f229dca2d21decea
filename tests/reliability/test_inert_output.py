"""Nothing pings, nothing injects: a hostile story goes through every command that shows it.

The story's title, publisher, text, Key Questions and the questions members ask carry mentions,
masked links and Markdown. Every payload the cogs hand to Discord (answers, previews, info,
list, removal, duplicate notice, digest preview and post, mention replies) must show that text
literally and allow no mentions at all.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.client import NewsBot
from tests.bot.conftest import seeded as seeded  # seeds in the server's own library
from tests.bot.support import checked, command, interaction, invoke, member, moderator_by_role
from tests.bot.support import sent as sent_payloads

DIGEST_CHANNEL = 444_444_444_444_444_444
MENTIONS = [
    "@everyone", "@here", "<@123456789012345678>", "<@!123456789012345678>",
    "<@&123456789012345678>", "<#123456789012345678>", "</ask:123456789012345678>",
    "<t:1700000000:F>",
]  # fmt: skip
# Markdown that would format: each must appear with its markers escaped, never as written.
MARKDOWN = [
    "**BOLDX**", "__UNDERX__", "~~STRIKEX~~", "||SPOILX||", "`CODEX`", "*ITALX*",
    "[CLICKX](https://evil.example/phish)", "[MULTIX]\n(https://evil.example/phish)",
]  # fmt: skip
LINE_STARTS = ["# HEADX", "> QUOTEX", "-# SMALLX", ">>> BLOCKX"]
HOSTILE = " ".join(MENTIONS + MARKDOWN)
TITLE = "Quokka robots @everyone **BOLDX** <@&123456789012345678> [CLICKX](https://evil.example/t)"
STORY = (
    f"---\ntitle: {TITLE}\nsource: @here ||SPOILX|| Wire <#123456789012345678>\n---\n"
    + "\n".join(
        f"{start} quokka robots deliver mail in Perth, officials said." for start in LINE_STARTS
    )
    + "\n"
    + " ".join(
        f"Quokka robots deliver mail in Perth {token} every morning, officials said."
        for token in MENTIONS + MARKDOWN
    )
    + "\nKey Questions\nDo quokka robots deliver mail in Perth? @everyone\n"
    "Yes: quokka robots @here deliver **BOLDX** mail in Perth <@123456789012345678> daily.\n"
)
# The only tags the bot writes on purpose: the preview's next posting time, and the channel a
# moderator's /digest post went to (neither pings anyone).
OUR_TIMESTAMP = re.compile(
    r"Next scheduled posting: <t:\d+:F>|Posted the digest \(\d+ stor(y|ies)\) to <#\d+>"
)
QUESTION = "Do quokka robots deliver mail in Perth? @everyone **BOLDX** <@&123456789012345678>"


def visible_text(payload: dict[str, Any]) -> str:
    """Return every string of a payload that Discord renders: content and embed parts."""
    parts = [payload.get("content") or ""]
    embeds = list(payload.get("embeds") or []) + (
        [payload["embed"]] if payload.get("embed") else []
    )
    for embed in embeds:
        parts += [embed.title or "", embed.description or "", embed.footer.text or ""]
        parts += [embed.author.name or ""]
        for field in embed.fields:
            parts += [field.name or "", field.value or ""]
    return "\n".join(parts)


def assert_inert(payload: dict[str, Any]) -> None:
    """Check that a payload can ping nobody and renders the hostile text literally."""
    # Without an explicit value discord.py applies the client's default, AllowedMentions.none()
    # (test_the_client_default_allows_no_mentions).
    mentions = payload.get("allowed_mentions")
    assert mentions is None or mentions.to_dict() == {"parse": []}, mentions
    text = OUR_TIMESTAMP.sub("", visible_text(payload))
    assert "@everyone" not in text and "@here" not in text
    assert not re.search(r"<(@[!&]?|#|/|t:|a?:)", text), text  # no mention or tag syntax
    assert not re.search(r"\]\s*\(", text), text  # no masked link
    for token in MARKDOWN[:6]:
        word = token.strip("*_~|`")
        if word in text:  # shown (maybe cut short), but never as working Markdown
            assert token not in text, (token, text)
    for start in LINE_STARTS:
        assert not re.search(rf"(^|\n){re.escape(start)}", text), (start, text)


def replies(fake: MagicMock) -> list[dict[str, Any]]:
    """Return every payload sent for an interaction: replies, follow-ups and edits."""
    out = sent_payloads(fake)
    for call in fake.edit_original_response.await_args_list + (
        fake.response.edit_message.await_args_list
    ):
        out.append(dict(call.kwargs))
    return out


@pytest.fixture
async def hostile(bot: NewsBot) -> NewsBot:
    """Add the hostile story through /story add file:, checking the preview on the way."""
    file = MagicMock(spec=discord.Attachment)
    file.filename = "quokka-robots.md"
    file.size = len(STORY.encode())
    file.read = AsyncMock(return_value=STORY.encode())
    fake = interaction(bot, moderator_by_role())
    await invoke(command(bot, "story add"), bot.get_cog("Stories"), fake, file=file)
    [preview] = replies(fake)
    assert preview["embed"].footer.text.startswith("Added"), preview
    assert "BOLDX" in preview["embed"].title and "HEADX" in preview["embed"].description
    assert_inert(preview)
    return bot


def _story_id(bot: NewsBot) -> str:
    return next(a.id for a in bot.services.registry.list_articles() if "Quokka" in a.title)


async def test_answers_and_refusals_are_inert(hostile: NewsBot) -> None:
    bot = hostile
    fake = interaction(bot, member(5001))
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), fake, question=QUESTION)
    [answer] = replies(fake)
    text = visible_text(answer)
    assert "Quokka" in text and "BOLDX" in text and "[1]" in text  # quoted, and shown
    assert_inert(answer)

    refused = interaction(bot, member(5002))
    asked = "Who pays quokka income taxes in Norway?"  # not covered: nearest stories listed
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), refused, question=asked)
    [refusal] = replies(refused)
    assert "Nearest stories" in visible_text(refusal) and "Quokka" in visible_text(refusal)
    assert_inert(refusal)


async def test_story_info_list_duplicate_and_removal_are_inert(hostile: NewsBot) -> None:
    bot = hostile
    cog = bot.get_cog("Stories")
    story_id = _story_id(bot)
    for path, options in [("story info", {"story": story_id}), ("story list", {})]:
        fake = interaction(bot, moderator_by_role())
        await invoke(command(bot, path), cog, fake, **options)
        [payload] = replies(fake)
        assert "Quokka" in visible_text(payload)
        assert_inert(payload)

    again = interaction(bot, moderator_by_role())
    # The same upload again (an upload's identity is its content and name).
    file = MagicMock(spec=discord.Attachment, filename="quokka-robots.md", size=10)
    file.read = AsyncMock(return_value=STORY.encode())
    await invoke(command(bot, "story add"), cog, again, file=file)
    [duplicate] = replies(again)
    assert "already indexed" in visible_text(duplicate)
    assert_inert(duplicate)

    remove = interaction(bot, moderator_by_role())
    await invoke(command(bot, "story remove"), cog, remove, story=story_id)
    [confirm] = replies(remove)
    assert_inert(confirm)
    press = interaction(bot, moderator_by_role())
    await confirm["view"].confirm.callback(press)
    removed = replies(press)
    assert any("Story removed" in visible_text(payload) for payload in removed)
    for payload in removed:
        assert_inert(payload)


async def test_digest_preview_and_post_are_inert(hostile: NewsBot) -> None:
    bot = hostile
    for asker in (6001, 6002):  # asked twice, so the digest lists it among the most asked
        await invoke(
            command(bot, "ask"), bot.get_cog("Ask"), interaction(bot, member(asker)),
            question=QUESTION,
        )  # fmt: skip
    bot.settings = bot.settings.model_copy(update={"digest_channel_id": DIGEST_CHANNEL})
    channel = MagicMock(spec=discord.TextChannel, id=DIGEST_CHANNEL)
    channel.send = checked(discord.TextChannel.send)
    bot.get_channel = MagicMock(return_value=channel)  # type: ignore[method-assign]
    bot.clock = lambda: datetime.now(UTC) + timedelta(minutes=1)
    cog = bot.get_cog("WeeklyDigest")

    preview = interaction(bot, moderator_by_role())
    await invoke(command(bot, "digest preview"), cog, preview)
    post = interaction(bot, moderator_by_role())
    await invoke(command(bot, "digest post"), cog, post)
    posted = [dict(call.kwargs) for call in channel.send.await_args_list]
    payloads = replies(preview) + posted
    shown = "\n".join(visible_text(p) for p in payloads)
    assert "Quokka robots" in shown and "Most asked" in shown and "quokka" in shown.lower()
    for payload in payloads + replies(post):
        assert_inert(payload)


async def test_mention_replies_are_inert(hostile: NewsBot, monkeypatch: pytest.MonkeyPatch) -> None:
    bot = hostile
    me = MagicMock(id=999_000_999_000_999_000)
    monkeypatch.setattr(type(bot), "user", property(lambda self: me))
    message = MagicMock(spec=discord.Message)
    message.content = f"<@{me.id}> {QUESTION}"
    message.author = member(7001)
    message.guild = MagicMock(id=bot.settings.guild_ids[0])
    message.reply = checked(discord.Message.reply)
    message.channel.typing = MagicMock(return_value=AsyncMock())
    await bot.get_cog("Ask").on_message(message)
    payload = dict(message.reply.await_args.kwargs)
    assert payload["mention_author"] is False and "Quokka" in visible_text(payload)
    assert_inert(payload)


def test_the_client_default_allows_no_mentions(bot: NewsBot) -> None:
    assert bot.allowed_mentions is not None
    assert bot.allowed_mentions.to_dict() == {"parse": []}
