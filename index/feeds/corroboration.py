"""Corroboration: stories of other publishers about the same event ("also reported by").

Two stories are about one event when their titles share a word of four letters or more and are
similar (cosine of the embedder's title vectors at or above THRESHOLD), they were published
within WINDOW_DAYS of each other, and their publishers differ. THRESHOLD was measured on 36
headline pairs written from the dev sets' stories (tests/index/feeds/headline_pairs.py): with
all-MiniLM-L6-v2, 0.58 keeps every different-event pair apart and joins 12 of 18 same-event
pairs; 0.49 would join 16 but also 2 different events. A wrong "also reported by" misleads, so
precision comes first.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import TypeVar

import numpy as np

from index.embed import Embedder
from index.library import Libraries
from index.models import Answer, Citation, Outlet
from index.registry import DatedStory, Registry

T = TypeVar("T")

THRESHOLD = 0.58
WINDOW_DAYS = 3
MAX_OUTLETS = 5  # named beside one citation at most
MAX_CANDIDATES = 24  # titles compared with one story at most (those sharing most words)
_CACHE = 20_000  # title vectors kept in memory
# Titles of one event share a word (every same-event pair of the measured set does): only those
# candidates are embedded, so an answer never waits for hundreds of titles to be encoded.
_WORD = re.compile(r"[^\W_]+")


def title_words(title: str) -> set[str]:
    """Return a title's words of four letters or more, cut to five (a crude stem)."""
    return {w[:5] for w in _WORD.findall(title.casefold()) if len(w) >= 4}


def same_publisher(a: str | None, b: str | None) -> bool:
    """Return True when two publisher names are one publisher (case and spacing aside)."""
    return (
        a is not None
        and b is not None
        and " ".join(a.casefold().split()) == " ".join(b.casefold().split())
    )


class Corroboration:
    """Finds other publishers' stories of a story's event, from titles and dates."""

    def __init__(
        self, registry: Registry, embedder: Embedder, threshold: float = THRESHOLD
    ) -> None:
        self._registry = registry
        self._embedder = embedder
        self.threshold = threshold
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    def similarity(self, a: str, b: str) -> float:
        """Return the cosine similarity of two titles."""
        va, vb = self._title_vectors([a, b])
        return float(np.dot(va, vb))

    def corroborates(self, a: str, b: str) -> bool:
        """Return True when two titles name one event (as outlets() decides)."""
        return bool(title_words(a) & title_words(b)) and self.similarity(a, b) >= self.threshold

    def _title_vectors(self, titles: Sequence[str]) -> list[np.ndarray]:
        """Return unit vectors of titles, encoding only those not cached."""
        missing = list(dict.fromkeys(t for t in titles if t not in self._vectors))
        if missing:
            for title, vector in zip(missing, self._embedder.encode(missing), strict=True):
                self._vectors[title] = vector / (np.linalg.norm(vector) or 1.0)
        for title in titles:
            self._vectors.move_to_end(title)
        while len(self._vectors) > _CACHE:
            self._vectors.popitem(last=False)
        return [self._vectors[t] for t in titles]

    def candidates(
        self, story: DatedStory, libraries: Libraries | None,
        near: Sequence[DatedStory] | None = None,
    ) -> list[DatedStory]:  # fmt: skip
        """Return the stories that may report the story's event: other publishers, near in
        time, sharing a title word (those sharing most first, MAX_CANDIDATES at most)."""
        window = timedelta(days=WINDOW_DAYS)
        if near is None:
            near = self._registry.dated_stories(
                libraries, story.published - window, story.published + window
            )
        words = title_words(story.title)
        shared = {s.id: len(words & title_words(s.title)) for s in near}
        found = [s for s in near if s.id != story.id and s.source and shared[s.id]
                 and abs(s.published - story.published) <= window
                 and not same_publisher(s.source, story.source)]  # fmt: skip
        # A cold cache then encodes a bounded handful of titles, not every story of the week.
        return sorted(found, key=lambda s: -shared[s.id])[:MAX_CANDIDATES]

    def outlets(
        self, story: DatedStory, libraries: Libraries | None,
        near: Sequence[DatedStory] | None = None,
    ) -> tuple[Outlet, ...]:  # fmt: skip
        """Return other publishers' stories of the story's event, most similar first."""
        return self._ranked(story, self.candidates(story, libraries, near))

    def _ranked(self, story: DatedStory, candidates: Sequence[DatedStory]) -> tuple[Outlet, ...]:
        """Return the candidates similar enough to the story, as outlets, most similar first."""
        if not candidates:
            return ()
        vectors = self._title_vectors([story.title, *(c.title for c in candidates)])
        scores = [float(np.dot(vectors[0], v)) for v in vectors[1:]]
        ranked = sorted(zip(scores, candidates, strict=True), key=lambda p: -p[0])
        close = [Outlet(c.source or "", c.title, c.url, c.id)
                 for score, c in ranked if score >= self.threshold]  # fmt: skip
        return other_outlets(story.source, close)

    def annotate(self, answer: Answer, libraries: Libraries | None) -> Answer:
        """Return the answer with each dated citation's other outlets filled in."""
        if answer.refused or not answer.citations:
            return answer
        cited = [self._story(c) for c in answer.citations]
        near = [self.candidates(s, libraries) if s is not None else [] for s in cited]
        # One encode call for every title of the answer: each call has a fixed cost.
        titles = [t for s, n in zip(cited, near, strict=True) if s is not None and n
                  for t in (s.title, *(c.title for c in n))]  # fmt: skip
        if titles:
            self._title_vectors(titles)
        citations = tuple(
            replace(c, also_reported=self._ranked(s, n)) if s is not None else c
            for c, s, n in zip(answer.citations, cited, near, strict=True)
        )
        return replace(answer, citations=citations)

    @staticmethod
    def _story(c: Citation) -> DatedStory | None:
        """Return a citation as a dated story, or None when undated."""
        return DatedStory(c.article_id, c.title, c.source, c.url, c.published) if c.published \
            else None  # fmt: skip


def other_outlets(source: str | None, outlets: Sequence[Outlet]) -> tuple[Outlet, ...]:
    """Return outlets of publishers other than `source`, each publisher once, at most five."""
    seen: set[str] = set()
    kept = []
    for o in outlets:
        key = " ".join(o.source.casefold().split())
        if o.source and not same_publisher(o.source, source) and key not in seen:
            seen.add(key)
            kept.append(o)
    return tuple(kept[:MAX_OUTLETS])


def group_by_event(
    items: Sequence[T], as_story: Callable[[T], DatedStory | None], corroboration: Corroboration
) -> list[tuple[T, list[T]]]:
    """Group items whose stories report one event: (first item, the other items), in order.

    Each item joins the first group one of whose stories it corroborates; undated items stand
    alone. The digest lists each group once with the other items' outlets.
    """
    stories = {id(item): as_story(item) for item in items}
    dated = [s for s in stories.values() if s is not None]
    groups: list[tuple[T, list[T], set[str]]] = []
    for item in items:
        story = stories[id(item)]
        near = {o.article_id for o in corroboration.outlets(story, None, near=dated)} if story \
            else set()  # fmt: skip
        home = next((g for g in groups if g[2] & near), None)
        if home is None:
            groups.append((item, [], {story.id} if story else set()))
        else:
            home[1].append(item)
            home[2].add(story.id if story else "")
    return [(lead, others) for lead, others, _ in groups]
