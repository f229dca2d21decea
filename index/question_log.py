"""The question log's SQL (its one owner), mixed into the Registry."""

from __future__ import annotations

import json
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import UTC, datetime

from index.database import Connection
from index.rows import LoggedQuestion


class QuestionLog:
    """Questions as asked, with what their answers cited (no user names are ever stored)."""

    def read(self) -> AbstractContextManager[Connection]:
        """Lend a connection for reads (the Registry provides it)."""
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[Connection]:
        """Run statements atomically (the Registry provides it)."""
        raise NotImplementedError

    def _now(self) -> str:
        """Return the clock's time as ISO 8601 (the Registry provides it)."""
        raise NotImplementedError

    def log_question(
        self,
        question: str,
        refused: bool,
        article_ids: Sequence[str],
        confidence: float,
        *,
        private: bool = False,
        guild_id: int | None = None,
        thread_id: int | None = None,
    ) -> int:
        """Append a question to the log and return its id (no user names are ever stored)."""
        with self.transaction() as db:
            row = db.execute(
                "INSERT INTO questions (asked_at, question, refused, article_ids, confidence,"
                " private, guild_id, thread_id) VALUES (?,?,?,?,?,?,?,?) RETURNING id",
                (self._now(), question, int(refused), json.dumps(list(article_ids)), confidence,
                 int(private), guild_id, thread_id),
            ).fetchone()  # fmt: skip
            return int(row[0])

    def thread_questions(
        self, thread_id: int, guild_id: int, limit: int
    ) -> list[tuple[str, tuple[str, ...]]]:
        """Return a thread's last `limit` (question, cited story ids), oldest first: those
        asked in its server where the thread could see them (none asked privately)."""
        with self.read() as db:
            rows = db.execute(
                "SELECT question, article_ids FROM questions WHERE thread_id = ? AND"
                " guild_id = ? AND private = 0 ORDER BY id DESC LIMIT ?",
                (thread_id, guild_id, limit),
            ).fetchall()
        return [(r[0], tuple(json.loads(r[1]))) for r in reversed(rows)]

    def count_questions(self) -> int:
        """Return how many questions were logged."""
        with self.read() as db:
            return int(db.execute("SELECT COUNT(*) FROM questions").fetchone()[0])

    def questions_since(self, since: datetime) -> list[LoggedQuestion]:
        """Return questions logged at or after `since` (UTC), oldest first."""
        with self.read() as db:
            rows = db.execute(
                "SELECT id, asked_at, question, refused, article_ids, private, guild_id"
                " FROM questions WHERE asked_at >= ? ORDER BY id",
                (since.astimezone(UTC).isoformat(timespec="seconds"),),
            ).fetchall()
        return [
            LoggedQuestion(
                r[0], datetime.fromisoformat(r[1]), r[2], bool(r[3]), tuple(json.loads(r[4])),
                bool(r[5]), r[6],
            )
            for r in rows
        ]  # fmt: skip
