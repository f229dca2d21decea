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
