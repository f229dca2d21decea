"""The digest's coverage gaps: unanswered questions merged by meaning, and "now answered"."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from index import feedback
from index.digest import DigestService, build_digest
from index.embed import SentenceTransformerEmbedder
from index.gaps import (
    SAME_QUESTION_COSINE,
    MemoEncoder,
    NowAnswered,
    Unanswered,
    merge_questions,
)
from index.models import RawDocument
from index.registry import LoggedQuestion
from index.services import Services, build_services
from index.settings import Settings
from tests.fakes import FakeEmbedder

pytestmark = pytest.mark.both_backends  # registry tests run on SQLite and PostgreSQL

VOICE_QUESTION = "How fast does OpenAI's new voice model answer spoken questions?"
VOICE_STORY = RawDocument(
    text=(
        "OpenAI released a new voice model on Tuesday that answers spoken questions in about "
        "320 milliseconds, roughly as fast as a person replies in conversation.\n"
        "The company said the voice model listens and speaks directly instead of turning speech "
        "into text first, which is what makes the spoken answers faster.\n"
        "Developers can use the new voice model through the company's realtime API from today."
    ),
    origin="tests:voice-story",
    title="OpenAI Ships a Faster Voice Model",
    source="Example News",
    published="2026-05-05",
)
FIFA = "Who won the 2026 FIFA World Cup final?"
BANANAS = "Price of bananas in Peru?"
WRITERS = "Are Hollywood writers being replaced by AI?"
NOW = datetime.now(UTC).replace(microsecond=0)


@pytest.fixture(autouse=True)
def _fresh_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """Start each test's clock when the test starts: stories are stamped with the real time,
    and a module-level time would be minutes old by the time a late test in a long run adds one."""
    monkeypatch.setitem(globals(), "NOW", datetime.now(UTC).replace(microsecond=0))


def _ask(
    services: Services,
    question: str,
    at: datetime,
    *,
    private: bool = False,
    guild_id: int | None = None,
) -> int:
    """Ask (and log) a question, then move its log entry to `at`; return its id."""
    qid = services.ask(question, private=private, guild_id=guild_id).question_id
    assert qid is not None
    with services.registry.transaction() as db:
        db.execute("UPDATE questions SET asked_at = ? WHERE id = ?", (at.isoformat(), qid))
    return qid


def _periods(service: DigestService, previous: datetime, current: datetime) -> None:
    """Record a posted digest covering [previous, current): the next one starts at `current`."""
    service.mark_posted(build_digest([], [], previous, current, "UTC"))


def _service(services: Services) -> DigestService:
    return DigestService(
        services.registry,
        services.settings,
        embedder=services.embedder,
        answerer=services.answerer,
    )


def _logged(*questions: str) -> list[LoggedQuestion]:
    return [LoggedQuestion(i, NOW, q, True, ()) for i, q in enumerate(questions)]


# -- merging ---------------------------------------------------------------------------------------


def test_paraphrases_merge_and_the_most_asked_come_first() -> None:
    asked = _logged(
        "Who won the 2026 FIFA World Cup final?",
        BANANAS,
        "What is the price of bananas in Peru?",
        "price of bananas in peru",
        "Who won the 2022 FIFA World Cup final?",  # another number: another question
        "who won the 2026 fifa world cup final",
    )
    clusters = merge_questions(asked, MemoEncoder(FakeEmbedder().encode))
    assert [(c.text, c.count) for c in clusters] == [
        (BANANAS, 3),
        ("Who won the 2026 FIFA World Cup final?", 2),
        ("Who won the 2022 FIFA World Cup final?", 1),
    ]
    # Without an encoder only spellings merge.
    assert [c.count for c in merge_questions(asked, None)] == [2, 2, 1, 1]


@pytest.fixture(scope="module")
def minilm() -> Iterator[MemoEncoder]:
    """Return the real bundled model behind a memo."""
    yield MemoEncoder(SentenceTransformerEmbedder().encode)


# Held-out samples of the pairs that set SAME_QUESTION_COSINE and SAME_WORDS_COSINE (index/gaps.py).
PARAPHRASES = [
    ("Are Hollywood writers being replaced by AI?", "Is AI replacing the writers in Hollywood?"),
    ("Who is the new CEO of Intel?", "who's the new intel ceo"),
    ("When will GPT-5 be released?", "When is GPT-5 coming out?"),
    ("What is Anthropic's latest model?", "What's the newest Anthropic model?"),
    ("Is Apple building its own AI chips?", "Is Apple making its own AI chips?"),
    ("Which companies hire AI trainers?", "What companies are hiring AI trainers?"),
]
NEAR_MISSES = [
    ("Are Hollywood writers being replaced by AI?", "Are Hollywood actors being replaced by AI?"),
    ("How much do AI trainers earn per hour?", "How much do AI trainers earn per year?"),
    ("Did Nvidia beat earnings expectations?", "Did Nvidia miss earnings expectations?"),
    ("When will GPT-5 be released?", "When was GPT-4 released?"),
    ("What does the EU AI Act require?", "When does the EU AI Act take effect?"),
    ("Is Apple building its own AI chips?", "Is Google building its own AI chips?"),
]


@pytest.mark.model
@pytest.mark.parametrize(("a", "b"), PARAPHRASES)
def test_real_model_merges_paraphrases(minilm: MemoEncoder, a: str, b: str) -> None:
    assert [c.count for c in merge_questions(_logged(a, b), minilm)] == [2]


@pytest.mark.model
@pytest.mark.parametrize(("a", "b"), NEAR_MISSES)
def test_real_model_keeps_near_misses_apart(minilm: MemoEncoder, a: str, b: str) -> None:
    assert [c.count for c in merge_questions(_logged(a, b), minilm)] == [1, 1]


@pytest.mark.model
def test_the_threshold_alone_would_merge_a_near_miss(minilm: MemoEncoder) -> None:
    # Why the word check exists: cosine alone puts "beat" and "miss" together.
    vectors = minilm(list(NEAR_MISSES[2]))
    assert float(vectors[0] @ vectors[1]) >= SAME_QUESTION_COSINE


# -- the digest ------------------------------------------------------------------------------------


def test_unanswered_lists_refused_and_thumbs_down_questions_by_count(seeded: Services) -> None:
    service = _service(seeded)
    _periods(service, NOW - timedelta(days=14), NOW - timedelta(days=7))
    day = NOW - timedelta(days=1)
    _ask(seeded, FIFA, NOW - timedelta(days=10))  # the previous period: not this digest's gap
    for question in (BANANAS, "What is the price of bananas in Peru?", "price of bananas in peru"):
        _ask(seeded, question, day)
    _ask(seeded, FIFA, day)
    disliked = _ask(seeded, WRITERS, day)
    feedback.record_vote(seeded.registry, disliked, 1, helpful=False, reason="Not the point")
    liked = _ask(seeded, WRITERS + " ", day)  # more 👍 than 👎: not a gap
    for member, helpful in ((1, False), (2, True), (3, True)):
        feedback.record_vote(seeded.registry, liked, member, helpful=helpful)
    for _ in range(3):
        _ask(seeded, "Is my private diagnosis covered?", day, private=True)

    digest = service.build(NOW + timedelta(minutes=1))
    assert digest.unanswered == (
        Unanswered(BANANAS, 3, refused=True),
        Unanswered(WRITERS, 1, refused=False),
        Unanswered(FIFA, 1, refused=True),
    )
    assert digest.now_answered == ()  # the seeds answer none of the earlier refused questions


def test_now_answered_appears_exactly_when_a_new_story_answers(seeded: Services) -> None:
    service = _service(seeded)
    _periods(service, NOW - timedelta(days=14), NOW - timedelta(days=7))
    _ask(seeded, VOICE_QUESTION, NOW - timedelta(days=10))
    _ask(seeded, FIFA, NOW - timedelta(days=10))
    _ask(seeded, VOICE_QUESTION.lower(), NOW - timedelta(days=1))  # refused again this week
    assert seeded.ask(VOICE_QUESTION, log_question=False).refused
    before = service.build(NOW + timedelta(minutes=1))
    assert before.now_answered == ()
    assert [(u.text, u.count) for u in before.unanswered] == [(VOICE_QUESTION.lower(), 1)]

    _, story_id = seeded.ingestor.ingest_one(VOICE_STORY)
    asked = seeded.registry.count_questions()
    after = service.build(NOW + timedelta(minutes=1))
    assert after.now_answered == (
        NowAnswered(VOICE_QUESTION, story_id, "OpenAI Ships a Faster Voice Model"),
    )
    assert after.unanswered == ()  # this week's asking is answered now too
    assert seeded.registry.count_questions() == asked  # re-asking logs nothing


def test_a_story_from_an_earlier_period_is_not_news(seeded: Services) -> None:
    seeded.ingestor.ingest_one(VOICE_STORY)
    service = _service(seeded)
    boundary = NOW + timedelta(seconds=5)  # the story was added before this digest's period
    _periods(service, NOW - timedelta(days=7), boundary)
    _ask(seeded, VOICE_QUESTION, NOW - timedelta(days=2))
    assert service.build(boundary + timedelta(hours=1)).now_answered == ()


def test_refused_questions_and_votes_count_after_a_restart(settings: Settings) -> None:
    first = build_services(settings, embedder=FakeEmbedder())
    first.ensure_samples()
    _periods(_service(first), NOW - timedelta(days=14), NOW - timedelta(days=7))
    _ask(first, FIFA, NOW - timedelta(days=1))
    disliked = _ask(first, WRITERS, NOW - timedelta(days=1))
    feedback.record_vote(first.registry, disliked, 7, helpful=False)
    first.close()

    again = build_services(settings, embedder=FakeEmbedder())
    try:
        digest = _service(again).build(NOW + timedelta(minutes=1))
        assert [(u.text, u.refused) for u in digest.unanswered] == [(WRITERS, False), (FIFA, True)]
    finally:
        again.close()


def test_without_an_embedder_or_answerer_the_digest_still_lists_gaps(seeded: Services) -> None:
    service = DigestService(seeded.registry, seeded.settings)
    _periods(service, NOW - timedelta(days=14), NOW - timedelta(days=7))
    _ask(seeded, BANANAS, NOW - timedelta(days=1))
    _ask(seeded, VOICE_QUESTION, NOW - timedelta(days=10))
    seeded.ingestor.ingest_one(VOICE_STORY)
    digest = service.build(NOW + timedelta(minutes=1))
    assert digest.unanswered == (Unanswered(BANANAS, 1, refused=True),)
    assert digest.now_answered == ()  # nothing re-asks without an answerer


def test_a_servers_digest_shows_only_the_questions_asked_there(seeded: Services) -> None:
    server_a, server_b = 101_000_000_000_000_001, 202_000_000_000_000_002
    service = _service(seeded)
    _periods(service, NOW - timedelta(days=14), NOW - timedelta(days=7))
    day = NOW - timedelta(days=1)
    _ask(seeded, VOICE_QUESTION, NOW - timedelta(days=10), guild_id=server_a)
    seeded.ingestor.ingest_one(VOICE_STORY)  # answers A's earlier question now
    _ask(seeded, "Will Acme lay me off over AI tools?", day, private=True, guild_id=server_a)
    disliked = _ask(seeded, WRITERS, day, private=True, guild_id=server_a)
    feedback.record_vote(seeded.registry, disliked, 1, helpful=False, reason="For my HR case")
    for _ in range(2):  # asked twice: among the most asked
        _ask(seeded, BANANAS, day, guild_id=server_a)
        _ask(seeded, FIFA, day, guild_id=server_b)
    _ask(seeded, "Price of apples in Chile?", day)  # from the CLI: in no server's digest

    for_b = service.build(NOW + timedelta(minutes=1), server_b)
    assert [u.text for u in for_b.unanswered] == [FIFA]
    assert [q.text for q in for_b.top_questions] == [FIFA] and for_b.question_count == 2
    assert for_b.now_answered == ()

    for_a = service.build(NOW + timedelta(minutes=1), server_a)
    assert [u.text for u in for_a.unanswered] == [BANANAS]  # private ones count but never show
    assert [q.text for q in for_a.top_questions] == [BANANAS] and for_a.question_count == 4
    assert [n.question for n in for_a.now_answered] == [VOICE_QUESTION]
