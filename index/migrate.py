"""Move an embedded installation to shared stores: the SQLite registry into PostgreSQL, the
vectors into a Chroma server, each copy verified by counting."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from index.embed import Embedder
from index.errors import NewsbotError
from index.ingest import chunk_metadata
from index.models import Chunk
from index.registry import Registry
from index.schema import SCHEMA
from index.store import ChromaStore

Progress = Callable[[str], None]
Counted = Callable[[int, int], None]  # (chunks re-embedded so far, chunks in all)
STORIES_PER_BATCH = 64  # stories encoded in one call: the model's batches stay full
BATCH = 1000  # rows per INSERT batch: bounded memory whatever the registry's size
# Work in progress is not moved: a lease belongs to a process of the old installation.
SKIPPED = frozenset({"leases"})
_FIX = "run `newsbot check --full --repair` first, or migrate with --re-embed"


class MigrateError(NewsbotError):
    """The target cannot take the installation, or a copy does not match; says which."""


@dataclass(frozen=True, slots=True)
class Copied:
    """What one table or the vectors held, at the source and at the target after copying."""

    name: str
    source: int
    target: int


def tables() -> list[str]:
    """Return SCHEMA's tables in creation order (parents before the tables that reference them)."""
    found = re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", SCHEMA)
    return [t for t in found if t not in SKIPPED]


def _id_tables() -> set[str]:
    """Return the tables whose ids the database hands out (AUTOINCREMENT / identity)."""
    pattern = r"CREATE TABLE IF NOT EXISTS (\w+) \(\s*id INTEGER PRIMARY KEY AUTOINCREMENT"
    return set(re.findall(pattern, SCHEMA))


def copy_registry(source: Registry, target: Registry, progress: Progress) -> list[Copied]:
    """Copy every table of `source` into the empty `target`; raise MigrateError unless every
    table's row count matches afterwards."""
    for table in ("articles", "questions", "follows"):
        if _count(target, table):
            raise MigrateError(f"the target database already holds {table}; use an empty one")
    copied = []
    for table in tables():
        _copy_table(source, target, table, progress)
        copied.append(Copied(table, _count(source, table), _count(target, table)))
    return _verified(copied, "copying")


def _copy_table(source: Registry, target: Registry, table: str, progress: Progress) -> None:
    """Copy one table's rows in batches, in one transaction of the target."""
    with source.read() as src, target.transaction() as dst:
        names = sorted(src.columns(table) & dst.columns(table))
        if not names:
            return
        columns = ", ".join(names)
        insert = f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(names))})"
        if table == "meta":  # a new database writes a few flags of its own: the source's win
            insert += " ON CONFLICT (key) DO UPDATE SET value = excluded.value"
        rows = src.execute(f"SELECT {columns} FROM {table}")
        done = 0
        while batch := rows.fetchmany(BATCH):
            dst.executemany(insert, [tuple(r) for r in batch])
            done += len(batch)
            progress(f"{table}: {done} rows")
        if table in _id_tables():
            dst.execute(dst.dialect.reset_ids(table))


Stored = dict[str, list[Any]]  # ids, embeddings, documents, metadatas (ChromaStore.stored)


def read_vectors(source: ChromaStore, progress: Progress, *, expected: int) -> Stored:
    """Read every stored vector with its document and metadata (before anything is written);
    raise MigrateError unless the source holds the `expected` ones (the registry's ready
    chunks) and each can be read."""
    ids = source.chunk_ids()
    if len(ids) != expected:
        raise MigrateError(
            f"the embedded index holds {len(ids)} vectors for the registry's {expected} chunks;"
            f" {_FIX}"
        )
    progress(f"vectors: reading {len(ids)}")
    stored = source.stored(ids)
    if len(stored["ids"]) != len(ids):
        raise MigrateError(f"{len(ids) - len(stored['ids'])} stored vectors cannot be read; {_FIX}")
    return stored


def write_vectors(stored: Stored, target: ChromaStore, progress: Progress) -> Copied:
    """Write vectors read by read_vectors to `target` (replacing its collection); raise
    MigrateError when the server then holds another count."""
    progress(f"vectors: writing {len(stored['ids'])}")
    target.replace_all(stored)
    copied = Copied("vectors", len(stored["ids"]), target.count())
    if copied.source != copied.target:
        raise MigrateError(f"vectors: {copied.source} copied but the server holds {copied.target}")
    return copied


def reembed_vectors(
    registry: Registry, target: ChromaStore, embedder: Embedder, progress: Counted
) -> list[Copied]:
    """Encode every ready story again from the registry's text: chunk vectors into `target`
    (replacing its collection), sentence vectors into the registry; raise MigrateError unless
    every count matches."""
    ready = registry.ready_chunk_counts()
    expected = sum(ready.values())
    target.replace_all({"ids": [], "embeddings": [], "documents": [], "metadatas": []})
    ids = sorted(ready)
    done = sentences = 0
    progress(0, expected)
    for i in range(0, len(ids), STORIES_PER_BATCH):
        chunks, rows = _reembed_batch(registry, target, embedder, ids[i : i + STORIES_PER_BATCH])
        done, sentences = done + chunks, sentences + rows
        progress(done, expected)
    copied = [
        Copied("vectors", expected, target.count()),
        Copied("sentence vectors", _ready_sentences(registry), sentences),
    ]
    return _verified(copied, "re-embedding")


def _reembed_batch(
    registry: Registry, target: ChromaStore, embedder: Embedder, article_ids: list[str]
) -> tuple[int, int]:
    """Re-embed a few stories in one encode call; return (chunks, sentences) written."""
    chunks: list[Chunk] = []
    metadatas: list[dict[str, Any]] = []
    texts: list[str] = []
    for article_id in article_ids:
        article = registry.get_article(article_id)
        if article is None:  # removed since the count: nothing to write
            continue
        mine = registry.chunks_of(article_id)
        chunks.extend(mine)
        metadatas.extend(chunk_metadata(article, c) for c in mine)
        texts.extend(f"{article.title}\n{c.text}" for c in mine)  # as ingest encodes them
    rows = registry.sentences_for([c.id for c in chunks])
    if not chunks:
        return 0, 0
    vectors = embedder.encode(texts + [r.text for r in rows])
    target.upsert(chunks, vectors[: len(chunks)], metadatas)
    with registry.transaction() as db:
        db.executemany(
            "UPDATE sentences SET vec = ? WHERE chunk_id = ? AND idx = ?",
            [(v.astype(np.float16).tobytes(), r.chunk_id, r.idx)
             for r, v in zip(rows, vectors[len(chunks) :], strict=True)],
        )  # fmt: skip
    return len(chunks), len(rows)


def _ready_sentences(registry: Registry) -> int:
    """Return how many sentences the ready stories hold."""
    with registry.read() as db:
        return int(db.execute(
            "SELECT COUNT(*) FROM sentences s JOIN chunks c ON c.id = s.chunk_id"
            " JOIN articles a ON a.id = c.article_id WHERE a.status = 'ready'"
        ).fetchone()[0])  # fmt: skip


def _verified(copied: list[Copied], step: str) -> list[Copied]:
    """Return `copied`; raise MigrateError naming every count that differs."""
    wrong = [c for c in copied if c.source != c.target]
    if wrong:
        raise MigrateError(
            f"counts differ after {step}: "
            + ", ".join(f"{c.name} {c.source} → {c.target}" for c in wrong)
        )
    return copied


def _count(registry: Registry, table: str) -> int:
    """Return a table's row count."""
    with registry.read() as db:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
