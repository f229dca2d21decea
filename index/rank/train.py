"""Training the sentence ranker on question sets with known answers (`newsbot train-ranker`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.evaluate import EvalQuestion, load_questions, normalize
from index.rank._features import FEATURES
from index.rank._model import MODEL_FILE, RankerModel
from index.services import build_services
from index.settings import Settings

FOLDS = 5
# A later excerpt is quoted when, on held-out questions, sentences at its relevance hold the
# gold answer at least SUPPORT_PRECISION of the time (the only way a second story is cited);
# from a story already cited, one of the asked-for kind needs TYPED_PRECISION.
SUPPORT_PRECISION = 0.6
TYPED_PRECISION = 0.3
# The hand-weighted score the ranker replaced (docs/quality.md), kept to compare against.
_OLD_WEIGHTS = {"similarity": 1.0, "overlap": 0.2, "answer_type": 0.3, "chunk_rank": 0.1,
                "lead": 0.2, "length": -0.03}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Dataset:
    """Candidate sentences of answerable questions: features, labels, question groups."""

    x: np.ndarray
    holds_answer: np.ndarray  # the sentence contains the gold answer
    from_answering_story: np.ndarray  # its story is evidence or contains the gold answer
    groups: np.ndarray  # question id, so folds never split a question
    sets: np.ndarray  # which question set each row came from


def collect(
    name: str, articles: Path, questions: Path, index_dir: Path, base: Settings | None = None
) -> Dataset:
    """Index a set (or reuse index_dir) and return the features of every candidate sentence."""
    settings = (base or Settings()).model_copy(
        update={"data_dir": index_dir, "chroma_host": None, "collection": "eval"}
    )
    services = build_services(settings)
    try:
        services.ingest_sources([str(articles)])
        texts = {a.id: normalize(a.text) for a in services.registry.list_articles()}
        table_of = services.answerer.sentence_table
        rows = [(q.id, _question_rows(table_of, texts, q)) for q in load_questions(questions)]
    finally:
        services.close()
    kept = [(qid, r) for qid, r in rows if r is not None]
    return Dataset(
        x=np.vstack([r[0] for _, r in kept]),
        holds_answer=np.concatenate([r[1] for _, r in kept]),
        from_answering_story=np.concatenate([r[2] for _, r in kept]),
        groups=np.concatenate([[f"{name}:{qid}"] * len(r[1]) for qid, r in kept]),
        sets=np.concatenate([[name] * len(r[1]) for _, r in kept]),
    )


def _question_rows(
    table_of: Callable[..., Any], texts: dict[str, str], q: EvalQuestion
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Return one question's features and labels, or None when it has none or no answer."""
    if not q.answer:
        return None
    table = table_of(q.question, today=q.asked_on)
    if not table.texts:
        return None
    gold = normalize(q.answer or "")
    holds = np.array([gold in normalize(t) for t in table.texts])
    answering = np.array(
        [aid in q.evidence or gold in texts.get(aid, "") for aid in table.article_ids]
    )
    return table.features, holds, answering


def fit(data: Dataset, info: dict[str, Any] | None = None) -> RankerModel:
    """Fit the logistic regression on all rows and choose the excerpt bars out of fold."""
    oof = out_of_fold(data)
    model = _fit(data.x, data.holds_answer)
    support = _bar(oof, data.holds_answer, SUPPORT_PRECISION)
    typed_rows = data.x[:, FEATURES.index("answer_type")] > 0
    typed = _bar(oof[typed_rows], data.holds_answer[typed_rows], TYPED_PRECISION)
    return RankerModel(
        mean=model.mean, scale=model.scale, coef=model.coef, intercept=model.intercept,
        support_bar=support, typed_bar=min(typed, support), info=info or {},
    )  # fmt: skip


def out_of_fold(data: Dataset) -> np.ndarray:
    """Return each row's probability from a model that never saw its question."""
    from sklearn.model_selection import GroupKFold

    oof = np.zeros(len(data.holds_answer))
    for train, test in GroupKFold(n_splits=FOLDS).split(data.x, groups=data.groups):
        oof[test] = _fit(data.x[train], data.holds_answer[train]).probabilities(data.x[test])
    return oof


def report(data: Dataset) -> dict[str, Any]:
    """Return held-out figures: top-1 by question (CV and across sets) vs the old formula."""
    oof = out_of_fold(data)
    old = sum(w * data.x[:, FEATURES.index(f)] for f, w in _OLD_WEIGHTS.items())
    out: dict[str, Any] = {
        "rows": len(data.holds_answer),
        "questions": len(set(data.groups)),
        "cv_top1": _top1(oof, data),
        "old_formula_top1": _top1(np.asarray(old), data),
    }
    for name in sorted(set(data.sets)):
        here = data.sets == name
        sub = _subset(data, here)
        out[f"{name}_cv_top1"] = _top1(oof[here], sub)
        out[f"{name}_old_formula_top1"] = _top1(np.asarray(old)[here], sub)
        if (~here).any():  # the hardest test: a model that never saw this set's questions
            other = _fit(data.x[~here], data.holds_answer[~here])
            out[f"{name}_trained_on_other_set_top1"] = _top1(other.probabilities(sub.x), sub)
    return out


def _subset(data: Dataset, mask: np.ndarray) -> Dataset:
    """Return the rows of data where mask holds."""
    return Dataset(
        data.x[mask], data.holds_answer[mask], data.from_answering_story[mask],
        data.groups[mask], data.sets[mask],
    )  # fmt: skip


def _top1(scores: np.ndarray, data: Dataset) -> float:
    """Return the share of questions with any answering sentence whose best one answers."""
    hits, total = 0, 0
    for g in set(data.groups):
        rows = np.flatnonzero(data.groups == g)
        if not data.holds_answer[rows].any():
            continue
        total += 1
        hits += bool(data.holds_answer[rows[int(np.argmax(scores[rows]))]])
    return hits / total if total else 0.0


def _bar(scores: np.ndarray, good: np.ndarray, precision: float) -> float:
    """Return the lowest score above which at least `precision` of the rows are good."""
    order = np.argsort(-scores)
    hits = np.cumsum(good[order])
    ok = np.flatnonzero(hits / np.arange(1, len(order) + 1) >= precision)
    return float(scores[order][ok[-1]]) if ok.size else 1.0


def _fit(x: np.ndarray, y: np.ndarray) -> RankerModel:
    """Return a logistic regression on standardised features, as a RankerModel."""
    from sklearn.linear_model import LogisticRegression

    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    lr = LogisticRegression(C=1.0, max_iter=3000).fit((x - mean) / scale, y)
    return RankerModel(mean, scale, lr.coef_[0], float(lr.intercept_[0]), 1.0, 1.0)


def bundled_model_path() -> Path:
    """Return the path of the model file shipped in the package (what answering loads)."""
    return Path(__file__).with_name(MODEL_FILE)


def train(
    sets: Sequence[tuple[str, Path, Path]],
    index_root: Path,
    out: Path,
    base: Settings | None = None,
) -> dict[str, Any]:
    """Collect every set, fit the ranker, write it to out and return the held-out figures."""
    parts = [collect(name, a, q, index_root / name, base) for name, a, q in sets]
    data = Dataset(*(np.concatenate([getattr(p, f) for p in parts]) for f in Dataset.__slots__))
    figures = report(data)
    model = fit(data, info={"sets": [name for name, _, _ in sets], **figures})
    out.write_text(model.to_json(), encoding="utf-8")
    return {**figures, "support_bar": model.support_bar, "typed_bar": model.typed_bar}
