"""The BM25 index follows the registry through adds, replacements and removals, and persists."""

from __future__ import annotations

from pathlib import Path

from index.lexical import LexicalIndex
from index.services import Services

BODY = "Regulators in Brussels questioned {name} about its chatbot rollout this spring. " * 3


def _write(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "story.md"
    path.write_text(f"---\ntitle: Chatbot rollout\nsource: Wire\n---\n{BODY.format(name=name)}\n")
    return path


def _ids(services: Services, query: str) -> set[str]:
    lexical = LexicalIndex(services.registry, services.settings.data_dir / "lexical")
    return {cid.split(":")[0] for cid, _ in lexical.search(query, 10)}


def test_bm25_follows_adds_replacements_and_removals(services: Services, tmp_path: Path) -> None:
    path = _write(tmp_path, "Zorblax")
    report = services.ingest_sources([str(path)])
    article_id = report.added[0]
    assert _ids(services, "Zorblax chatbot") == {article_id}
    _write(tmp_path, "Quuxcorp")
    assert services.ingest_sources([str(path)]).updated == [article_id]
    assert _ids(services, "Zorblax") == set()
    assert _ids(services, "Quuxcorp") == {article_id}
    services.ingestor.remove(article_id)
    assert _ids(services, "Quuxcorp") == set()


def test_bm25_index_is_saved_and_reloaded_without_rebuilding(seeded: Services) -> None:
    directory = seeded.settings.data_dir / "lexical"
    first = LexicalIndex(seeded.registry, directory)
    assert first.search("Mercor Outlier", 5)
    assert (directory / "newsbot-state.json").is_file()
    second = LexicalIndex(seeded.registry, directory)
    calls: list[int] = []
    second._build = lambda generation: calls.append(generation)  # type: ignore[method-assign]
    assert second.search("Mercor Outlier", 5) == first.search("Mercor Outlier", 5)
    assert calls == []  # loaded from disk, not rebuilt
