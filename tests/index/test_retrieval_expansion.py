"""Pseudo-relevance feedback and sentence search: each finds what plain retrieval misses."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from index.lexical import LexicalIndex
from index.retrieve import Retriever
from index.sentence_search import SentenceIndex
from index.services import Services
from index.settings import Settings

pytestmark = pytest.mark.both_backends  # registry tests run on SQLite and PostgreSQL

# Story A names the question's words and the company; story B only the company and the deal,
# so BM25 on the question alone never reaches B. Wording is ours, not a real article's.
PARENT = (
    "The Facebook parent Meta grew its bet on artificial intelligence this week. "
    "Meta is spending on Scale labelling to train its Llama models. "
)
DEAL = (
    "Meta agreed to pay 14.3 billion dollars for a 49 percent stake in Scale, the labelling firm. "
    "Scale founder Alexandr Wang will join Meta to lead a superintelligence team. "
)
OTHER = (
    "Rain fell across the valley on Tuesday and the river rose by two metres. "
    "Farmers moved cattle to higher fields before the flood reached the bridge. "
)
QUESTION = "What did the Facebook parent bet on?"


def _story(tmp_path: Path, name: str, title: str, body: str) -> str:
    path = tmp_path / f"{name}.md"
    path.write_text(f"---\ntitle: {title}\nsource: Wire\n---\n{body}\n", encoding="utf-8")
    return str(path)


@pytest.fixture
def three(services: Services, tmp_path: Path) -> dict[str, str]:
    """Index the three stories; return {name: article id}."""
    ids = {}
    for name, title, body in [
        ("parent", "Spending on models", PARENT),
        ("deal", "A stake in a labelling firm", DEAL),
        ("other", "Valley flood", OTHER),
    ]:
        ids[name] = services.ingest_sources([_story(tmp_path, name, title, body)]).added[0]
    return ids


def _lexical(services: Services) -> LexicalIndex:
    return LexicalIndex(services.registry, services.settings.data_dir / "lexical")


def _bm25_retriever(services: Services, feedback_terms: int) -> Retriever:
    r = services.retriever
    return Retriever(
        r._store, services.registry, r.queries, _lexical(services), "bm25",
        feedback_terms=feedback_terms,
    )  # fmt: skip


def test_expansion_terms_are_the_top_texts_distinctive_words_not_the_questions(
    services: Services, three: dict[str, str]
) -> None:
    terms = _lexical(services).expansion_terms(QUESTION, [PARENT], 4)
    assert "meta" in terms and "scale" in terms
    assert not {"facebook", "parent", "bet"} & set(terms)  # the question's own words add nothing
    assert "llama" not in terms  # in no other story: cannot help find one


def test_feedback_reaches_a_story_that_shares_no_word_with_the_question(
    services: Services, three: dict[str, str]
) -> None:
    plain = {h.article_id for h in _bm25_retriever(services, 0).search(QUESTION, 8)}
    assert plain == {three["parent"]}
    expanded = _bm25_retriever(services, 8).search(QUESTION, 8)
    assert expanded[0].article_id == three["parent"]  # the first pass's winner stays first
    assert three["deal"] in {h.article_id for h in expanded}
    assert three["other"] not in {h.article_id for h in expanded}


def test_sentence_index_finds_the_chunk_of_the_closest_sentence(
    services: Services, three: dict[str, str]
) -> None:
    index = SentenceIndex(services.registry)
    qvec = services.retriever.embed_question("When did the river rise and the cattle move?")
    found = index.search(qvec, 3)
    assert found[0][0].startswith(three["other"] + ":")
    assert found == sorted(found, key=lambda f: -f[1])
    assert len({cid for cid, _ in found}) == len(found)  # one entry per chunk, its best sentence
    single = np.array([r.vector for r in services.registry.sentences_for([found[0][0]])])
    assert found[0][1] == pytest.approx(float(np.max(single.astype(np.float32) @ qvec)), abs=1e-3)


def test_sentence_index_keeps_to_the_libraries_and_follows_removals(
    services: Services, three: dict[str, str]
) -> None:
    index = SentenceIndex(services.registry)
    qvec = services.retriever.embed_question("river cattle flood")
    assert index.search(qvec, 5, libraries=[999]) == []
    services.ingestor.remove(three["other"])
    assert all(not cid.startswith(three["other"]) for cid, _ in index.search(qvec, 5))


def test_sentence_search_setting_builds_a_retriever_that_answers(
    tmp_path: Path, three: dict[str, str], services: Services
) -> None:
    # The same data directory, opened again with sentence search on.
    from index.services import build_services
    from tests.fakes import FakeEmbedder

    services.close()
    on = services.settings.model_copy(update={"sentence_search": True})
    svc = build_services(on, embedder=FakeEmbedder())
    try:
        assert svc.retriever._sentences is not None
        hits = svc.retriever.search("river rose cattle flood", 4)
        assert hits[0].article_id == three["other"]
        answer = svc.ask("When did the river rise?")
        assert not answer.refused and "river rose" in answer.excerpts[0].text
    finally:
        svc.close()


@pytest.mark.parametrize("value", [-1, 31])
def test_feedback_terms_out_of_bounds_is_refused(value: int) -> None:
    with pytest.raises(ValidationError, match="feedback_terms"):
        Settings(_env_file=None, feedback_terms=value)  # type: ignore[call-arg]
