"""The vector store: Chroma, embedded (PersistentClient) or a server (HttpClient)."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import numpy as np

from index.chroma_clients import guard, http_client, persistent_client, release
from index.errors import IndexUnavailableError, NewsbotError, StoreDamagedError
from index.gate import CallGate
from index.models import Chunk
from index.store_probe import STORED_FIELDS, read_stored, relink, unfound

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.collection_configuration import CreateHNSWConfiguration
    from chromadb.api.models.Collection import Collection

    from index.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

# Chroma rejects very large single writes; stay well below its max batch size.
_WRITE_BATCH = 2000
# chromadb's HttpClient waits forever by default (httpx timeout=None): a hung server would hold
# every worker thread. Seconds: connecting, and any one read or write of a request.
# A stored vector queried with itself must come back among this many nearest chunks.
SELF_QUERY_K = 10
# The search graph of a new collection (an existing one keeps its own until rebuilt). Chroma's
# default (16 links, 100 candidates while linking) leaves whole groups of near-duplicates out of
# reach: of 300 sampled vectors of a 100k index of perturbed copies, 152 did not find themselves
# even 1,000 wide, against 12 with these values; on less crowded vectors 33 against 0.
HNSW: CreateHNSWConfiguration = {
    "space": "cosine", "ef_search": 100, "max_neighbors": 32, "ef_construction": 200,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class VectorMatch:
    """A chunk id returned by a vector query, with its cosine similarity."""

    chunk_id: str
    similarity: float


class VectorStore(Protocol):
    """Where chunk vectors live."""

    @property
    def embedded(self) -> bool:
        """Tell whether this is the embedded Chroma (one writing process at a time)."""
        ...

    def upsert(
        self, chunks: Sequence[Chunk], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]
    ) -> None:
        """Insert or replace chunks with their vectors and metadata."""
        ...

    def delete_article(self, article_id: str) -> None:
        """Delete every chunk of one article."""
        ...

    def query(
        self,
        vector: np.ndarray,
        k: int,
        where: dict[str, Any] | None = None,
        libraries: Sequence[int] | None = None,
    ) -> list[VectorMatch]:
        """Return the k nearest chunks matching `where` in the libraries (None: all), best first."""
        ...

    def tag_libraries(self, libraries: dict[str, int], *, only_untagged: bool = True) -> int:
        """Give chunks stored without a library (or every chunk) the one of their article;
        return how many were changed."""
        ...

    def article_ids(self) -> set[str]:
        """Return the ids of all articles with at least one chunk."""
        ...

    def chunk_counts(self) -> dict[str, int]:
        """Return {article id: number of chunks stored} for every article with a chunk."""
        ...

    def recover_after_crash(self) -> None:
        """Make the index whole after a process died while writing to it."""
        ...

    def count(self) -> int:
        """Return the number of chunks stored."""
        ...

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """Return the stored vectors of the given chunks, in the given order."""
        ...

    def chunk_ids(self) -> list[str]:
        """Return the id of every stored chunk."""
        ...

    def unfound(self, chunk_ids: Sequence[str], k: int = SELF_QUERY_K) -> list[str]:
        """Return the chunks whose own stored vector does not find them among the k nearest."""
        ...

    def refresh(self) -> None:
        """Forget what this process cached, so the next call sees what other processes wrote."""
        ...

    def relink(self, chunk_ids: Sequence[str]) -> None:
        """Insert these stored vectors into the search index afresh (they keep their data)."""
        ...

    def close(self) -> None:
        """Release what the store holds open (it reopens on next use)."""
        ...


class ChromaStore:
    """A Chroma collection with explicit embeddings (Chroma's own embedder never runs).

    The client is opened on first use, not at construction, so a bot whose Chroma server is
    down still starts (questions get "index unavailable") and recovers when the server returns.
    """

    def __init__(
        self, connect: Callable[[], ClientAPI], collection: str, *, path: Path | None = None
    ) -> None:
        self._connect = connect
        self._path = path  # the embedded Chroma's folder; None for a server
        self._embedded = path is not None
        self._client: ClientAPI | None = None
        self._name = collection
        self._collection: Collection | None = None
        self._lock = threading.Lock()  # worker threads must not open two clients at once
        self._gate = CallGate()  # calls in flight, against a refresh swapping the client

    @classmethod
    def from_settings(cls, settings: Settings) -> ChromaStore:
        """Return a store over the embedded Chroma under data_dir, or over a Chroma server."""
        if settings.chroma_host:
            return cls(partial(http_client, settings), settings.collection)
        settings.chroma_path.mkdir(parents=True, exist_ok=True)
        return cls(
            partial(persistent_client, settings), settings.collection, path=settings.chroma_path
        )

    @property
    def embedded(self) -> bool:
        """Tell whether this is the embedded Chroma (one writing process at a time)."""
        return self._embedded

    @property
    def collection(self) -> Collection:
        """Return the collection, connecting and creating it on first use."""
        with self._damage_reported():
            return self._open()

    def _open(self) -> Collection:
        """Connect and create the collection if needed (see `collection`)."""
        with self._lock:
            if self._client is None:
                self._client = guard(self._connect)
            if self._collection is None:
                client = self._client
                self._collection = guard(
                    lambda: client.get_or_create_collection(
                        self._name,
                        embedding_function=None,
                        configuration={"hnsw": HNSW},
                    )
                )
            return self._collection

    @contextmanager
    def _damage_reported(self) -> Iterator[None]:
        """Turn an embedded Chroma's failures on its own files into StoreDamagedError."""
        try:
            yield
        except (NewsbotError, ValueError, TypeError):
            raise  # ours, or a bad argument: not damage
        except BaseException as exc:  # Rust panics (pyo3 PanicException) are BaseExceptions
            if self._path is None or not _is_damage(exc):
                raise
            target = self._path / "chroma.sqlite3" if "database" in str(exc) else self._path
            detail = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise StoreDamagedError(target, detail, damaged_index_fix(self._path)) from exc

    def _call(self, op: Callable[[Collection], T]) -> T:
        """Run one operation on the collection; reopen it once if it was stale or lost."""
        try:
            with self._gate.call():  # never on a client that refresh() is replacing
                return self._call_open(op)
        except StoreDamagedError as exc:
            if not _is_stale(exc):
                raise
        # Chroma's in-memory search index can name a vector its records no longer hold (one
        # deleted meanwhile): that is a stale copy, not damage, so reload it from disk once.
        log.warning("Chroma's search index was stale; reloading it from disk")
        self.refresh()
        with self._gate.call():
            return self._call_open(op)

    def _call_open(self, op: Callable[[Collection], T]) -> T:
        """Run one operation (see _call), inside the gate."""
        try:
            with self._damage_reported():
                return guard(lambda: op(self.collection))
        except Exception as exc:
            if type(exc).__name__ != "NotFoundError":
                raise
            # A Chroma server restarted without its data: the cached collection id is stale.
            log.warning("Chroma collection %s is gone from the server; recreating it", self._name)
            with self._lock:
                self._collection = None
            return guard(lambda: op(self.collection))

    def upsert(
        self, chunks: Sequence[Chunk], vectors: np.ndarray, metadatas: Sequence[dict[str, Any]]
    ) -> None:
        """Insert or replace chunks with their vectors and metadata, in batches."""
        for i in range(0, len(chunks), _WRITE_BATCH):
            part = slice(i, i + _WRITE_BATCH)

            def write(col: Collection, part: slice = part) -> None:
                col.upsert(
                    ids=[c.id for c in chunks[part]],
                    embeddings=vectors[part],
                    documents=[c.text for c in chunks[part]],
                    metadatas=list(metadatas[part]),
                )

            self._call(write)

    def delete_article(self, article_id: str) -> None:
        """Delete every chunk of one article."""
        self._call(lambda col: col.delete(where={"article_id": article_id}))

    def query(
        self,
        vector: np.ndarray,
        k: int,
        where: dict[str, Any] | None = None,
        libraries: Sequence[int] | None = None,
    ) -> list[VectorMatch]:
        """Return the k nearest chunks matching `where` in the libraries (None: all) by cosine
        similarity, best first."""
        # The library is part of the query itself: an out-of-scope chunk is never a candidate.
        where = scoped_where(where, libraries)
        # No count() first: Chroma returns fewer results when it holds fewer, and the extra
        # round trip cost a third of the query time.
        result = self._call(
            lambda col: col.query(
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
        return set(self.chunk_counts())

    def tag_libraries(self, libraries: dict[str, int], *, only_untagged: bool = True) -> int:
        """Give chunks stored without a library (or every chunk) the one of their article;
        return how many were changed.

        Vectors written before libraries existed lack the metadata key the scoped query
        filters on; without it they would match no member's question at all.
        """
        got = self._call(lambda col: col.get(include=["metadatas"]))
        ids: list[str] = []
        metadatas: list[Any] = []  # Chroma's Metadata mappings
        for cid, meta in zip(got["ids"], got["metadatas"] or [], strict=True):
            if meta is None or (only_untagged and "library" in meta):
                continue
            library = libraries.get(str(meta.get("article_id")))
            if library is not None and meta.get("library") != library:
                ids.append(cid)
                metadatas.append({**meta, "library": library})
        for i in range(0, len(ids), _WRITE_BATCH):
            part = slice(i, i + _WRITE_BATCH)

            def update(col: Collection, part: slice = part) -> None:
                col.update(ids=ids[part], metadatas=metadatas[part])

            self._call(update)
        return len(ids)

    def chunk_counts(self) -> dict[str, int]:
        """Return {article id: number of chunks stored} for every article with a chunk."""
        result = self._call(lambda col: col.get(include=["metadatas"]))
        return dict(Counter(str(m["article_id"]) for m in result["metadatas"] or [] if m))

    def count(self) -> int:
        """Return the number of chunks stored."""
        return self._call(lambda col: col.count())

    def recover_after_crash(self) -> None:
        """Rebuild an embedded index from its own stored vectors (a server keeps its own).

        A process killed while embedded Chroma writes its HNSW files can leave them torn: every
        vector is still stored, but searches miss some of them. Recreating the collection from
        the stored vectors builds a sound index. If they cannot be read, the collection is left
        empty and repair re-embeds every story from the registry.
        """
        if not self._embedded:
            return
        try:
            stored = self.stored(self.chunk_ids())
        except IndexUnavailableError:
            raise
        except Exception:  # a damaged index: start empty, the registry refills it
            log.exception("cannot read the vector index; every story will be re-embedded")
            stored = {f: [] for f in STORED_FIELDS}
        self.replace_all(stored)
        ids = stored["ids"]
        log.warning("rebuilt the vector index from %d stored vectors", len(ids))

    def replace_all(self, stored: dict[str, list[Any]]) -> None:
        """Recreate the collection holding exactly the given ids, embeddings, docs, metadatas."""
        _ = self.collection  # connected, so the old collection can be dropped
        with self._lock:
            client = self._client
            self._collection = None
        assert client is not None
        with self._gate.call(), self._damage_reported():
            guard(lambda: client.delete_collection(self._name))
        ids = stored["ids"]
        for i in range(0, len(ids), _WRITE_BATCH):
            part = slice(i, i + _WRITE_BATCH)

            def add(col: Collection, part: slice = part) -> None:
                col.add(
                    ids=ids[part],
                    embeddings=np.asarray(stored["embeddings"][part], dtype=np.float32),
                    documents=stored["documents"][part],
                    metadatas=stored["metadatas"][part],
                )

            self._call(add)

    def stored(self, ids: list[str]) -> dict[str, list[Any]]:
        """Return ids, embeddings, documents and metadatas of every chunk that can be read."""
        return read_stored(self._call, ids)

    def vectors(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """Return the stored vectors of the given chunks, in the given order."""
        got = self._call(lambda col: col.get(ids=list(chunk_ids), include=["embeddings"]))
        by_id = dict(zip(got["ids"], got["embeddings"], strict=True))  # type: ignore[arg-type]
        return np.asarray([by_id[cid] for cid in chunk_ids], dtype=np.float32)

    def chunk_ids(self) -> list[str]:
        """Return the id of every stored chunk."""
        return list(self._call(lambda col: col.get(include=[]))["ids"])

    def unfound(self, chunk_ids: Sequence[str], k: int = SELF_QUERY_K) -> list[str]:
        """Return the chunks whose own stored vector does not find them among the k nearest.

        A vector that cannot even be read back counts as unfound. k identical copies of a
        vector (the same text stored k times) fill the k places: those count as found.
        """
        return unfound(self._call, chunk_ids, k)

    def relink(self, chunk_ids: Sequence[str]) -> None:
        """Insert these stored vectors into the search index afresh (they keep their data).

        Deleting and adding back gives a vector that search cannot reach new links. A crash
        in between leaves its story short of vectors, which the next start re-embeds.
        """
        relink(self._call, chunk_ids)

    def refresh(self) -> None:
        """Drop this process's Chroma state; the next call opens a fresh client.

        Embedded Chroma keeps its search index in each process's memory and writes it back to
        disk as it goes, so a process writing from a stale copy would erase what another
        process wrote meanwhile. Called under the write lock before writing when another
        process has written (and by readers to catch up). A server needs nothing of this.
        """
        if not self._embedded:
            return
        # Two clients of one folder in one process would each save their own index: calls in
        # flight end first, new ones wait, and the old client is gone before the next opens.
        self.close()

    def close(self) -> None:
        """Release the client (files, threads, sockets) once calls in flight end; new calls
        wait, then open a fresh one."""
        with self._gate.exclusive(), self._lock:
            client, self._client, self._collection = self._client, None, None
            if client is not None:
                release(client, embedded=self._embedded)


def damaged_index_fix(chroma_path: Path) -> str:
    """Return how to mend a damaged embedded index."""
    return (
        f"Restore a backup (`newsbot restore BACKUP`), or delete {chroma_path} and run the "
        "command again: every story is then re-embedded from the registry."
    )


def _is_stale(exc: StoreDamagedError) -> bool:
    """Tell whether a failure was Chroma's search index naming a vector no longer stored."""
    return "Error finding id" in str(exc.__cause__)


def _is_damage(exc: BaseException) -> bool:
    """Tell whether an exception is chromadb (or its Rust core) failing on stored data."""
    if isinstance(exc, sqlite3.DatabaseError) or type(exc).__name__ == "PanicException":
        return True
    return type(exc).__module__.startswith("chromadb") and type(exc).__name__ != "NotFoundError"


def scoped_where(
    where: dict[str, Any] | None, libraries: Sequence[int] | None
) -> dict[str, Any] | None:
    """Return a Chroma `where` clause that also keeps only chunks of the given libraries."""
    if libraries is None:
        return where
    scope: dict[str, Any] = {"library": {"$in": sorted(set(libraries)) or [-1]}}
    return scope if where is None else {"$and": [where, scope]}
