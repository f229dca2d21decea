"""The weekly digest: what it covers, what it says, and when it is due; no Discord here."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from difflib import SequenceMatcher

from index import feedback
from index.answer import Answerer
from index.clock import Clock, utc_now
from index.embed import Embedder
from index.feeds.corroboration import Corroboration, DatedStory, group_by_event, other_outlets
from index.gaps import MemoEncoder, NowAnswered, Unanswered, coverage, normalize_question
from index.gaps import same_numbers as _same_numbers
from index.library import Libraries
from index.models import Answer, Article, Outlet
from index.registry import Registry
from index.schedule import WEEK, WEEKDAYS, Schedule, floor_second, is_due
from index.settings import Settings

TOP_QUESTIONS = 5
# A question asked once is nobody's "most asked", and may have been asked privately: not shown.
MIN_ASKS_SHOWN = 2
SIMILAR_QUESTIONS = 0.9  # difflib ratio above which two normalised questions count as one
_MERGE_CANDIDATES = 300  # most frequent distinct questions compared pairwise (bounds the cost)
_SUMMARY_CHARS = 300

# Registry meta keys. LAST_RUN: when the digest was last posted (or skipped as empty on purpose);
# LAST_START: where that digest's period began (the period before the next one, for "now
# answered"); FIRST_SEEN: when a digest was first checked for, so a new install waits for its
# first slot.
META_LAST_RUN = "digest.last_run_at"
META_LAST_START = "digest.last_start_at"
META_FIRST_SEEN = "digest.first_seen_at"
# SENT_UPTO: "<period key> <n>", the first n messages of the digest being posted went out
# (cleared by mark_posted), so a retry or a restart resumes instead of reposting and re-pinging.
META_SENT_UPTO = "digest.sent_upto"
# The period key before any digest ran: that first period's start moves with the clock.
_FIRST_PERIOD = "first"

# Re-exported: the clock lives in index/clock.py, the weekly slot in index/schedule.py.
__all__ = ["WEEKDAYS", "Clock", "Schedule", "floor_second", "is_due", "utc_now"]


# -- content (pure) -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestStory:
    """One new story as the digest lists it."""

    article_id: str
    title: str
    source: str | None
    published: date | None
    url: str | None
    summary: str | None
    key_question: str | None
    also_reported: tuple[Outlet, ...] = ()  # the same event by other publishers, listed once

    @classmethod
    def from_article(cls, article: Article) -> DigestStory:
        """Return the digest entry of an article."""
        return cls(
            article_id=article.id,
            title=article.title,
            source=article.source,
            published=article.date,
            url=article.url,
            summary=one_line_summary(article),
            key_question=article.key_questions[0].question if article.key_questions else None,
        )


@dataclass(frozen=True, slots=True)
class AskedQuestion:
    """A question members asked, with how many times (near-duplicates merged)."""

    text: str
    count: int


@dataclass(frozen=True, slots=True)
class Digest:
    """What a digest says about one period [start, end)."""

    start: datetime  # UTC
    end: datetime  # UTC
    timezone: str
    stories: tuple[DigestStory, ...]
    question_count: int
    top_questions: tuple[AskedQuestion, ...]
    # Refused or 👎 questions of the period, merged by meaning, most asked first.
    unanswered: tuple[Unanswered, ...] = ()
    # Earlier refused questions that a story added in the period now answers.
    now_answered: tuple[NowAnswered, ...] = ()

    @property
    def is_empty(self) -> bool:
        """Return True when the period brought nothing to post: no new story and no question
        moderators should act on (so `NEWSBOT_DIGEST_EMPTY=skip` never drops coverage gaps)."""
        return not (self.stories or self.unanswered or self.now_answered)


def _dated(s: DigestStory) -> DatedStory | None:
    """Return a digest entry as corroboration reads it (None: undated)."""
    return DatedStory(s.article_id, s.title, s.source, s.url, s.published) if s.published else None


def _outlets(lead: DigestStory, others: Sequence[DigestStory]) -> tuple[Outlet, ...]:
    """Return the other publishers of a listed story's event."""
    return other_outlets(lead.source, [Outlet(s.source or "", s.title, s.url, s.article_id)
                                       for s in others])  # fmt: skip


def one_line_summary(article: Article) -> str | None:
    """Return the story's own TL;DR or, failing that, its lead sentence, on one line."""
    text = article.summary or _lead_sentence(article.text)
    if not text:
        return None
    line = " ".join(text.split())
    return line if len(line) <= _SUMMARY_CHARS else line[: _SUMMARY_CHARS - 1].rstrip() + "…"


