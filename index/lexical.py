"""Lexical retrieval: BM25 (bm25s) over chunk texts, kept in step with the registry."""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.registry import Registry

if TYPE_CHECKING:
    import bm25s

log = logging.getLogger(__name__)

_STATE_FILE = "newsbot-state.json"


def _bm25s() -> Any:
    """Import bm25s, undoing the DEBUG level it sets on its own logger at import."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def _stemmer() -> Any:
    """Return an English Snowball stemmer, or None when PyStemmer is missing."""
    try:
        import Stemmer
    except ImportError:  # optional: BM25 works without stemming, a little worse
        return None
    return Stemmer.Stemmer("english")


class LexicalIndex:
    """A BM25 index of chunk texts (title included), persisted and rebuilt when stale."""

    def __init__(self, registry: Registry, directory: Path | None) -> None:
        self._registry = registry
        self._dir = directory
        self._lock = threading.Lock()
        self._bm25: bm25s.BM25 | None = None
        self._ids: list[str] = []
        self._libraries = np.zeros(0, dtype=np.int64)  # each chunk's library, as in _ids
        self._masks: dict[tuple[int, ...], np.ndarray] = {}  # per scope, for this generation
        self._generation = -1
        self._stem = _stemmer()

    def search(
        self, question: str, k: int, libraries: Sequence[int] | None = None
    ) -> list[tuple[str, float]]:
        """Return up to k (chunk id, BM25 score) pairs of the libraries (None: all), best first;
        only positive scores."""
        bm25s = _bm25s()

        bm25, ids, mask = self._fresh(libraries)
        if bm25 is None or not ids:
            return []
        tokens = bm25s.tokenize(
            [question], stopwords="en", stemmer=self._stem, return_ids=False, show_progress=False
        )
        if not tokens or not tokens[0]:
            return []
        # The mask zeroes other libraries' chunks inside the scoring itself, so they are never
        # candidates. n_threads=0 runs in this thread; any other value starts a pool per query.
        docs, scores = bm25.retrieve(
            tokens, k=min(k, len(ids)), show_progress=False, n_threads=0, weight_mask=mask
        )
        return [(ids[int(i)], float(s)) for i, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def search_terms(
        self, terms: Sequence[str], k: int, libraries: Sequence[int] | None = None
    ) -> list[tuple[str, float]]:
        """Return up to k (chunk id, BM25 score) pairs for already tokenized terms, best first."""
        bm25, ids, mask = self._fresh(libraries)
        if bm25 is None or not ids or not terms:
            return []
        docs, scores = bm25.retrieve(
            [list(terms)], k=min(k, len(ids)), show_progress=False, n_threads=0, weight_mask=mask
        )
        return [(ids[int(i)], float(s)) for i, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def expansion_terms(self, question: str, texts: Sequence[str], n: int) -> list[str]:
        """Return the n most distinctive indexed terms of `texts` not in the question: term
        frequency there times inverse document frequency over the index (pseudo-relevance
        feedback: the top stories name what the question paraphrases)."""
        bm25, ids, _ = self._fresh(None)
        if bm25 is None or not ids or not texts or n <= 0:
            return []
        asked = set(self._tokens([question])[0])
        df = np.diff(bm25.scores["indptr"])
        vocab = bm25.vocab_dict
        weight: dict[str, float] = {}
        for tokens in self._tokens(list(texts)):
            for tok in set(tokens):  # once per text: a term several top stories share wins
                tid = vocab.get(tok)
                if tok in asked or tid is None or tid >= len(df) or len(tok) < 3 or df[tid] < 2:
                    continue  # df 1: a typo or one story's oddity, no help to find others
                weight[tok] = weight.get(tok, 0.0) + float(np.log(len(ids) / df[tid]))
        return sorted(weight, key=lambda t: (-weight[t], t))[:n]

    def _tokens(self, texts: list[str]) -> list[list[str]]:
        """Return the texts as the index's (stemmed, stop-word free) tokens."""
        out = _bm25s().tokenize(
            texts, stopwords="en", stemmer=self._stem, return_ids=False, show_progress=False
        )
        return [list(t) for t in out]

    def _mask(self, libraries: Sequence[int] | None) -> np.ndarray | None:
        """Return 1.0 for the chunks of the libraries and 0.0 for the rest (None: no mask)."""
        if libraries is None:
            return None
        key = tuple(sorted(set(libraries)))
        mask = self._masks.get(key)
        if mask is None:
            mask = np.isin(self._libraries, key).astype(np.float32)
            self._masks[key] = mask
        return mask

    def _fresh(
        self, libraries: Sequence[int] | None = None
    ) -> tuple[bm25s.BM25 | None, list[str], np.ndarray | None]:
        """Return the index and a scope mask, loading or rebuilding when the registry changed."""
        generation = self._registry.generation()
        with self._lock:
            if generation != self._generation:
                if not self._load(generation):
                    self._build(generation)
                self._generation = generation
                self._masks = {}
            return self._bm25, self._ids, self._mask(libraries)

    def _build(self, generation: int) -> None:
        """Index every chunk of every ready story and save it."""
        bm25s = _bm25s()

        rows = self._registry.chunk_texts()
        self._ids = [cid for cid, _, _ in rows]
        self._libraries = np.array([lib for _, _, lib in rows], dtype=np.int64)
        if not rows:
            self._bm25 = None
            return
        tokens = bm25s.tokenize(
            [text for _, text, _ in rows], stopwords="en", stemmer=self._stem, show_progress=False
        )
        bm25 = bm25s.BM25()
        bm25.index(tokens, show_progress=False)
        self._bm25 = bm25
        log.info("built BM25 index of %d chunks (generation %d)", len(rows), generation)
        self._save(generation)

    def _save(self, generation: int) -> None:
        """Persist the index beside the store so the next start need not rebuild it."""
        if self._dir is None or self._bm25 is None:
            return
        tmp = self._dir.with_name(self._dir.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        self._bm25.save(str(tmp), show_progress=False)
        state = {"generation": generation, "ids": self._ids,
                 "libraries": self._libraries.tolist()}  # fmt: skip
        (tmp / _STATE_FILE).write_text(json.dumps(state), encoding="utf-8")
        # Swap directories so a crash never leaves a half-written index under the real name.
        shutil.rmtree(self._dir, ignore_errors=True)
        tmp.rename(self._dir)

    def _load(self, generation: int) -> bool:
        """Load a saved index of the same generation; return whether it was loaded."""
        if self._dir is None or not (self._dir / _STATE_FILE).is_file():
            return False
        bm25s = _bm25s()
        try:
            state = json.loads((self._dir / _STATE_FILE).read_text(encoding="utf-8"))
            if state.get("generation") != generation or "libraries" not in state:
                return False  # stale, or saved before libraries existed
            self._bm25 = bm25s.BM25.load(str(self._dir), show_progress=False)
            self._ids = list(state["ids"])
            self._libraries = np.array(state["libraries"], dtype=np.int64)
        except (OSError, ValueError, KeyError) as exc:
            log.warning("ignoring unreadable BM25 index at %s: %s", self._dir, exc)
            return False
        return True


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scale scores to 0-1 (all equal scores map to 1)."""
    if scores.size == 0:
        return scores
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-9:
        return np.ones_like(scores)
    return (scores - low) / (high - low)
