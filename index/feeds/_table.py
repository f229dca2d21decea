"""The feeds and feed_items tables: the one owner of their SQL (portable SQLite/PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass
from typing import Any

from index.library import Libraries
from index.registry import Registry

_NEW = (
    "library, url, name, title, include_words, exclude_words, since, interval_seconds,"
    " announce_channel_id, added_at, added_by"
)
_COLUMNS = (
    f"{_NEW}, id, paused, etag, last_modified, next_poll, last_poll, last_error, last_error_at,"
    " failing_since, failures, reported"
)


@dataclass(frozen=True, slots=True)
class NewFeed:
    """What a new subscription is stored with; times are epoch seconds."""

    library: int
    url: str
    name: str | None
    title: str | None  # the feed's own title: the publisher of items naming none
    include_words: str
    exclude_words: str
    since: int
    interval_seconds: int
    announce_channel_id: int | None
    added_at: int
    added_by: str | None

    @property
    def publisher(self) -> str | None:
        """Return who publishes the feed's items when they name nobody."""
        return self.title or self.name


@dataclass(frozen=True, slots=True)
class FeedRow(NewFeed):
    """One subscription as stored, with its poll state."""

    id: int
    paused: bool
    etag: str | None
    last_modified: str | None
    next_poll: int
    last_poll: int | None
    last_error: str | None
    last_error_at: int | None
    failing_since: int | None
    failures: int
    reported: bool

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> FeedRow:
        """Build a FeedRow from a row selected with _COLUMNS."""
        values = list(row)
        values[12], values[21] = bool(values[12]), bool(values[21])  # paused, reported
        return cls(*values)


def _in(libraries: Libraries | None) -> tuple[str, tuple[int, ...]]:
    """Return a WHERE fragment limiting rows to libraries (None: any)."""
    if libraries is None:
        return "", ()
    return f" AND library IN ({','.join('?' * len(libraries))})", tuple(libraries)


