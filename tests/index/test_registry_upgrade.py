"""A database written by an older version opens, gains its new columns, and keeps privacy safe."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

from index.registry import Registry

# The questions table as the first release created it (no `private` column).
_OLD_QUESTIONS = """
CREATE TABLE questions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    asked_at TEXT NOT NULL,
    question TEXT NOT NULL,
    refused INTEGER NOT NULL,
    article_ids TEXT NOT NULL DEFAULT '[]',
    confidence REAL
);
"""


def _old_database(path: Path) -> None:
    db = sqlite3.connect(path)
    db.executescript(_OLD_QUESTIONS)
    now = datetime.now(UTC).isoformat(timespec="seconds")
    db.execute(
        "INSERT INTO questions (asked_at, question, refused) VALUES (?, ?, 1)",
        (now, "Is my employer planning layoffs next month?"),
    )
    db.commit()
    db.close()


def test_old_questions_count_as_private_new_ones_do_not(tmp_path: Path) -> None:
    path = tmp_path / "newsbot.db"
    _old_database(path)
    registry = Registry(path)
    registry.log_question("Who won?", True, [], 0.1)
    since = datetime.now(UTC) - timedelta(hours=1)
    logged = {q.question: q.private for q in registry.questions_since(since)}
    assert logged == {"Is my employer planning layoffs next month?": True, "Who won?": False}
    registry.close()
    # Opening again (the usual start) changes nothing.
    again = Registry(path)
    assert {q.question: q.private for q in again.questions_since(since)} == logged
    again.close()


def test_two_processes_upgrading_at_once_both_open(tmp_path: Path) -> None:
    path = tmp_path / "newsbot.db"
    _old_database(path)
    first, second = Registry(path), Registry(path)  # the second finds the column already added
    try:
        first.log_question("One?", False, [], 0.9)
        second.log_question("Two?", False, [], 0.9)
        assert second.count_questions() == 3
    finally:
        first.close()
        second.close()


def test_old_questions_gain_a_server_left_unknown(tmp_path: Path) -> None:
    path = tmp_path / "newsbot.db"
    _old_database(path)
    registry = Registry(path)
    try:
        registry.log_question("Who won?", True, [], 0.1, guild_id=42)
        since = datetime.now(UTC) - timedelta(hours=1)
        logged = {q.question: q.guild_id for q in registry.questions_since(since)}
        # Which server asked an old question is unknown: NULL, so no server's digest shows it.
        assert logged == {"Is my employer planning layoffs next month?": None, "Who won?": 42}
    finally:
        registry.close()


def test_a_questions_table_with_private_but_no_server_gains_it(tmp_path: Path) -> None:
    path = tmp_path / "newsbot.db"
    _old_database(path)
    db = sqlite3.connect(path)  # as the release before servers were recorded left it
    db.execute("ALTER TABLE questions ADD COLUMN private INTEGER NOT NULL DEFAULT 0")
    db.commit()
    db.close()
    registry = Registry(path)
    try:
        with registry.read() as conn:
            columns = {row[1] for row in conn.execute("PRAGMA table_info(questions)")}
            assert "guild_id" in columns
            assert [tuple(r) for r in conn.execute("SELECT guild_id FROM questions")] == [(None,)]
    finally:
        registry.close()


# The follows table before follows were per server: one follow per member and question.
_OLD_FOLLOWS = """
CREATE TABLE follows (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id INTEGER NOT NULL,
    guild_id INTEGER,
    channel_id INTEGER,
    question TEXT NOT NULL,
    question_key TEXT NOT NULL,
    created_at TEXT NOT NULL,
    answer_signature TEXT NOT NULL DEFAULT '',
    cited TEXT NOT NULL DEFAULT '[]',
    seen_generation INTEGER NOT NULL DEFAULT 0,
    UNIQUE (user_id, question_key)
);
"""


def test_old_follows_keep_their_server_and_become_one_per_server(tmp_path: Path) -> None:
    path = tmp_path / "newsbot.db"
    db = sqlite3.connect(path)
    db.executescript(_OLD_FOLLOWS)
    db.executemany(
        "INSERT INTO follows (user_id, guild_id, channel_id, question, question_key, created_at,"
        " seen_generation) VALUES (?, ?, 9, ?, ?, '2026-01-01T00:00:00+00:00', 3)",
        [(7, 101, "Who?", "who?"), (8, None, "Why?", "why?")],
    )
    db.commit()
    db.close()
    for _ in range(2):  # the second open finds the new shape and changes nothing
        registry = Registry(path)
        with registry.read() as conn:
            rows = conn.execute(
                "SELECT user_id, guild_id, question, seen_generation FROM follows ORDER BY id"
            ).fetchall()
        assert [tuple(r) for r in rows] == [(7, 101, "Who?", 3), (8, 0, "Why?", 3)]
        registry.close()
    registry = Registry(path)
    with registry.transaction() as conn:  # the same member and question in another server
        conn.execute(
            "INSERT INTO follows (user_id, guild_id, question, question_key, created_at)"
            " VALUES (7, 202, 'Who?', 'who?', '2026-01-02T00:00:00+00:00')"
        )
    with registry.read() as conn:
        assert conn.execute("SELECT COUNT(*) FROM follows").fetchone()[0] == 3
    registry.close()
