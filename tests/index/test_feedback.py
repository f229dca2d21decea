"""Votes on answers: stored per member and answer, replaced, hashed, validated, and kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from index import feedback
from index.errors import InvalidFeedbackError, QuestionNotFoundError
from index.registry import Registry
from index.services import Services, build_services
from index.settings import Settings
from tests.fakes import FakeEmbedder

pytestmark = pytest.mark.both_backends  # registry tests run on SQLite and PostgreSQL

ANSWERED = "Are Hollywood writers being replaced by AI?"
REFUSED = "Who won the 2026 FIFA World Cup final?"
ANN, BOB = 111_222_333_444_555_666, 777_888_999_000_111_222


def _rows(services: Services) -> list[Any]:
    with services.registry.read() as db:
        return db.execute("SELECT * FROM feedback ORDER BY id").fetchall()


def test_a_later_vote_replaces_the_members_earlier_one(seeded: Services) -> None:
    qid = seeded.ask(ANSWERED).question_id
    assert qid is not None
    registry = seeded.registry
    first = feedback.record_vote(registry, qid, ANN, helpful=True)
    assert first == feedback.Vote(qid, True, None, replaced=False)
    second = feedback.record_vote(registry, qid, ANN, helpful=False, reason="Quoted the wrong bit")
    assert second == feedback.Vote(qid, False, "Quoted the wrong bit", replaced=True)
    feedback.record_vote(registry, qid, BOB, helpful=True)
    assert feedback.tallies(registry, [qid]) == {qid: feedback.Tally(up=1, down=1)}
    assert len(_rows(seeded)) == 2
    # Back to 👍: the reason goes with the 👎 it explained.
    feedback.record_vote(registry, qid, ANN, helpful=True, reason="ignored")
    assert feedback.tallies(registry, [qid])[qid] == feedback.Tally(up=2, down=0)
    assert all(row["reason"] is None for row in _rows(seeded))


def test_voters_are_stored_as_salted_hashes_never_ids(seeded: Services) -> None:
    qid = seeded.ask(ANSWERED).question_id
    assert qid is not None
    feedback.record_vote(seeded.registry, qid, ANN, helpful=True)
    feedback.record_vote(seeded.registry, qid, BOB, helpful=True)
    voters = [row["voter"] for row in _rows(seeded)]
    assert len(set(voters)) == 2
    assert all(str(ANN) not in v and str(BOB) not in v and len(v) == 64 for v in voters)
    salt = seeded.registry.get_meta("feedback.salt")
    assert salt and len(salt) == 64
    # Another install (another salt) gives the same member another key: hashes don't link up.
    other = Registry(":memory:")
    other_qid = other.log_question("q", False, [], 0.9)
    feedback.record_vote(other, other_qid, ANN, helpful=True)
    with other.read() as db:
        assert db.execute("SELECT voter FROM feedback").fetchone()[0] not in voters


def test_unknown_answer_is_a_clear_error_and_stores_nothing(seeded: Services) -> None:
    with pytest.raises(QuestionNotFoundError) as caught:
        feedback.record_vote(seeded.registry, 424242, ANN, helpful=False, reason="wrong")
    assert "vote was not saved" in caught.value.user_message()
    assert _rows(seeded) == []


def test_reasons_are_cleaned_and_bounded(seeded: Services) -> None:
    qid = seeded.ask(REFUSED).question_id
    assert qid is not None
    vote = feedback.record_vote(
        seeded.registry, qid, ANN, helpful=False, reason="  It missed\n\nthe \u202efinal\x00 "
    )
    assert vote.reason == "It missed the final"
    blank = feedback.record_vote(seeded.registry, qid, BOB, helpful=False, reason=" \n ")
    assert blank.reason is None
    with pytest.raises(InvalidFeedbackError, match="300"):
        feedback.record_vote(seeded.registry, qid, 5, helpful=False, reason="x" * 301)
    assert len(_rows(seeded)) == 2


def test_recent_negative_lists_question_reasons_dates_and_cited_titles(seeded: Services) -> None:
    answered = seeded.ask(ANSWERED)
    refused = seeded.ask(REFUSED, private=True)
    praised = seeded.ask("How much do AI trainers earn per hour at Mercor and Outlier?")
    assert answered.question_id and refused.question_id and praised.question_id
    start = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
    vote = feedback.record_vote
    vote(seeded.registry, answered.question_id, ANN, helpful=False, reason="Old news", now=start)
    vote(seeded.registry, answered.question_id, BOB, helpful=False, now=start + timedelta(hours=1))
    vote(seeded.registry, refused.question_id, ANN, helpful=False, reason="The final was played",
         now=start + timedelta(hours=2))  # fmt: skip
    vote(seeded.registry, praised.question_id, ANN, helpful=True, now=start + timedelta(hours=3))

    recent = feedback.recent_negative(seeded.registry)
    assert [r.question_id for r in recent] == [refused.question_id, answered.question_id]
    first, second = recent
    assert (first.question, first.refused, first.private) == (REFUSED, True, True)
    assert first.reasons == ("The final was played",) and first.cited_titles == ()
    assert (second.question, second.refused, second.downvotes) == (ANSWERED, False, 2)
    assert second.reasons == ("Old news",)
    assert second.last_vote_at == start + timedelta(hours=1)
    assert second.cited_titles == tuple(c.title for c in answered.citations)
    assert "Hollywood Writers AI Trainers" in second.cited_titles
    assert [r.question_id for r in feedback.recent_negative(seeded.registry, limit=1)] == [
        refused.question_id
    ]


def test_votes_and_the_question_log_survive_a_restart(settings: Settings) -> None:
    first = build_services(settings, embedder=FakeEmbedder())
    first.ensure_samples()
    qid = first.ask(REFUSED).question_id
    assert qid is not None
    feedback.record_vote(first.registry, qid, ANN, helpful=False, reason="Missing story")
    first.close()

    again = build_services(settings, embedder=FakeEmbedder())
    try:
        [logged] = again.registry.questions_since(datetime(2000, 1, 1, tzinfo=UTC))
        assert (logged.id, logged.question, logged.refused) == (qid, REFUSED, True)
        [negative] = feedback.recent_negative(again.registry)
        assert negative.reasons == ("Missing story",)
        # The salt survived too: the member's new vote replaces the old one.
        assert feedback.record_vote(again.registry, qid, ANN, helpful=True).replaced
        assert feedback.tallies(again.registry, [qid]) == {qid: feedback.Tally(1, 0)}
    finally:
        again.close()


def test_recent_negative_lists_only_the_servers_own_answers(seeded: Services) -> None:
    server_a, server_b = 101_000_000_000_000_001, 202_000_000_000_000_002
    private_a = seeded.ask(REFUSED, private=True, guild_id=server_a).question_id
    public_b = seeded.ask(ANSWERED, guild_id=server_b).question_id
    from_cli = seeded.ask("Who won the 2030 FIFA World Cup final?").question_id
    assert private_a and public_b and from_cli
    for qid, reason in ((private_a, "For my HR case"), (public_b, "Old"), (from_cli, "CLI")):
        feedback.record_vote(seeded.registry, qid, ANN, helpful=False, reason=reason)

    def listed(guild_id: int | None) -> list[int]:
        return [r.question_id for r in feedback.recent_negative(seeded.registry, guild_id=guild_id)]

    assert listed(server_b) == [public_b]  # never server A's private question or its reason
    assert listed(server_a) == [private_a]
    assert listed(None) == [from_cli]  # asked outside any server: no server's moderators see it
