"""Followed questions in the core: storage, limits, and which new stories are news to whom."""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from index.errors import FollowLimitError, FollowNotFoundError, InvalidQuestionError
from index.follows import FollowCheck, FollowService, answer_signature
from index.registry import Registry
from index.review import review_story
from index.services import Services, build_services
from index.settings import Settings
from tests.fakes import FakeEmbedder
from tests.follow_stories import EU_FINE, EU_QUESTION, FITBIT, PAY_QUESTION, TRAINER_PAY, add_story

pytestmark = pytest.mark.both_backends  # registry tests run on SQLite and PostgreSQL

ANN, BOB = 1001, 1002


def _deliver_all(follows: FollowService) -> FollowCheck | None:
    """Check as the bot does: every update delivered and recorded, then the check marked."""
    found = follows.check()
    if found is not None:
        for update in found.updates:
            follows.record(update)
        follows.mark_checked(found.generation)
    return found


def _updates(follows: FollowService) -> list[tuple[int, str]]:
    found = _deliver_all(follows)
    return [] if found is None else [(u.follow.user_id, u.follow.question) for u in found.updates]


def test_follow_answers_now_without_logging_and_is_stored(seeded: Services) -> None:
    follows = seeded.follows
    followed = follows.follow(ANN, f"  {EU_QUESTION}\u202e ", guild_id=7, channel_id=8)
    assert followed.created and followed.count == 1
    assert followed.answer.refused  # the seeds are about Hollywood writers, not EU fines
    paid = follows.follow(ANN, PAY_QUESTION, guild_id=7, channel_id=8)
    assert not paid.answer.refused
    assert "$150 per hour" in paid.answer.text  # a seed story answers it
    [first, second] = follows.follows_of(ANN, 7)
    assert first.question == EU_QUESTION  # cleaned: no control characters, no outer spaces
    assert (first.guild_id, first.channel_id, first.signature) == (7, 8, "refused")
    assert second.signature == answer_signature(paid.answer)
    assert second.cited == {c.article_id for c in paid.answer.citations}
    assert seeded.registry.count_questions() == 0  # following is not asking


def test_follow_survives_a_restart(settings: Settings) -> None:
    services = build_services(settings, embedder=FakeEmbedder())
    services.ensure_samples()
    services.follows.follow(ANN, EU_QUESTION, guild_id=7, channel_id=8)
    assert _updates(services.follows) == []
    services.close()

    reopened = build_services(settings, embedder=FakeEmbedder())
    [kept] = reopened.follows.follows_of(ANN, 7)
    assert (kept.question, kept.channel_id, kept.signature) == (EU_QUESTION, 8, "refused")
    assert reopened.follows.check() is None  # the last completed check is remembered too
    add_story(reopened, EU_FINE)  # e.g. by `newsbot ingest` while the bot was down
    assert _updates(reopened.follows) == [(ANN, EU_QUESTION)]
    reopened.close()


def test_limit_is_enforced_with_a_clear_message(seeded: Services) -> None:
    follows = seeded.follows
    follows.follow(ANN, EU_QUESTION, limit=2)
    follows.follow(ANN, PAY_QUESTION, limit=2)
    with pytest.raises(FollowLimitError) as caught:
        follows.follow(ANN, "Which companies hire writers to train chatbots?", limit=2)
    assert caught.value.user_message() == (
        "You already follow 2 questions, the most allowed: unfollow one first."
    )
    again = follows.follow(ANN, PAY_QUESTION.upper(), limit=2)  # the same question: allowed
    assert not again.created and again.follow.question == PAY_QUESTION
    assert len(follows.follows_of(ANN)) == 2
    assert follows.follow(BOB, PAY_QUESTION, limit=2).created  # the limit is per member


def test_limit_defaults_to_the_setting(settings: Settings) -> None:
    services = build_services(
        settings.model_copy(update={"follow_limit": 1}), embedder=FakeEmbedder()
    )
    services.follows.follow(ANN, EU_QUESTION)
    with pytest.raises(FollowLimitError, match="follow 1 question,"):
        services.follows.follow(ANN, PAY_QUESTION)
    services.close()


