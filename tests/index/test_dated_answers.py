"""Dated answers: as-of dates, per-excerpt dates across months, newer first, stale notes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from index.present import answer_to_dict, answer_to_text
from index.services import Services

OLD = "Acme Robotics opened its warehouse automation lab in Leeds, hiring robotics engineers."
NEW = "Acme Robotics opened a second warehouse automation lab in Leeds, hiring robotics engineers."


def _ingest(services: Services, tmp_path: Path, stories: dict[str, tuple[str, str]]) -> None:
    paths = []
    for name, (published, body) in stories.items():
        path = tmp_path / f"{name}.md"
        filler = " The company said the lab will test picking robots for grocery orders."
        path.write_text(f"---\ntitle: {name}\nsource: Wire\npublished: {published}\n---\n"
                        f"{body}{filler}\n")  # fmt: skip
        paths.append(str(path))
    assert len(services.ingest_sources(paths).added) == len(paths)


def test_of_two_stories_saying_the_same_the_newer_is_quoted(
    services: Services, tmp_path: Path
) -> None:
    _ingest(services, tmp_path, {"old-lab": ("2026-01-05", OLD), "new-lab": ("2026-06-20", NEW)})
    answer = services.answerer.answer(
        "Where did Acme Robotics open its warehouse automation lab?", today=date(2026, 6, 25)
    )
    assert [c.title for c in answer.citations] == ["new-lab"]


MOVED = "Acme Robotics moved its warehouse automation lab from Leeds to Manchester in June."


def test_newer_story_on_the_same_subject_comes_first_with_dates(
    services: Services, tmp_path: Path
) -> None:
    _ingest(services, tmp_path, {"old-lab": ("2026-01-05", OLD), "moved": ("2026-06-20", MOVED)})
    answer = services.answerer.answer(
        "Where is the Acme Robotics warehouse automation lab?", today=date(2026, 6, 25)
    )
    assert not answer.refused
    assert answer.citations[0].published == date(2026, 6, 20)  # the newer story is [1]
    assert answer.excerpts[0].n == 1
    assert answer.as_of == date(2026, 6, 20)
    text = answer_to_text(answer)
    if len(answer.citations) == 2:  # the older one is cited only if its excerpt answers too
        assert answer.spans_months
        assert "(Jun 20, 2026)" in text and "(Jan 5, 2026)" in text  # each excerpt dated
    else:
        assert not answer.spans_months and "(Jan 5, 2026)" not in text
    assert "As of Jun 20, 2026." in text
    assert answer_to_dict(answer)["as_of"] == "2026-06-20"


def test_question_about_now_answered_by_old_news_says_how_old(
    services: Services, tmp_path: Path
) -> None:
    _ingest(services, tmp_path, {"old-lab": ("2026-01-05", OLD)})
    answer = services.answerer.answer(
        "What is the latest on the Acme Robotics warehouse automation lab?", today=date(2026, 4, 15)
    )
    assert not answer.refused and answer.stale_days == 100
    assert "the newest story cited is 100 days old" in answer_to_text(answer)
    assert answer_to_dict(answer)["stale_days"] == 100
    fresh = services.answerer.answer(
        "Where did Acme Robotics open its warehouse automation lab?", today=date(2026, 4, 15)
    )
    assert fresh.stale_days is None  # not a question about the present: no note


def test_an_old_story_that_answers_exactly_is_still_found(seeded: Services, tmp_path: Path) -> None:
    body = (
        "OpenAI's new voice model answers spoken questions in about 320 milliseconds, close to "
        "human response times in conversation, the company said."
    )
    _ingest(seeded, tmp_path, {"voice-model": ("2024-05-13", body)})
    answer = seeded.answerer.answer(
        "How fast does OpenAI's voice model answer spoken questions?", today=date(2026, 11, 23)
    )
    assert not answer.refused
    assert answer.citations[0].title == "voice-model"
    assert "320 milliseconds" in answer.excerpts[0].text
