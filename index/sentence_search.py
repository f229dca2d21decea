"""Sentence search: the stored sentence vectors as a third retriever that lifts their chunks."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

import numpy as np

from index.registry import Registry

log = logging.getLogger(__name__)

# Sentences looked at per question; each chunk keeps its best sentence's similarity.
SENTENCE_POOL = 40


class SentenceIndex:
    """All stored sentence vectors of ready stories as one matrix, re-read when the registry
    changes; a question finds the chunks whose single sentence is closest to it."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._lock = threading.Lock()
        self._generation = -1
        self._matrix = np.zeros((0, 0), dtype=np.float32)
        self._chunks: list[str] = []
        self._libraries = np.zeros(0, dtype=np.int64)

    def search(
        self, qvec: np.ndarray, k: int, libraries: Sequence[int] | None = None
    ) -> list[tuple[str, float]]:
        """Return up to k (chunk id, best sentence cosine) pairs of the libraries, best first."""
        matrix, chunks, libs = self._fresh()
        if not chunks:
            return []
        sims = matrix @ qvec.astype(np.float32)
        if libraries is not None:
            sims = np.where(np.isin(libs, list(libraries)), sims, -np.inf)
        pool = min(SENTENCE_POOL * max(1, k // 10), len(chunks))
        top = np.argpartition(-sims, pool - 1)[:pool]
        best: dict[str, float] = {}
        for i in top[np.argsort(-sims[top])]:
            if not np.isfinite(sims[i]):
                break  # only other libraries' sentences are left
            best.setdefault(chunks[int(i)], float(sims[i]))
        return list(best.items())[:k]

    def _fresh(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        """Return the matrix, its chunk ids and libraries, rebuilt once per registry generation."""
        generation = self._registry.generation()
        with self._lock:
            if generation != self._generation:
                rows = self._registry.sentence_vectors()
                self._chunks = [cid for cid, _, _ in rows]
                self._libraries = np.array([lib for _, lib, _ in rows], dtype=np.int64)
                # float32 once here: numpy multiplies float16 matrices far more slowly.
                self._matrix = (
                    np.stack([np.frombuffer(v, dtype=np.float16) for _, _, v in rows]).astype(
                        np.float32
                    )
                    if rows
                    else np.zeros((0, 0), dtype=np.float32)
                )
                self._generation = generation
                log.info("loaded %d sentence vectors (generation %d)", len(rows), generation)
            return self._matrix, self._chunks, self._libraries