@pytest.mark.parametrize("bad", ["", "   ", "???", "\u200b\u200b", "x" * 501])
def test_bad_question_is_refused_and_nothing_is_stored(seeded: Services, bad: str) -> None:
    with pytest.raises(InvalidQuestionError):
        seeded.follows.follow(ANN, bad)
    assert seeded.follows.all_follows() == []


def test_a_new_story_that_answers_notifies_once(seeded: Services) -> None:
    follows = seeded.follows
    follows.follow(ANN, EU_QUESTION, channel_id=8)
    assert _updates(follows) == []
    eu = add_story(seeded, EU_FINE)

    found = follows.check()
    assert found is not None
    [update] = found.updates
    assert update.follow.user_id == ANN and not update.answer.refused
    assert [c.article_id for c in update.answer.citations] == [eu]
    assert "fined Meta 200 million euros" in update.answer.text
    follows.record(update)
    follows.mark_checked(found.generation)

    assert follows.check() is None  # nothing changed: two small reads, no answering
    assert follows.follows_of(ANN)[0].signature == update.signature
    assert seeded.registry.count_questions() == 0  # re-answers are not logged either


def test_a_newer_figure_notifies_with_the_new_story_first(seeded: Services) -> None:
    follows = seeded.follows
    follows.follow(ANN, PAY_QUESTION)
    _deliver_all(follows)
    pay = add_story(seeded, TRAINER_PAY)
    found = follows.check()
    assert found is not None
    [update] = found.updates
    assert update.answer.citations[0].article_id == pay
    assert "up to $200 per hour" in update.answer.excerpts[0].text


def test_an_unrelated_story_sends_nothing(seeded: Services) -> None:
    follows = seeded.follows
    follows.follow(ANN, EU_QUESTION)
    follows.follow(BOB, PAY_QUESTION)
    _deliver_all(follows)
    add_story(seeded, FITBIT)
    found = _deliver_all(follows)
    assert found is not None and found.updates == ()  # checked, and nothing to say


def test_unfollow_stops_notifications(seeded: Services) -> None:
    follows = seeded.follows
    followed = follows.follow(ANN, EU_QUESTION)
    follows.follow(BOB, EU_QUESTION)
    assert follows.unfollow(ANN, followed.follow.ref).question == EU_QUESTION
    with pytest.raises(FollowNotFoundError):
        follows.unfollow(ANN, EU_QUESTION)
    with pytest.raises(FollowNotFoundError):  # another member's follow id is not theirs to drop
        follows.unfollow(ANN, follows.follows_of(BOB)[0].ref)
    add_story(seeded, EU_FINE)
    assert _updates(follows) == [(BOB, EU_QUESTION)]


def test_unfollow_by_question_text_in_any_case(seeded: Services) -> None:
    seeded.follows.follow(ANN, PAY_QUESTION)
    seeded.follows.unfollow(ANN, f" {PAY_QUESTION.lower()} ")
    assert seeded.follows.follows_of(ANN) == []


def test_unfollow_by_typed_text_is_cleaned_as_when_following(seeded: Services) -> None:
    follows = seeded.follows
    follows.follow(ANN, "Cafe\u0301 prices and AI?")  # stored NFC, as clean_question makes it
    follows.follow(ANN, PAY_QUESTION)
    assert follows.unfollow(ANN, "Cafe\u0301 prices and AI?").question == "Caf\u00e9 prices and AI?"
    assert follows.unfollow(ANN, PAY_QUESTION.replace(" ", "\x00", 1)) is not None  # control char
    assert follows.follows_of(ANN) == []


@pytest.mark.parametrize("given", ["", "   ", "\u200b", "x" * 501, "x" * 50_000])
def test_unfollow_by_unusable_text_matches_nothing(seeded: Services, given: str) -> None:
    seeded.follows.follow(ANN, PAY_QUESTION)
    with pytest.raises(FollowNotFoundError, match="You don't follow that question"):
        seeded.follows.unfollow(ANN, given)
    assert len(seeded.follows.follows_of(ANN)) == 1


def test_unfollow_by_text_after_the_question_limit_was_lowered(seeded: Services) -> None:
    long_question = f"{EU_QUESTION} " + "And what does it mean for small firms? " * 3
    seeded.follows.follow(ANN, long_question)
    lowered = seeded.settings.model_copy(update={"max_question_chars": 20})
    follows = FollowService(seeded.registry, seeded.answerer, lowered)
    assert follows.unfollow(ANN, long_question.upper()).question == long_question.strip()