class FeedTable:
    """Reads and writes subscriptions, their poll state and leases, and the items they saw."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    # -- subscriptions ------------------------------------------------------------------------

    def insert(self, feed: NewFeed) -> int | None:
        """Store a subscription; return its id, or None when the library has that URL already."""
        with self._registry.transaction() as db:
            row = db.execute(
                f"INSERT INTO feeds ({_NEW}) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (library, url) DO NOTHING RETURNING id",
                astuple(feed),
            ).fetchone()
        return int(row[0]) if row else None

    def get(self, feed_id: int, libraries: Libraries | None = None) -> FeedRow | None:
        """Return one subscription of the libraries (None: any)."""
        scope, params = _in(libraries)
        with self._registry.read() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM feeds WHERE id = ?{scope}", (feed_id, *params)
            ).fetchone()
        return FeedRow.from_row(row) if row else None

    def list_feeds(self, libraries: Libraries | None = None) -> list[FeedRow]:
        """Return the subscriptions of the libraries (None: all), oldest first."""
        scope, params = _in(libraries)
        with self._registry.read() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM feeds WHERE 1 = 1{scope} ORDER BY id", params
            ).fetchall()
        return [FeedRow.from_row(r) for r in rows]

    def delete(self, feed_id: int) -> None:
        """Delete a subscription (the items it saw stay, so re-adding it imports nothing twice)."""
        with self._registry.transaction() as db:
            db.execute("DELETE FROM feeds WHERE id = ?", (feed_id,))

    def set_paused(self, feed_id: int, paused: bool, next_poll: int) -> None:
        """Pause a feed, or resume it with its next poll at next_poll."""
        with self._registry.transaction() as db:
            db.execute(
                "UPDATE feeds SET paused = ?, next_poll = ? WHERE id = ?",
                (int(paused), next_poll, feed_id),
            )

    # -- polling ------------------------------------------------------------------------------

    def due(self, now: int) -> list[int]:
        """Return the ids of unpaused, unleased feeds whose next poll has come, earliest first."""
        with self._registry.read() as db:
            rows = db.execute(
                "SELECT id FROM feeds WHERE paused = 0 AND next_poll <= ?"
                " AND (lease_until IS NULL OR lease_until < ?) ORDER BY next_poll, id",
                (now, now),
            ).fetchall()
        return [int(r[0]) for r in rows]

    def claim(self, feed_id: int, owner: str, now: int, until: int) -> bool:
        """Take the feed's lease until `until`; False when another poller holds it."""
        with self._registry.transaction() as db:
            cur = db.execute(
                "UPDATE feeds SET lease_until = ?, lease_owner = ? WHERE id = ? AND paused = 0"
                " AND (lease_until IS NULL OR lease_until < ?)",
                (until, owner, feed_id, now),
            )
            return cur.rowcount == 1

    def renew(self, feed_id: int, owner: str, until: int) -> bool:
        """Extend the owner's lease (a long poll keeps its claim); False when it was lost."""
        with self._registry.transaction() as db:
            cur = db.execute(
                "UPDATE feeds SET lease_until = ? WHERE id = ? AND lease_owner = ?",
                (until, feed_id, owner),
            )
            return cur.rowcount == 1

    def succeeded(
        self,
        feed_id: int,
        owner: str,
        now: int,
        validators: tuple[str | None, str | None],
        title: str | None,
        next_poll: int,
    ) -> None:
        """Record a good poll (validators: ETag and Last-Modified) and give the lease back."""
        with self._registry.transaction() as db:
            db.execute(
                "UPDATE feeds SET etag = ?, last_modified = ?, title = COALESCE(?, title),"
                " last_poll = ?, next_poll = ?, failures = 0, failing_since = NULL,"
                " reported = 0, lease_until = NULL, lease_owner = NULL"
                " WHERE id = ? AND lease_owner = ?",
                (*validators, title, now, next_poll, feed_id, owner),
            )  # fmt: skip

    def failed(self, feed_id: int, owner: str, now: int, error: str, next_poll: int) -> None:
        """Record a failed poll and when to try again, and give the lease back."""
        with self._registry.transaction() as db:
            db.execute(
                "UPDATE feeds SET last_poll = ?, last_error = ?, last_error_at = ?,"
                " failures = failures + 1, failing_since = COALESCE(failing_since, ?),"
                " next_poll = ?, lease_until = NULL, lease_owner = NULL"
                " WHERE id = ? AND lease_owner = ?",
                (now, error[:500], now, now, next_poll, feed_id, owner),
            )

    def take_reports(self, failing_before: int) -> list[FeedRow]:
        """Return feeds failing since before `failing_before` not yet reported, marking them."""
        with self._registry.transaction() as db:
            ids = [int(r[0]) for r in db.execute(
                "UPDATE feeds SET reported = 1 WHERE reported = 0 AND failing_since IS NOT NULL"
                " AND failing_since <= ? RETURNING id", (failing_before,),
            ).fetchall()]  # fmt: skip
        return [row for row in (self.get(i) for i in ids) if row is not None]

    # -- items ---------------------------------------------------------------------------------

    def known_items(self, feed_id: int) -> dict[str, str]:
        """Return {item key: text hash} of every item the feed delivered before."""
        with self._registry.read() as db:
            rows = db.execute(
                "SELECT guid, text_hash FROM feed_items WHERE feed_id = ?", (feed_id,)
            ).fetchall()
        return {r[0]: r[1] for r in rows}

    def story_with_text(self, library: int, text_hash: str) -> str | None:
        """Return the story an item with this text became in the library (any feed), if any."""
        with self._registry.read() as db:
            row = db.execute(
                "SELECT article_id FROM feed_items WHERE library = ? AND text_hash = ?"
                " AND article_id IS NOT NULL LIMIT 1",
                (library, text_hash),
            ).fetchone()
        return str(row[0]) if row else None

    def record_item(
        self,
        feed: FeedRow,
        key: str,
        link: str | None,
        text_hash: str,
        article_id: str | None,
        now: int,
    ) -> None:
        """Remember an item (and the story it became, if any) so later polls skip it."""
        with self._registry.transaction() as db:
            db.execute(
                "INSERT INTO feed_items (feed_id, library, guid, link, text_hash, article_id,"
                " seen_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT (feed_id, guid) DO UPDATE SET"
                " link = excluded.link, text_hash = excluded.text_hash,"
                " article_id = excluded.article_id, seen_at = excluded.seen_at",
                (feed.id, feed.library, key, link, text_hash, article_id, now),
            )  # fmt: skip
