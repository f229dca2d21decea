"""Retrieval: find the chunks most likely to answer a question."""

from __future__ import annotations

import numpy as np

from index.embed import QueryCache
from index.models import Hit
from index.registry import Registry
from index.store import VectorStore


class Retriever:
    """Dense retrieval over the vector store, limited to fully indexed stories."""

    def __init__(self, store: VectorStore, registry: Registry, queries: QueryCache) -> None:
        self._store = store
        self._registry = registry
        self._queries = queries

    def embed_question(self, question: str) -> np.ndarray:
        """Return the question's unit vector (cached)."""
        return self._queries.encode_one(question)

    def search(self, question: str, k: int, vector: np.ndarray | None = None) -> list[Hit]:
        """Return up to k hits, best first, from stories whose ingestion finished."""
        qvec = self.embed_question(question) if vector is None else vector
        # Over-fetch a little: chunks of a story being written or removed are skipped.
        matches = self._store.query(qvec, k + 4)
        ready = self._registry.ready_ids({str(m.metadata.get("article_id")) for m in matches})
        hits = [
            Hit(
                chunk_id=m.chunk_id,
                article_id=str(m.metadata["article_id"]),
                kind="kq" if m.metadata.get("kind") == "kq" else "body",
                text=m.document,
                score=m.similarity,
                dense=m.similarity,
            )
            for m in matches
            if m.metadata.get("article_id") in ready
        ]
        return hits[:k]
