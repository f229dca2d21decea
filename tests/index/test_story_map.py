"""The dense query is planned from the story map, and aliases are found when a story is stored."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from index.registry import Registry
from index.services import Services
from index.story_map import OVERFETCH_MARGIN, OVERFETCH_MAX, ReadyStory, StoryMap
from tests.library_stories import ORBIT

pytestmark = pytest.mark.both_backends  # registry tests run on SQLite and PostgreSQL

A, B = 1111, 2222


def _map(*stories: tuple[str, int, date | None, int]) -> StoryMap:
    return StoryMap.of(1, [ReadyStory(i, lib, d, n, False) for i, lib, d, n in stories])


def test_a_scope_holding_every_chunk_is_asked_unfiltered() -> None:
    stories = _map(("a", 0, date(2026, 1, 1), 40), ("b", 5, None, 60))
    plan = stories.plan(60, (0, 5), cutoff=date(2026, 6, 1))
    assert (plan.k, plan.filtered) == (60, False)
    assert stories.plan(60, None, None).k == 60


def test_a_large_share_is_overfetched_and_a_small_one_filtered_by_chroma() -> None:
    stories = _map(("a", 0, None, 500), ("b", 5, None, 500), ("c", 9, None, 10))
    half = stories.plan(60, (0,), cutoff=None)
    assert not half.filtered and half.k == pytest.approx(60 * OVERFETCH_MARGIN * 1010 / 500, 1)
    small = stories.plan(60, (9,), cutoff=None)
    assert small.filtered and small.k == 60  # 10 of 1,010 chunks: more than OVERFETCH_MAX
    assert 60 * OVERFETCH_MARGIN * 1010 / 10 > OVERFETCH_MAX
    assert stories.plan(60, (77,), cutoff=None).filtered  # nothing in scope: Chroma's answer


def test_stories_after_the_cutoff_shrink_the_share_and_are_not_kept() -> None:
    stories = _map(("old", 0, date(2026, 1, 1), 50), ("new", 0, date(2026, 9, 1), 50))
    assert stories.plan(60, None, cutoff=date(2026, 10, 1)).k == 60
    plan = stories.plan(60, None, cutoff=date(2026, 3, 1))
    assert not plan.filtered and plan.k == 240
    assert stories.keeps("old:0", None, date(2026, 3, 1))
    assert not stories.keeps("new:3", None, date(2026, 3, 1))
    assert not stories.keeps("old:0", (5,), None)  # another library
    assert not stories.keeps("pending:0", None, None)  # not a ready story


def _ingest(services: Services, tmp_path: Path, name: str, text: str, library: int) -> str:
    path = tmp_path / f"l{library}" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    report = services.stories.ingest_sources([str(path)], library=library)
    assert report.ok and len(report.added) == 1, report
    return report.added[0]


def _spy(services: Services, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    real = services.store.query

    def query(vector: Any, k: int, where: Any = None, libraries: Any = None) -> Any:
        calls.append({"k": k, "where": where, "libraries": libraries})
        return real(vector, k, where, libraries)

    monkeypatch.setattr(services.store, "query", query)
    return calls


def test_a_members_question_is_answered_from_its_scope_without_chromas_filter(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    orbit = _ingest(services, tmp_path, "orbit.md", ORBIT, A)
    calls = _spy(services, monkeypatch)
    hits = services.retriever.search("Who trained a weather model on radar images?", 5,
                                     libraries=(A, 0))  # fmt: skip
    assert hits and {h.article_id for h in hits} <= {orbit} | _shared(services)
    assert calls and calls[0]["libraries"] is None  # unfiltered: the scope is most chunks
    other = services.retriever.search("Who trained a weather model on radar images?", 5,
                                      libraries=(B,))  # fmt: skip
    assert orbit not in {h.article_id for h in other}  # never another server's story


def test_too_few_in_scope_results_fall_back_to_chromas_filter(
    seeded: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = seeded  # the shared sample stories, most of the chunks
    orbit = _ingest(services, tmp_path, "orbit.md", ORBIT, A)
    # Always unfiltered first, for fewer results than the store holds.
    monkeypatch.setattr("index.story_map.OVERFETCH_MAX", 10**9)
    monkeypatch.setattr("index.story_map.OVERFETCH_MARGIN", 0.01)
    calls = _spy(services, monkeypatch)
    hits = services.retriever.search("weather model radar", 5, libraries=(A,))
    assert [c["libraries"] for c in calls] == [None, (A,)]  # the shared stories crowd it out
    assert {h.article_id for h in hits} == {orbit}


def _shared(services: Services) -> set[str]:
    return {a.id for a in services.registry.list_articles(libraries=(0,))}


def test_aliases_are_found_when_a_story_is_stored_not_per_question(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    orbit = _ingest(services, tmp_path, "orbit.md", ORBIT, A)
    assert ("the satellite startup", "Orbitline") in services.registry.alias_pairs()
    # Learning the table reads no story: a large library would make every change slow.
    monkeypatch.setattr(services.registry, "list_articles", lambda *a, **k: pytest.fail("read"))
    rewrite = services.answerer._aliases.rewrite
    assert rewrite("What did the satellite startup train?") == "What did Orbitline train?"
    services.stories.remove(orbit, libraries=(A,))
    assert ("the satellite startup", "Orbitline") not in services.registry.alias_pairs()
    assert (
        rewrite("What did the satellite startup train?") == "What did the satellite startup train?"
    )


def test_an_older_registry_learns_its_stories_aliases_on_upgrade(
    services: Services, tmp_path: Path, database_url: str
) -> None:
    _ingest(services, tmp_path, "orbit.md", ORBIT, A)
    registry = services.registry
    with registry.transaction() as db:
        db.execute("DELETE FROM story_aliases")
        db.execute("UPDATE schema_version SET version = 7")
    assert registry.alias_pairs() == []
    again = Registry(services.settings.db_path, url=database_url)
    try:
        assert ("the satellite startup", "Orbitline") in again.alias_pairs()
    finally:
        again.close()
