"""Answering: verbatim excerpts, consistent markers, Key Questions first, refusals."""

from __future__ import annotations

import re

import pytest

from index.errors import InvalidQuestionError
from index.models import Answer
from index.services import Services

KQ_ANSWER = (
    "While AI is being used to supplement work, there is concern that it could replace certain "
    "creative roles. However, most insiders say AI training is currently a supplemental activity "
    "rather than a complete replacement."
)


def assert_grounded(services: Services, answer: Answer) -> None:
    """Every excerpt occurs verbatim in the story it cites; markers match the source list."""
    numbers = [c.n for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1))
    markers = [int(m) for m in re.findall(r"\[(\d+)\]", answer.text)]
    assert markers and set(markers) == set(numbers)
    assert sum(len(e.text) for e in answer.excerpts) <= 600
    assert len(answer.excerpts) <= 3
    for e in answer.excerpts:
        cited = next(c for c in answer.citations if c.n == e.n)
        article = services.registry.get_article(cited.article_id)
        assert article is not None and e.text in article.text
        assert e.text in answer.text


def test_hollywood_question_quotes_the_story_own_answer(seeded: Services) -> None:
    answer = seeded.ask("Are Hollywood writers being replaced by AI?")
    assert not answer.refused
    assert answer.excerpts[0].text == KQ_ANSWER
    assert_grounded(seeded, answer)
    first = answer.citations[0]
    assert first.url is None  # the seed files carry no link, and none is made up


def test_body_question_is_answered_from_story_text(seeded: Services) -> None:
    answer = seeded.ask("How much do AI trainers earn per hour at Mercor and Outlier?")
    assert not answer.refused
    # The fake embedder matches words, not meaning: the named companies must be quoted.
    assert any("Mercor" in e.text for e in answer.excerpts)
    assert_grounded(seeded, answer)


def test_unrelated_question_is_refused_with_suggestions(seeded: Services) -> None:
    answer = seeded.ask("Who won the 2026 FIFA World Cup final?")
    assert answer.refused and not answer.excerpts and not answer.citations
    assert "not covered" in answer.text


def test_questions_are_logged(seeded: Services) -> None:
    seeded.ask("Are Hollywood writers being replaced by AI?")
    seeded.ask("Who won the 2026 FIFA World Cup final?")
    assert seeded.registry.count_questions() == 2


@pytest.mark.parametrize("bad", ["", "   ", "\x00\x01\n\t"])
def test_empty_questions_are_rejected(seeded: Services, bad: str) -> None:
    with pytest.raises(InvalidQuestionError):
        seeded.ask(bad)
    assert seeded.registry.count_questions() == 0


def test_overlong_question_is_rejected_with_the_limit(seeded: Services) -> None:
    with pytest.raises(InvalidQuestionError, match="500"):
        seeded.ask("why " * 200)


def test_empty_index_refuses(services: Services) -> None:
    answer = services.ask("Are Hollywood writers being replaced by AI?")
    assert answer.refused and not answer.suggestions
