"""Follow-ups in threads: which questions refer back, what they are retrieved with, and the
thread's context read from the question log (on the fake embedder)."""

from __future__ import annotations

import sqlite3
import tarfile
from pathlib import Path

import pytest

from index.conversation import CONTEXT_QUESTIONS, Turn, resolve, speaks_of, stands_alone
from index.registry import Registry
from index.services import Services, build_services
from index.settings import Settings
from tests.fakes import FakeEmbedder

HOLLYWOOD = "Are Hollywood writers training AI?"
V8 = Path(__file__).resolve().parent.parent / "data" / "v8-datadir.tar.gz"


@pytest.mark.parametrize(
    "question",
    ["How much do they earn?", "Which companies?", "And that company?", "What did it pay?"],
)
def test_short_or_pointing_back_refers_back(question: str) -> None:
    assert not stands_alone(question, [HOLLYWOOD])
    follow = resolve(question, [Turn(HOLLYWOOD, ("hw",))])
    assert follow.refers_back and follow.prior == {"hw"} and follow.anchor == HOLLYWOOD
    assert follow.query.startswith(question)
    assert {"Hollywood", "writers", "training", "AI"} <= set(follow.query.split())


@pytest.mark.parametrize(
    "question",
    [
        "What did the EU AI Act require?",  # names something the thread did not
        "Which chip makers were barred from selling processors to China?",  # long, no pronoun
    ],
)
def test_a_question_with_its_own_subject_stands_alone(question: str) -> None:
    follow = resolve(question, [Turn(HOLLYWOOD, ("hw",))])
    assert not follow.refers_back
    assert follow.query == question and follow.prior == frozenset() and follow.anchor is None


def test_the_first_question_of_a_thread_stands_alone() -> None:
    assert not resolve("How much do they earn?", []).refers_back


def test_context_goes_back_to_the_last_question_that_stood_alone() -> None:
    turns = [
        Turn(HOLLYWOOD, ("hw",)),
        Turn("What did the EU AI Act require?", ("eu",)),
        Turn("Who enforces it?", ("eu", "eu2")),
    ]
    follow = resolve("What are the fines?", turns)
    # The thread changed subject: the Hollywood story is no longer preferred.
    assert follow.prior == {"eu", "eu2"}
    assert follow.anchor == "What did the EU AI Act require?"
    assert "Hollywood" not in follow.query and "EU" in follow.query and "enforces" in follow.query


def test_context_reaches_at_most_a_few_questions_back() -> None:
    turns = [Turn(HOLLYWOOD, ("hw",))] + [
        Turn(f"And then {n}?", (f"s{n}",)) for n in range(CONTEXT_QUESTIONS + 2)
    ]
    follow = resolve("Why?", turns)
    assert len(follow.prior) == CONTEXT_QUESTIONS and "hw" not in follow.prior


def test_a_thread_follow_up_is_logged_and_read_back(seeded: Services) -> None:
    first = seeded.ask(HOLLYWOOD, guild_id=7, thread_id=70)
    assert first.follows_up is None and not first.refused
    second = seeded.ask("Which companies?", guild_id=7, thread_id=70)
    assert second.follows_up == HOLLYWOOD
    # The same words asked elsewhere are read on their own.
    assert seeded.ask("Which companies?", guild_id=7).follows_up is None
    assert seeded.ask("Which companies?", guild_id=7, thread_id=71).follows_up is None
    rows = seeded.registry.thread_questions(70, 7, 10)
    assert [q for q, _ in rows] == [HOLLYWOOD, "Which companies?"]
    assert rows[0][1] == tuple(c.article_id for c in first.citations)


def test_private_questions_and_other_servers_give_no_context(seeded: Services) -> None:
    seeded.ask(HOLLYWOOD, guild_id=7, thread_id=80, private=True)
    seeded.ask(HOLLYWOOD, guild_id=8, thread_id=81)
    assert seeded.ask("Which companies?", guild_id=7, thread_id=80).follows_up is None
    assert seeded.ask("Which companies?", guild_id=7, thread_id=81).follows_up is None


def test_an_older_database_gains_the_thread_column(tmp_path: Path) -> None:
    with tarfile.open(V8) as tar:
        tar.extractall(tmp_path, filter="data")
    db = sqlite3.connect(tmp_path / "data" / "newsbot.db")
    assert "thread_id" not in {r[1] for r in db.execute("PRAGMA table_info(questions)")}
    before = db.execute("SELECT COUNT(*) FROM questions").fetchone()[0]
    db.close()
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", refusal_threshold=0.3)  # type: ignore[call-arg]
    services = build_services(settings, embedder=FakeEmbedder())
    try:
        assert services.registry.count_questions() == before == 1
        services.ask(HOLLYWOOD, guild_id=111, thread_id=5)
        assert services.ask("Which companies?", guild_id=111, thread_id=5).follows_up == HOLLYWOOD
        with services.registry.read() as conn:
            threads = [r[0] for r in conn.execute("SELECT thread_id FROM questions ORDER BY id")]
        assert threads == [None, 5, 5]  # the old question was asked outside any thread
    finally:
        services.close()
    Registry(tmp_path / "data" / "newsbot.db").close()  # opening again changes nothing


def test_a_threads_story_speaks_of_a_follow_up_only_with_all_its_subject_words() -> None:
    story = "Writers earning up to $150 per hour at companies like Mercor."
    assert speaks_of(story, "How much do they earn?")  # "earn" ~ "earning"
    assert speaks_of(story, "Which companies?") and speaks_of(story, "Why?")
    assert not speaks_of(story, "what did nvidia sell?")
