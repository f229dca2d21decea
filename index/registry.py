"""The SQLite registry: articles, their chunks and sentence vectors, and the question log."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from index.locking import WriteLock
from index.models import Article, Chunk, KeyQuestion, Provenance, ReviewStatus

_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    url TEXT,
    source TEXT,
    published TEXT,
    updated TEXT,
    summary TEXT,
    key_questions TEXT NOT NULL DEFAULT '[]',
    provenance TEXT NOT NULL DEFAULT '{}',
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    origin TEXT,
    added_at TEXT NOT NULL,
    added_by TEXT,
    chunk_count INTEGER NOT NULL DEFAULT 0,
    -- 'pending' while its chunks are being written; only 'ready' stories are answerable.
    status TEXT NOT NULL DEFAULT 'pending'
);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    n INTEGER NOT NULL,
    kind TEXT NOT NULL,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_article ON chunks(article_id);
CREATE TABLE IF NOT EXISTS sentences (
    chunk_id TEXT NOT NULL REFERENCES chunks(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    role TEXT NOT NULL,  -- 'body', 'kq_q' (a Key Question) or 'kq_a' (its answer)
    text TEXT NOT NULL,
    vec BLOB NOT NULL,   -- float16 unit vector: half the disk, same ranking
    PRIMARY KEY (chunk_id, idx)
);
CREATE TABLE IF NOT EXISTS questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at TEXT NOT NULL,
    question TEXT NOT NULL,
    refused INTEGER NOT NULL,
    article_ids TEXT NOT NULL DEFAULT '[]',
    confidence REAL,
    private INTEGER NOT NULL DEFAULT 0  -- asked with /ask private: never shown in the digest
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- A moderator's review of a story. Not tied to the articles row by a foreign key: a new version
-- of a story (which replaces that row) keeps its review; removing the story deletes it.
CREATE TABLE IF NOT EXISTS reviews (
    article_id TEXT PRIMARY KEY,
    status TEXT NOT NULL,      -- unreviewed, verified, disputed, retracted
    confidence INTEGER,        -- 0-100
    note TEXT,
    reviewed_by TEXT,
    reviewed_at TEXT NOT NULL
);
-- Members' verdicts on answers: one per member and answer (a later vote replaces theirs).
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    question_id INTEGER NOT NULL REFERENCES questions(id) ON DELETE CASCADE,
    voter TEXT NOT NULL,       -- a salted hash of the member id, never the id or name itself
    helpful INTEGER NOT NULL,  -- 1 for thumbs up, 0 for thumbs down
    reason TEXT,
    at TEXT NOT NULL,
    UNIQUE (question_id, voter)
);
CREATE INDEX IF NOT EXISTS feedback_question ON feedback(question_id);
-- Questions members follow: re-answered when new stories change the answer.
CREATE TABLE IF NOT EXISTS follows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    guild_id INTEGER,
    channel_id INTEGER,
    question TEXT NOT NULL,
    -- The question casefolded (index/follows.py): "Über X?" and "über x?" are one follow.
    question_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    answer_signature TEXT NOT NULL DEFAULT '',  -- what the last answer sent cited and quoted
    cited TEXT NOT NULL DEFAULT '[]',  -- the story ids that answer cited (JSON)
    seen_generation INTEGER NOT NULL DEFAULT 0,  -- stories first seen later are new to it
    UNIQUE (user_id, question_key)
);
-- The generation at which the follow checker first saw each story ready (see index/follows.py).
CREATE TABLE IF NOT EXISTS follow_seen (
    article_id TEXT PRIMARY KEY,
    generation INTEGER NOT NULL
);
"""


@dataclass(frozen=True, slots=True)
class SentenceRow:
    """A stored sentence of a chunk with its vector."""

    chunk_id: str
    idx: int
    role: str
    text: str
    vector: np.ndarray


@dataclass(frozen=True, slots=True)
class LoggedQuestion:
    """One entry of the question log."""

    id: int
    asked_at: datetime
    question: str
    refused: bool
    article_ids: tuple[str, ...]
    private: bool = False


