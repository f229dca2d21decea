"""Features of a sentence against its own story: its rank there and what its neighbours say."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from index.rows import SentenceRow

Place = tuple[str, int]  # (chunk id, sentence index in the chunk)
# News puts the facts first (the inverted pyramid): the ranker knows whether a sentence is among
# its story's first LEAD_SENTENCES quotable sentences.
LEAD_SENTENCES = 5


def rank_in_story(values: np.ndarray, story: list[int]) -> np.ndarray:
    """Return 1 / (1 + rank) of each value among the sentences of the same story."""
    out = np.zeros(len(values))
    groups: dict[int, list[int]] = defaultdict(list)
    for i, s in enumerate(story):
        groups[s].append(i)
    for rows in groups.values():
        order = sorted(rows, key=lambda i: -values[i])  # sorted() is stable: ties keep order
        for rank, i in enumerate(order):
            out[i] = 1.0 / (1.0 + rank)
    return out


def neighbour_values(values: np.ndarray, places: list[Place] | None, step: int) -> np.ndarray:
    """Return each sentence's neighbour's value (`step` -1: the one before it in its chunk,
    +1: the one after), 0 where that neighbour is not a candidate."""
    if places is None:
        return np.zeros(len(values))
    at = {p: i for i, p in enumerate(places)}
    return np.array(
        [values[at[(c, k + step)]] if (c, k + step) in at else 0.0 for c, k in places],
        dtype=np.float64,
    )


def lead_sentences(rows: list[SentenceRow]) -> set[tuple[str, int]]:
    """Return (chunk id, index) of the first LEAD_SENTENCES body sentences of each story."""
    first_chunks = sorted(
        (r for r in rows if r.role == "body" and r.chunk_id.endswith(":0")),
        key=lambda r: (r.chunk_id, r.idx),
    )
    taken: dict[str, int] = {}
    leads = set()
    for r in first_chunks:
        if taken.get(r.chunk_id, 0) < LEAD_SENTENCES:
            taken[r.chunk_id] = taken.get(r.chunk_id, 0) + 1
            leads.add((r.chunk_id, r.idx))
    return leads
