"""Libraries: each server's stories answer only its members; identity never from a bare name."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.curation import document_from_upload
from index.errors import ArticleNotFoundError, IngestError
from index.library import SHARED
from index.models import RawDocument
from index.services import Services
from tests.library_stories import LUMEN, ORBIT, QUESTION

pytestmark = pytest.mark.both_backends  # registry tests run on SQLite and PostgreSQL

A, B = 1111, 2222


def _file(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _lumen_in(services: Services, tmp_path: Path, library: int) -> str:
    report = services.stories.ingest_sources(
        [str(_file(tmp_path, f"l{library}/lumen.md", LUMEN))], library=library
    )
    assert report.ok and len(report.added) == 1, report
    return report.added[0]


def test_a_servers_story_answers_only_its_members(services: Services, tmp_path: Path) -> None:
    article_id = _lumen_in(services, tmp_path, A)
    in_a = services.ask(QUESTION, guild_id=A)
    assert not in_a.refused and [c.article_id for c in in_a.citations] == [article_id]
    in_b = services.ask(QUESTION, guild_id=B)
    assert in_b.refused
    assert all(s.article_id != article_id for s in in_b.suggestions)  # not even suggested
    assert services.ask(QUESTION).refused  # the CLI answers from the shared library


def test_scope_is_in_the_store_and_bm25_queries(services: Services, tmp_path: Path) -> None:
    article_id = _lumen_in(services, tmp_path, A)
    vector = services.retriever.embed_question(QUESTION)
    dense_b = services.store.query(vector, 20, None, (B, SHARED))
    dense_a = services.store.query(vector, 20, None, (A,))
    assert dense_a and all(m.chunk_id.startswith(article_id) for m in dense_a)
    assert not dense_b  # never a candidate, not filtered out afterwards
    lexical = services.retriever._lexical  # the BM25 side, reached as the retriever does
    assert lexical.search(QUESTION, 20, (B, SHARED)) == []
    assert lexical.search(QUESTION, 20, (A,))
    assert lexical.search(QUESTION, 20, None)  # unscoped tools (eval, bench) see everything


def test_shared_library_answers_every_server_unless_turned_off(
    services: Services, tmp_path: Path
) -> None:
    _lumen_in(services, tmp_path, SHARED)
    assert not services.ask(QUESTION, guild_id=A).refused
    assert not services.ask(QUESTION, guild_id=B).refused
    services.servers.set(B, "use_shared_library", "false")
    assert services.ask(QUESTION, guild_id=B).refused
    assert not services.ask(QUESTION, guild_id=A).refused


def test_same_link_in_two_servers_is_two_stories(services: Services) -> None:
    doc = RawDocument(text=LUMEN.replace("---\n\n", "---\n"), origin="x", url="https://ex.com/a")
    _, in_a = services.stories.add(doc, A, "mod-a")
    _, in_b = services.stories.add(doc, B, "mod-b")
    assert in_a.id != in_b.id and (in_a.library, in_b.library) == (A, B)
    with pytest.raises(ArticleNotFoundError):  # B's moderators cannot touch A's story
        services.stories.remove(in_a.id, (B,))
    with pytest.raises(ArticleNotFoundError):
        services.stories.review(in_a.id, (B,), "retracted")
    with pytest.raises(ArticleNotFoundError):
        services.stories.get(in_a.id, (B,))
    assert [a.id for a in services.stories.list_stories((B,))] == [in_b.id]
    services.stories.remove(in_b.id, (B,))
    assert services.stories.get(in_a.id, (A,)).id == in_a.id
    assert not services.ask(QUESTION, guild_id=A).refused


def test_a_jsonl_id_taken_in_another_library_is_refused(services: Services) -> None:
    services.stories.add(RawDocument(text=ORBIT, origin="o", id="orbit"), A, "mod-a")
    clash = RawDocument(text=LUMEN, origin="l", id="orbit.g1111")
    with pytest.raises(IngestError, match="taken in server 1111"):
        services.stories.add(clash, SHARED, "operator")


def test_two_files_with_one_name_are_two_stories(services: Services, tmp_path: Path) -> None:
    """Failed before: identity was the lowercased file name, so b/ replaced a/'s story."""
    first = services.ingest_sources([str(_file(tmp_path, "a/index.txt", LUMEN))])
    second = services.ingest_sources([str(_file(tmp_path, "b/index.txt", ORBIT))])
    assert len(first.added) == 1 and len(second.added) == 1, (first, second)
    assert services.registry.count_articles() == 2
    again = services.ingest_sources([str(tmp_path / "a" / "index.txt")])
    assert again.unchanged and not again.added  # the same file is the same story


def test_two_uploads_with_one_name_are_two_stories(services: Services) -> None:
    """Failed before: two different story.txt uploads were one story."""
    one = document_from_upload("story.txt", LUMEN.encode())
    two = document_from_upload("story.txt", ORBIT.encode())
    assert services.stories.add(one, A, "m")[0] == "added"
    assert services.stories.add(two, A, "m")[0] == "added"
    assert len(services.stories.list_stories((A,))) == 2


def test_samples_are_not_added_again_after_emptying(services: Services) -> None:
    """Failed before: removing every story made the next ask re-add the two samples."""
    report = services.ensure_samples()
    assert report is not None and len(report.added) == 2
    for article in services.stories.list_stories(None):
        services.stories.remove(article.id, None)
    assert services.ensure_samples() is None
    assert services.registry.count_articles() == 0