class Registry:
    """SQLite-backed store of articles and logs; safe to share across threads."""

    def __init__(self, path: Path | str) -> None:
        in_memory = str(path) == ":memory:"
        if not in_memory:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Held by whoever writes stories (any thread or process using this database).
        self.write_lock = WriteLock(None if in_memory else Path(f"{path}.lock"))
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.executescript(_SCHEMA)
            _add_missing_columns(self._conn)
            _add_follow_keys(self._conn)

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._conn.close()

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """Lend the connection for reads, serialised with every other use of it."""
        with self._lock:
            yield self._conn

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run statements atomically: all of them are written, or none."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    # -- articles ---------------------------------------------------------------------------

    def begin_article(self, article: Article) -> None:
        """Record an article as pending, replacing any previous version and its chunks."""
        with self.transaction() as db:
            db.execute("DELETE FROM articles WHERE id = ?", (article.id,))
            db.execute(
                "INSERT INTO articles (id, title, url, source, published, updated, summary,"
                " key_questions, provenance, text, content_hash, origin, added_at, added_by,"
                " chunk_count, status) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?, 'pending')",
                _article_row(article),
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

    def get_article(self, article_id: str) -> Article | None:
        """Return one ready article (retracted ones too), with any moderator review applied."""
        with self._lock:
            row = self._conn.execute(
                f"{_SELECT_ARTICLES} WHERE a.id = ? AND a.status = 'ready'", (article_id,)
            ).fetchone()
        return _article_from_row(row) if row else None

    def content_hash(self, article_id: str) -> str | None:
        """Return the stored content hash of a ready article, or None."""
        with self._lock:
            row = self._conn.execute(
                "SELECT content_hash FROM articles WHERE id = ? AND status = 'ready'", (article_id,)
            ).fetchone()
        return row[0] if row else None

    def list_articles(self) -> list[Article]:
        """Return every ready article (retracted ones too, for audit), most recently added first."""
        with self._lock:
            rows = self._conn.execute(
                f"{_SELECT_ARTICLES} WHERE a.status = 'ready' ORDER BY a.added_at DESC, a.id"
            ).fetchall()
        return [_article_from_row(r) for r in rows]

    def ready_ids(self, article_ids: set[str]) -> set[str]:
        """Return which of the given articles are fully indexed."""
        if not article_ids:
            return set()
        marks = ",".join("?" * len(article_ids))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT id FROM articles WHERE status = 'ready' AND id IN ({marks})",
                list(article_ids),
            ).fetchall()
        return {r[0] for r in rows}

    def pending_article_ids(self) -> list[str]:
        """Return articles whose ingestion was interrupted."""
        with self._lock:
            rows = self._conn.execute("SELECT id FROM articles WHERE status = 'pending'").fetchall()
        return [r[0] for r in rows]

    def ready_chunk_counts(self) -> dict[str, int]:
        """Return {article id: chunk count} for every ready article."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, chunk_count FROM articles WHERE status = 'ready'"
            ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def chunks_of(self, article_id: str) -> list[Chunk]:
        """Return the stored chunks of one article, in order (sentences are not loaded)."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, article_id, n, kind, text FROM chunks WHERE article_id = ? ORDER BY n",
                (article_id,),
            ).fetchall()
        return [Chunk(r[0], r[1], r[2], r[3], r[4], ()) for r in rows]

    def count_articles(self) -> int:
        """Return the number of ready articles."""
        with self._lock:
            return int(
                self._conn.execute("SELECT COUNT(*) FROM articles WHERE status='ready'").fetchone()[
                    0
                ]
            )

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
                f"SELECT {_RETRACTED} FROM articles a {_REVIEWS} WHERE a.id = ?", (article_id,)
            )
            was_retracted = bool(old.fetchone()[0])
            db.execute(
                "INSERT INTO reviews (article_id, status, confidence, note, reviewed_by,"
                " reviewed_at) VALUES (?,?,?,?,?,?) ON CONFLICT(article_id) DO UPDATE SET"
                " status = excluded.status, confidence = excluded.confidence,"
                " note = excluded.note, reviewed_by = excluded.reviewed_by,"
                " reviewed_at = excluded.reviewed_at",
                (article_id, status, confidence, note, reviewed_by, _now()),
            )
            # Retrieval caches (the BM25 index, the retracted set) follow the generation; other
            # statuses are read with each article, so they need no rebuild.
            if was_retracted != (status == "retracted"):
                _bump_generation(db)
            return True

    def retracted_chunk_counts(self) -> dict[str, int]:
        """Return {article id: chunk count} for ready stories that are retracted."""
        with self._lock:
            rows = self._conn.execute(
                f"SELECT a.id, a.chunk_count FROM articles a {_REVIEWS}"
                f" WHERE a.status = 'ready' AND {_RETRACTED}"
            ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    # -- chunks and sentences -----------------------------------------------------------------

    def sentences_for(self, chunk_ids: Sequence[str]) -> list[SentenceRow]:
        """Return the stored sentences of the given chunks, in chunk then sentence order."""
        if not chunk_ids:
            return []
        marks = ",".join("?" * len(chunk_ids))
        with self._lock:
            rows = self._conn.execute(
                f"SELECT chunk_id, idx, role, text, vec FROM sentences WHERE chunk_id IN ({marks})"
                " ORDER BY chunk_id, idx",
                list(chunk_ids),
            ).fetchall()
        return [
            SentenceRow(r[0], r[1], r[2], r[3], np.frombuffer(r[4], dtype=np.float16)) for r in rows
        ]

    def chunk_texts(self) -> list[tuple[str, str]]:
        """Return (chunk id, title + text) for every chunk of a ready, citable story."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT c.id, a.title || char(10) || c.text FROM chunks c"
                f" JOIN articles a ON a.id = c.article_id {_REVIEWS}"
                f" WHERE a.status = 'ready' AND NOT {_RETRACTED} ORDER BY c.rowid"
            ).fetchall()
        return [(r[0], r[1]) for r in rows]

    def chunks_by_id(self, chunk_ids: Sequence[str]) -> dict[str, tuple[str, str, str]]:
        """Return {chunk id: (article id, kind, text)} for chunks of ready, citable stories."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        with self._lock:
            # The reviews lookup is by primary key per row: no scan, whatever the index size.
            rows = self._conn.execute(
                f"SELECT c.id, c.article_id, c.kind, c.text FROM chunks c JOIN articles a"
                f" ON a.id = c.article_id {_REVIEWS} WHERE a.status = 'ready'"
                f" AND NOT {_RETRACTED} AND c.id IN ({marks})",
                list(chunk_ids),
            ).fetchall()
        return {r[0]: (r[1], r[2], r[3]) for r in rows}

    def article_dates(self) -> dict[str, date | None]:
        """Return {article id: published (else updated) date} for ready stories."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, COALESCE(published, updated) FROM articles WHERE status = 'ready'"
            ).fetchall()
        return {r[0]: date.fromisoformat(r[1]) if r[1] else None for r in rows}

    def generation(self) -> int:
        """Return a counter that changes whenever the set of ready chunks changes."""
        value = self.get_meta("generation")
        return int(value) if value else 0

    def count_chunks(self) -> int:
        """Return the number of chunks of ready articles."""
        with self._lock:
            return int(
                self._conn.execute(
                    "SELECT COALESCE(SUM(chunk_count), 0) FROM articles WHERE status='ready'"
                ).fetchone()[0]
            )

    # -- question log and key/value state -----------------------------------------------------

    def log_question(
        self,
        question: str,
        refused: bool,
        article_ids: Sequence[str],
        confidence: float,
        *,
        private: bool = False,
    ) -> int:
        """Append a question to the log and return its id (no user names are ever stored)."""
        with self.transaction() as db:
            cur = db.execute(
                "INSERT INTO questions (asked_at, question, refused, article_ids, confidence,"
                " private) VALUES (?,?,?,?,?,?)",
                (_now(), question, int(refused), json.dumps(list(article_ids)), confidence,
                 int(private)),
            )  # fmt: skip
            return int(cur.lastrowid or 0)

    def count_questions(self) -> int:
        """Return how many questions were logged."""
        with self._lock:
            return int(self._conn.execute("SELECT COUNT(*) FROM questions").fetchone()[0])

    def questions_since(self, since: datetime) -> list[LoggedQuestion]:
        """Return questions logged at or after `since` (UTC), oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT id, asked_at, question, refused, article_ids, private FROM questions"
                " WHERE asked_at >= ? ORDER BY id",
                (since.astimezone(UTC).isoformat(timespec="seconds"),),
            ).fetchall()
        return [
            LoggedQuestion(
                r[0], datetime.fromisoformat(r[1]), r[2], bool(r[3]), tuple(json.loads(r[4])),
                bool(r[5]),
            )
            for r in rows
        ]  # fmt: skip

    def articles_added_since(self, since: datetime) -> list[Article]:
        """Return ready, unretracted articles added at or after `since` (UTC), newest first."""
        with self._lock:
            rows = self._conn.execute(
                f"{_SELECT_ARTICLES} WHERE a.status = 'ready' AND a.added_at >= ?"
                f" AND NOT {_RETRACTED} ORDER BY a.added_at DESC, a.id",
                (since.astimezone(UTC).isoformat(timespec="seconds"),),
            ).fetchall()
        return [_article_from_row(r) for r in rows]

    def get_meta(self, key: str) -> str | None:
        """Return a stored value, or None."""
        with self._lock:
            row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
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
# A story is retracted when a moderator's review says so or, without one, when the page itself
# says so (a moderator's review replaces the page's status). Needs `a` articles joined with:
_REVIEWS = "LEFT JOIN reviews r ON r.article_id = a.id"
_RETRACTED = "COALESCE(r.status, json_extract(a.provenance, '$.review_status'), '') = 'retracted'"
# What a story states about itself; a moderator's review lives in the reviews table instead.
_PAGE_PROVENANCE = ("review_status", "review_label", "confidence", "sources_reviewed",
                    "official_sources")  # fmt: skip


