"""check_after_write: what a write left is self-queried as a restart sees it, misses relinked."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.repair import MISS_SHARE
from index.self_check import OTHERS_SAMPLE, check_after_write
from index.services import Services, build_services
from index.settings import Settings
from tests.fakes import FakeEmbedder
from tests.reliability.crashkit import write_stories


class ScriptedStore:
    """A store whose search misses the listed ids until they have been relinked `cures` times."""

    def __init__(self, ids: list[str], missing: dict[str, int]) -> None:
        self.ids = ids
        self.missing = dict(missing)  # id -> relinks needed before search finds it
        self.calls: list[tuple[str, tuple[str, ...]]] = []

    def chunk_ids(self) -> list[str]:
        return list(self.ids)

    def refresh(self) -> None:
        self.calls.append(("refresh", ()))

    def unfound(self, chunk_ids: Sequence[str], k: int = 10) -> list[str]:
        self.calls.append(("unfound", tuple(chunk_ids)))
        return [c for c in chunk_ids if self.missing.get(c, 0) > 0]

    def relink(self, chunk_ids: Sequence[str]) -> None:
        self.calls.append(("relink", tuple(chunk_ids)))
        for c in chunk_ids:
            self.missing[c] -= 1


def test_a_missed_vector_is_relinked_and_checked_again_after_a_reload() -> None:
    ids = [f"a:{i}" for i in range(10)]
    store = ScriptedStore(ids, {"a:3": 1})
    assert check_after_write(store, ids) == []  # type: ignore[arg-type]
    kinds = [kind for kind, _ in store.calls]
    # Each look follows a reload (what the next process sees); only the miss is relinked.
    assert kinds == ["refresh", "unfound", "relink", "refresh", "unfound"]
    assert store.calls[2] == ("relink", ("a:3",))
    assert store.calls[4] == ("unfound", ("a:3",))


def test_what_stays_missed_is_returned_after_a_bounded_number_of_rounds() -> None:
    ids = [f"a:{i}" for i in range(4)]
    store = ScriptedStore(ids, {"a:1": 99})
    assert check_after_write(store, ids) == ["a:1"]  # type: ignore[arg-type]
    assert sum(kind == "relink" for kind, _ in store.calls) == 3


def test_a_small_write_checks_itself_and_a_sample_a_large_one_everything() -> None:
    ids = [f"old:{i}" for i in range(1000)] + ["new:0", "new:1"]
    store = ScriptedStore(ids, {})
    check_after_write(store, ["new:0", "new:1", "gone:0"])  # type: ignore[arg-type]
    checked = store.calls[1][1]
    assert checked[:2] == ("new:0", "new:1") and "gone:0" not in checked  # replaced since
    assert len(checked) == 2 + OTHERS_SAMPLE
    store = ScriptedStore(ids, {})
    check_after_write(store, ids[:300])  # type: ignore[arg-type]
    assert sorted(store.calls[1][1]) == sorted(ids)


def test_nothing_written_nothing_checked() -> None:
    store = ScriptedStore(["a:0"], {"a:0": 1})
    assert check_after_write(store, []) == []  # type: ignore[arg-type]
    assert store.calls == []


def test_relink_keeps_a_vectors_data_and_makes_it_searchable(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    services = build_services(settings, embedder=FakeEmbedder())
    try:
        services.ingest_sources([str(write_stories(tmp_path / "s.jsonl", 3, sentences=6))])
        store = services.store
        ids = store.chunk_ids()
        assert len(ids) >= 3
        before = store.stored(ids[:2])
        store.relink(ids[:2])
        after = store.stored(ids[:2])
        assert store.count() == len(ids)
        order = [after["ids"].index(i) for i in before["ids"]]
        assert [after["documents"][i] for i in order] == before["documents"]
        assert [after["metadatas"][i] for i in order] == before["metadatas"]
        assert np.allclose([after["embeddings"][i] for i in order], before["embeddings"])
        assert store.unfound(ids) == []
    finally:
        services.close()


def _crowded(services: object, narrow: int, wide: int, calls: list[str]) -> None:
    """Make search miss `narrow` sampled vectors among 10 nearest, `wide` even among 400."""
    store = services.store  # type: ignore[attr-defined]

    def unfound(chunk_ids: Sequence[str], k: int = 10) -> list[str]:
        return list(chunk_ids)[: wide if k > 10 else narrow]

    store.unfound = unfound
    store.relink = lambda ids: calls.append("relink")
    store.recover_after_crash = lambda: calls.append("rebuild")


def test_misses_a_wide_search_finds_are_relinked_never_rebuilt(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    services = build_services(settings, embedder=FakeEmbedder())
    try:
        services.ingest_sources([str(write_stories(tmp_path / "a.jsonl", 4))])
        calls: list[str] = []
        _crowded(services, narrow=150, wide=0, calls=calls)  # half the sample: crowded, not torn
        report = services.repairer.check(fix=True, sample=300)
        assert report.relinked and not report.rebuilt and "rebuild" not in calls
        assert report.approximate  # still missed narrowly, but found by the wider search
        calls.clear()
        _crowded(services, narrow=150, wide=150, calls=calls)  # unreachable even wide: torn
        report = services.repairer.check(fix=True, sample=300)
        assert report.rebuilt and "rebuild" in calls
    finally:
        services.close()


def _ingested(tmp_path: Path, stories: int = 12) -> Services:
    """Return services over a few generated stories (several hundred vectors)."""
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    services = build_services(settings, embedder=FakeEmbedder())
    services.ingest_sources([str(write_stories(tmp_path / "a.jsonl", stories))])
    return services


def test_misses_as_many_as_when_last_sound_are_not_rebuilt_for(tmp_path: Path) -> None:
    services = _ingested(tmp_path)
    try:
        total = services.store.count()
        assert total >= 100  # beyond the 20 misses that are always relinked, not judged
        calls: list[str] = []
        _crowded(services, narrow=total // 2, wide=total // 2, calls=calls)
        services.repairer.note_sound(300)  # a writer closing: the data is crowded, not torn
        assert services.registry.get_meta(MISS_SHARE) == f"{(total // 2) / total:.4f}"
        report = services.repairer.check(fix=True, sample=300)
        assert report.crowded and len(report.crowded) == total // 2
        assert not report.rebuilt and calls == []  # nothing rebuilt, nothing relinked
        _crowded(services, narrow=total * 9 // 10, wide=total * 9 // 10, calls=calls)  # torn
        report = services.repairer.check(fix=True, sample=300)
        assert report.rebuilt and "rebuild" in calls
    finally:
        services.close()


def test_a_rebuild_that_does_not_help_is_not_repeated(tmp_path: Path) -> None:
    services = _ingested(tmp_path)
    try:
        total = services.store.count()
        calls: list[str] = []
        _crowded(services, narrow=total, wide=total, calls=calls)  # nothing noted: looks torn
        report = services.repairer.check(fix=True, sample=300)
        assert report.rebuilt and calls.count("rebuild") == 2  # alike twice: no third
        assert services.registry.get_meta(MISS_SHARE) == "1.0000"  # what a fresh graph misses
        assert report.crowded and not report.reembedded  # re-embedding would change nothing
        calls.clear()
        report = services.repairer.check(fix=True, sample=300)  # the next start
        assert report.crowded and not report.rebuilt and calls == []
    finally:
        services.close()


def test_only_a_writer_notes_the_index_when_it_closes(tmp_path: Path) -> None:
    _ingested(tmp_path).close()
    settings = Settings(_env_file=None, data_dir=tmp_path / "data")  # type: ignore[call-arg]
    reader = build_services(settings, embedder=FakeEmbedder())
    assert reader.registry.get_meta(MISS_SHARE) == "0.0000"  # every sampled vector found
    reader.registry.set_meta(MISS_SHARE, "0.2500")
    reader.ask("What did Q001corp raise?", log_question=False)
    reader.close()  # it only asked: nothing sampled, nothing noted
    again = build_services(settings, embedder=FakeEmbedder())
    try:
        assert again.registry.get_meta(MISS_SHARE) == "0.2500"
    finally:
        again.close()
