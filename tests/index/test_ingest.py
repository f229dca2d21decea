"""Ingestion: seeds indexed clean, idempotent re-ingestion, replacement, removal, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.errors import ArticleNotFoundError
from index.services import Services
from tests.conftest import SEEDS

BOILERPLATE = (
    "As an affiliate", "FancyDove", "Training Data for Machine Learning", "Data Labeling",
    "content moderation training platform", "Log in with", "Loading comments", "More in Business",
    "Google Finance", "Fitbit", "Elon Musk", "8h ago", "Share this story", "[email protected]",
)  # fmt: skip


def _all_chunk_texts(services: Services) -> list[str]:
    got = services.store.collection.get(include=["documents"])  # type: ignore[attr-defined]
    return list(got["documents"] or [])


def test_seeds_index_without_boilerplate(seeded: Services) -> None:
    docs = _all_chunk_texts(seeded)
    assert len(docs) == seeded.registry.count_chunks() > 4
    for text in docs:
        for junk in BOILERPLATE:
            assert junk not in text, (junk, text)
    for article in seeded.registry.list_articles():
        for junk in BOILERPLATE:
            assert junk not in article.text


def test_seed_key_questions_are_indexed_as_chunks(seeded: Services) -> None:
    docs = _all_chunk_texts(seeded)
    assert any(d.startswith("Are Hollywood writers being replaced by AI?\nWhile AI") for d in docs)
    trainers = [a for a in seeded.registry.list_articles() if a.key_questions]
    assert len(trainers) == 1 and len(trainers[0].key_questions) == 4


def test_reingesting_is_a_no_op(seeded: Services) -> None:
    before = sorted(_all_chunk_texts(seeded))
    report = seeded.ingest_sources([str(p) for p in SEEDS])
    assert report.unchanged and not report.added and not report.updated and report.ok
    assert sorted(_all_chunk_texts(seeded)) == before


def _story(tmp_path: Path, body: str, name: str = "story.md") -> Path:
    path = tmp_path / name
    path.write_text(f"---\ntitle: Robots in Newsrooms\nsource: Example Wire\n---\n{body}\n")
    return path


LONG = "Newsrooms are testing robot editors this year, and many reporters are worried. " * 4


def test_changed_story_replaces_its_chunks(services: Services, tmp_path: Path) -> None:
    path = _story(tmp_path, LONG + "\nThe budget was twelve million dollars.")
    assert services.ingest_sources([str(path)]).added
    path.write_text(path.read_text().replace("twelve", "forty"))
    report = services.ingest_sources([str(path)])
    assert len(report.updated) == 1 and not report.added
    docs = " ".join(_all_chunk_texts(services))
    assert "forty million" in docs and "twelve million" not in docs
    assert services.registry.count_articles() == 1
    assert services.store.count() == services.registry.count_chunks()


def test_remove_deletes_story_and_every_chunk(seeded: Services) -> None:
    victim = seeded.registry.list_articles()[0]
    seeded.ingestor.remove(victim.id)
    assert seeded.registry.get_article(victim.id) is None
    got = seeded.store.collection.get(where={"article_id": victim.id})  # type: ignore[attr-defined]
    assert got["ids"] == []
    assert seeded.store.count() == seeded.registry.count_chunks()
    with pytest.raises(ArticleNotFoundError):
        seeded.ingestor.remove(victim.id)


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("bin.txt", b"\x00\x01\x02binary" * 20, "binary"),
        ("latin.txt", "caf\xe9 ".encode("latin-1") * 50, "UTF-8"),
        ("empty.md", b"   \n\n", "empty"),
        ("photo.png", b"\x89PNG", "unsupported"),
        (  # a video page: its text is only the player's ad-feedback form
            "video.txt",
            b"1. How relevant is this ad to you?\n\nVideo player was slow to load content Video"
            b" content never loaded Ad froze or did not finish loading Other issues",
            "empty",
        ),
    ],
)
def test_bad_files_fail_cleanly_and_change_nothing(
    seeded: Services, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    before = (seeded.registry.count_articles(), seeded.store.count())
    path = tmp_path / name
    path.write_bytes(content)
    report = seeded.ingest_sources([str(path)])
    assert len(report.failed) == 1 and reason in report.failed[0][1]
    assert (seeded.registry.count_articles(), seeded.store.count()) == before


def test_missing_path_is_reported(services: Services, tmp_path: Path) -> None:
    report = services.ingest_sources([str(tmp_path / "nope.txt")])
    assert report.failed == [(str(tmp_path / "nope.txt"), "no such file or folder")]


def test_jsonl_reports_bad_lines_and_indexes_good_ones(services: Services, tmp_path: Path) -> None:
    good = (
        '{"id": "s1", "title": "Chips", "source": "Wire", "published": "2024-03-01", "text": "%s"}'
    )
    lines = [
        good % ("Chipmakers expanded factories in Arizona this spring. " * 3),
        "{not json",
        '{"id": "s2", "title": "No text"}',
        good % ("A second copy with the same id should be refused. " * 3),
        '["a list"]',
    ]
    path = tmp_path / "batch.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = services.ingest_sources([str(path)])
    assert report.added == ["s1"]
    failed_lines = sorted(origin.rsplit(":", 1)[1] for origin, _ in report.failed)
    assert failed_lines == ["2", "3", "4", "5"]
    article = services.registry.get_article("s1")
    assert (
        article is not None and article.source == "Wire" and str(article.published) == "2024-03-01"
    )


def test_interrupted_ingestion_is_invisible_then_repaired(
    services: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _story(tmp_path, LONG)

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("simulated crash while writing vectors")

    monkeypatch.setattr(services.store, "upsert", boom)
    with pytest.raises(RuntimeError):
        services.ingest_sources([str(path)])
    assert services.registry.count_articles() == 0  # pending rows are never listed or cited
    assert services.registry.pending_article_ids()
    monkeypatch.undo()
    assert services.repairer.repair()
    assert not services.registry.pending_article_ids()
    assert services.ingest_sources([str(path)]).added
