"""Re-asking refused questions for the digest: an unreachable index stops the digest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from index.errors import IndexUnavailableError, InvalidQuestionError
from index.gaps import coverage
from index.models import Answer, Article
from index.registry import LoggedQuestion

NOW = datetime(2026, 5, 11, 9, tzinfo=UTC)
STORY = Article(id="u1", title="OpenAI Ships a Faster Voice Model", text="…", added_at=NOW)


def _refused(question: str) -> LoggedQuestion:
    return LoggedQuestion(1, NOW - timedelta(days=1), question, True, ())


def test_an_unreachable_index_propagates_so_the_digest_is_retried() -> None:
    def ask(question: str) -> Answer:
        raise IndexUnavailableError("vector store unreachable: HTTP 503")

    with pytest.raises(IndexUnavailableError):
        coverage([_refused("How fast is the new voice model?")], NOW - timedelta(days=7),
                 [STORY], set(), None, ask)  # fmt: skip


def test_a_question_that_is_no_longer_valid_is_skipped_and_stays_a_gap() -> None:
    def ask(question: str) -> Answer:
        raise InvalidQuestionError("too long now")

    unanswered, now_answered = coverage(
        [_refused("How fast is the new voice model?")], NOW - timedelta(days=7), [STORY], set(),
        None, ask,
    )  # fmt: skip
    assert list(now_answered) == []
    assert [u.text for u in unanswered] == ["How fast is the new voice model?"]