def test_removing_a_story_does_not_notify(seeded: Services) -> None:
    follows = seeded.follows
    follows.follow(ANN, PAY_QUESTION)
    pay = add_story(seeded, TRAINER_PAY)
    assert _updates(follows) == [(ANN, PAY_QUESTION)]
    seeded.ingestor.remove(pay)  # the answer falls back to the seed it cited before
    assert _updates(follows) == []


def test_unfollow_by_text_that_looks_like_another_follows_id(seeded: Services) -> None:
    follows = seeded.follows
    first = follows.follow(ANN, PAY_QUESTION).follow
    number = follows.follow(ANN, str(first.id)).follow  # e.g. a member following "1"
    assert follows.unfollow(ANN, str(first.id)) == number  # typed text names its question
    assert follows.unfollow(ANN, f"#{first.id}") == first  # the autocomplete form names an id
    assert follows.follows_of(ANN) == []


def test_questions_differing_only_in_non_ascii_case_are_one_follow(seeded: Services) -> None:
    follows = seeded.follows
    follows.follow(ANN, f"Über {EU_QUESTION}", limit=1)
    again = follows.follow(ANN, f"über {EU_QUESTION}", limit=1)  # not refused by the limit
    assert not again.created and again.count == 1
    assert follows.unfollow(ANN, f"ÜBER {EU_QUESTION}").question == f"Über {EU_QUESTION}"
    follows.follow(ANN, f"Über {EU_QUESTION}")
    follows.follow(BOB, f"über {EU_QUESTION}")
    add_story(seeded, EU_FINE)
    assert sorted(u for u, _ in _updates(follows)) == [ANN, BOB]  # each member told once


# The follows table as the first version with followed questions created it.
_OLD_FOLLOWS = """
CREATE TABLE follows (
    id INTEGER PRIMARY KEY AUTOINCREMENT, user_id INTEGER NOT NULL, guild_id INTEGER,
    channel_id INTEGER, question TEXT NOT NULL COLLATE NOCASE, created_at TEXT NOT NULL,
    answer_signature TEXT NOT NULL DEFAULT '', cited TEXT NOT NULL DEFAULT '[]',
    seen_generation INTEGER NOT NULL DEFAULT 0, UNIQUE (user_id, question)
);
INSERT INTO follows (user_id, question, created_at) VALUES
    (1001, 'Über Meta fines?', '2026-05-01T00:00:00+00:00'),
    (1001, 'über meta fines?', '2026-05-02T00:00:00+00:00'),
    (1002, 'über meta fines?', '2026-05-03T00:00:00+00:00');
"""


