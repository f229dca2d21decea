"""Issue 16's thread on the real model: follow-ups answered from the thread's stories, each
checked against the same words asked without the thread, so ignoring the context fails."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from index.conversation import Turn, resolve
from index.models import Answer
from index.services import Services
from tests.index.conversation_stories import ASKED_ON, STORIES
from tests.index.real_services import real_services

pytestmark = pytest.mark.model

FIRST = "Are Hollywood writers training AI?"
EARNINGS = "earning up to $150 per hour"
HOLLYWOOD = "Hollywood Writers AI Trainers"


@pytest.fixture(scope="module")
def real(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """Return services on the real model with the seeds and stories that answer bare words."""
    services = real_services(tmp_path_factory.mktemp("conversation"), STORIES)
    yield services
    services.close()


def ask(services: Services, question: str, turns: list[Turn] | None = None) -> Answer:
    """Answer as of when the stories were current, in a thread of `turns` (None: no thread)."""
    follow_up = resolve(question, turns) if turns is not None else None
    return services.answerer.answer(question, today=ASKED_ON, follow_up=follow_up)


def first_excerpt(answer: Answer) -> str:
    """Return the first excerpt without its bold answer spans."""
    assert not answer.refused, answer.question
    return answer.excerpts[0].text.replace("**", "")


@pytest.fixture(scope="module")
def thread(real: Services) -> list[Turn]:
    """Return a thread that asked whether Hollywood writers train AI."""
    answer = ask(real, FIRST)
    assert answer.citations[0].title == HOLLYWOOD
    return [Turn(FIRST, tuple(c.article_id for c in answer.citations))]


def test_how_much_do_they_earn_quotes_the_writers_pay(real: Services, thread: list[Turn]) -> None:
    in_thread = ask(real, "How much do they earn?", thread)
    assert EARNINGS in first_excerpt(in_thread)
    assert in_thread.citations[0].title == HOLLYWOOD
    # Without the thread, "they" are whoever the stories say earn something: the nurses.
    alone = ask(real, "How much do they earn?")
    assert EARNINGS not in first_excerpt(alone)
    assert alone.citations[0].title == "Travel Nurses' Pay Climbs Again"


def test_which_companies_names_the_writers_employers(real: Services, thread: list[Turn]) -> None:
    earn = ask(real, "How much do they earn?", thread)
    turns = [*thread, Turn("How much do they earn?", tuple(c.article_id for c in earn.citations))]
    in_thread = first_excerpt(ask(real, "Which companies?", turns))
    assert any(name in in_thread for name in ("Mercor", "Outlier", "Turing"))
    alone = first_excerpt(ask(real, "Which companies?"))
    assert not any(name in alone for name in ("Mercor", "Outlier", "Turing"))
    assert "Symbotic" in alone  # the warehouse robot makers' survey names companies too


def test_a_new_subject_is_answered_on_its_own_terms(real: Services, thread: list[Turn]) -> None:
    question = "What did the EU AI Act require?"
    in_thread = ask(real, question, thread)
    alone = ask(real, question)
    assert [c.title for c in in_thread.citations] == [c.title for c in alone.citations]
    assert in_thread.citations[0].title.startswith("EU AI Act")
    assert first_excerpt(in_thread) == first_excerpt(alone)
    assert "general-purpose AI models" in first_excerpt(in_thread)


def test_a_lowercase_new_subject_is_not_pulled_into_the_thread(
    real: Services, thread: list[Turn]
) -> None:
    question = "what did nvidia sell?"  # short and typed in lower case: it may refer back...
    assert resolve(question, thread).refers_back
    in_thread = ask(real, question, thread)  # ...but the thread's story never names Nvidia
    assert in_thread.citations[0].title.startswith("Nvidia")
    assert "18,000" in first_excerpt(in_thread)


def test_the_thread_is_read_back_through_services(real: Services) -> None:
    real.ask(FIRST, guild_id=1, thread_id=900)
    answer = real.ask("How much do they earn?", guild_id=1, thread_id=900)
    assert answer.follows_up == FIRST
    assert EARNINGS in first_excerpt(answer)
