"""Small, fast stand-ins for heavy services."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

# fmt: off
_STOP = frozenset({
    "a", "an", "the", "of", "to", "in", "on", "and", "or", "is", "are", "was", "were", "be",
    "been", "being", "by", "for", "with", "as", "at", "from", "that", "this", "it", "its",
    "what", "which", "who", "whom", "how", "why", "when", "where", "do", "does", "did", "will",
    "would", "can", "could", "has", "have", "had", "not", "no",
})
# fmt: on


class FakeEmbedder:
    """Hashes word tokens into a fixed-size bag-of-words vector: shared words mean similarity."""

    name = "fake-hashing-embedder"

    def __init__(self, dim: int = 384) -> None:
        self.dim = dim
        self.calls = 0
        self.texts_encoded = 0

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Return unit vectors; texts sharing content words get high cosine similarity."""
        self.calls += 1
        self.texts_encoded += len(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for token in re.findall(r"[a-z0-9]+", text.lower()):
                if token in _STOP:
                    continue
                token = token[:6]  # crude stemming: writers/writer, replaced/replace
                h = int.from_bytes(hashlib.blake2b(token.encode(), digest_size=4).digest(), "big")
                out[row, h % self.dim] += 1.0
            norm = float(np.linalg.norm(out[row]))
            if norm == 0.0:
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return out