def _lead_sentence(text: str) -> str | None:
    """Return the first sentence of the first non-empty paragraph."""
    for para in text.splitlines():
        para = para.strip()
        if para:
            match = re.search(r"[.!?](?=\s|$)", para)
            return para[: match.end()] if match else para
    return None


def _similar(a: str, b: str) -> bool:
    """Return True for near-identical normalised questions that mention the same numbers."""
    if not _same_numbers(a, b):
        return False  # "news in 2024" and "news in 2025" are different questions
    return SequenceMatcher(None, a, b).ratio() >= SIMILAR_QUESTIONS


def most_asked(
    questions: Sequence[str], *, limit: int = TOP_QUESTIONS, min_count: int = MIN_ASKS_SHOWN
) -> list[AskedQuestion]:
    """Return the most asked questions, merging identical and near-identical spellings."""
    counts: Counter[str] = Counter()
    spelling: dict[str, Counter[str]] = {}
    for q in questions:
        key = normalize_question(q)
        if key:
            counts[key] += 1
            spelling.setdefault(key, Counter())[" ".join(q.split())] += 1
    groups: list[tuple[str, int, Counter[str]]] = []  # representative key, count, spellings
    for key, n in counts.most_common(_MERGE_CANDIDATES):
        for i, (rep, total, words) in enumerate(groups):
            if _similar(rep, key):
                groups[i] = (rep, total + n, words + spelling[key])
                break
        else:
            groups.append((key, n, Counter(spelling[key])))
    ranked = sorted(groups, key=lambda g: (-g[1], g[0]))
    return [
        AskedQuestion(words.most_common(1)[0][0], total)
        for _, total, words in ranked[:limit]
        if total >= min_count
    ]


def build_digest(
    articles: Sequence[Article],
    questions: Sequence[str],
    start: datetime,
    end: datetime,
    tz: str,
    *,
    unanswered: Sequence[Unanswered] = (),
    now_answered: Sequence[NowAnswered] = (),
    private_count: int = 0,
    corroboration: Corroboration | None = None,
) -> Digest:
    """Return the digest of the stories and questions of a period.

    `questions` are the public ones (the only ones quoted); `private_count` questions asked
    privately count towards the total but are never shown.
    """
    newest_first = sorted(articles, key=lambda a: (a.added_at or end, a.id), reverse=True)
    stories = [DigestStory.from_article(a) for a in newest_first]
    if corroboration is not None:  # one entry per event, naming the other outlets
        stories = [replace(lead, also_reported=_outlets(lead, others))
                   for lead, others in group_by_event(stories, _dated, corroboration)]  # fmt: skip
    return Digest(
        start=start.astimezone(UTC),
        end=end.astimezone(UTC),
        timezone=tz,
        stories=tuple(stories),
        question_count=len(questions) + private_count,
        top_questions=tuple(most_asked(questions)),
        unanswered=tuple(unanswered),
        now_answered=tuple(now_answered),
    )


# -- persistence --------------------------------------------------------------------------------


