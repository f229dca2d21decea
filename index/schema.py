"""The registry's schema (one text for SQLite and PostgreSQL), and the upgrades that bring
older databases up to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial

from index.aliases import story_aliases
from index.database import Connection
from index.schema_version import VERSION_TABLE, check_version, write_version

SCHEMA = """
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
    status TEXT NOT NULL DEFAULT 'pending',
    -- The library holding it: a server's id, or 0 for the shared library (index/library.py).
    library INTEGER NOT NULL DEFAULT 0
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
    private INTEGER NOT NULL DEFAULT 0,  -- asked with /ask private: never shown in the digest
    guild_id INTEGER,  -- the server it was asked in; NULL for the CLI and older versions
    thread_id INTEGER  -- the Discord thread it was asked in (its context); NULL elsewhere
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- What a server's moderators changed with /settings; everything else follows the environment.
CREATE TABLE IF NOT EXISTS server_settings (
    guild_id INTEGER NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,  -- JSON of the validated value
    PRIMARY KEY (guild_id, key)
);
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
    guild_id INTEGER NOT NULL DEFAULT 0,  -- the server it was followed in (0: none)
    channel_id INTEGER,
    question TEXT NOT NULL,
    -- The question casefolded (index/follows.py): "Über X?" and "über x?" are one follow.
    question_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    answer_signature TEXT NOT NULL DEFAULT '',  -- what the last answer sent cited and quoted
    cited TEXT NOT NULL DEFAULT '[]',  -- the story ids that answer cited (JSON)
    seen_generation INTEGER NOT NULL DEFAULT 0,  -- stories first seen later are new to it
    -- One follow per member, server and question: a server never sees another's follows.
    UNIQUE (user_id, guild_id, question_key)
);
-- The generation at which the follow checker first saw each story ready (see index/follows.py).
CREATE TABLE IF NOT EXISTS follow_seen (
    article_id TEXT PRIMARY KEY,
    generation INTEGER NOT NULL
);
-- RSS/Atom subscriptions of a library (index/feeds/_table.py owns the SQL). Times: epoch seconds.
CREATE TABLE IF NOT EXISTS feeds (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    library INTEGER NOT NULL,
    url TEXT NOT NULL,
    name TEXT,
    title TEXT,  -- the feed's own title: the publisher of items that name none
    include_words TEXT NOT NULL DEFAULT '',  -- comma-separated; empty: every item
    exclude_words TEXT NOT NULL DEFAULT '',
    since INTEGER NOT NULL,  -- items published before this are skipped
    interval_seconds INTEGER NOT NULL,
    paused INTEGER NOT NULL DEFAULT 0,
    etag TEXT,
    last_modified TEXT,
    next_poll INTEGER NOT NULL DEFAULT 0,
    last_poll INTEGER,
    last_error TEXT,
    last_error_at INTEGER,
    failing_since INTEGER,  -- first failure of the current run of failures
    failures INTEGER NOT NULL DEFAULT 0,
    reported INTEGER NOT NULL DEFAULT 0,  -- 1 once moderators heard it fails for a day
    announce_channel_id INTEGER,
    lease_until INTEGER,  -- a poller's claim: nobody else polls the feed before this
    lease_owner TEXT,
    added_at INTEGER NOT NULL,
    added_by TEXT,
    UNIQUE (library, url)
);
-- Every item a feed delivered, indexed or not: what makes the next poll skip it.
CREATE TABLE IF NOT EXISTS feed_items (
    feed_id INTEGER NOT NULL,  -- no cascade: a removed feed's stories stay, and so do their keys
    library INTEGER NOT NULL,
    guid TEXT NOT NULL,  -- the item's GUID, else its canonical link, else its text hash
    link TEXT,  -- canonical link, without tracking parameters
    text_hash TEXT NOT NULL,
    article_id TEXT,  -- NULL when the item could not be indexed
    seen_at INTEGER NOT NULL,
    PRIMARY KEY (feed_id, guid)
);
CREATE INDEX IF NOT EXISTS feed_items_link ON feed_items(library, link);
CREATE INDEX IF NOT EXISTS feed_items_text ON feed_items(library, text_hash);
-- What each story calls something else ("Facebook parent" -> "Meta"; index/aliases.py), found
-- once when the story is stored so no question has to read every story again.
CREATE TABLE IF NOT EXISTS story_aliases (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    description TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (article_id, description, name)
);
-- Work done once across every process (index/leases.py): who holds it, and until when.
CREATE TABLE IF NOT EXISTS leases (
    name TEXT PRIMARY KEY,     -- e.g. 'digest:GUILD' or 'follows.check'
    owner TEXT NOT NULL,       -- host:pid:random of the holding process
    until_ms INTEGER NOT NULL  -- epoch milliseconds; a lapsed lease may be claimed by anyone
);
"""


# Registry flags: the bundled samples are due (a new data directory), and vectors written before
# libraries existed still need their library in the vector store's metadata.
META_SAMPLES_DUE = "samples.due"
META_TAG_VECTORS = "vectors.untagged_libraries"
# The version this newsbot brings a registry to: the last key of _upgrades().
SCHEMA_VERSION = 8


def create_or_upgrade(db: Connection, legacy_library: int = 0) -> None:
    """Create missing tables, then apply the upgrades a database of an older version lacks.

    A database from a newer newsbot is refused before anything is written to it. Stories of a
    database made before libraries existed join `legacy_library`.
    """
    found = check_version(db, SCHEMA_VERSION)
    new = not _columns(db, "articles")
    # Always: a table added to SCHEMA needs no upgrade of its own (CREATE TABLE IF NOT EXISTS).
    db.script(db.dialect.schema(SCHEMA + VERSION_TABLE))
    if new:  # a new data directory: the bundled samples are due, once
        _write(db, "INSERT INTO meta (key, value) VALUES (?, '1') ON CONFLICT DO NOTHING",
               (META_SAMPLES_DUE,))  # fmt: skip
    if found == SCHEMA_VERSION:
        return  # the usual start: no upgrade to check, no write lock taken
    upgrades = _upgrades(legacy_library)
    # Each upgrade re-checks what it changes: a database older than the version table (found
    # 0) may hold some of them already, and another process may be upgrading it right now.
    for version in range(found + 1, SCHEMA_VERSION + 1):
        upgrades[version](db)
    with _immediate(db):
        write_version(db, SCHEMA_VERSION)


def _upgrades(legacy_library: int) -> dict[int, Callable[[Connection], None]]:
    """Return the upgrades by the version they bring a database to (append new ones)."""
    return {
        1: partial(_add_article_libraries, legacy_library=legacy_library),
        2: _index_article_libraries,
        3: _add_missing_columns,
        4: _add_question_guilds,
        5: _add_question_threads,
        6: _add_follow_keys,
        7: _add_follow_servers,
        8: _learn_story_aliases,
    }


def _learn_story_aliases(db: Connection) -> None:
    """Find the aliases of stories stored before they were found at storing time."""
    with _immediate(db):
        for article_id, text in db.execute("SELECT id, text FROM articles").fetchall():
            store_aliases(db, article_id, text)


def store_aliases(db: Connection, article_id: str, text: str) -> None:
    """Record the aliases one story's text states (index/aliases.py)."""
    db.executemany(
        "INSERT INTO story_aliases (article_id, description, name) VALUES (?,?,?)"
        " ON CONFLICT DO NOTHING",
        [(article_id, what, name) for what, name in story_aliases(text)],
    )


