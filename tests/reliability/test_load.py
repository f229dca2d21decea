"""Load: 200 concurrent /ask through the cog, and ingestion racing questions in threads.

The figures (answered, worst event-loop lag, wall time) are printed; run with `-s` to see them.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Callable

from bot.client import NewsBot
from index.models import Answer, RawDocument
from index.services import Services
from tests.bot.support import command, interaction, invoke, member, sent
from tests.reliability.crashkit import check_consistent, key_sentence, question
from tests.reliability.grounding import assert_grounded

CONCURRENT_ASKS = 200
# Worst heartbeat lateness allowed. On an idle 2-core machine the worst is 80-100 ms (worker
# threads take the GIL in turns with the loop); a loaded CI machine reached 330 ms, and a full
# local suite 644 ms (2026-12-03, the same test 92-211 ms alone right after). Core calls made on
# the loop itself are caught regardless: the heartbeat then never beats (`beats > 10`).
MAX_LAG_S = 1.0
HEARTBEAT_S = 0.02
QUESTIONS = [
    "Are Hollywood writers being replaced by AI?",
    "How much do AI trainers earn per hour at Mercor and Outlier?",
    "Who won the 2026 FIFA World Cup final?",  # refused, with suggestions
    "   ",  # invalid: a short private reason, not an answer
]


class LoopLag:
    """A heartbeat-like task: sleeps HEARTBEAT_S in a loop and records how late it wakes."""

    def __init__(self) -> None:
        self.worst = 0.0
        self.beats = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(HEARTBEAT_S)
            self.worst = max(self.worst, loop.time() - start - HEARTBEAT_S)
            self.beats += 1

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.create_task(self._run())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def test_200_concurrent_asks_are_all_answered_without_stalling_the_loop(
    bot: NewsBot,
) -> None:
    ask = command(bot, "ask")
    cog = bot.get_cog("Ask")
    logged_before = bot.services.registry.count_questions()
    # 200 different members: the per-member cooldown lets each ask once.
    fakes = [interaction(bot, member(10_000 + i)) for i in range(CONCURRENT_ASKS)]
    asked = [QUESTIONS[i % len(QUESTIONS)] for i in range(CONCURRENT_ASKS)]
    start = time.monotonic()
    async with LoopLag() as lag:
        await asyncio.gather(
            *(invoke(ask, cog, fake, question=q) for fake, q in zip(fakes, asked, strict=True))
        )
    wall = time.monotonic() - start

    replies = [sent(fake) for fake in fakes]
    assert all(len(r) == 1 for r in replies), "every invocation gets exactly one reply"
    answered = sum("embed" in r[0] for r in replies)
    invalid = sum(q.strip() == "" for q in asked)
    assert answered == CONCURRENT_ASKS - invalid
    for r, q in zip(replies, asked, strict=True):
        if q.strip():
            assert r[0]["embed"].description and r[0]["allowed_mentions"].to_dict()["parse"] == []
        else:
            assert r[0]["ephemeral"] is True and "Please ask a question" in r[0]["content"]
    assert bot.services.registry.count_questions() == logged_before + answered  # none lost
    print(
        f"\n/ask load: {answered} answered + {invalid} refused as invalid of {CONCURRENT_ASKS} "
        f"concurrent; worst loop lag {lag.worst * 1000:.0f} ms over {lag.beats} beats; "
        f"wall {wall:.2f} s"
    )
    assert lag.beats > 10
    assert lag.worst < MAX_LAG_S


def _in_threads(jobs: list[Callable[[], None]]) -> list[BaseException]:
    """Run jobs in threads at once; return what they raised."""
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        try:
            job()
        except BaseException as exc:  # collected: the test asserts there are none
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return errors


def _said(errors: list[BaseException]) -> str:
    """Spell out what threads raised, in full (pytest shortens a list's repr)."""
    return "\n".join(f"{type(e).__name__}: {e}" for e in errors)


def _story(i: int, extra: str = "") -> RawDocument:
    filler = " ".join(
        f"Sensor line {j} of Q{i:03d}corp ships in volume next year." for j in range(8)
    )
    return RawDocument(
        text=f"{key_sentence(i)} {filler}{extra}", origin=f"gen{i:03d}", id=f"gen{i:03d}",
        title=f"Q{i:03d}corp raises money", source="Test Wire",
    )  # fmt: skip


def test_concurrent_ingestion_removal_and_questions_corrupt_nothing(seeded: Services) -> None:
    n = 60
    halves = [range(0, n, 2), range(1, n, 2)]
    replaced = {i for ids in halves for i in ids[::4]}
    removed = frozenset(f"gen{i:03d}" for ids in halves for i in ids[1::4])
    done = threading.Event()
    answers: list[Answer] = []

    def writer(ids: range) -> Callable[[], None]:
        def job() -> None:
            for i in ids:
                seeded.ingestor.ingest_one(_story(i), added_by="load")
            for i in ids[::4]:  # a new version: the old excerpts stay valid
                assert (
                    seeded.ingestor.ingest_one(_story(i, " It was updated later."))[0] == "updated"
                )
            for i in ids[1::4]:
                seeded.ingestor.remove(f"gen{i:03d}")

        return job

    def asker(seed: int) -> Callable[[], None]:
        def job() -> None:
            rng = random.Random(seed)
            while not done.is_set():  # questions are logged too: writes from every thread
                answers.append(seeded.ask(question(rng.randrange(n))))
                answers.append(seeded.ask(QUESTIONS[rng.randrange(3)]))

        return job

    def writers() -> None:
        try:
            failed = _in_threads([writer(ids) for ids in halves])
            assert not failed, _said(failed)
        finally:
            done.set()

    start = time.monotonic()
    errors = _in_threads([writers, asker(1), asker(2), asker(3)])
    wall = time.monotonic() - start
    assert not errors, _said(errors)

    state = check_consistent(seeded)
    assert state.problems == []
    assert seeded.registry.count_questions() == len(answers)
    expected = {f"gen{i:03d}" for i in range(n)} - removed
    assert {a for a in state.ready if a.startswith("gen")} == expected
    for i in replaced:
        article = seeded.registry.get_article(f"gen{i:03d}")
        assert article is not None and article.text.endswith("updated later.")
    for answer in answers:
        assert_grounded(seeded, answer, gone=removed)
    cited = sum(not a.refused for a in answers)
    print(f"\nconcurrent ingest+ask: {len(answers)} answers ({cited} cited) during {wall:.2f} s")
    assert cited > 0
