"""Members' verdicts on answers: one vote per member and answer, and what moderators review."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from index.database import Connection
from index.errors import InvalidFeedbackError, QuestionNotFoundError
from index.plain import plain_line
from index.registry import Registry

MAX_REASON_CHARS = 300  # the "what was wrong?" form allows this much; longer is refused
RECENT_DEFAULT = 10
REASONS_KEPT = 3  # per answer in /feedback: the newest reasons say enough
_SALT_KEY = "feedback.salt"  # meta key of the random salt that hashes member ids


@dataclass(frozen=True, slots=True)
class Vote:
    """A member's recorded verdict on one answer."""

    question_id: int
    helpful: bool
    reason: str | None
    replaced: bool  # the member had voted on this answer before; this vote replaced theirs


@dataclass(frozen=True, slots=True)
class Tally:
    """The current votes on one answer."""

    up: int
    down: int

    @property
    def unhelpful(self) -> bool:
        """Return True when more members marked the answer unhelpful than helpful."""
        return self.down > self.up


@dataclass(frozen=True, slots=True)
class NegativeAnswer:
    """An answer members marked unhelpful, as moderators review it."""

    question_id: int
    question: str
    asked_at: datetime
    refused: bool
    private: bool  # asked with /ask private: do not repeat it in public
    downvotes: int
    last_vote_at: datetime
    reasons: tuple[str, ...]  # newest first, at most REASONS_KEPT
    cited_titles: tuple[str, ...]  # the cited stories, in citation order


def clean_reason(reason: str | None) -> str | None:
    """Return a reason on one line without control characters, None when empty."""
    if reason is None:
        return None
    text = plain_line(reason)
    if len(text) > MAX_REASON_CHARS:
        raise InvalidFeedbackError(
            f"Please keep the reason under {MAX_REASON_CHARS} characters ({len(text)} given)."
        )
    return text or None


def record_vote(
    registry: Registry,
    question_id: int,
    member_id: int,
    *,
    helpful: bool,
    reason: str | None = None,
    now: datetime | None = None,
    in_guild: int | None = None,
) -> Vote:
    """Store a member's vote on an answer, replacing their earlier one; only 👎 keeps a reason.

    With `in_guild`, only an answer given in that server takes the vote.
    """
    reason = None if helpful else clean_reason(reason)
    at = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="seconds")
    with registry.transaction() as db:
        row = db.execute("SELECT guild_id FROM questions WHERE id = ?", (question_id,)).fetchone()
        if row is None or (in_guild is not None and row[0] != in_guild):
            raise QuestionNotFoundError(question_id)
        voter = _voter_key(db, member_id)
        before = db.execute(
            "SELECT 1 FROM feedback WHERE question_id = ? AND voter = ?", (question_id, voter)
        ).fetchone()
        db.execute(
            "INSERT INTO feedback (question_id, voter, helpful, reason, at) VALUES (?,?,?,?,?)"
            " ON CONFLICT(question_id, voter) DO UPDATE SET helpful = excluded.helpful,"
            " reason = excluded.reason, at = excluded.at",
            (question_id, voter, int(helpful), reason, at),
        )
    return Vote(question_id, helpful, reason, replaced=before is not None)


def _voter_key(db: Connection, member_id: int) -> str:
    """Return the salted hash that stands for a member (the salt is made once, on first use)."""
    db.execute(
        "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
        (_SALT_KEY, secrets.token_hex(32)),
    )
    salt = db.execute("SELECT value FROM meta WHERE key = ?", (_SALT_KEY,)).fetchone()[0]
    return hmac.new(salt.encode(), str(member_id).encode(), hashlib.sha256).hexdigest()


def tallies(registry: Registry, question_ids: Iterable[int]) -> dict[int, Tally]:
    """Return the votes on the given answers (answers nobody voted on are left out)."""
    ids = sorted(set(question_ids))
    out: dict[int, Tally] = {}
    with registry.read() as db:
        for i in range(0, len(ids), 500):  # SQLite caps the number of ? parameters
            part = ids[i : i + 500]
            rows = db.execute(
                "SELECT question_id, SUM(helpful), SUM(1 - helpful) FROM feedback"
                f" WHERE question_id IN ({','.join('?' * len(part))}) GROUP BY question_id",
                part,
            ).fetchall()
            out.update({r[0]: Tally(int(r[1]), int(r[2])) for r in rows})
    return out


def recent_negative(
    registry: Registry, limit: int = RECENT_DEFAULT, *, guild_id: int | None = None
) -> list[NegativeAnswer]:
    """Return one server's answers most recently marked unhelpful, newest 👎 first.

    Only questions asked in server `guild_id` are listed (None: those asked outside any server,
    from the CLI): one server's moderators never read another's questions or reasons.
    """
    with registry.read() as db:
        rows = db.execute(
            "SELECT q.id, q.question, q.asked_at, q.refused, q.private, q.article_ids,"
            " COUNT(*), MAX(f.at) FROM feedback f JOIN questions q ON q.id = f.question_id"
            " WHERE f.helpful = 0 AND q.guild_id IS NOT DISTINCT FROM ?"
            " GROUP BY q.id ORDER BY MAX(f.at) DESC, q.id DESC LIMIT ?",
            (guild_id, limit),
        ).fetchall()
        reasons = _reasons(db, [r[0] for r in rows])
    return [
        NegativeAnswer(
            question_id=r[0],
            question=r[1],
            asked_at=datetime.fromisoformat(r[2]),
            refused=bool(r[3]),
            private=bool(r[4]),
            downvotes=int(r[6]),
            last_vote_at=datetime.fromisoformat(r[7]),
            reasons=tuple(reasons.get(r[0], [])[:REASONS_KEPT]),
            cited_titles=_titles(registry, json.loads(r[5])),
        )
        for r in rows
    ]


def _reasons(db: Connection, question_ids: list[int]) -> dict[int, list[str]]:
    """Return {question id: its 👎 reasons, newest first}."""
    if not question_ids:
        return {}
    rows = db.execute(
        "SELECT question_id, reason FROM feedback WHERE helpful = 0 AND reason IS NOT NULL"
        f" AND question_id IN ({','.join('?' * len(question_ids))}) ORDER BY at DESC, id DESC",
        question_ids,
    ).fetchall()
    out: dict[int, list[str]] = {}
    for qid, reason in rows:
        out.setdefault(qid, []).append(reason)
    return out


def _titles(registry: Registry, article_ids: list[str]) -> tuple[str, ...]:
    """Return the titles of cited stories; a story removed since is named by its id."""
    titles = []
    for article_id in article_ids:
        article = registry.get_article(article_id)
        titles.append(article.title if article else f"{article_id} (no longer indexed)")
    return tuple(titles)


class FeedbackService:
    """Votes on answers and what a server's moderators review, one server at a time."""

    def __init__(self, registry: Registry, clock: Callable[[], datetime]) -> None:
        self._registry = registry
        self._clock = clock

    def vote(
        self,
        question_id: int,
        member_id: int,
        guild_id: int | None,
        *,
        helpful: bool,
        reason: str | None = None,
    ) -> Vote:
        """Record a member's vote on an answer given in their own server."""
        return record_vote(
            self._registry, question_id, member_id, helpful=helpful, reason=reason,
            now=self._clock(), in_guild=guild_id,
        )  # fmt: skip

    def recent_negative(
        self, guild_id: int | None, limit: int = RECENT_DEFAULT
    ) -> list[NegativeAnswer]:
        """Return one server's answers most recently marked unhelpful."""
        return recent_negative(self._registry, limit, guild_id=guild_id)
