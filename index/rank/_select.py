"""Choosing excerpts: the best candidate, then only those that answer on their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

import numpy as np

# Sentence vectors this similar say the same thing twice.
_DUPLICATE_SIMILARITY = 0.92
# A cut excerpt needs at least this much room to mean something.
_MIN_CUT = 80


@dataclass(frozen=True, slots=True)
class Candidate:
    """A quotable span with its scores and the story it comes from."""

    text: str
    article_id: str
    relevance: float  # the learned ranker's probability that it holds the answer
    similarity: float  # cosine similarity to the question
    evidence: float  # how strongly this sentence says the stories cover the question
    typed: bool  # holds something new of the asked-for kind (a name, a figure, a date)
    vector: np.ndarray | None


def select(
    candidates: list[Candidate],
    *,
    passes: Callable[[Candidate, list[Candidate]], bool],
    max_excerpts: int,
    budget: int,
    date_of: Callable[[str], date],
) -> list[Candidate]:
    """Pick the best candidate, then distinct ones that pass on their own, within the budget;
    of two that say the same thing, keep the one from the newer story. `passes` sees the
    excerpts chosen so far."""
    chosen: list[Candidate] = []
    for cand in candidates:
        dup = _duplicate_of(cand, chosen)
        if dup is None and chosen and not passes(cand, chosen):
            continue  # a later excerpt must answer on its own: a short answer beats padding
        if dup is not None:  # says what a chosen one says: it may stand in for it, never add
            if date_of(cand.article_id) > date_of(chosen[dup].article_id):
                room = budget - sum(len(c.text) for c in chosen) + len(chosen[dup].text)
                if len(cand.text) <= room:
                    chosen[dup] = cand
            continue
        if len(chosen) == max_excerpts:
            continue  # later candidates may still replace an older duplicate
        used = sum(len(c.text) for c in chosen)
        text = cand.text if len(cand.text) <= budget - used else cut(cand.text, budget - used)
        if text:
            chosen.append(replace(cand, text=text))
    return chosen


def _duplicate_of(cand: Candidate, chosen: list[Candidate]) -> int | None:
    """Return the index of the chosen excerpt a candidate repeats, or None."""
    for i, other in enumerate(chosen):
        if cand.text in other.text or other.text in cand.text:
            return i
        both = cand.vector is not None and other.vector is not None
        if both and float(cand.vector @ other.vector) > _DUPLICATE_SIMILARITY:  # type: ignore[operator]
            return i
    return None


def cut(text: str, limit: int) -> str:
    """Return a verbatim prefix of text of at most `limit` chars, ending at a word boundary."""
    if limit < _MIN_CUT:
        return ""  # too little room left for a meaningful excerpt
    prefix = text[:limit]
    space = prefix.rfind(" ")
    return prefix[:space].rstrip(",;:") if space > 0 else prefix
