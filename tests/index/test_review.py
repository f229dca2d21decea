"""Provenance on every citation: the page's own, a moderator's review, retraction and dispute."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from index.errors import ArticleNotFoundError, InvalidReviewError
from index.models import REVIEW_STATUSES, RawDocument
from index.present import answer_to_dict, answer_to_text
from index.review import NOTE_MAX_CHARS, review_story
from index.services import Services, build_services
from index.settings import Settings
from newsbot import cli
from tests.fakes import FakeEmbedder

pytestmark = pytest.mark.both_backends  # registry tests run on SQLite and PostgreSQL

SEED_QUESTION = "How many contracts did the screenwriter complete for AI training platforms?"
SEED_TITLE = "Hollywood Professionals Transition to AI Training Roles"
ZORB_QUESTION = "How much did the Zorblax quantum widget startup raise from investors?"
ZORB_TEXT = (
    "Zorblax, a quantum widget startup based in Tallinn, raised 40 million dollars from investors "
    "this week to build cryogenic widget factories. The Zorblax quantum widget startup said the "
    "money would fund two factories and double its staff of cryogenic engineers by next year."
)
ZORB_ECHO = (
    "A rival report said Zorblax, the quantum widget startup, raised 35 million dollars from "
    "investors, not forty. The quantum widget startup Zorblax declined to comment on the figures "
    "when asked about its funding round and its factories."
)


def _story(services: Services, text: str, name: str, when: str = "2026-05-10") -> str:
    """Index one small story of our own and return its id."""
    doc = RawDocument(
        text=text, origin=name, title=name.replace("-", " ").title(),
        url=f"https://news.example.com/{name}", source="Example Wire", published=when,
    )  # fmt: skip
    return services.ingestor.ingest_one(doc, added_by="test")[1]


def _seed_id(services: Services) -> str:
    return next(a.id for a in services.registry.list_articles() if a.title == SEED_TITLE)


def _cited(services: Services, question: str) -> set[str]:
    return {c.article_id for c in services.ask(question, log_question=False).citations}


# -- the page's own provenance ------------------------------------------------------------------


def test_seed_provenance_shows_in_json_and_text(seeded: Services) -> None:
    answer = seeded.ask(SEED_QUESTION)
    out = answer_to_dict(answer)
    [citation] = [c for c in out["citations"] if c["title"] == SEED_TITLE]
    assert citation["review_status"] == "verified"
    assert citation["review_label"] == "Human reviewed"
    assert citation["confidence"] == 85
    assert citation["sources_reviewed"] == 1
    assert citation["review_note"] is None
    text = answer_to_text(answer)
    assert f"[{citation['n']}] {SEED_TITLE} — AI Signal, May 11, 2026" in text
    assert "    ✅ verified · 85/100 · 1 source" in text
    assert "disputed" not in text


# -- a moderator's review -----------------------------------------------------------------------


def test_review_overrides_the_page_and_marks_disputed_in_json_and_text(seeded: Services) -> None:
    seed = _seed_id(seeded)
    article = review_story(
        seeded.registry, seed, "disputed", confidence=40,
        note="Wired's figures\nare not confirmed.", reviewed_by="mod",
    )  # fmt: skip
    p = article.provenance
    assert (p.review_status, p.confidence, p.review_label) == ("disputed", 40, None)
    assert p.note == "Wired's figures are not confirmed."  # on one line
    assert p.reviewed_by == "mod" and p.reviewed_at is not None
    assert p.sources_reviewed == 1  # the page's count stays: a review does not change it

    answer = seeded.ask(SEED_QUESTION)
    [citation] = [c for c in answer_to_dict(answer)["citations"] if c["article_id"] == seed]
    assert citation["review_status"] == "disputed" and citation["confidence"] == 40
    assert citation["review_note"] == "Wired's figures are not confirmed."
    text = answer_to_text(answer)
    n = citation["n"]
    for line in text.split("\n"):
        if line.endswith(f"[{n}]") or f"[{n}] (" in line:  # every excerpt from the story
            assert line.endswith(f"[{n}] (⚠️ disputed)"), line
    assert "⚠️ disputed · 40/100 · 1 source — Wired's figures are not confirmed." in text


def test_review_without_confidence_drops_the_pages_own(seeded: Services) -> None:
    seed = _seed_id(seeded)
    p = review_story(seeded.registry, seed, "verified", reviewed_by="mod").provenance
    assert (p.review_status, p.confidence) == ("verified", None)


def test_review_survives_reingestion_and_restart(settings: Settings) -> None:
    services = build_services(settings, embedder=FakeEmbedder())
    story = _story(services, ZORB_TEXT, "zorblax-raises")
    review_story(services.registry, story, "disputed", confidence=30, reviewed_by="mod")
    # A new version of the story replaces its row; the review is kept.
    outcome, _ = services.ingestor.ingest_one(
        RawDocument(
            text=ZORB_TEXT + " Update: the round closed on Friday, the company said later.",
            origin="zorblax-raises", title="Zorblax Raises", url="https://news.example.com/zorblax-raises",
            source="Example Wire", published="2026-05-10",
        ),
        added_by="test",
    )  # fmt: skip
    assert outcome == "updated"
    assert services.registry.get_article(story).provenance.review_status == "disputed"
    services.close()

    reopened = build_services(settings, embedder=FakeEmbedder())
    try:
        p = reopened.registry.get_article(story).provenance
        assert (p.review_status, p.confidence, p.reviewed_by) == ("disputed", 30, "mod")
        assert "Update: the round closed" in reopened.registry.get_article(story).text
    finally:
        reopened.close()


def test_removing_a_story_deletes_its_review(services: Services) -> None:
    story = _story(services, ZORB_TEXT, "zorblax-raises")
    review_story(services.registry, story, "retracted", reviewed_by="mod")
    services.ingestor.remove(story)
    assert _story(services, ZORB_TEXT, "zorblax-raises") == story  # added again
    assert services.registry.get_article(story).provenance.review_status is None
    assert story in _cited(services, ZORB_QUESTION)


# -- retracted: listed, never cited ---------------------------------------------------------------


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_retracted_story_is_never_cited_even_as_the_only_match(
    services: Services, mode: str
) -> None:
    services.use_retriever(mode)  # type: ignore[arg-type]
    services.ensure_samples()
    story = _story(services, ZORB_TEXT, "zorblax-raises")
    assert _cited(services, ZORB_QUESTION) == {story}

    review_story(services.registry, story, "retracted", reviewed_by="mod")
    answer = services.ask(ZORB_QUESTION)
    assert story not in {c.article_id for c in answer.citations}
    assert story not in {s.article_id for s in answer.suggestions}
    assert "Zorblax" not in answer.text
    assert [h for h in services.retriever.search(ZORB_QUESTION, 50) if h.article_id == story] == []
    # Still listed for audit, marked retracted.
    listed = {a.id: a for a in services.registry.list_articles()}
    assert listed[story].provenance.review_status == "retracted"
    assert services.registry.get_article(story) is not None

    # Reinstated: cited again (the retrieval caches follow the change).
    review_story(services.registry, story, "verified", reviewed_by="mod")
    assert _cited(services, ZORB_QUESTION) == {story}


def test_retracted_story_falls_back_to_another_and_stays_retracted_after_restart(
    settings: Settings,
) -> None:
    services = build_services(settings, embedder=FakeEmbedder())
    best = _story(services, ZORB_TEXT, "zorblax-raises")
    other = _story(services, ZORB_ECHO, "zorblax-rival-report", when="2026-05-09")
    assert best in _cited(services, ZORB_QUESTION)
    review_story(services.registry, best, "retracted", reviewed_by="mod")
    answer = services.ask(ZORB_QUESTION)
    assert not answer.refused
    assert {c.article_id for c in answer.citations} == {other}
    services.close()

    reopened = build_services(settings, embedder=FakeEmbedder())
    try:
        assert _cited(reopened, ZORB_QUESTION) == {other}
    finally:
        reopened.close()


def test_retracted_story_is_left_out_of_the_digest_stories(services: Services) -> None:
    story = _story(services, ZORB_TEXT, "zorblax-raises")
    since = datetime(2000, 1, 1, tzinfo=UTC)
    assert [a.id for a in services.registry.articles_added_since(since)] == [story]
    review_story(services.registry, story, "retracted", reviewed_by="mod")
    assert services.registry.articles_added_since(since) == []


def test_only_retraction_changes_bump_the_generation(services: Services) -> None:
    story = _story(services, ZORB_TEXT, "zorblax-raises")
    start = services.registry.generation()
    review_story(services.registry, story, "disputed")
    assert services.registry.generation() == start  # no retrieval cache depends on it
    review_story(services.registry, story, "retracted")
    assert services.registry.generation() == start + 1
    review_story(services.registry, story, "retracted", note="still")
    assert services.registry.generation() == start + 1
    review_story(services.registry, story, "unreviewed")
    assert services.registry.generation() == start + 2


# -- bad input changes nothing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "says"),
    [
        ({"status": "fake news"}, InvalidReviewError, "Unknown review status"),
        ({"status": "verified", "confidence": 101}, InvalidReviewError, "0 to 100"),
        ({"status": "verified", "confidence": -1}, InvalidReviewError, "0 to 100"),
        ({"status": "verified", "note": "x" * (NOTE_MAX_CHARS + 1)}, InvalidReviewError, "note"),
        ({"status": "verified", "article_id": "nope"}, ArticleNotFoundError, "No story"),
    ],
)
def test_bad_review_input_raises_and_changes_nothing(
    seeded: Services, kwargs: dict[str, object], error: type[Exception], says: str
) -> None:
    seed = _seed_id(seeded)
    before = (seeded.registry.get_article(seed), seeded.registry.generation())
    kwargs = dict(kwargs)  # the parametrized dict is shared by both backends' runs
    article_id = str(kwargs.pop("article_id", seed))
    with pytest.raises(error) as raised:
        review_story(seeded.registry, article_id, **kwargs)  # type: ignore[arg-type]
    assert says in raised.value.user_message()  # type: ignore[attr-defined]
    assert (seeded.registry.get_article(seed), seeded.registry.generation()) == before


# -- the command line -----------------------------------------------------------------------------


@pytest.fixture
def cli_on(seeded: Services, settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Run the CLI on the test settings and the fake embedder."""
    monkeypatch.setattr(cli, "_settings", lambda args: settings)
    monkeypatch.setattr(cli, "_services", lambda s: build_services(s, embedder=FakeEmbedder()))
    return settings