def _index_article_libraries(db: Connection) -> None:
    """Index stories by library and status (every question filters on both)."""
    if "articles_library" not in db.indexes("articles"):
        _write(db, "CREATE INDEX IF NOT EXISTS articles_library ON articles(library, status)", ())


def _add_missing_columns(db: Connection) -> None:
    """Add columns that databases created by older versions lack (CREATE IF NOT EXISTS won't)."""
    if "private" in _columns(db, "questions"):
        return  # the usual case: no write lock taken at start-up
    # One write transaction, re-checked inside: a second process opening the same old database
    # waits, then finds the column there.
    with _immediate(db):
        if "private" not in _columns(db, "questions"):
            db.execute("ALTER TABLE questions ADD COLUMN private INTEGER NOT NULL DEFAULT 0")
            # Older versions answered /ask private:True without recording it: whether those
            # questions were private is unknown, so none of them is ever shown in a digest.
            db.execute("UPDATE questions SET private = 1")


def _add_question_guilds(db: Connection) -> None:
    """Record the server of each question; older rows get NULL, so no server's digest shows them."""
    if "guild_id" in _columns(db, "questions"):
        return
    with _immediate(db):  # re-checked inside, as in _add_missing_columns
        if "guild_id" not in _columns(db, "questions"):
            db.execute("ALTER TABLE questions ADD COLUMN guild_id INTEGER")