class DigestService:
    """Decides when the digest is due, builds it, and remembers when it last ran.

    With an embedder, unanswered questions are merged by meaning (else by spelling only); with
    an answerer, earlier refused questions are re-asked (unlogged) to find those now answered.
    """

    def __init__(
        self,
        registry: Registry,
        settings: Settings,
        *,
        embedder: Embedder | None = None,
        answerer: Answerer | None = None,
        guild_id: int | None = None,
        libraries: Libraries | None = None,
        corroboration: Corroboration | None = None,
    ) -> None:
        self._registry = registry
        self._corroboration = corroboration
        self._settings = settings
        self._embedder = embedder
        self._answerer = answerer
        # One server's digest: its own schedule state, questions and stories (None: the
        # single digest of versions before libraries, every story).
        self.guild_id = guild_id
        self._libraries = libraries
        self.schedule = Schedule.from_settings(settings)

    def _key(self, key: str) -> str:
        """Return a meta key of this server's digest state."""
        return key if self.guild_id is None else f"{key}:{self.guild_id}"

    def adopt_legacy_state(self) -> bool:
        """Take over the one digest's state of an older version (its channel is in this server).

        Moved, not copied, so exactly one server continues that schedule; return if moved.
        """
        if self.guild_id is None:
            return False
        keys = (META_LAST_RUN, META_LAST_START, META_FIRST_SEEN, META_SENT_UPTO)
        moved = False
        with self._registry.transaction() as db:
            for key in keys:
                row = db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
                if row is None:
                    continue
                db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                    (self._key(key), row[0]),
                )
                db.execute("DELETE FROM meta WHERE key = ?", (key,))
                moved = True
        return moved

    def last_run(self) -> datetime | None:
        """Return when the digest was last posted (or skipped as empty), or None."""
        return self._read(self._key(META_LAST_RUN))

    def due(self, now: datetime) -> bool:
        """Return True when a scheduled slot has passed that no digest has covered yet."""
        first_seen = self._read(self._key(META_FIRST_SEEN))
        if first_seen is None:
            first_seen = floor_second(now)
            self._registry.set_meta(self._key(META_FIRST_SEEN), first_seen.isoformat())
        return is_due(self.schedule, now, self.last_run(), first_seen)

    def period_start(self, now: datetime) -> datetime:
        """Return where the next digest's period begins: the last run, else a week before now."""
        return self.last_run() or floor_second(now) - WEEK

    def previous_start(self, start: datetime) -> datetime:
        """Return where the period before the one starting at `start` began."""
        before = self._read(self._key(META_LAST_START))
        return before if before is not None and before < start else start - WEEK

    def build(self, now: datetime, guild_id: int | None = None) -> Digest:
        """Return the digest of the period [last run, now): each moment belongs to one period.

        Only questions asked in server `guild_id` (by default this digest's server) count or
        show (None: those asked outside any server, from the CLI), so no server's digest
        reveals another's questions; only stories of this digest's libraries are listed.
        """
        guild_id = self.guild_id if guild_id is None else guild_id
        start = self.period_start(now)
        end = floor_second(now)
        articles = [
            a
            for a in self._registry.articles_added_since(start, self._libraries)
            if a.added_at and a.added_at < end
        ]
        since = self.previous_start(start)
        logged = [
            q
            for q in self._registry.questions_since(since)
            if q.asked_at < end and q.guild_id == guild_id
        ]
        current = [q for q in logged if q.asked_at >= start]
        votes = feedback.tallies(self._registry, [q.id for q in current])
        unanswered, now_answered = coverage(
            logged,
            start,
            articles,
            {qid for qid, tally in votes.items() if tally.unhelpful},
            MemoEncoder(self._embedder.encode) if self._embedder else None,
            self._reasker(end),
        )
        public = [q.question for q in current if not q.private]
        return build_digest(
            articles, public, start, end, self._settings.digest_timezone,
            unanswered=unanswered, now_answered=now_answered,
            private_count=len(current) - len(public), corroboration=self._corroboration,
        )  # fmt: skip

    def _reasker(self, end: datetime) -> Callable[[str], Answer] | None:
        """Return a function that answers as of the period's end without logging, if possible."""
        answerer = self._answerer
        if answerer is None:
            return None
        libraries = self._libraries
        return lambda question: answerer.answer(question, today=end.date(), libraries=libraries)

    def mark_posted(self, digest: Digest) -> None:
        """Record that a digest was posted (or skipped on purpose); the next starts at its end."""
        with self._registry.transaction() as db:  # both or neither: the periods stay contiguous
            for key, moment in (
                (self._key(META_LAST_START), digest.start),
                (self._key(META_LAST_RUN), digest.end),
            ):
                db.execute(
                    "INSERT INTO meta (key, value) VALUES (?, ?)"
                    " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (key, moment.isoformat()),
                )
            db.execute("DELETE FROM meta WHERE key = ?", (self._key(META_SENT_UPTO),))

    def sent_so_far(self, digest: Digest) -> int:
        """Return how many messages of this digest's period were already sent (0 if none)."""
        value = self._registry.get_meta(self._key(META_SENT_UPTO))
        if value is None:
            return 0
        period, _, count = value.rpartition(" ")
        return int(count) if period == self._period_key(digest) else 0

    def record_sent(self, digest: Digest, count: int) -> None:
        """Record that the first `count` messages of this digest's period were sent."""
        self._registry.set_meta(self._key(META_SENT_UPTO), f"{self._period_key(digest)} {count}")

    def message_nonce(self, digest: Digest, count: int) -> str:
        """Return the Discord nonce of the digest's `count`th message: the same in every process,
        so a message re-sent after a crash (posted, not yet recorded) is not posted twice."""
        name = f"{self.guild_id}:{self._period_key(digest)}:{count}"
        return "d" + hashlib.sha256(name.encode()).hexdigest()[:24]  # Discord allows 25 chars

    def _period_key(self, digest: Digest) -> str:
        """Return what names the digest's period until mark_posted: its start (fixed by then)."""
        return digest.start.isoformat() if self.last_run() is not None else _FIRST_PERIOD

    def _read(self, key: str) -> datetime | None:
        """Return a stored UTC timestamp, or None."""
        value = self._registry.get_meta(key)
        if value is None:
            return None
        stamp = datetime.fromisoformat(value)
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)
