"""What retrieval knows of the ready stories at one registry generation, and how it plans the
dense query from it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np

# Chroma's `where` costs in proportion to the records it matches (100,000 chunks, a filter
# matching all of them: 800 ms; no filter: 2.6 ms; 1,200 unfiltered results: 13 ms). A scope
# holding a large share of the chunks is asked unfiltered for OVERFETCH_MARGIN times its
# expected share and filtered here; one whose share would need more than OVERFETCH_MAX results
# is small enough for Chroma's filter to be cheap (docs/performance.md).
OVERFETCH_MARGIN = 2.0
OVERFETCH_MAX = 1500


@dataclass(frozen=True, slots=True)
class ReadyStory:
    """A ready story as retrieval sees it."""

    id: str
    library: int
    published: date | None  # published, else updated
    chunks: int
    retracted: bool


@dataclass(frozen=True, slots=True)
class DensePlan:
    """How to ask the vector store: `k` results, with Chroma's scope filter or filtered here."""

    k: int
    filtered: bool  # True: the store applies the libraries and the date; False: `keeps` does


@dataclass(frozen=True, slots=True)
class StoryMap:
    """Dates, libraries and chunk counts of the ready stories, read once per generation."""

    generation: int = -1
    dates: dict[str, date | None] = field(default_factory=dict)
    retracted: dict[str, int] = field(default_factory=dict)  # article id -> chunk count
    libraries: dict[str, int] = field(default_factory=dict)
    newest: date | None = None
    _libs: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _days: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    _chunks: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))

    @classmethod
    def of(cls, generation: int, stories: Sequence[ReadyStory]) -> StoryMap:
        """Return the map of these stories."""
        dated = [s.published for s in stories if s.published]
        return cls(
            generation=generation,
            dates={s.id: s.published for s in stories},
            retracted={s.id: s.chunks for s in stories if s.retracted},
            libraries={s.id: s.library for s in stories},
            newest=max(dated, default=None),
            _libs=np.array([s.library for s in stories], dtype=np.int64),
            # Undated stories are never left out by date (as Chroma's published_ts 0).
            _days=np.array([s.published.toordinal() if s.published else 0 for s in stories]),
            _chunks=np.array([s.chunks for s in stories], dtype=np.int64),
        )

    def plan(self, wanted: int, libraries: Sequence[int] | None, cutoff: date | None) -> DensePlan:
        """Return how to fetch `wanted` in-scope chunks of stories dated up to `cutoff`."""
        total = int(self._chunks.sum())
        mask = np.ones(len(self._chunks), dtype=bool)
        if libraries is not None:
            mask &= np.isin(self._libs, list(libraries))
        if cutoff is not None and self.newest is not None and self.newest > cutoff:
            mask &= self._days <= cutoff.toordinal()
        in_scope = int(self._chunks[mask].sum())
        if total == 0 or in_scope == total:
            return DensePlan(wanted, filtered=False)  # nothing to leave out
        k = math.ceil(wanted * OVERFETCH_MARGIN * total / in_scope) if in_scope else 0
        if 0 < k <= OVERFETCH_MAX:
            return DensePlan(k, filtered=False)
        return DensePlan(wanted, filtered=True)

    def keeps(self, chunk_id: str, libraries: Sequence[int] | None, cutoff: date | None) -> bool:
        """Return True when a chunk's story is ready, in the libraries and not after cutoff."""
        article_id = chunk_id.rpartition(":")[0]  # chunk ids are f"{article_id}:{n}"
        library = self.libraries.get(article_id)
        if library is None:
            return False  # a story being written or removed
        if libraries is not None and library not in libraries:
            return False
        published = self.dates.get(article_id)
        return cutoff is None or published is None or published <= cutoff
