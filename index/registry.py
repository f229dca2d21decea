"""The registry: articles, their chunks and sentence vectors, and the question log (SQLite or
PostgreSQL, see index/database.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from index.chunk_reads import REVIEWS as _REVIEWS
from index.chunk_reads import ChunkReads
from index.clock import Clock, utc_now
from index.database import Connection, open_backend
from index.library import Libraries
from index.models import Article, Chunk, ReviewStatus
from index.question_log import QuestionLog
from index.rows import LoggedQuestion, SentenceRow, article_from_row, article_row
from index.schema import create_or_upgrade, store_aliases
from index.story_map import ReadyStory

__all__ = ["DatedStory", "LoggedQuestion", "Registry", "SentenceRow"]


@dataclass(frozen=True, slots=True)
class DatedStory:
    """What corroboration needs of a dated story."""

    id: str
    title: str
    source: str | None
    url: str | None
    published: date


class Registry(ChunkReads, QuestionLog):
    """The store of articles and logs; safe to share across threads (and processes)."""

    def __init__(
        self, path: Path | str, *, legacy_library: int = 0, url: str = "", clock: Clock = utc_now
    ) -> None:
        """Open the SQLite file at `path`, or PostgreSQL when `url` names it; create or upgrade
        the schema."""
        self._backend = open_backend(path, url)
        self.dialect = self._backend.dialect
        # Held by whoever writes stories (any thread or process using this database).
        self.write_lock = self._backend.write_lock
        self._clock = clock  # the services' one clock: added_at, asked_at, reviewed_at
        d = self.dialect
        self._retracted = (
            f"COALESCE(r.status, {d.json_text('a.provenance', 'review_status')}, '') = 'retracted'"
        )
        try:
            with self._backend.read() as db:
                create_or_upgrade(db, legacy_library)
        except BaseException:
            self._backend.close()
            raise

    def _now(self) -> str:
        """Return the clock's time as ISO 8601."""
        return self._clock().astimezone(UTC).isoformat(timespec="seconds")

    def close(self) -> None:
        """Close the database connections."""
        self._backend.close()

    def read(self) -> AbstractContextManager[Connection]:
        """Lend a connection for reads (nested calls in one thread share it)."""
        return self._backend.read()

    def transaction(self) -> AbstractContextManager[Connection]:
        """Run statements atomically, one writer at a time: all of them are written, or none."""
        return self._backend.transaction()

    # -- articles ---------------------------------------------------------------------------

    def begin_article(self, article: Article) -> None:
        """Record an article as pending, replacing any previous version and its chunks."""
        with self.transaction() as db:
            db.execute("DELETE FROM articles WHERE id = ?", (article.id,))
            db.execute(
                "INSERT INTO articles (id, title, url, source, published, updated, summary,"
                " key_questions, provenance, text, content_hash, origin, added_at, added_by,"
                " chunk_count, library, status)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, 'pending')",
                article_row(article),
            )

    def finish_article(
        self, article_id: str, chunks: Sequence[Chunk], sentences: Sequence[SentenceRow]
    ) -> None:
        """Store an article's chunks and sentences and mark it ready, atomically."""
        with self.transaction() as db:
            db.executemany(
                "INSERT INTO chunks (id, article_id, n, kind, text) VALUES (?,?,?,?,?)",
                [(c.id, c.article_id, c.n, c.kind, c.text) for c in chunks],
            )
            db.executemany(
                "INSERT INTO sentences (chunk_id, idx, role, text, vec) VALUES (?,?,?,?,?)",
                [
                    (s.chunk_id, s.idx, s.role, s.text, s.vector.astype(np.float16).tobytes())
                    for s in sentences
                ],
            )
            (text,) = db.execute("SELECT text FROM articles WHERE id = ?", (article_id,)).fetchone()
            store_aliases(db, article_id, text)
            db.execute(
                "UPDATE articles SET status = 'ready', chunk_count = ? WHERE id = ?",
                (len(chunks), article_id),
            )
            _bump_generation(db)

    def mark_pending(self, article_id: str) -> None:
        """Hide an article from answers until repair() or a new version settles it."""
        with self.transaction() as db:
            db.execute("UPDATE articles SET status = 'pending' WHERE id = ?", (article_id,))

    def delete_article(self, article_id: str, *, keep_review: bool = False) -> bool:
        """Delete an article with its chunks, sentences and review; return whether it existed."""
        with self.transaction() as db:
            cur = db.execute("DELETE FROM articles WHERE id = ?", (article_id,))
            if not keep_review:
                db.execute("DELETE FROM reviews WHERE article_id = ?", (article_id,))
            _bump_generation(db)
            return cur.rowcount > 0

    def get_article(self, article_id: str, libraries: Libraries | None = None) -> Article | None:
        """Return one ready article (retracted ones too) of the given libraries (None: any),
        with any moderator review applied."""
        scope, params = _in_libraries(libraries)
        with self.read() as db:
            row = db.execute(
                f"{_SELECT_ARTICLES} WHERE a.id = ? AND a.status = 'ready'{scope}",
                (article_id, *params),
            ).fetchone()
        return article_from_row(row) if row else None

    def library_of(self, article_id: str) -> int | None:
        """Return the library of a stored article (pending ones too), or None."""
        with self.read() as db:
            row = db.execute("SELECT library FROM articles WHERE id = ?", (article_id,)).fetchone()
        return int(row[0]) if row else None

    def move_to_libraries(self, libraries: dict[str, int]) -> None:
        """Move stories to other libraries (benchmarks; the vector store is told separately)."""
        with self.transaction() as db:
            db.executemany(
                "UPDATE articles SET library = ? WHERE id = ?",
                [(lib, aid) for aid, lib in libraries.items()],
            )
            _bump_generation(db)

    def article_libraries(self) -> dict[str, int]:
        """Return {article id: library} for every stored article."""
        with self.read() as db:
            rows = db.execute("SELECT id, library FROM articles").fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def content_hash(self, article_id: str) -> str | None:
        """Return the stored content hash of a ready article, or None."""
        with self.read() as db:
            row = db.execute(
                "SELECT content_hash FROM articles WHERE id = ? AND status = 'ready'", (article_id,)
            ).fetchone()
        return row[0] if row else None

    def list_articles(self, libraries: Libraries | None = None) -> list[Article]:
        """Return every ready article of the libraries (None: all; retracted ones too, for audit),
        most recently added first."""
        scope, params = _in_libraries(libraries)
        with self.read() as db:
            rows = db.execute(
                f"{_SELECT_ARTICLES} WHERE a.status = 'ready'{scope}"
                " ORDER BY a.added_at DESC, a.id",
                params,
            ).fetchall()
        return [article_from_row(r) for r in rows]

    def dated_stories(
        self, libraries: Libraries | None, start: date, end: date
    ) -> list[DatedStory]:
        """Return the ready, unretracted stories naming a publisher, of the libraries, published
        from start to end (inclusive; 5,000 at most): id, title, publisher, link and date."""
        scope, params = _in_libraries(libraries)
        with self.read() as db:
            rows = db.execute(
                "SELECT a.id, a.title, a.source, a.url, a.published, r.status, a.provenance"
                f" FROM articles a {_REVIEWS} WHERE a.status = 'ready' AND a.published >= ?"
                f" AND a.published <= ? AND a.source IS NOT NULL{scope}"
                " ORDER BY a.published, a.id LIMIT 5000",
                (start.isoformat(), end.isoformat(), *params),
            ).fetchall()
        # Retracted ones are left out here, not in SQL: json_extract is SQLite's own.
        return [
            DatedStory(r[0], r[1], r[2], r[3], date.fromisoformat(r[4]))
            for r in rows
            if (r[5] or json.loads(r[6] or "{}").get("review_status")) != "retracted"
        ]

    def ready_ids(self, article_ids: set[str]) -> set[str]:
        """Return which of the given articles are fully indexed."""
        if not article_ids:
            return set()
        marks = ",".join("?" * len(article_ids))
        with self.read() as db:
            rows = db.execute(
                f"SELECT id FROM articles WHERE status = 'ready' AND id IN ({marks})",
                list(article_ids),
            ).fetchall()
        return {r[0] for r in rows}

    def pending_article_ids(self) -> list[str]:
        """Return articles whose ingestion was interrupted."""
        with self.read() as db:
            rows = db.execute("SELECT id FROM articles WHERE status = 'pending'").fetchall()
        return [r[0] for r in rows]

    def count_articles(self, libraries: Libraries | None = None) -> int:
        """Return the number of ready articles in the libraries (None: all)."""
        scope, params = _in_libraries(libraries)
        sql = f"SELECT COUNT(*) FROM articles a WHERE a.status = 'ready'{scope}"
        with self.read() as db:
            return int(db.execute(sql, params).fetchone()[0])

    # -- moderator reviews ----------------------------------------------------------------------

    def set_review(
        self,
        article_id: str,
        status: ReviewStatus,
        confidence: int | None,
        note: str | None,
        reviewed_by: str | None,
    ) -> bool:
        """Store a moderator's review of a ready story; return False when there is no such story."""
        with self.transaction() as db:
            ready = "SELECT 1 FROM articles WHERE id = ? AND status = 'ready'"
            if db.execute(ready, (article_id,)).fetchone() is None:
                return False
            old = db.execute(
                f"SELECT {self._retracted} FROM articles a {_REVIEWS} WHERE a.id = ?", (article_id,)
            )
            was_retracted = bool(old.fetchone()[0])
            db.execute(
                "INSERT INTO reviews (article_id, status, confidence, note, reviewed_by,"
                " reviewed_at) VALUES (?,?,?,?,?,?) ON CONFLICT(article_id) DO UPDATE SET"
                " status = excluded.status, confidence = excluded.confidence,"
                " note = excluded.note, reviewed_by = excluded.reviewed_by,"
                " reviewed_at = excluded.reviewed_at",
                (article_id, status, confidence, note, reviewed_by, self._now()),
            )
            # Retrieval caches (the BM25 index, the retracted set) follow the generation; other
            # statuses are read with each article, so they need no rebuild.
            if was_retracted != (status == "retracted"):
                _bump_generation(db)
            return True

    def clear_review(self, article_id: str) -> bool:
        """Drop a moderator's review so the story's own provenance applies again; return False
        when there is no such story."""
        retracted = f"SELECT {self._retracted} FROM articles a {_REVIEWS} WHERE a.id = ?"
        with self.transaction() as db:
            ready = "SELECT 1 FROM articles WHERE id = ? AND status = 'ready'"
            if db.execute(ready, (article_id,)).fetchone() is None:
                return False
            was_retracted = bool(db.execute(retracted, (article_id,)).fetchone()[0])
            db.execute("DELETE FROM reviews WHERE article_id = ?", (article_id,))
            if was_retracted != bool(db.execute(retracted, (article_id,)).fetchone()[0]):
                _bump_generation(db)
            return True

    def retracted_chunk_counts(self) -> dict[str, int]:
        """Return {article id: chunk count} for ready stories that are retracted."""
        with self.read() as db:
            rows = db.execute(
                f"SELECT a.id, a.chunk_count FROM articles a {_REVIEWS}"
                f" WHERE a.status = 'ready' AND {self._retracted}"
            ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def ready_stories(self) -> list[ReadyStory]:
        """Return every ready story's library, date (published, else updated), chunk count and
        whether it is retracted."""
        with self.read() as db:
            rows = db.execute(
                f"SELECT a.id, a.library, COALESCE(a.published, a.updated), a.chunk_count,"
                f" {self._retracted} FROM articles a {_REVIEWS} WHERE a.status = 'ready'"
            ).fetchall()
        return [
            ReadyStory(r[0], int(r[1]), date.fromisoformat(r[2]) if r[2] else None, int(r[3]),
                       bool(r[4]))
            for r in rows
        ]  # fmt: skip

    def alias_pairs(self) -> list[tuple[str, str]]:
        """Return the distinct (description, name) pairs the ready stories state."""
        with self.read() as db:
            rows = db.execute(
                "SELECT DISTINCT s.description, s.name FROM story_aliases s"
                " JOIN articles a ON a.id = s.article_id WHERE a.status = 'ready'"
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def generation(self) -> int:
        """Return a counter that changes whenever the set of ready chunks changes."""
        value = self.get_meta("generation")
        return int(value) if value else 0

    def count_chunks(self) -> int:
        """Return the number of chunks of ready articles."""
        with self.read() as db:
            return int(
                db.execute(
                    "SELECT COALESCE(SUM(chunk_count), 0) FROM articles WHERE status='ready'"
                ).fetchone()[0]
            )

    # -- key/value state and recent stories ---------------------------------------------------

    def articles_added_since(
        self, since: datetime, libraries: Libraries | None = None
    ) -> list[Article]:
        """Return ready, unretracted articles of the libraries (None: all) added at or after
        `since` (UTC), newest first."""
        scope, params = _in_libraries(libraries)
        with self.read() as db:
            rows = db.execute(
                f"{_SELECT_ARTICLES} WHERE a.status = 'ready' AND a.added_at >= ?"
                f" AND NOT {self._retracted}{scope} ORDER BY a.added_at DESC, a.id",
                (since.astimezone(UTC).isoformat(timespec="seconds"), *params),
            ).fetchall()
        return [article_from_row(r) for r in rows]

    def get_meta(self, key: str) -> str | None:
        """Return a stored value, or None."""
        with self.read() as db:
            row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Store a value under key."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


# Articles with their moderator review (r_* columns, NULL when unreviewed).
_SELECT_ARTICLES = (
    "SELECT a.*, r.status AS r_status, r.confidence AS r_confidence, r.note AS r_note,"
    " r.reviewed_by AS r_by, r.reviewed_at AS r_at FROM articles a"
    " LEFT JOIN reviews r ON r.article_id = a.id"
)


def _in_libraries(libraries: Libraries | None) -> tuple[str, tuple[int, ...]]:
    """Return an `AND a.library IN (...)` clause and its parameters (nothing for None)."""
    if libraries is None:
        return "", ()
    if not libraries:
        return " AND 1 = 0", ()
    return f" AND a.library IN ({','.join('?' * len(libraries))})", tuple(libraries)


def _bump_generation(db: Connection) -> None:
    """Advance the generation counter inside the caller's transaction."""
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('generation', '1')"
        " ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(meta.value AS INTEGER) + 1 AS TEXT)"
    )
