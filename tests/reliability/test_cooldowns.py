"""Issue 13, finding 7: votes and follow commands have per-member cooldowns, like /ask.

/follows, /unfollow and 👍/👎 each touch the registry; without a cooldown one member could keep
the worker threads busy for everyone. Past the limit the member gets one private line and
nothing is read or written.
"""

from __future__ import annotations

from typing import Any

from bot.client import NewsBot
from bot.cogs.feedback import VOTE_RATE
from bot.cogs.follow import LIST_RATE
from tests.bot.support import command, interaction, invoke, member, sent
from tests.bot.test_feedback_cog import QUESTION, _ask, _press, _votes

WAIT = "please wait"


def _replies(fake: Any) -> list[str]:
    return [str(reply.get("content") or "") for reply in sent(fake)]


async def _run(bot: NewsBot, path: str, user: int, **options: Any) -> Any:
    fake = interaction(bot, member(user))
    await invoke(command(bot, path), bot.get_cog("Follows"), fake, **options)
    return fake


async def test_follows_and_unfollow_have_a_cooldown_per_member(bot: NewsBot) -> None:
    for n in range(LIST_RATE):
        fake = await _run(bot, "follows", 8001)
        assert not any(WAIT in r for r in _replies(fake)), n
        fake.response.defer.assert_awaited_once()
    over = await _run(bot, "follows", 8001)
    [reply] = sent(over)
    assert WAIT in reply["content"] and reply["ephemeral"] is True
    over.response.defer.assert_not_awaited()  # refused before any work
    other = await _run(bot, "follows", 8002)  # another member is not slowed down
    assert not any(WAIT in r for r in _replies(other))
    # /unfollow shares the budget: the same member is still waiting.
    unfollow = await _run(bot, "unfollow", 8001, question="anything")
    assert WAIT in sent(unfollow)[0]["content"]


async def test_follow_shares_the_ask_cooldown(bot: NewsBot) -> None:
    replies = []
    for _ in range(bot.settings.ask_rate + 1):
        fake = await _run(bot, "follow", 8003, question="Are Hollywood writers training AI?")
        replies += _replies(fake)
    assert WAIT in replies[-1] and not any(WAIT in r for r in replies[:-1])


async def test_votes_have_a_cooldown_per_member(bot: NewsBot) -> None:
    qid, view = await _ask(bot, QUESTION)
    voter = member(8004)
    for n in range(VOTE_RATE):
        fake = await _press(bot, view.children[0].custom_id, voter)
        assert not any(WAIT in r for r in _replies(fake)), n
    before = _votes(bot.services)
    over = await _press(bot, view.children[0].custom_id, voter)
    [reply] = sent(over)
    assert WAIT in reply["content"] and reply["ephemeral"] is True
    over.response.defer.assert_not_awaited()
    assert _votes(bot.services) == before == [(qid, 1, None)]
    other = await _press(bot, view.children[1].custom_id, member(8005))  # opens the form
    other.response.send_modal.assert_awaited_once()