def test_cli_review_then_articles_and_ask(
    cli_on: Settings, seeded: Services, capsys: pytest.CaptureFixture[str]
) -> None:
    seed = _seed_id(seeded)
    assert cli.main(["review", seed, "--status", "disputed", "--confidence", "40",
                     "--note", "Unconfirmed figures", "--by", "ann"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert out.startswith(f"reviewed {seed}: ⚠️ disputed · 40/100 · 1 source")

    assert cli.main(["ask", SEED_QUESTION, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    [c] = [c for c in answer["citations"] if c["article_id"] == seed]
    assert (c["review_status"], c["confidence"]) == ("disputed", 40)
    assert cli.main(["ask", SEED_QUESTION]) == 0
    assert "(⚠️ disputed)" in capsys.readouterr().out

    assert cli.main(["review", seed, "--status", "retracted"]) == 0
    assert "no longer quote or cite" in capsys.readouterr().out
    assert cli.main(["articles", "--json"]) == 0
    listed = {a["id"]: a for a in json.loads(capsys.readouterr().out)}
    assert listed[seed]["review_status"] == "retracted"
    assert listed[seed]["reviewed_by"] is None and listed[seed]["reviewed_at"]
    assert cli.main(["articles"]) == 0
    assert "retracted" in capsys.readouterr().out
    assert cli.main(["ask", SEED_QUESTION, "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert seed not in {c["article_id"] for c in answer["citations"]}


def test_cli_lists_the_same_statuses_as_the_core() -> None:
    assert cli.REVIEW_STATUSES == REVIEW_STATUSES


def test_cli_review_refuses_bad_input(
    cli_on: Settings, seeded: Services, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    seed = _seed_id(seeded)
    before = seeded.registry.get_article(seed)
    assert cli.main(["review", seed, "--status", "verified", "--confidence", "150"]) == 2
    assert "0 to 100" in capsys.readouterr().err
    assert cli.main(["review", "nope", "--status", "verified"]) == 2
    assert "No story with id 'nope'" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # argparse lists the four statuses
        cli.main(["review", seed, "--status", "bogus"])
    assert "invalid choice" in capsys.readouterr().err
    assert seeded.registry.get_article(seed) == before


# -- a page that declares itself retracted --------------------------------------------------------

PAGE_RETRACTED = "Zorblax Raises Money\nReview status\nRetracted\nConfidence\n70%\n" + ZORB_TEXT


@pytest.mark.parametrize("mode", ["hybrid", "dense", "bm25"])
def test_a_page_retracted_story_is_never_cited_nor_in_the_digest(
    settings: Settings, mode: str
) -> None:
    services = build_services(
        settings.model_copy(update={"max_excerpts": 1, "retriever": mode}), embedder=FakeEmbedder()
    )
    try:
        bad = _story(services, PAGE_RETRACTED, "zorblax-raises")
        other = _story(services, ZORB_ECHO, "zorblax-rival-report", when="2026-05-09")
        assert services.registry.get_article(bad).provenance.retracted  # type: ignore[union-attr]
        # It takes no retrieval slot, so the other story answers even with room for one excerpt.
        hits = services.retriever.search(ZORB_QUESTION, 50)
        assert hits and all(h.article_id != bad for h in hits)
        answer = services.ask(ZORB_QUESTION, log_question=False)
        assert not answer.refused and {c.article_id for c in answer.citations} == {other}
        since = datetime(2000, 1, 1, tzinfo=UTC)
        assert [a.id for a in services.registry.articles_added_since(since)] == [other]
        # A moderator's review replaces the page's status: reinstated, it is cited again.
        start = services.registry.generation()
        review_story(services.registry, bad, "verified", reviewed_by="mod")
        assert services.registry.generation() == start + 1
        assert bad in {h.article_id for h in services.retriever.search(ZORB_QUESTION, 50)}
    finally:
        services.close()


def test_clearing_a_review_brings_back_the_pages_own_provenance(seeded: Services) -> None:
    seed = _seed_id(seeded)
    review_story(seeded.registry, seed, "retracted", note="Wrong figures", reviewed_by="mod")
    assert seed not in _cited(seeded, SEED_QUESTION)
    start = seeded.registry.generation()
    article = review_story(seeded.registry, seed, "clear")
    assert seeded.registry.generation() == start + 1  # citable again: retrieval caches follow
    p = article.provenance
    assert (p.review_status, p.confidence, p.note, p.reviewed_by) == ("verified", 85, None, None)
    assert seed in _cited(seeded, SEED_QUESTION)
    # Clearing again is harmless; an unknown story is refused.
    assert review_story(seeded.registry, seed, "CLEAR ").provenance == p
    with pytest.raises(ArticleNotFoundError):
        review_story(seeded.registry, "nope", "clear")


def test_clearing_a_reinstatement_makes_a_page_retracted_story_retracted_again(
    services: Services,
) -> None:
    bad = _story(services, PAGE_RETRACTED, "zorblax-raises")
    review_story(services.registry, bad, "verified", reviewed_by="mod")
    assert bad in {h.article_id for h in services.retriever.search(ZORB_QUESTION, 50)}
    assert review_story(services.registry, bad, "clear").provenance.retracted
    assert bad not in {h.article_id for h in services.retriever.search(ZORB_QUESTION, 50)}


def test_cli_clear(seeded: Services, capsys: pytest.CaptureFixture[str]) -> None:
    seed = _seed_id(seeded)
    review_story(seeded.registry, seed, "disputed", confidence=10)
    data = str(seeded.settings.data_dir)
    assert cli.main(["--data-dir", data, "review", seed, "--status", "clear"]) == 0
    assert "cleared the review" in capsys.readouterr().out
    assert seeded.registry.get_article(seed).provenance.confidence == 85  # type: ignore[union-attr]
