"""Issue 13, finding 7: `/story add file:` answers within the interaction's lifetime.

A 5 MB upload used to keep indexing past the 15 minutes an interaction's follow-ups work. Now
the caps refuse such a story at once, and a story that still takes long is reported by DM.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord

from bot.client import NewsBot
from bot.cogs.stories import INDEXED_LATE, STILL_INDEXING
from tests.bot.support import command, interaction, invoke, moderator_by_role, sent

SENTENCE = "Quokka robots deliver mail in Perth every morning, officials said on Monday. "


def _upload(name: str, text: str) -> MagicMock:
    file = MagicMock(spec=discord.Attachment, filename=name, size=len(text.encode()))
    file.read = AsyncMock(return_value=text.encode())
    return file


async def _add(bot: NewsBot, file: MagicMock) -> Any:
    fake = interaction(bot, moderator_by_role())
    fake.user.send = AsyncMock()
    await invoke(command(bot, "story add"), bot.get_cog("Stories"), fake, file=file)
    return fake


async def test_a_5_mb_upload_is_answered_at_once_naming_the_cap(bot: NewsBot) -> None:
    text = "Big story\n" + SENTENCE * (4_900_000 // len(SENTENCE))
    start = time.monotonic()
    fake = await _add(bot, _upload("big-story.txt", text))
    took = time.monotonic() - start
    [reply] = sent(fake)
    assert reply["ephemeral"] is True
    # Shown Markdown-escaped: NEWSBOT\_STORY\_MAX\_CHARS.
    assert "over the cap of 200,000 (NEWSBOT\\_STORY\\_MAX\\_CHARS)" in reply["content"], reply
    assert took < 5, f"{took:.1f} s to answer a 5 MB upload"
    assert not any("Big story" in a.title for a in bot.services.registry.list_articles())


def _slow_add_story(real: Any, seconds: float) -> Any:

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(seconds)  # runs in a worker thread, like real indexing
        return real(*args, **kwargs)

    return slow


async def test_a_slow_story_gets_a_follow_up_in_time_and_its_preview_by_dm(
    bot: NewsBot, monkeypatch: Any
) -> None:
    cog = bot.get_cog("Stories")
    cog.reply_within_s = 0.2  # stands for the 10 minutes of a real interaction
    stories = bot.services.stories
    monkeypatch.setattr(stories, "add", _slow_add_story(stories.add, 1.0))
    start = time.monotonic()
    fake = await _add(bot, _upload("slow-story.md", "# Slow quokka story\n" + SENTENCE * 8))
    assert time.monotonic() - start < 1.0  # the command answered before indexing ended
    [reply] = sent(fake)
    assert reply["content"] == STILL_INDEXING and reply["ephemeral"] is True
    for _ in range(100):
        if fake.user.send.await_count:
            break
        await asyncio.sleep(0.05)
    dm = fake.user.send.await_args.kwargs
    assert dm["content"] == INDEXED_LATE and dm["embed"].title == "Slow Story"
    assert dm["allowed_mentions"].to_dict() == {"parse": []}
    assert any(a.title == "Slow Story" for a in bot.services.registry.list_articles())


async def test_a_background_failure_is_reported_by_dm(bot: NewsBot, monkeypatch: Any) -> None:
    cog = bot.get_cog("Stories")
    cog.reply_within_s = 0.1
    stories = bot.services.stories
    monkeypatch.setattr(stories, "add", _slow_add_story(stories.add, 0.5))
    monkeypatch.setattr(
        bot.services.settings, "story_max_chunks", 1, raising=False
    )  # the cap is hit only after the deadline, in the background
    fake = await _add(bot, _upload("capped-story.md", "# Capped\n" + SENTENCE * 60))
    assert sent(fake)[0]["content"] == STILL_INDEXING
    for _ in range(100):
        if fake.user.send.await_count:
            break
        await asyncio.sleep(0.05)
    content = fake.user.send.await_args.kwargs["content"]
    assert content.startswith("Indexing failed:") and "NEWSBOT\\_STORY\\_MAX\\_CHUNKS" in content