def _add_missing_columns(db: sqlite3.Connection) -> None:
    """Add columns that databases created by older versions lack (CREATE IF NOT EXISTS won't)."""
    if "private" in _columns(db, "questions"):
        return  # the usual case: no write lock taken at start-up
    # One write transaction, re-checked inside: a second process opening the same old database
    # waits, then finds the column there.
    db.execute("BEGIN IMMEDIATE")
    try:
        if "private" not in _columns(db, "questions"):
            db.execute("ALTER TABLE questions ADD COLUMN private INTEGER NOT NULL DEFAULT 0")
            # Older versions answered /ask private:True without recording it: whether those
            # questions were private is unknown, so none of them is ever shown in a digest.
            db.execute("UPDATE questions SET private = 1")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    """Return the column names of a table."""
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _add_follow_keys(db: sqlite3.Connection) -> None:
    """Give follows of older databases their question_key, keeping the older of two that clash."""
    if "question_key" in _columns(db, "follows"):
        return
    # Another process may be opening this database too: the write lock makes it wait, and the
    # check is made again once holding it, so the column is never added twice ("duplicate
    # column") and no process sees it added but not yet filled or indexed.
    db.execute("BEGIN IMMEDIATE")
    try:
        if "question_key" not in _columns(db, "follows"):
            _fill_follow_keys(db)
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _fill_follow_keys(db: sqlite3.Connection) -> None:
    """Add question_key, fill it, drop the newer of two follows it makes one, and index it."""
    db.execute("ALTER TABLE follows ADD COLUMN question_key TEXT NOT NULL DEFAULT ''")
    kept: set[tuple[int, str]] = set()
    for follow_id, user_id, question in db.execute(
        "SELECT id, user_id, question FROM follows ORDER BY id"
    ).fetchall():
        key = question.casefold()  # as index.follows.question_key, which imports this module
        if (user_id, key) in kept:
            db.execute("DELETE FROM follows WHERE id = ?", (follow_id,))
            continue
        kept.add((user_id, key))
        db.execute("UPDATE follows SET question_key = ? WHERE id = ?", (key, follow_id))
    db.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS follows_question_key ON follows(user_id, question_key)"
    )