def _old_database(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(_OLD_FOLLOWS)
    db.close()


@pytest.mark.sqlite_only  # upgrades an older SQLite file
def test_an_older_database_gets_question_keys_and_keeps_the_older_duplicate(
    settings: Settings,
) -> None:
    path = settings.data_dir / "newsbot.db"
    path.parent.mkdir(parents=True)
    _old_database(path)
    services = build_services(settings, embedder=FakeEmbedder())
    follows = services.follows
    assert [f.question for f in follows.follows_of(ANN)] == ["Über Meta fines?"]
    assert [f.question for f in follows.follows_of(BOB)] == ["über meta fines?"]
    assert not follows.follow(ANN, "ÜBER META FINES?").created
    assert not follows.follow(BOB, "Über Meta fines?").created
    services.close()
    Registry(path).close()  # opening it again changes nothing


@pytest.mark.sqlite_only  # upgrades an older SQLite file
def test_two_processes_opening_an_older_database_at_once_both_work(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    _old_database(path)
    opened: list[Registry] = []
    failed: list[BaseException] = []
    start = threading.Barrier(4)

    def open_it() -> None:
        start.wait()
        try:
            opened.append(Registry(path))  # a connection of its own, as another process has
        except BaseException as exc:
            failed.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failed == []
    with opened[0].read() as db:
        rows = db.execute("SELECT user_id, question_key FROM follows ORDER BY id").fetchall()
    assert [tuple(r) for r in rows] == [(ANN, "über meta fines?"), (BOB, "über meta fines?")]
    for registry in opened:
        registry.close()


def test_a_removed_story_that_comes_back_is_news_again(seeded: Services) -> None:
    follows = seeded.follows
    follows.follow(BOB, PAY_QUESTION)  # so checks run and note the story when it first lands
    eu = add_story(seeded, EU_FINE)
    _deliver_all(follows)
    seeded.ingestor.remove(eu)  # e.g. taken down to be corrected
    _deliver_all(follows)
    assert follows.follow(ANN, EU_QUESTION).answer.refused
    add_story(seeded, EU_FINE)  # back: the first answer ANN can get
    assert _updates(follows) == [(ANN, EU_QUESTION)]


def test_a_reinstated_story_is_news_again(seeded: Services) -> None:
    follows = seeded.follows
    follows.follow(BOB, PAY_QUESTION)
    eu = add_story(seeded, EU_FINE)
    _deliver_all(follows)
    review_story(seeded.registry, eu, "retracted", reviewed_by="mod")
    _deliver_all(follows)
    assert follows.follow(ANN, EU_QUESTION).answer.refused
    review_story(seeded.registry, eu, "verified", reviewed_by="mod")
    assert _updates(follows) == [(ANN, EU_QUESTION)]


def test_a_story_its_page_retracted_is_news_once_a_moderator_reinstates_it(
    seeded: Services,
) -> None:
    follows = seeded.follows
    follows.follow(BOB, PAY_QUESTION)
    widget = "Review status\nRetracted\nConfidence\n70%\n"  # the page's own provenance box
    page_retracted = replace(EU_FINE, text=f"{EU_FINE.title}\n{widget}{EU_FINE.text}")
    eu = add_story(seeded, page_retracted)
    _deliver_all(follows)
    assert follows.follow(ANN, EU_QUESTION).answer.refused
    review_story(seeded.registry, eu, "verified", reviewed_by="mod")
    assert _updates(follows) == [(ANN, EU_QUESTION)]


def test_same_question_is_answered_once_for_every_member(
    seeded: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    follows = seeded.follows
    follows.follow(ANN, EU_QUESTION)
    follows.follow(BOB, EU_QUESTION.lower())
    add_story(seeded, EU_FINE)
    calls: list[str] = []
    answer = seeded.answerer.answer
    monkeypatch.setattr(
        seeded.answerer, "answer", lambda q, **kw: calls.append(q) or answer(q, **kw)
    )
    assert sorted(u for u, _ in _updates(follows)) == [ANN, BOB]
    assert len(calls) == 1


def test_an_update_not_recorded_comes_back_and_recorded_ones_do_not(seeded: Services) -> None:
    follows = seeded.follows
    follows.follow(ANN, EU_QUESTION)
    follows.follow(BOB, EU_QUESTION)
    add_story(seeded, EU_FINE)
    found = follows.check()
    assert found is not None and len(found.updates) == 2
    delivered = next(u for u in found.updates if u.follow.user_id == ANN)
    follows.record(delivered)  # BOB's delivery failed: no record, no mark_checked
    assert _updates(follows) == [(BOB, EU_QUESTION)]
    assert _updates(follows) == []


def test_a_story_seen_by_a_later_follow_is_still_news_to_earlier_ones(seeded: Services) -> None:
    follows = seeded.follows
    follows.follow(ANN, EU_QUESTION)
    add_story(seeded, EU_FINE)
    # BOB follows after the story landed: his answer already cites it, so it is not news to
    # him; noting that must not hide it from ANN, who followed before it.
    bob = follows.follow(BOB, EU_QUESTION)
    assert not bob.answer.refused
    assert _updates(follows) == [(ANN, EU_QUESTION)]


def test_signature_is_what_is_cited_and_quoted(seeded: Services) -> None:
    answer = seeded.ask(PAY_QUESTION, log_question=False)
    assert answer_signature(answer) == answer_signature(replace(answer, confidence=0.1))
    first = answer.citations[0]
    other = replace(first, excerpts=("Another sentence of the same story.",))
    changed = replace(answer, citations=(other, *answer.citations[1:]))
    assert answer_signature(changed) != answer_signature(answer)
    assert answer_signature(replace(answer, refused=True)) == "refused"
