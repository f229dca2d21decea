"""Backups: the registry by SQLite's online backup API plus the vectors exported, and restore."""

from __future__ import annotations

import json
import logging
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import NewsbotError
from index.locking import WriteLock
from index.services import Services
from index.settings import Settings
from index.store import ChromaStore

log = logging.getLogger(__name__)

FORMAT = "newsbot-backup/1"
MANIFEST = "manifest.json"
REGISTRY = "newsbot.db"
VECTORS = "vectors.npy"  # float32, one row per chunk, in the order of chunks.json
CHUNKS = "chunks.json"  # ids, documents and metadatas of the vectors
RESTORE_WAIT_S = 30.0  # how long restore waits for a writer to finish


class BackupError(NewsbotError):
    """A backup cannot be written or read; nothing was changed."""


@dataclass(frozen=True, slots=True)
class BackupSummary:
    """What a backup holds."""

    path: Path
    stories: int
    vectors: int


def backup(services: Services, dest: Path) -> BackupSummary:
    """Write a consistent backup of registry and vectors to the new folder `dest`."""
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(f"{dest} already exists and is not an empty folder; choose a new one")
    if services.registry.dialect.name != "sqlite":
        raise BackupError(
            "the registry is in PostgreSQL (NEWSBOT_DATABASE_URL): back it up with pg_dump"
        )
    dest.mkdir(parents=True, exist_ok=True)
    store = services.store
    assert isinstance(store, ChromaStore)
    # Under the write lock: no story is half-written, and registry and vectors match.
    with services.ingestor.guard.hold():
        _copy_sqlite(services.settings.db_path, dest / REGISTRY)
        stored = store.stored(store.chunk_ids())
        missing = store.count() - len(stored["ids"])
    if missing:
        shutil.rmtree(dest)
        raise BackupError(
            f"{missing} stored vectors cannot be read; run `newsbot check --full --repair` first"
        )
    vectors = np.asarray(stored["embeddings"], dtype=np.float32).reshape(-1, _dim(stored))
    np.save(dest / VECTORS, vectors)
    chunks = {f: stored[f] for f in ("ids", "documents", "metadatas")}
    (dest / CHUNKS).write_text(json.dumps(chunks, ensure_ascii=False), encoding="utf-8")
    stories = services.registry.count_articles()
    manifest = {
        "format": FORMAT, "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "stories": stories, "vectors": len(vectors), "embedding_model": services.embedder.name,
    }  # fmt: skip
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return BackupSummary(dest, stories, len(vectors))


def restore(settings: Settings, src: Path) -> tuple[BackupSummary, Path | None]:
    """Restore a backup into settings' data directory; return it and where old files went.

    Files already there (registry, embedded Chroma, BM25 index) are moved into a
    `replaced-TIME` folder inside the data directory, never deleted.
    """
    manifest, chunks, vectors = _read_backup(src)
    data = settings.data_dir
    data.mkdir(parents=True, exist_ok=True)
    lock = WriteLock(Path(f"{settings.db_path}.lock"))
    try:
        with lock.hold(timeout=RESTORE_WAIT_S):
            aside = _move_aside(settings)
            _copy_sqlite(src / REGISTRY, settings.db_path)
            store = ChromaStore.from_settings(settings)
            stored = {**chunks, "embeddings": list(vectors)}
            store.replace_all(stored)
    except TimeoutError:
        raise BackupError("another newsbot process is writing to this data directory") from None
    return BackupSummary(data, int(manifest.get("stories", 0)), len(vectors)), aside


def _read_backup(src: Path) -> tuple[dict[str, Any], dict[str, list[Any]], np.ndarray]:
    """Read and check a backup folder; raise BackupError saying what is wrong."""
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ValueError(f"{MANIFEST} is not a {FORMAT} manifest")
        chunks = json.loads((src / CHUNKS).read_text(encoding="utf-8"))
        vectors = np.load(src / VECTORS, allow_pickle=False)
        if vectors.ndim != 2 or not all(len(chunks[f]) == len(vectors) for f in chunks):
            raise ValueError(f"{VECTORS} and {CHUNKS} do not match")
        with sqlite3.connect(f"file:{src / REGISTRY}?mode=ro", uri=True) as db:
            if db.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
                raise ValueError(f"{REGISTRY} fails SQLite's integrity check")
    except FileNotFoundError as exc:
        raise BackupError(
            f"{src} is not a newsbot backup: {Path(exc.filename).name} is missing"
        ) from None
    except (OSError, ValueError, KeyError, TypeError, sqlite3.Error) as exc:
        raise BackupError(f"{src} is not a usable newsbot backup: {exc}") from exc
    return manifest, chunks, vectors


def _copy_sqlite(src: Path, dest: Path) -> None:
    """Copy a SQLite database page by page with its online backup API (safe while in use)."""
    with sqlite3.connect(src) as source, sqlite3.connect(dest) as target:
        source.backup(target)
    source.close()
    target.close()


def _move_aside(settings: Settings) -> Path | None:
    """Move the registry, embedded Chroma and BM25 index into replaced-TIME; return it."""
    data = settings.data_dir
    names = [REGISTRY, f"{REGISTRY}-wal", f"{REGISTRY}-shm", "lexical"]
    if not settings.chroma_host:
        names.append(settings.chroma_path.name)
    present = [data / n for n in names if (data / n).exists()]
    if not present:
        return None
    aside = data / f"replaced-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    aside.mkdir()
    for path in present:
        shutil.move(str(path), aside / path.name)
    log.warning("moved the data directory's previous files to %s", aside)
    return aside


def _dim(stored: dict[str, list[Any]]) -> int:
    """Return the vector length (384 for an empty store: MiniLM's)."""
    return len(stored["embeddings"][0]) if stored["embeddings"] else 384