def _bump_generation(db: sqlite3.Connection) -> None:
    """Advance the generation counter inside the caller's transaction."""
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('generation', '1')"
        " ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1"
    )


def _now() -> str:
    """Return the current UTC time as ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _iso(d: date | None) -> str | None:
    """Return a date as YYYY-MM-DD, or None."""
    return d.isoformat() if d else None


def _article_row(a: Article) -> tuple[object, ...]:
    """Return the INSERT parameters of an article."""
    added_at = (a.added_at or datetime.now(UTC)).isoformat(timespec="seconds")
    return (
        a.id, a.title, a.url, a.source, _iso(a.published), _iso(a.updated), a.summary,
        json.dumps([[kq.question, kq.answer] for kq in a.key_questions]),
        json.dumps({k: getattr(a.provenance, k) for k in _PAGE_PROVENANCE
                    if getattr(a.provenance, k) is not None}),
        a.text, a.content_hash, a.origin, added_at, a.added_by, a.chunk_count,
    )  # fmt: skip


def _article_from_row(row: sqlite3.Row) -> Article:
    """Build an Article from a registry row."""
    return Article(
        id=row["id"],
        title=row["title"],
        text=row["text"],
        url=row["url"],
        source=row["source"],
        published=date.fromisoformat(row["published"]) if row["published"] else None,
        updated=date.fromisoformat(row["updated"]) if row["updated"] else None,
        summary=row["summary"],
        key_questions=tuple(KeyQuestion(q, a) for q, a in json.loads(row["key_questions"])),
        provenance=_provenance(row),
        content_hash=row["content_hash"],
        origin=row["origin"],
        added_at=datetime.fromisoformat(row["added_at"]),
        added_by=row["added_by"],
        chunk_count=row["chunk_count"],
    )


def _provenance(row: sqlite3.Row) -> Provenance:
    """Return the page's own provenance, or a moderator's review of the story laid over it."""
    page = Provenance(**json.loads(row["provenance"]))
    columns = row.keys()  # `in row` would search the values
    if "r_status" not in columns or row["r_status"] is None:
        return page
    # Status and confidence are replaced together: the page's "85/100" was its own judgement.
    return replace(
        page,
        review_status=row["r_status"],
        review_label=None,
        confidence=row["r_confidence"],
        note=row["r_note"],
        reviewed_by=row["r_by"],
        reviewed_at=datetime.fromisoformat(row["r_at"]),
    )
