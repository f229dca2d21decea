"""Retrieval: dense, lexical or fused candidate chunks for a question, as of a date."""

from __future__ import annotations

import re
import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np

from index.embed import QueryCache
from index.ingest import date_ts
from index.lexical import LexicalIndex, minmax
from index.models import Hit
from index.registry import Registry
from index.sentence_search import SentenceIndex
from index.store import VectorStore
from index.story_map import StoryMap

Mode = Literal["hybrid", "dense", "bm25"]
# Fusion: each retriever's scores are min-max scaled over its own candidates and added with
# these weights. On both development sets this beat reciprocal-rank fusion at recall@1, which did
# not beat BM25 alone (docs/quality.md).
CANDIDATE_POOL = 60
# Retracted stories' vectors stay in the store; the dense query asks for up to this many more
# results to make up for theirs (bounded: a large k slows the nearest-neighbour search).
RETRACTED_EXTRA_MAX = 200
DENSE_WEIGHT = 1.0
LEXICAL_WEIGHT = 1.0
# Optional retrievers (Settings.sentence_search, Settings.feedback_terms): half a main
# retriever's say, enough to lift a chunk from a near tie, not to outvote dense and BM25 together.
SENTENCE_WEIGHT = 0.5
FEEDBACK_WEIGHT = 0.5
# Pseudo-relevance feedback reads the first pass's top chunks for expansion terms.
FEEDBACK_CHUNKS = 3
# News questions are about the present: a story's fused score halves every HALF_LIFE_DAYS of age
# at the asking date, and every TIMELY_HALF_LIFE_DAYS when the question says "this week",
# "latest"... Chosen on both development sets (docs/quality.md): a newer story on the same topic
# wins unless an older one matches clearly better.
HALF_LIFE_DAYS = 90.0
RECENCY_FLOOR = 0.1
TIMELY_HALF_LIFE_DAYS = 14.0
# A follow-up in a thread: chunks of the stories already cited there gain this much fused score
# (of at most DENSE_WEIGHT + LEXICAL_WEIGHT), enough to win a near tie, not to beat a clear match.
THREAD_PRIOR = 0.25
_TIMELY = re.compile(
    r"\b(this|last|past) (week|month|weekend|year)\b|\b(latest|recent(ly)?|now|today|currently|"
    r"yesterday|newest)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class _Candidate:
    """A chunk seen by one or both retrievers, with its fused score."""

    chunk_id: str
    fused: float
    dense: float | None


def is_timely(question: str) -> bool:
    """Return True when a question asks about the present ("this week", "latest", ...)."""
    return bool(_TIMELY.search(question))


class Retriever:
    """Finds candidate chunks of fully indexed stories published up to the asking date."""

    def __init__(
        self,
        store: VectorStore,
        registry: Registry,
        queries: QueryCache,
        lexical: LexicalIndex,
        mode: Mode = "hybrid",
        sentences: SentenceIndex | None = None,
        feedback_terms: int = 0,
    ) -> None:
        self._store = store
        self._sentences = sentences  # None: sentence search off
        self.feedback_terms = feedback_terms  # 0: pseudo-relevance feedback off
        self._registry = registry
        self._queries = queries
        self._lexical = lexical
        self.mode: Mode = mode
        self._stories = StoryMap()
        self._lock = threading.Lock()

    def embed_question(self, question: str) -> np.ndarray:
        """Return the question's unit vector (cached)."""
        return self._queries.encode_one(question)

    @property
    def queries(self) -> QueryCache:
        """Return the question-embedding cache."""
        return self._queries

    def search(
        self,
        question: str,
        k: int,
        vector: np.ndarray | None = None,
        today: date | None = None,
        libraries: Sequence[int] | None = None,
        prior: Collection[str] = (),
    ) -> list[Hit]:
        """Return up to k hits, best first, from citable ready stories not newer than `today`,
        of the given libraries only (None: every library); stories in `prior` (cited earlier in
        a thread) get THREAD_PRIOR."""
        # A fixed candidate pool per retriever, so fused scores do not depend on k.
        pool = max(k, CANDIDATE_POOL)
        # One look at the registry per question: every later step reads this map.
        stories = self._fresh_stories()
        retracted = stories.retracted
        dense, lists = self._first_pass(question, vector, pool, today, libraries, stories)
        scored = self._rank(question, _merge(lists, dense), today, prior, stories)
        if self.feedback_terms and self.mode != "dense" and scored:
            # Pseudo-relevance feedback: the first pass's top chunks name what the question
            # paraphrases; a second BM25 pass on their distinctive words adds to the fusion.
            texts = [row[2] for _, _, row in scored[:FEEDBACK_CHUNKS]]
            terms = self._lexical.expansion_terms(question, texts, self.feedback_terms)
            found = self._lexical.search_terms(terms, pool, libraries)
            if found:
                lists.append((_citable(found, retracted), FEEDBACK_WEIGHT))
                scored = self._rank(question, _merge(lists, dense), today, prior, stories)
        return [
            Hit(c.chunk_id, row[0], "kq" if row[1] == "kq" else "body", row[2], score, c.dense)
            for score, c, row in scored[:k]
        ]

    def _first_pass(
        self,
        question: str,
        vector: np.ndarray | None,
        pool: int,
        today: date | None,
        libraries: Sequence[int] | None,
        stories: StoryMap,
    ) -> tuple[list[tuple[str, float]], list[tuple[list[tuple[str, float]], float]]]:
        """Return the dense list and every (scored list, fusion weight) of the first pass."""
        dense: list[tuple[str, float]] = []
        lists: list[tuple[list[tuple[str, float]], float]] = []
        qvec = None
        if self.mode != "bm25":
            qvec = self.embed_question(question) if vector is None else vector
            dense = self._dense(qvec, pool, today, libraries, stories)
            lists.append((dense, DENSE_WEIGHT))
        if self.mode != "dense":
            # The BM25 index is built without retracted stories; filtering again costs nothing.
            lexical = self._lexical.search(question, pool, libraries)
            lists.append((_citable(lexical, stories.retracted), LEXICAL_WEIGHT))
        if qvec is not None and self._sentences is not None:
            found = self._sentences.search(qvec, pool, libraries)
            lists.append((_citable(found, stories.retracted), SENTENCE_WEIGHT))
        return dense, lists

    def _dense(
        self,
        qvec: np.ndarray,
        pool: int,
        today: date | None,
        libraries: Sequence[int] | None,
        stories: StoryMap,
    ) -> list[tuple[str, float]]:
        """Return the pool of chunks nearest the question vector, retracted stories left out."""
        # Retracted stories keep their vectors (they may be reinstated): ask for as many more
        # as they could take, and drop them before scaling so they shift no other score.
        wanted = pool + min(sum(stories.retracted.values()), RETRACTED_EXTRA_MAX)
        cutoff = today + timedelta(days=1) if today else None
        plan = stories.plan(wanted, libraries, cutoff)
        found = None
        if not plan.filtered:
            # Most chunks are in scope: an unfiltered query filtered here is far cheaper.
            raw = self._store.query(qvec, plan.k)
            found = [m for m in raw if stories.keeps(m.chunk_id, libraries, cutoff)]
            if len(found) < wanted and len(raw) == plan.k:
                found = None  # the scope's chunks are farther off than its share: ask Chroma
        if found is None:
            found = self._store.query(qvec, wanted, _date_filter(cutoff, stories), libraries)
        return _citable([(m.chunk_id, m.similarity) for m in found], stories.retracted)[:pool]

    def _rank(
        self,
        question: str,
        candidates: list[_Candidate],
        today: date | None,
        prior: Collection[str],
        stories: StoryMap,
    ) -> list[tuple[float, _Candidate, tuple[str, str, str]]]:
        """Return (score, candidate, chunk row) of the candidates, best first, as of `today`."""
        rows = self._registry.chunks_by_id([c.chunk_id for c in candidates])
        dates = stories.dates
        timely = is_timely(question)
        half_life = TIMELY_HALF_LIFE_DAYS if timely else HALF_LIFE_DAYS
        # About the present: old stories fade out. Otherwise an old exact match stays in reach.
        floor = 0.0 if timely else RECENCY_FLOOR
        scored = []
        for c in candidates:
            row = rows.get(c.chunk_id)
            if row is None:
                continue  # a story being written or removed
            published = dates.get(row[0])
            if today and published and published > today + timedelta(days=1):
                continue  # as of `today`, this story did not exist yet
            score = c.fused + (THREAD_PRIOR if row[0] in prior else 0.0)
            if today:
                score *= recency_weight(published, today, half_life, floor)
            scored.append((score, c, row))
        scored.sort(key=lambda t: -t[0])
        return scored

    def article_date(self, article_id: str) -> date | None:
        """Return a ready story's date (published, else updated), as of the last search."""
        # The map of the question just searched: no registry round trip per sentence scored.
        stories = self._stories if self._stories.generation >= 0 else self._fresh_stories()
        return stories.dates.get(article_id)

    def _fresh_stories(self) -> StoryMap:
        """Return the story map, re-read once per registry generation."""
        generation = self._registry.generation()
        with self._lock:
            if generation != self._stories.generation:
                self._stories = StoryMap.of(generation, self._registry.ready_stories())
            return self._stories


def _date_filter(cutoff: date | None, stories: StoryMap) -> dict[str, object] | None:
    """Return a Chroma `where` clause excluding stories dated after cutoff, when any exist."""
    if cutoff is None or stories.newest is None or stories.newest <= cutoff:
        return None  # nothing to exclude: skip the filtered (slower) query
    return {"published_ts": {"$lte": date_ts(cutoff)}}


def recency_weight(
    published: date | None, today: date, half_life: float, floor: float = 0.0
) -> float:
    """Return a weight in (0, 1] that halves every `half_life` days before today."""
    if published is None:
        return 0.5  # undated: as if one half-life old
    age = max(0, (today - published).days)
    # The floor keeps an old story that matches exactly above recent near-misses.
    return max(floor, float(0.5 ** (age / half_life)))


def _citable(scored: list[tuple[str, float]], retracted: dict[str, int]) -> list[tuple[str, float]]:
    """Return the scored chunks that do not belong to a retracted story."""
    if not retracted:
        return scored
    # Chunk ids are f"{article_id}:{n}".
    return [(cid, s) for cid, s in scored if cid.rpartition(":")[0] not in retracted]


def _merge(
    lists: Sequence[tuple[Sequence[tuple[str, float]], float]],
    dense: Sequence[tuple[str, float]],
) -> list[_Candidate]:
    """Fuse weighted scored lists of chunk ids: weighted sum of min-max scaled scores, each
    list scaled over its own candidates; `dense` gives the similarities kept on candidates."""
    scaled = [(_scaled(found), weight) for found, weight in lists]
    dense_sim = dict(dense)
    ids = dict.fromkeys(cid for found, _ in lists for cid, _ in found)
    return [
        _Candidate(cid, sum(w * sc.get(cid, 0.0) for sc, w in scaled), dense_sim.get(cid))
        for cid in ids
    ]


def _scaled(scored: Sequence[tuple[str, float]]) -> dict[str, float]:
    """Return {chunk id: score scaled to 0-1 over this list}."""
    if not scored:
        return {}
    values = minmax(np.array([s for _, s in scored], dtype=np.float64))
    return {cid: float(v) for (cid, _), v in zip(scored, values, strict=True)}
