"""Followed questions: re-answer them when stories change and say whom a new answer concerns."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from index.answer import Answerer, clean_question
from index.database import Connection
from index.errors import (
    FollowLimitError,
    FollowNotFoundError,
    IndexUnavailableError,
    InvalidQuestionError,
    NewsbotError,
)
from index.library import Libraries, server_scope
from index.models import Answer
from index.registry import Registry
from index.settings import Settings

log = logging.getLogger(__name__)

# Meta key: the story generation the last completed check covered (a restart resumes from it).
CHECKED_KEY = "follows_checked_generation"
REFUSED_SIGNATURE = "refused"

_COLUMNS = (
    "id, user_id, guild_id, channel_id, question, created_at, answer_signature, cited,"
    " seen_generation"
)


@dataclass(frozen=True, slots=True)
class Follow:
    """A question one member follows, with what the last answer they were shown cited."""

    id: int
    user_id: int
    guild_id: int | None
    channel_id: int | None  # where they followed: the channel delivery posts to
    question: str
    created_at: datetime
    signature: str
    cited: frozenset[str]
    # Stories the checker first saw at a later generation are new to this follow.
    seen_generation: int

    @property
    def key(self) -> str:
        """Return what makes two questions one follow: the text in any letter case."""
        return question_key(self.question)

    @property
    def ref(self) -> str:
        """Return how /unfollow autocomplete names this follow, e.g. '#12'."""
        return f"#{self.id}"


@dataclass(frozen=True, slots=True)
class Followed:
    """The outcome of /follow: the follow and the answer as of now."""

    follow: Follow
    answer: Answer
    created: bool  # False when the member already followed this question
    count: int  # how many questions the member follows now


@dataclass(frozen=True, slots=True)
class FollowUpdate:
    """A followed question whose answer a new story changed: the member should hear of it."""

    follow: Follow
    answer: Answer
    signature: str
    generation: int

    @property
    def nonce(self) -> str:
        """Return the Discord nonce of this update's message, the same in every process that
        finds it: a message re-sent after a crash (posted, not yet recorded) is not posted twice."""
        news = sorted(cited_ids(self.answer) - self.follow.cited)  # the stories it tells of
        name = json.dumps([self.follow.id, news])
        return "f" + hashlib.sha256(name.encode()).hexdigest()[:24]  # Discord allows 25 chars


@dataclass(frozen=True, slots=True)
class FollowCheck:
    """What one check found: the generation it covered and the updates to deliver."""

    generation: int
    updates: tuple[FollowUpdate, ...]


def answer_signature(answer: Answer) -> str:
    """Return a digest of what an answer cites and quotes ('refused' for a refusal)."""
    if answer.refused:
        return REFUSED_SIGNATURE
    pairs = sorted((c.article_id, excerpt) for c in answer.citations for excerpt in c.excerpts)
    return hashlib.sha256(json.dumps(pairs).encode()).hexdigest()[:32]


def question_key(question: str) -> str:
    """Return a cleaned question casefolded: "Über X" and "über x" are one follow."""
    return question.casefold()  # SQLite's NOCASE folds ASCII letters only


def cited_ids(answer: Answer) -> frozenset[str]:
    """Return the ids of the stories an answer cites."""
    return frozenset() if answer.refused else frozenset(c.article_id for c in answer.citations)


class FollowService:
    """Stores members' followed questions and finds the ones new stories answer differently."""

    def __init__(
        self,
        registry: Registry,
        answerer: Answerer,
        settings: Settings,
        *,
        scope: Callable[[int | None], Libraries] = server_scope,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._registry = registry
        self._answerer = answerer
        self._settings = settings
        self._scope = scope  # a follow is answered from its server's libraries only
        self._clock = clock

    # -- members' follows -------------------------------------------------------------------

    def follow(
        self,
        user_id: int,
        question: str,
        *,
        guild_id: int | None = None,
        channel_id: int | None = None,
        limit: int | None = None,
        today: date | None = None,
    ) -> Followed:
        """Follow a question for a member and return its answer as of now (not logged)."""
        question = clean_question(question, self._settings.max_question_chars)
        limit = limit or self._settings.follow_limit
        server = guild_id or 0  # a follow belongs to its server; 0 is none (the CLI)
        existing = self._find(user_id, question, server)
        if existing is None and self._count(user_id, server) >= limit:
            raise FollowLimitError(limit)  # before answering: a refusal costs nothing
        # The snapshot comes before the answer: a story that lands later is new to this follow.
        generation = self._snapshot()
        answer = self._answerer.answer(
            question, today=today or self._clock().date(), libraries=self._scope(guild_id)
        )
        signature, cited = answer_signature(answer), json.dumps(sorted(cited_ids(answer)))
        with self._registry.transaction() as db:
            later = db.dialect.greatest("follows.seen_generation", "excluded.seen_generation")
            if (
                existing is None and _count(db, user_id, server) >= limit
            ):  # a concurrent /follow won
                raise FollowLimitError(limit)
            # Following again moves delivery to this channel and counts as seeing this answer.
            db.execute(
                "INSERT INTO follows (user_id, guild_id, channel_id, question, question_key,"
                " created_at, answer_signature, cited, seen_generation) VALUES (?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (user_id, guild_id, question_key) DO UPDATE SET"
                " channel_id = excluded.channel_id, answer_signature = excluded.answer_signature,"
                " cited = excluded.cited,"
                f" seen_generation = {later}",
                (user_id, server, channel_id, question, question_key(question),
                 self._clock().astimezone(UTC).isoformat(timespec="seconds"), signature, cited,
                 generation),
            )  # fmt: skip
            count = _count(db, user_id, server)
        found = self._find(user_id, question, server)
        assert found is not None  # written just now
        return Followed(found, answer, created=existing is None, count=count)

    def unfollow(self, user_id: int, given: str, guild_id: int | None = None) -> Follow:
        """Stop following a question of one server, named by its ref ('#12') or its text."""
        mine = self.follows_of(user_id, guild_id)
        given = given.strip()
        wanted = self._typed_key(given, mine)
        # A ref first: a member typing "#12" meaning a question they follow is far less likely
        # than autocomplete naming follow #12. Plain text, numbers included, is a question.
        match = next((f for f in mine if f.ref == given), None) or next(
            (f for f in mine if wanted is not None and f.key == wanted), None
        )
        if match is None:
            raise FollowNotFoundError(given)
        with self._registry.transaction() as db:
            db.execute("DELETE FROM follows WHERE id = ? AND user_id = ?", (match.id, user_id))
        return match

    def _typed_key(self, given: str, mine: list[Follow]) -> str | None:
        """Return the key of a typed question, cleaned as follow() cleans it (None if unusable)."""
        # A follow stored before NEWSBOT_MAX_QUESTION_CHARS was lowered can still be named.
        longest = max((len(f.question) for f in mine), default=0)
        try:
            return question_key(
                clean_question(given, max(self._settings.max_question_chars, longest))
            )
        except InvalidQuestionError:  # empty or too long: no follow was stored under it
            return None

    def follows_of(self, user_id: int, guild_id: int | None = None) -> list[Follow]:
        """Return a member's follows in one server (None: outside any), oldest first."""
        with self._registry.read() as db:
            rows = db.execute(
                f"SELECT {_COLUMNS} FROM follows WHERE user_id = ? AND guild_id = ? ORDER BY id",
                (user_id, guild_id or 0),
            ).fetchall()
        return [_follow(r) for r in rows]

    def all_follows(self) -> list[Follow]:
        """Return every member's follows, oldest first."""
        with self._registry.read() as db:
            rows = db.execute(f"SELECT {_COLUMNS} FROM follows ORDER BY id").fetchall()
        return [_follow(r) for r in rows]

    # -- checking for new answers -----------------------------------------------------------

    def check(self, today: date | None = None) -> FollowCheck | None:
        """Re-answer every followed question if stories changed since the last completed check.

        Returns None when nothing changed (two small reads), else the updates to deliver. The
        caller delivers each, calls record() for it, then mark_checked(); an update not recorded
        (a failed delivery) comes back at the next check. Delivery is thus at least once: if the
        process stops after sending an update but before recording it, the member gets it again
        after a restart. A rare repeat is accepted rather than risking a lost notification.
        """
        if str(self._registry.generation()) == self._registry.get_meta(CHECKED_KEY):
            return None
        follows = self.all_follows()
        if not follows:
            return FollowCheck(self._registry.generation(), ())
        generation = self._snapshot()
        # Members often follow the same question; each server's answer is its own.
        answers: dict[tuple[int | None, str], Answer] = {}
        updates = []
        for follow in follows:
            key = (follow.guild_id, follow.key)
            if key not in answers:
                answer = self._answer(follow, today or self._clock().date())
                if answer is None:
                    continue
                answers[key] = answer
            update = self._update(follow, answers[key], generation)
            if update is not None:
                updates.append(update)
        return FollowCheck(generation, tuple(updates))

    def record(self, update: FollowUpdate) -> None:
        """Remember the answer a member was sent (or could not be sent), so it is not sent again."""
        with self._registry.transaction() as db:
            db.execute(
                "UPDATE follows SET answer_signature = ?, cited = ?,"
                f" seen_generation = {db.dialect.greatest('seen_generation', '?')} WHERE id = ?",
                (update.signature, json.dumps(sorted(cited_ids(update.answer))),
                 update.generation, update.follow.id),
            )  # fmt: skip

    def mark_checked(self, generation: int) -> None:
        """Record that every follow was checked against the stories of `generation`."""
        with self._registry.transaction() as db:
            # Stories seen by now are no longer new to anyone: a later re-ranking that cites
            # one of them is not news.
            later = db.dialect.greatest("seen_generation", "?")
            db.execute(f"UPDATE follows SET seen_generation = {later}", (generation,))
            db.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (CHECKED_KEY, str(generation)),
            )

    def _answer(self, follow: Follow, today: date) -> Answer | None:
        """Answer a followed question, or None (logged) if it can no longer be asked."""
        try:
            return self._answerer.answer(
                follow.question, today=today, libraries=self._scope(follow.guild_id)
            )
        except IndexUnavailableError:
            raise  # the whole check is retried later, nothing is lost
        except NewsbotError as exc:  # e.g. NEWSBOT_MAX_QUESTION_CHARS was lowered since
            log.warning("follow %d not re-answered: %s", follow.id, exc.user_message())
            return None

    def _update(self, follow: Follow, answer: Answer, generation: int) -> FollowUpdate | None:
        """Return an update when the answer changed and cites a story new to this follow."""
        signature = answer_signature(answer)
        if signature == follow.signature:
            return None
        newly_cited = cited_ids(answer) - follow.cited
        # A removal or a re-ranking among stories the follow already knew is not news.
        if not any(self._first_seen(a) > follow.seen_generation for a in newly_cited):
            return None
        return FollowUpdate(follow, answer, signature, generation)

    # -- storage helpers --------------------------------------------------------------------

    def _snapshot(self) -> int:
        """Note when each citable story was first seen; return the generation noted."""
        # One write transaction: no story can become ready between reading the generation and
        # noting the stories, so every story's first-seen generation is exact.
        with self._registry.transaction() as db:
            generation = self._registry.generation()
            # A story that left the citable set (removed, being rewritten, retracted) is
            # forgotten: when it comes back it is new again, to follows made while it was away.
            db.execute(
                "DELETE FROM follow_seen WHERE article_id NOT IN"
                " (SELECT id FROM articles WHERE status = 'ready')"
            )
            db.execute(
                "INSERT INTO follow_seen (article_id, generation)"
                " SELECT id, CAST(? AS BIGINT) FROM articles WHERE status = 'ready'"
                " ON CONFLICT (article_id) DO NOTHING",
                (generation,),
            )
            # The registry's own notion of retracted, the one retrieval uses.
            retracted = self._registry.retracted_chunk_counts()
            db.executemany(
                "DELETE FROM follow_seen WHERE article_id = ?", [(a,) for a in retracted]
            )
        return generation

    def _first_seen(self, article_id: str) -> int:
        """Return the generation a story was first seen at (0 if not yet: it is seen next time)."""
        with self._registry.read() as db:
            row = db.execute(
                "SELECT generation FROM follow_seen WHERE article_id = ?", (article_id,)
            ).fetchone()
        return int(row[0]) if row else 0

    def _find(self, user_id: int, question: str, server: int) -> Follow | None:
        """Return a member's follow of a question (any letter case) in one server, or None."""
        with self._registry.read() as db:
            row = db.execute(
                f"SELECT {_COLUMNS} FROM follows"
                " WHERE user_id = ? AND guild_id = ? AND question_key = ?",
                (user_id, server, question_key(question)),
            ).fetchone()
        return _follow(row) if row else None

    def _count(self, user_id: int, server: int) -> int:
        """Return how many questions a member follows in one server."""
        with self._registry.read() as db:
            return _count(db, user_id, server)


def _count(db: Connection, user_id: int, server: int) -> int:
    """Return how many questions a member follows in one server (the limit is per server)."""
    return int(
        db.execute(
            "SELECT COUNT(*) FROM follows WHERE user_id = ? AND guild_id = ?", (user_id, server)
        ).fetchone()[0]
    )


def _follow(row: Any) -> Follow:
    """Build a Follow from a follows row."""
    return Follow(
        id=row["id"],
        user_id=row["user_id"],
        guild_id=row["guild_id"] or None,
        channel_id=row["channel_id"],
        question=row["question"],
        created_at=datetime.fromisoformat(row["created_at"]),
        signature=row["answer_signature"],
        cited=frozenset(json.loads(row["cited"])),
        seen_generation=row["seen_generation"],
    )