def _add_question_threads(db: Connection) -> None:
    """Record the thread of each question; older rows get NULL (asked outside any thread)."""
    if "thread_id" not in _columns(db, "questions"):
        with _immediate(db):  # re-checked inside, as in _add_missing_columns
            if "thread_id" not in _columns(db, "questions"):
                db.execute("ALTER TABLE questions ADD COLUMN thread_id INTEGER")
    # A thread's questions are read back on every follow-up in it.
    if "questions_thread" not in db.indexes("questions"):
        _write(db, "CREATE INDEX IF NOT EXISTS questions_thread ON questions(thread_id, id)", ())


def _write(db: Connection, sql: str, params: tuple[object, ...]) -> None:
    """Run one start-up write in its own write transaction (it waits for another process's)."""
    with _immediate(db):
        db.execute(sql, params)


def _add_article_libraries(db: Connection, legacy_library: int) -> None:
    """Put every story of an older database into one library, and flag its vectors for tagging."""
    if "library" in _columns(db, "articles"):
        return
    with _immediate(db):  # re-checked inside, as in _add_missing_columns
        if "library" not in _columns(db, "articles"):
            db.execute("ALTER TABLE articles ADD COLUMN library INTEGER NOT NULL DEFAULT 0")
            db.execute("UPDATE articles SET library = ?", (legacy_library,))
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, '1')"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (META_TAG_VECTORS,),
            )


@contextmanager
def _immediate(db: Connection) -> Iterator[None]:
    """Run the block in one write transaction: it waits for another process's, and rolls back
    on any error."""
    db.begin_write()
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _columns(db: Connection, table: str) -> set[str]:
    """Return the column names of a table."""
    return db.columns(table)


def _add_follow_keys(db: Connection) -> None:
    """Give follows of older databases their question_key, keeping the older of two that clash."""
    if "question_key" in _columns(db, "follows"):
        return
    # Another process may be opening this database too: the write lock makes it wait, and the
    # check is made again once holding it, so the column is never added twice ("duplicate
    # column") and no process sees it added but not yet filled or indexed.
    with _immediate(db):
        if "question_key" not in _columns(db, "follows"):
            _fill_follow_keys(db)


def _fill_follow_keys(db: Connection) -> None:
    """Add question_key, fill it, drop the newer of two follows it makes one, and index it."""
    db.execute("ALTER TABLE follows ADD COLUMN question_key TEXT NOT NULL DEFAULT ''")
    kept: set[tuple[int, str]] = set()
    for follow_id, user_id, question in db.execute(
        "SELECT id, user_id, question FROM follows ORDER BY id"
    ).fetchall():
        key = question.casefold()  # as index.follows.question_key computes it
        if (user_id, key) in kept:
            db.execute("DELETE FROM follows WHERE id = ?", (follow_id,))
            continue
        kept.add((user_id, key))
        db.execute("UPDATE follows SET question_key = ? WHERE id = ?", (key, follow_id))
    db.execute(
        "CREATE UNIQUE INDEX IF NOT EXISTS follows_question_key ON follows(user_id, question_key)"
    )


def _add_follow_servers(db: Connection) -> None:
    """Make follows of older databases one per server: rebuild the table with the new key."""
    if _follows_keyed_by_server(db):
        return
    with _immediate(db):  # re-checked inside, as in _add_follow_keys
        if _follows_keyed_by_server(db):
            return
        # SQLite cannot change a table's UNIQUE constraint in place: copy into the new shape.
        # Each follow keeps its server (one without a server gets 0), so none changes scope.
        db.execute("ALTER TABLE follows RENAME TO follows_old")
        db.execute("DROP INDEX IF EXISTS follows_question_key")
        db.execute(_create_statement("follows"))
        names = sorted(_columns(db, "follows_old") & _columns(db, "follows"))
        values = ["COALESCE(guild_id, 0)" if n == "guild_id" else n for n in names]
        db.execute(
            f"INSERT INTO follows ({', '.join(names)}) SELECT {', '.join(values)} FROM follows_old"
        )
        db.execute("DROP TABLE follows_old")


def _follows_keyed_by_server(db: Connection) -> bool:
    """Tell whether the follows table has today's key (member, server, question)."""
    if db.dialect.name != "sqlite":
        return True  # PostgreSQL registries began after this key did
    row = db.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'follows'")
    sql = (row.fetchone() or ("",))[0]
    return "UNIQUE (user_id, guild_id, question_key)" in sql


def _create_statement(table: str) -> str:
    """Return SCHEMA's CREATE TABLE statement for one table."""
    start = SCHEMA.index(f"CREATE TABLE IF NOT EXISTS {table} (")
    return SCHEMA[start : SCHEMA.index("\n);", start) + 3]
