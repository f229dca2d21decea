"""The registry's two backends behind one interface: SQLite (embedded) and PostgreSQL (shared).

Feature code writes `?` placeholders and portable SQL, and gets connections from
`Registry.read()` / `Registry.transaction()`; what differs between the two lives here.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Protocol

from index.locking import WriteLock


class Cursor(Protocol):
    """What a statement returns on either backend."""

    @property
    def rowcount(self) -> int:
        """Return how many rows the statement changed."""

    def fetchone(self) -> Any:
        """Return the next row, or None."""

    def fetchall(self) -> list[Any]:
        """Return the remaining rows."""

    def fetchmany(self, size: int = ..., /) -> list[Any]:
        """Return up to `size` more rows."""

    def __iter__(self) -> Iterator[Any]:
        """Iterate over the remaining rows."""


class Connection(Protocol):
    """A connection lent by the registry; rows are readable by index and by column name."""

    dialect: Dialect

    def execute(self, sql: str, params: Any = ..., /) -> Cursor:
        """Run one statement with `?` placeholders."""

    def executemany(self, sql: str, rows: Iterable[Any], /) -> Cursor:
        """Run one statement once per parameter row."""

    def script(self, sql: str) -> None:
        """Run several statements without parameters (the schema), in one write."""

    def begin_write(self) -> None:
        """Open a write transaction that waits for any other writer (COMMIT or ROLLBACK ends it)."""

    def columns(self, table: str) -> set[str]:
        """Return the column names of a table (empty when there is no such table)."""

    def indexes(self, table: str) -> set[str]:
        """Return the index names of a table."""


class Dialect:
    """SQL fragments that cannot be written one way for both backends."""

    name = "sqlite"

    def json_text(self, column: str, key: str) -> str:
        """Return an expression for the text of a top-level key of a JSON object column."""
        return f"json_extract({column}, '$.{key}')"

    def insertion_order(self, alias: str) -> str:
        """Return an ORDER BY term that lists an insert-only table's rows as they were added."""
        return f"{alias}.rowid"

    def schema(self, sql: str) -> str:
        """Return the shared SCHEMA text in this backend's types."""
        return sql

    def greatest(self, a: str, b: str) -> str:
        """Return an expression for the larger of two values."""
        return f"MAX({a}, {b})"

    def reset_ids(self, table: str) -> str:
        """Return a statement that makes new ids follow ids copied in explicitly."""
        return "SELECT 1"  # SQLite's AUTOINCREMENT already moved past them


SQLITE = Dialect()


class SqliteConnection(sqlite3.Connection):
    """A sqlite3 connection with the dialect methods (execute itself is sqlite3's own)."""

    dialect = SQLITE

    def script(self, sql: str) -> None:
        """Run several statements (sqlite3 commits each on its own)."""
        self.executescript(sql)

    def begin_write(self) -> None:
        """Take SQLite's write lock now, not at the first write (no upgrade deadlocks)."""
        self.execute("BEGIN IMMEDIATE")

    def columns(self, table: str) -> set[str]:
        """Return the column names of a table."""
        return {row[1] for row in self.execute(f"PRAGMA table_info({table})")}

    def indexes(self, table: str) -> set[str]:
        """Return the index names of a table."""
        return {row[1] for row in self.execute(f"PRAGMA index_list({table})")}


class Backend(Protocol):
    """Where the registry's connections come from."""

    dialect: Dialect
    write_lock: WriteLock

    def read(self) -> AbstractContextManager[Connection]:
        """Lend a connection for reads."""

    def transaction(self) -> AbstractContextManager[Connection]:
        """Lend a connection inside one write transaction."""

    def close(self) -> None:
        """Release every connection."""


# Switching a new database file to WAL needs it alone for a moment, and SQLite answers "database
# is locked" at once, without its busy wait, when several connections open the file together
# (several processes or threads starting on a fresh data directory): so it is retried a while.
_WAL_RETRY_S = 10.0
_WAL_RETRY_STEP_S = 0.02


def _enable_wal(conn: sqlite3.Connection) -> None:
    """Put the database in WAL mode, retrying while another opener holds it."""
    deadline = time.monotonic() + _WAL_RETRY_S
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() >= deadline:
                raise
            time.sleep(_WAL_RETRY_STEP_S)


class SqliteBackend:
    """One SQLite file shared by this process's threads through one serialised connection."""

    dialect = SQLITE

    def __init__(self, path: Path | str) -> None:
        in_memory = str(path) == ":memory:"
        if not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Held by whoever writes stories (any thread or process using this database).
        self.write_lock = WriteLock(None if in_memory else Path(f"{path}.lock"))
        self._conn = sqlite3.connect(
            str(path), check_same_thread=False, isolation_level=None, factory=SqliteConnection
        )
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            _enable_wal(self._conn)
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA synchronous=NORMAL")

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """Lend the connection, serialised with every other use of it."""
        with self._lock:
            yield self._conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """Lend the connection inside BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any error)."""
        with self._lock:
            self._conn.begin_write()
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()


def open_backend(location: Path | str, url: str = "") -> Backend:
    """Open PostgreSQL for a `postgresql://` url, else the SQLite file at `location`."""
    if url:
        from index.postgres import PostgresBackend

        return PostgresBackend(url)
    return SqliteBackend(location)


def is_postgres_url(url: str) -> bool:
    """Tell whether a database url names PostgreSQL."""
    return url.startswith(("postgresql://", "postgres://"))
