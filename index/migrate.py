"""Move an embedded installation to shared stores: the SQLite registry into PostgreSQL, the
vectors into a Chroma server, each copy verified by counting."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from index.errors import NewsbotError
from index.registry import Registry
from index.schema import SCHEMA
from index.store import ChromaStore

Progress = Callable[[str], None]
BATCH = 1000  # rows per INSERT batch: bounded memory whatever the registry's size
# Work in progress is not moved: a lease belongs to a process of the old installation.
SKIPPED = frozenset({"leases"})


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
    wrong = [c for c in copied if c.source != c.target]
    if wrong:
        raise MigrateError(
            "counts differ after copying: "
            + ", ".join(f"{c.name} {c.source} → {c.target}" for c in wrong)
        )
    return copied


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


def copy_vectors(source: ChromaStore, target: ChromaStore, progress: Progress) -> Copied:
    """Copy every stored vector with its document and metadata to `target` (replacing its
    collection); raise MigrateError when a vector cannot be read or the counts differ."""
    ids = source.chunk_ids()
    progress(f"vectors: reading {len(ids)}")
    stored = source.stored(ids)
    if len(stored["ids"]) != len(ids):
        raise MigrateError(
            f"{len(ids) - len(stored['ids'])} stored vectors cannot be read;"
            " run `newsbot check --full --repair` first"
        )
    progress(f"vectors: writing {len(ids)}")
    target.replace_all(stored)
    copied = Copied("vectors", len(ids), target.count())
    if copied.source != copied.target:
        raise MigrateError(f"vectors: {copied.source} copied but the server holds {copied.target}")
    return copied


def _count(registry: Registry, table: str) -> int:
    """Return a table's row count."""
    with registry.read() as db:
        return int(db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
