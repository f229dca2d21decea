"""Evaluation metrics on a tiny hand-made set with known answers, and one real run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from index.evaluate import (
    EvalQuestion,
    QuestionResult,
    compute_metrics,
    is_hit,
    normalize,
    run_eval,
)
from index.settings import Settings
from tests.fakes import FakeEmbedder


def _q(qid: str, answer: str | None, evidence: tuple[str, ...] = ()) -> EvalQuestion:
    return EvalQuestion(qid, f"question {qid}?", answer, frozenset(evidence))


def _r(
    q: EvalQuestion,
    ranked: tuple[str, ...],
    refused: bool = False,
    text: str = "",
    cited: tuple[str, ...] = (),
    grounded: bool = True,
    ms: float = 10.0,
) -> QuestionResult:
    return QuestionResult(q, ranked, refused, text, cited, grounded, ms)


def test_normalize_and_hit_follow_the_readme_rule() -> None:
    assert normalize("“Kroger” and Albertsons!") == "kroger and albertsons"
    assert is_hit("Kroger and Albertsons", "… said “Kroger and Albertsons” announced …")
    assert is_hit("$20,000", "up to $20,000 of debt")
    assert not is_hit("Eggs", "x" * 600 + " eggs")  # only the first 600 characters count
    assert not is_hit("", "anything")


def test_metrics_on_a_hand_made_set() -> None:
    a, b, c, d = (
        _q("a", "Paris", ("A",)),
        _q("b", "42", ("B",)),
        _q("c", "Rome", ("C",)),
        _q("d", None),
    )
    results = [
        _r(a, ("A", "X"), text="It was Paris.", cited=("A",), ms=10),  # rank 1, hit, cited
        _r(b, ("X", "Y", "Z", "W", "B"), text="No figure here.", cited=("X",), ms=20),  # rank 5
        _r(c, ("X",), refused=True, ms=30),  # refused: not covered, evidence not retrieved
        _r(d, ("X",), refused=True, ms=40),  # unanswerable, refused
    ]
    m = compute_metrics(results)
    assert m["recall@1"] == pytest.approx(1 / 3)
    assert m["recall@5"] == pytest.approx(2 / 3)
    assert m["recall@10"] == pytest.approx(2 / 3)
    assert m["mrr"] == pytest.approx((1 + 1 / 5 + 0) / 3)
    assert m["answer_hit"] == pytest.approx(1 / 3)
    assert m["cited_evidence"] == pytest.approx(1 / 2)
    assert m["coverage"] == pytest.approx(2 / 3)
    assert m["refusal"] == 1.0
    assert m["grounding"] == 1.0
    assert m["latency_ms"]["p50"] == pytest.approx(25.0)
    assert m["questions"] == 4


def test_grounding_counts_any_ungrounded_answer() -> None:
    a, b = _q("a", "x", ("A",)), _q("b", "y", ("B",))
    m = compute_metrics([_r(a, ("A",), cited=("A",)), _r(b, ("B",), cited=("B",), grounded=False)])
    assert m["grounding"] == 0.5


def test_run_eval_end_to_end_on_small_files(tmp_path: Path) -> None:
    articles = tmp_path / "articles.jsonl"
    questions = tmp_path / "questions.jsonl"
    stories = [
        ("s1", "Volcano erupts", "The Fagradalsfjall volcano erupted near Reykjavik on Monday, "
         "sending lava across the valley. Officials closed the roads."),
        ("s2", "Chip plant opens", "Chipmaker Intel opened a new factory in Ohio this week, "
         "hiring 3,000 workers for its semiconductor lines."),
    ]  # fmt: skip
    articles.write_text("\n".join(
        json.dumps({"id": i, "title": t, "url": f"https://example.com/{i}", "source": "Wire",
                    "published": "2024-05-01", "text": x}) for i, t, x in stories))  # fmt: skip
    qs = [
        {"id": "q1", "question": "Which volcano erupted near Reykjavik?",
         "answer": "Fagradalsfjall", "evidence_article_ids": ["s1"], "question_date": "2024-05-02"},
        {"id": "q2", "question": "How many workers will the Intel factory in Ohio hire?",
         "answer": "3,000", "evidence_article_ids": ["s2"], "question_date": "2024-05-02"},
        {"id": "q3", "question": "Who won the chess olympiad?", "answer": None,
         "evidence_article_ids": [], "question_date": "2024-05-02"},
    ]  # fmt: skip
    questions.write_text("\n".join(json.dumps(q) for q in qs))
    base = Settings(_env_file=None, data_dir=tmp_path / "unused", refusal_threshold=0.3)  # type: ignore[call-arg]
    results = run_eval(articles, questions, retrievers=("hybrid", "bm25"), base=base,
                       embedder=FakeEmbedder())  # fmt: skip
    for kind in ("hybrid", "bm25"):
        m = results[kind]
        assert m["questions"] == 3 and m["grounding"] == 1.0
        assert m["recall@1"] == 1.0 and m["answer_hit"] == 1.0 and m["refusal"] == 1.0
    assert not (tmp_path / "unused").exists()  # the throwaway index never touches data_dir


def test_citation_precision_and_single_story_rate() -> None:
    a, b, c = _q("a", "Paris", ("A",)), _q("b", "42", ("B", "B2")), _q("c", "Rome", ("C",))
    results = [
        # a: two stories cited, one answers; one evidence story -> not a single-story answer
        QuestionResult(a, ("A",), False, "Paris", ("A", "X"), True, 1.0, (True, False)),
        # b: two evidence stories, both cited and answering (not counted by single_story_rate)
        QuestionResult(b, ("B",), False, "42", ("B", "B2"), True, 1.0, (True, True)),
        # c: one story cited, it answers
        QuestionResult(c, ("C",), False, "Rome", ("C",), True, 1.0, (True,)),
    ]
    m = compute_metrics(results)
    assert m["citation_precision"] == pytest.approx(4 / 5)
    assert m["single_story_rate"] == pytest.approx(1 / 2)
