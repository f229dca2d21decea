"""The registry's schema version: one number, written once the upgrades up to it are applied.

Older databases (made before this table existed) read as version 0 and get every upgrade, each
of which checks what it changes; a database from a newer newsbot is refused before anything in
it is touched. The `schema_version` table is owned by this module.
"""

from __future__ import annotations

from index.database import Connection
from index.errors import NewsbotError

VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),  -- one row
    version INTEGER NOT NULL  -- the last upgrade applied (index/schema.py UPGRADES)
);
"""


class SchemaTooNewError(NewsbotError):
    """The registry was upgraded by a newer newsbot than this one; nothing was changed."""

    def __init__(self, found: int, known: int) -> None:
        super().__init__(
            f"the registry has schema version {found}, but this newsbot knows versions up to"
            f" {known} only: it was upgraded by a newer newsbot. Run that version (or newer);"
            " nothing was changed."
        )
        self.found = found
        self.known = known


def read_version(db: Connection) -> int | None:
    """Return the recorded schema version, or None when the database records none yet."""
    if not db.columns("schema_version"):
        return None
    row = db.execute("SELECT version FROM schema_version WHERE id = 1").fetchone()
    return None if row is None else int(row[0])


def check_version(db: Connection, known: int) -> int:
    """Return the recorded version (0 when none); raise SchemaTooNewError if it exceeds `known`."""
    found = read_version(db)
    if found is not None and found > known:
        raise SchemaTooNewError(found, known)
    return found or 0


def write_version(db: Connection, version: int) -> None:
    """Record `version` in the current write transaction; never lower a recorded one."""
    db.execute(
        "INSERT INTO schema_version (id, version) VALUES (1, ?)"
        " ON CONFLICT (id) DO UPDATE SET version = excluded.version"
        " WHERE schema_version.version < excluded.version",
        (version,),
    )
