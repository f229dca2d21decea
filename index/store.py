"""The vector store: Chroma, embedded (PersistentClient) or a server (HttpClient)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np

from index.errors import IndexUnavailableError
from index.models import Chunk

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from index.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Chroma rejects very large single writes; stay well below its max batch size.
_WRITE_BATCH = 2000


@dataclass(frozen=True, slots=True)
class VectorMatch:
    """A chunk id returned by a vector query, with its cosine similarity."""

    chunk_id: str
    similarity: float


class VectorStore(Protocol):
    """Where chunk vectors live."""

    def upsert(
        self, chunks: Sequence[Chunk], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]
    ) -> None:
        """Insert or replace chunks with their vectors and metadata."""
        ...

    def delete_article(self, article_id: str) -> None:
        """Delete every chunk of one article."""
        ...

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[VectorMatch]:
        """Return the k nearest chunks matching `where`, best first."""
        ...

    def article_ids(self) -> set[str]:
        """Return the ids of all articles with at least one chunk."""
        ...

    def count(self) -> int:
        """Return the number of chunks stored."""
        ...

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """Return the stored vectors of the given chunks, in the given order."""
        ...


class ChromaStore:
    """A Chroma collection with explicit embeddings (Chroma's own embedder never runs)."""

    def __init__(self, client: ClientAPI, collection: str) -> None:
        self._client = client
        self._name = collection
        self._collection: Collection | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> ChromaStore:
        """Open the embedded store under data_dir, or connect to a Chroma server."""
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if settings.chroma_host:
            client = _guard(
                lambda: chromadb.HttpClient(
                    host=settings.chroma_host or "",
                    port=settings.chroma_port,
                    ssl=settings.chroma_ssl,
                    settings=chroma_settings,
                )
            )
        else:
            settings.chroma_path.mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(
                path=str(settings.chroma_path), settings=chroma_settings
            )
        return cls(client, settings.collection)

    @property
    def collection(self) -> Collection:
        """Return the collection, creating it on first use."""
        if self._collection is None:
            self._collection = _guard(
                lambda: self._client.get_or_create_collection(
                    self._name,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine", "ef_search": 100}},
                )
            )
        return self._collection

    def upsert(
        self, chunks: Sequence[Chunk], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]
    ) -> None:
        """Insert or replace chunks with their vectors and metadata, in batches."""
        for i in range(0, len(chunks), _WRITE_BATCH):
            part = slice(i, i + _WRITE_BATCH)
            _guard(
                lambda part=part: self.collection.upsert(  # type: ignore[misc]
                    ids=[c.id for c in chunks[part]],
                    embeddings=vectors[part],
                    documents=[c.text for c in chunks[part]],
                    metadatas=list(metadatas[part]),
                )
            )

    def delete_article(self, article_id: str) -> None:
        """Delete every chunk of one article."""
        _guard(lambda: self.collection.delete(where={"article_id": article_id}))

    def query(
        self, vector: np.ndarray, k: int, where: dict[str, Any] | None = None
    ) -> list[VectorMatch]:
        """Return the k nearest chunks matching `where` by cosine similarity, best first."""
        # No count() first: Chroma returns fewer results when it holds fewer, and the extra
        # round trip cost a third of the query time.
        result = _guard(
            lambda: self.collection.query(
                query_embeddings=[vector],
                n_results=k,
                where=where,
                # Texts and metadata come from the registry: ask Chroma for distances only.
                include=["distances"],
            )
        )
        ids = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        return [VectorMatch(cid, 1.0 - float(d)) for cid, d in zip(ids, distances, strict=True)]

    def article_ids(self) -> set[str]:
        """Return the ids of all articles with at least one chunk."""
        result = _guard(lambda: self.collection.get(include=["metadatas"]))
        return {str(m["article_id"]) for m in result["metadatas"] or [] if m}

    def count(self) -> int:
        """Return the number of chunks stored."""
        return _guard(lambda: self.collection.count())

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """Return the stored vectors of the given chunks, in the given order."""
        got = _guard(lambda: self.collection.get(ids=list(chunk_ids), include=["embeddings"]))
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))  # type: ignore[arg-type]
        return np.asarray([by_id[cid] for cid in chunk_ids], dtype=np.float32)


def _guard(call: Callable[[], T]) -> T:
    """Run a Chroma call, turning connection failures into IndexUnavailableError."""
    try:
        return call()
    except (ConnectionError, OSError) as exc:
        raise IndexUnavailableError(f"vector store unreachable: {exc}") from exc
    except Exception as exc:
        # chromadb's HTTP client raises its own and httpx's errors; match them by name
        # rather than importing transport internals.
        if type(exc).__name__ in _UNAVAILABLE_ERRORS:
            raise IndexUnavailableError(f"vector store unreachable: {exc}") from exc
        raise


_UNAVAILABLE_ERRORS = frozenset(
    {"ConnectError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError", "ReadError"}
)
