"""Leases: work that must happen once across every process (a server's digest, the follow check).

A lease is a row naming its holder and when it lapses. Claiming is one atomic upsert that only
succeeds when the row is free, lapsed or already ours, so of any number of processes on any
number of machines exactly one holds it. The holder renews it as it goes; a holder that dies
simply stops renewing, and after `seconds` another process claims it and finishes the work.
The `leases` table is owned by this module.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Callable

from index.registry import Registry

Now = Callable[[], float]  # wall-clock seconds: leases span machines, so not monotonic


def process_owner() -> str:
    """Return a name for this process that no other process, here or elsewhere, shares."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leases:
    """Claim, renew and release named leases for one process."""

    def __init__(
        self, registry: Registry, seconds: float, *, owner: str | None = None, now: Now = time.time
    ) -> None:
        self._registry = registry
        self.seconds = seconds
        self.owner = owner or process_owner()
        self._now = now

    def claim(self, name: str) -> bool:
        """Take the lease if it is free, lapsed or ours (extended); return whether we hold it."""
        now = self._now()
        with self._registry.transaction() as db:
            db.execute(
                "INSERT INTO leases (name, owner, until_ms) VALUES (?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET owner = excluded.owner,"
                " until_ms = excluded.until_ms"
                " WHERE leases.until_ms < ? OR leases.owner = excluded.owner",
                (name, self.owner, _stamp(now + self.seconds), _stamp(now)),
            )
            row = db.execute("SELECT owner FROM leases WHERE name = ?", (name,)).fetchone()
        return row is not None and row[0] == self.owner

    def renew(self, name: str) -> bool:
        """Extend a lease we hold; return False when it lapsed and another process took it."""
        now = self._now()
        with self._registry.transaction() as db:
            cur = db.execute(
                "UPDATE leases SET until_ms = ? WHERE name = ? AND owner = ?",
                (_stamp(now + self.seconds), name, self.owner),
            )
            return cur.rowcount > 0

    def release(self, name: str) -> None:
        """Give a lease up at once (only if we still hold it)."""
        with self._registry.transaction() as db:
            db.execute("DELETE FROM leases WHERE name = ? AND owner = ?", (name, self.owner))

    def holder(self, name: str) -> str | None:
        """Return who holds a lease that has not lapsed, or None."""
        with self._registry.read() as db:
            row = db.execute(
                "SELECT owner FROM leases WHERE name = ? AND until_ms >= ?",
                (name, _stamp(self._now())),
            ).fetchone()
        return row[0] if row else None


def _stamp(seconds: float) -> int:
    """Return epoch milliseconds (INTEGER; whole seconds would make short leases coarse)."""
    return int(seconds * 1000)
