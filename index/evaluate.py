"""Answer-quality evaluation on question sets with known answers (see shared/eval/README.md)."""

from __future__ import annotations

import json
import re
import statistics
import tempfile
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from index.embed import Embedder
from index.errors import NewsbotError
from index.models import Answer
from index.retrieve import Mode
from index.services import Services, build_services
from index.settings import Settings

RETRIEVERS: tuple[Mode, ...] = ("hybrid", "dense", "bm25")
_PUNCT = re.compile(r"[^\w\s]")


@dataclass(frozen=True, slots=True)
class EvalQuestion:
    """A question with its gold answer (None when no article answers it)."""

    id: str
    question: str
    answer: str | None
    evidence: frozenset[str]
    asked_on: date | None = None


@dataclass(frozen=True, slots=True)
class QuestionResult:
    """What the pipeline did with one question."""

    question: EvalQuestion
    ranked: tuple[str, ...]  # distinct article ids, best first
    refused: bool
    excerpts_text: str
    cited: tuple[str, ...]
    grounded: bool
    latency_ms: float
    # Per cited story: is it an evidence story or does its text contain the gold answer?
    cited_answering: tuple[bool, ...] = ()


def load_questions(path: Path) -> list[EvalQuestion]:
    """Read a questions.jsonl file."""
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        asked = r.get("question_date")
        out.append(
            EvalQuestion(
                id=str(r["id"]),
                question=r["question"],
                answer=r.get("answer"),
                evidence=frozenset(r.get("evidence_article_ids") or ()),
                asked_on=date.fromisoformat(asked) if asked else None,
            )
        )
    return out


def normalize(text: str) -> str:
    """Lower-case, drop punctuation and quotes, and collapse spaces (the answer-hit rule)."""
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_PUNCT.sub(" ", text).split())


def is_hit(gold: str, excerpts_text: str, limit: int = 600) -> bool:
    """Return True when the normalised gold answer occurs in the first `limit` answer chars."""
    needle = normalize(gold)
    return bool(needle) and needle in normalize(excerpts_text[:limit])


def _percentile(values: Sequence[float], q: float) -> float:
    """Return the q-th percentile (0-100) by linear interpolation."""
    if not values:
        return 0.0
    if len(values) == 1:
        return float(values[0])
    return float(statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1])


def compute_metrics(results: Sequence[QuestionResult]) -> dict[str, Any]:
    """Return the figures defined in shared/eval/README.md."""
    answerable = [r for r in results if r.question.answer is not None]
    unanswerable = [r for r in results if r.question.answer is None]
    with_evidence = [r for r in answerable if r.question.evidence]

    def recall(k: int) -> float:
        found = [bool(set(r.ranked[:k]) & r.question.evidence) for r in with_evidence]
        return _mean(found)

    def reciprocal(r: QuestionResult) -> float:
        for i, aid in enumerate(r.ranked, start=1):
            if aid in r.question.evidence:
                return 1.0 / i
        return 0.0

    answered = [r for r in answerable if not r.refused]
    one_story = [r for r in answered if len(r.question.evidence) == 1]
    latencies = [r.latency_ms for r in results]
    return {
        "recall@1": recall(1),
        "recall@5": recall(5),
        "recall@10": recall(10),
        "mrr": _mean([reciprocal(r) for r in with_evidence]),
        "answer_hit": _mean(
            [not r.refused and is_hit(r.question.answer or "", r.excerpts_text) for r in answerable]
        ),
        "cited_evidence": _mean([bool(set(r.cited) & r.question.evidence) for r in answered]),
        # Of all stories cited for answerable questions, the share that hold the answer.
        "citation_precision": _mean([ok for r in answered for ok in r.cited_answering]),
        # Of answers to questions one story answers, the share citing exactly one story.
        "single_story_rate": _mean([len(r.cited) == 1 for r in one_story]),
        "grounding": _mean([r.grounded for r in results if not r.refused]) if results else 1.0,
        "coverage": _mean([not r.refused for r in answerable]),
        "refusal": _mean([r.refused for r in unanswerable]),
        "latency_ms": {"p50": _percentile(latencies, 50), "p95": _percentile(latencies, 95)},
        "questions": len(results),
    }


def _mean(values: Sequence[bool | float]) -> float:
    """Return the mean, or 0.0 for no values."""
    return float(sum(values)) / len(values) if values else 0.0


def evaluate_question(services: Services, q: EvalQuestion) -> QuestionResult:
    """Answer one question through the `ask` code path and record what happened."""
    start = time.perf_counter()
    try:
        answer = services.answerer.answer(q.question, today=q.asked_on)
    except NewsbotError:
        answer = Answer(question=q.question, refused=True)
    latency = (time.perf_counter() - start) * 1000
    hits = services.retriever.search(q.question, 40, today=q.asked_on)
    ranked = tuple(dict.fromkeys(h.article_id for h in hits))[:10]
    cited = tuple(c.article_id for c in answer.citations)
    return QuestionResult(
        question=q,
        ranked=ranked,
        refused=answer.refused,
        excerpts_text=" ".join(e.text for e in answer.excerpts),
        cited=cited,
        grounded=_grounded(services, answer),
        latency_ms=latency,
        cited_answering=tuple(_answers(services, q, aid) for aid in cited),
    )


def _answers(services: Services, q: EvalQuestion, article_id: str) -> bool:
    """Return True when a cited story is an evidence story or contains the gold answer."""
    if article_id in q.evidence:
        return True
    article = services.registry.get_article(article_id)
    gold = normalize(q.answer or "")
    return bool(gold) and article is not None and gold in normalize(article.text)


def _grounded(services: Services, answer: Answer) -> bool:
    """Return True when every excerpt occurs verbatim in the stored text of the story it cites."""
    for c in answer.citations:
        article = services.registry.get_article(c.article_id)
        if article is None or any(e not in article.text for e in c.excerpts):
            return False
    numbers = {c.n for c in answer.citations}
    return all(e.n in numbers for e in answer.excerpts)


def run_eval(
    articles: Path,
    questions: Path,
    *,
    retrievers: Sequence[Mode] = ("hybrid",),
    base: Settings | None = None,
    embedder: Embedder | None = None,
    index_dir: Path | None = None,
    progress: Callable[[str], None] | None = None,
) -> dict[str, dict[str, Any]]:
    """Build an index from `articles` (throwaway unless index_dir) and score each retriever."""
    qs = load_questions(questions)
    with tempfile.TemporaryDirectory(prefix="newsbot-eval-") as tmp:
        data_dir = index_dir or Path(tmp)
        settings = (base or Settings()).model_copy(
            update={"data_dir": data_dir, "chroma_host": None, "collection": "eval"}
        )
        services = build_services(settings, embedder=embedder)
        try:
            report = services.ingest_sources([str(articles)])
            if progress:
                progress(f"indexed {len(report.added) + len(report.unchanged)} stories "
                         f"({len(report.failed)} failed)")  # fmt: skip
            results: dict[str, dict[str, Any]] = {}
            for kind in retrievers:
                services.use_retriever(kind)
                services.answerer.answer("warm up", today=None)  # load the model first
                services.retriever.queries.clear()  # every retriever starts with a cold cache
                scored = [evaluate_question(services, q) for q in qs]
                results[kind] = compute_metrics(scored)
                if progress:
                    progress(f"{kind}: done")
            return results
        finally:
            services.close()
