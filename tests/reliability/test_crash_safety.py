"""Crash safety: SIGKILL a real ingestion process at varied moments; nothing half-written shows.

Each trial copies a data directory holding the two seed stories, starts a real ingestion process
(the fake embedder keeps it fast) for 30 more stories and kills it with SIGKILL after a delay
stepped across the whole run. The next start (build_services, which runs repair) must leave no
pending row, the same chunks in the registry and in Chroma for every ready story, no vector of
any other story, every stored vector readable and found by a query with itself (top 10), and
every story that was indexed before still answering.
"""

from __future__ import annotations

import logging
import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from index.models import Chunk, RawDocument
from index.services import Services
from tests.reliability.crashkit import (
    Worker,
    check_consistent,
    key_sentence,
    make_template,
    open_services,
    question,
    unanswered,
    write_stories,
)
from tests.reliability.vectorcheck import unreadable_and_unfound

TRIALS = 20
STORIES = 30


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Return a folder with `template/` (the two seeds indexed) and `stories.jsonl`."""
    root = tmp_path_factory.mktemp("crash")
    make_template(root / "template")
    write_stories(root / "stories.jsonl", STORIES)
    return root


def _copy(workdir: Path, name: str) -> Path:
    """Return a fresh copy of the template data directory."""
    target = workdir / name
    shutil.copytree(workdir / "template", target)
    return target


@pytest.fixture(scope="module")
def full_run(workdir: Path) -> float:
    """Run one ingestion to the end; return how long it took after "ready" (seconds)."""
    data = _copy(workdir, "complete")
    worker = Worker(data, workdir / "stories.jsonl")
    start = worker.wait_ready()
    assert f"added={STORIES} failed=0" in worker.finish()
    duration = time.monotonic() - start
    services = open_services(data)
    try:
        state = check_consistent(services)
        assert state.problems == [] and len(state.ready) == STORIES + 2
        assert sum(state.ready.values()) > 1000  # past Chroma's HNSW persistence threshold
        assert unanswered(services, state.ready) == []
    finally:
        services.close()
    return duration


@pytest.fixture
def opened() -> Iterator[list[Services]]:
    """Collect services opened by a test and close them afterwards."""
    opened: list[Services] = []
    yield opened
    for services in opened:
        services.close()


def test_sigkill_at_any_moment_leaves_a_consistent_index(
    workdir: Path, full_run: float, opened: list[Services]
) -> None:
    rng = random.Random(20260511)
    outcomes = []
    worker = Worker(_copy(workdir, "trial00"), workdir / "stories.jsonl")
    for trial in range(TRIALS):
        data = worker.data_dir
        # Stepped over the run (a little past its end), jittered within each step.
        delay = full_run * 1.1 * (trial + rng.random()) / TRIALS
        worker.wait_ready()
        time.sleep(delay)
        worker.kill()
        if trial + 1 < TRIALS:  # the next process starts up while this trial is checked
            worker = Worker(_copy(workdir, f"trial{trial + 1:02d}"), workdir / "stories.jsonl")

        services = open_services(data)  # the next start: repair runs here
        opened.append(services)
        state = check_consistent(services)
        where = f"trial {trial}, killed {delay:.2f} s into a {full_run:.2f} s run"
        assert state.problems == [], f"{where}: {state.problems}"
        assert unanswered(services, state.ready, sample=3) == [], where
        # Counts can agree while search misses vectors: every stored vector must find itself.
        stored, unreadable, unfound = unreadable_and_unfound(data / "chroma")
        assert (unreadable, unfound) == ([], []), f"{where}: {stored} vectors"
        outcomes.append(len(state.ready) - 2)
    # The kills landed at varied points: early, in the middle and late in the run (how far a
    # run gets in a given time varies with the machine's load, hence the loose bounds).
    assert min(outcomes) < STORIES // 3 and max(outcomes) > 2 * STORIES // 3, outcomes
    assert len(set(outcomes)) >= TRIALS // 4, outcomes


def test_the_next_run_finishes_what_a_kill_interrupted(
    workdir: Path, full_run: float, opened: list[Services]
) -> None:
    data = _copy(workdir, "resume")
    first = Worker(data, workdir / "stories.jsonl")
    first.wait_ready()
    time.sleep(full_run / 2)
    first.kill()
    # A second process is killed while it starts and repairs, then a third runs to the end.
    second = Worker(data, workdir / "stories.jsonl")
    time.sleep(0.3)
    second.kill()
    third = Worker(data, workdir / "stories.jsonl")
    third.wait_ready()
    third.finish()
    services = open_services(data)
    opened.append(services)
    state = check_consistent(services)
    assert state.problems == [] and len(state.ready) == STORIES + 2
    assert unanswered(services, state.ready) == []


def test_a_starting_process_never_rolls_back_a_live_writer(
    workdir: Path, full_run: float, opened: list[Services]
) -> None:
    # The bot and the CLI share a data directory: each start runs repair, which must not take
    # a story another process is writing at that moment for an interrupted one.
    data = _copy(workdir, "concurrent")
    worker = Worker(data, workdir / "stories.jsonl")
    worker.wait_ready()
    starts = 0
    while worker.proc.poll() is None:
        open_services(data).close()
        starts += 1
    assert f"added={STORIES} failed=0" in worker.finish()
    # The writer holds the data directory for its whole run (one session), so a start made
    # while it runs waits for the run's end (or postpones repair): at least one overlapped it.
    assert starts >= 1
    services = open_services(data)
    opened.append(services)
    state = check_consistent(services)
    assert state.problems == [] and len(state.ready) == STORIES + 2


def test_repair_drops_orphan_vectors_and_restores_missing_ones(seeded: Services) -> None:
    ghost = Chunk("ghost:0", "ghost", 0, "body", "A story the registry never heard of.", ())
    seeded.store.upsert(
        [ghost], seeded.embedder.encode([ghost.text]), [{"article_id": "ghost", "n": 0}]
    )
    victim = next(a for a in seeded.registry.list_articles() if a.key_questions)
    seeded.store.delete_article(victim.id)  # e.g. a Chroma server that lost its data

    seeded.repairer.repair()
    state = check_consistent(seeded)
    assert state.problems == []
    assert "ghost" not in seeded.store.chunk_counts()  # type: ignore[attr-defined]
    assert unanswered(seeded, state.ready) == []


def test_a_story_is_invisible_until_its_last_chunk_is_written(
    seeded: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc = RawDocument(
        text=key_sentence(7) + " Analysts expect the photonic chip plant to open next spring.",
        origin="gen007", id="gen007", title="Q007corp raises money",
    )  # fmt: skip
    seen: list[tuple[bool, int]] = []
    finish = seeded.registry.finish_article

    def look_then_finish(*args: object, **kwargs: object) -> None:
        # Every vector of the story is in Chroma now; only its registry rows are missing.
        assert seeded.store.chunk_counts().get("gen007")  # type: ignore[attr-defined]
        answer = seeded.ask(question(7), log_question=False)
        cited = any(c.article_id == "gen007" for c in answer.citations)
        seen.append((cited, len(seeded.registry.list_articles())))
        finish(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(seeded.registry, "finish_article", look_then_finish)
    assert seeded.ingestor.ingest_one(doc) == ("added", "gen007")
    assert seen == [(False, 2)]
    assert any(c.article_id == "gen007" for c in seeded.ask(question(7)).citations)

    # Removal: the story disappears from answers before its vectors and rows go.
    delete = seeded.store.delete_article

    def look_then_delete(article_id: str) -> None:
        answer = seeded.ask(question(7), log_question=False)
        seen.append((any(c.article_id == article_id for c in answer.citations), 0))
        delete(article_id)

    monkeypatch.setattr(seeded.store, "delete_article", look_then_delete)
    seeded.ingestor.remove("gen007")
    assert seen[1:] == [(False, 0)]


def test_a_writer_that_died_mid_write_gets_the_index_rebuilt(
    seeded: Services, caplog: pytest.LogCaptureFixture
) -> None:
    # What a SIGKILL inside a write leaves: the flag set by the writer that never came back.
    # Embedded Chroma may have been persisting its HNSW files then; they can be torn.
    before = seeded.store.chunk_counts()  # type: ignore[attr-defined]
    old_collection = seeded.store.collection.id  # type: ignore[attr-defined]
    seeded.registry.set_meta("vectors_writing", "1")
    with caplog.at_level(logging.WARNING):
        seeded.repairer.repair()
    assert f"rebuilt the vector index from {sum(before.values())} stored vectors" in caplog.text
    assert "re-embedding" not in caplog.text  # the stored vectors were reused, nothing re-encoded
    assert seeded.store.collection.id != old_collection  # type: ignore[attr-defined]
    assert seeded.store.chunk_counts() == before  # type: ignore[attr-defined]
    assert not seeded.registry.get_meta("vectors_writing")
    assert not seeded.registry.get_meta("vectors_damaged")
    state = check_consistent(seeded)
    assert state.problems == [] and unanswered(seeded, state.ready) == []
    caplog.clear()
    seeded.repairer.repair()  # a clean start rebuilds nothing
    assert "rebuilt" not in caplog.text
