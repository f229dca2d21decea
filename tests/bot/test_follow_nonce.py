"""A follow notification is sent with its update's nonce, so the same news re-sent after a crash
(sent, not yet recorded) is the same message to Discord, which drops the repeat."""

from __future__ import annotations

from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest

from bot.client import NewsBot
from tests.bot.support import checked, command, interaction, invoke, member
from tests.follow_stories import EU_FINE, EU_QUESTION, add_story

ANN, CHANNEL = 1001, 555_555_555_555_555_555


class Inbox:
    """A DM channel that keeps one message per nonce, as Discord does with enforce_nonce."""

    def __init__(self) -> None:
        self.by_nonce: dict[str, dict[str, Any]] = {}
        self.sends: list[str] = []

    async def send(self, content: str, **kwargs: Any) -> MagicMock:
        nonce = kwargs["nonce"]
        self.sends.append(nonce)
        self.by_nonce.setdefault(nonce, {"content": content} | kwargs)
        return MagicMock()


async def test_news_re_sent_after_a_crash_carries_the_same_nonce(
    bot: NewsBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox = Inbox()
    dm = MagicMock(spec=discord.DMChannel)
    dm.send = checked(discord.DMChannel.send, inbox.send)
    bot.create_dm = AsyncMock(return_value=dm)  # type: ignore[method-assign]
    cog: Any = bot.get_cog("Follows")
    asked = interaction(bot, member(ANN))
    asked.channel_id = CHANNEL
    await invoke(command(bot, "follow"), cog, asked, question=EU_QUESTION)
    add_story(bot.services, EU_FINE)
    record = cog.service.record
    monkeypatch.setattr(cog.service, "record", MagicMock(side_effect=RuntimeError("killed")))
    with pytest.raises(RuntimeError):  # sent, then the process died before recording it
        await cog.check_now()
    monkeypatch.setattr(cog.service, "record", record)
    assert await cog.check_now() == 1  # the next check (or process) sends it again
    assert len(inbox.sends) == 2 and len(set(inbox.sends)) == 1, inbox.sends
    [message] = inbox.by_nonce.values()
    assert message["content"].startswith(f"New on a question you follow: **{EU_QUESTION}**")
    assert await cog.check_now() == 0 and len(inbox.sends) == 2  # recorded: not sent again
