"""Tests for index.parse: metadata, summary, key questions and provenance from story text."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.models import KeyQuestion, ParsedStory, Provenance
from index.parse import parse_date, parse_story, split_front_matter

ARTICLES = Path(__file__).resolve().parents[2] / "data" / "articles"
PROFESSIONALS = ARTICLES / "hollywood-professionals-ai-training-roles.txt"
WRITERS = ARTICLES / "hollywood-writers-ai-trainers.txt"

WRITERS_KEY_QUESTIONS = (
    KeyQuestion(
        "Are Hollywood writers being replaced by AI?",
        "While AI is being used to supplement work, there is concern that it could replace certain "
        "creative roles. However, most insiders say AI training is currently a supplemental "
        "activity rather than a complete replacement.",
    ),
    KeyQuestion(
        "Is this AI training work officially recognized or regulated?",
        "No, much of this work is informal and conducted in secrecy. There are currently few "
        "regulations governing AI training practices in entertainment.",
    ),
    KeyQuestion(
        "Could this practice impact the quality of TV and film content?",
        "Potentially. If AI models are trained on biased or unethical data, it could influence the "
        "content they generate, raising concerns about authenticity and ethical standards.",
    ),
    KeyQuestion(
        "What are the ethical concerns associated with this AI training?",
        "Workers report being asked to evaluate or generate disturbing content, and there are "
        "questions about the consent and privacy of data used for training AI models.",
    ),
)


@pytest.fixture(scope="module")
def professionals() -> ParsedStory:
    """Return the parsed first seed story."""
    return parse_story(PROFESSIONALS.read_text(encoding="utf-8"), fallback_title="unused")


@pytest.fixture(scope="module")
def writers() -> ParsedStory:
    """Return the parsed second seed story, titled from its file name as ingestion would."""
    return parse_story(WRITERS.read_text(encoding="utf-8"), fallback_title="Hollywood writers")


def test_first_seed_metadata(professionals: ParsedStory) -> None:
    assert professionals.title == "Hollywood Professionals Transition to AI Training Roles"
    assert professionals.updated == date(2026, 5, 11)
    assert professionals.published is None
    assert professionals.source == "AI Signal"
    assert professionals.key_questions == ()
    assert professionals.text.startswith(professionals.title + "\nUpdated May 11, 2026\n")


def test_first_seed_summary_is_the_lead_trimmed_at_a_sentence(professionals: ParsedStory) -> None:
    summary = professionals.summary
    assert summary is not None
    assert summary.startswith("A growing number of former screenwriters")
    assert summary.endswith("highlighting the challenging nature of this new work.")
    assert len(summary) <= 300
    assert summary in professionals.text


def test_first_seed_provenance(professionals: ParsedStory) -> None:
    assert professionals.provenance == Provenance(
        review_status="verified",
        review_label="Human reviewed",
        confidence=85,
        sources_reviewed=1,
        official_sources=0,
    )


def test_second_seed_metadata(writers: ParsedStory) -> None:
    assert writers.title == "Hollywood writers"  # no headline line: the fallback is used
    assert writers.source is None
    assert writers.published is None
    assert writers.updated is None
    assert writers.provenance == Provenance()
    assert writers.summary == (
        "Many Hollywood industry professionals, including writers, are secretly working as AI "
        "trainers to earn income after strikes and industry disruptions. This development "
        "highlights a growing reliance on AI training work, with uncertain implications for jobs "
        "and industry practices."
    )


def test_second_seed_key_questions(writers: ParsedStory) -> None:
    assert writers.key_questions == WRITERS_KEY_QUESTIONS
    for pair in writers.key_questions:
        assert pair.question in writers.text
        assert pair.answer in writers.text


def test_second_seed_without_fallback_has_no_title() -> None:
    assert parse_story(WRITERS.read_text(encoding="utf-8")).title is None


def test_explicit_arguments_win() -> None:
    story = parse_story(
        PROFESSIONALS.read_text(encoding="utf-8"),
        title="Moderator title",
        source="Wired",
        published="2026-05-10T08:00:00Z",
    )
    assert (story.title, story.source, story.published) == (
        "Moderator title",
        "Wired",
        date(2026, 5, 10),
    )
    assert story.updated == date(2026, 5, 11)


def test_unparseable_explicit_date_falls_back_to_the_text() -> None:
    story = parse_story("Headline Here\nPublished 3 March 2026\nBody.", published="soon")
    assert story.published == date(2026, 3, 3)


def test_front_matter_is_split_and_used() -> None:
    raw = (
        "---\n"
        'title: "Chips: The Sequel"\n'
        "publisher: Example News\n"
        "date: May 11, 2026\n"
        "url: https://example.com/chips?id=1\n"
        "---\n"
        "Nvidia shipped a new accelerator to cloud providers on Monday, the company said.\n"
    )
    meta, body = split_front_matter(raw)
    assert meta == {
        "title": "Chips: The Sequel",
        "publisher": "Example News",
        "date": "May 11, 2026",
        "url": "https://example.com/chips?id=1",
    }
    assert body.startswith("Nvidia shipped")
    story = parse_story(raw)
    assert (story.title, story.source, story.published) == (
        "Chips: The Sequel",
        "Example News",
        date(2026, 5, 11),
    )
    assert "url:" not in story.text
    assert story.summary == body.strip()


@pytest.mark.parametrize(
    "raw",
    [
        "No front matter\n---\ntitle: x\n---\n",
        "---\nnot a key value line\n---\nBody\n",
        "---\ntitle: never closed\nBody\n",
        "---\nNote: a story between two rules\n---\nBody\n",
        "",
    ],
)
def test_text_without_front_matter_is_unchanged(raw: str) -> None:
    assert split_front_matter(raw) == ({}, raw)


def test_front_matter_with_crlf_and_blank_lines() -> None:
    meta, body = split_front_matter("\r\n---\r\nTitle: A\r\n\r\nSource: B\r\n---\r\nText")
    assert meta == {"title": "A", "source": "B"}
    assert body == "Text"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-05-11", date(2026, 5, 11)),
        ("2026-05-11T10:00:00Z", date(2026, 5, 11)),
        ("2026/5/1", date(2026, 5, 1)),
        ("May 11, 2026", date(2026, 5, 11)),
        ("Updated May 11, 2026", date(2026, 5, 11)),
        ("Sept. 3, 2025", date(2025, 9, 3)),
        ("dec 1st 2024", date(2024, 12, 1)),
        ("11 May 2026", date(2026, 5, 11)),
        ("3rd of March, 2026", date(2026, 3, 3)),
        ("Mon, 11 May 2026 10:00:00 +0000", date(2026, 5, 11)),
        ("2026-02-30", None),
        ("February 30, 2026", None),
        ("Maybe 11, 2026", None),
        ("11/05/2026", None),  # day/month order is ambiguous
        ("", None),
        ("soon", None),
        ("x" * 10_000, None),
    ],
)
def test_parse_date(text: str, expected: date | None) -> None:
    assert parse_date(text) == expected


def test_tldr_on_one_line() -> None:
    story = parse_story("Some Headline Words\nTL;DR: Short version of the story. More.\nBody text.")
    assert story.summary == "Short version of the story. More."
    assert story.title == "Some Headline Words"


def test_empty_tldr_section_falls_back_to_the_lead() -> None:
    lead = "The lead paragraph says what happened and why readers should care about it."
    assert parse_story(f"TL;DR\n\nBackground\n{lead}").summary == lead


def test_long_lead_is_trimmed_at_a_sentence_boundary() -> None:
    first = "The first sentence of the lead explains what happened at the company this week."
    lead = " ".join([first] * 5)
    story = parse_story(f"A Headline\n{lead}")
    assert story.summary is not None
    assert len(story.summary) <= 300
    assert story.summary.endswith("this week.")
    assert lead.startswith(story.summary)


@pytest.mark.parametrize(
    "first_line",
    ["TL;DR", "Key Questions", "Why it matters", "A full sentence ends with a period.", "x" * 250],
)
def test_non_headline_first_lines_are_not_titles(first_line: str) -> None:
    assert parse_story(f"{first_line}\nBody text here.", fallback_title="fb").title == "fb"


def test_source_phrase_must_be_capitalised() -> None:
    assert parse_story("Title Line\nThis weekly brief covers chips.").source is None
    assert parse_story("Title Line\nThis Week brief covers chips.").source is None
    assert (
        parse_story("Title Line\nThis Morning Chip Report digest.").source == "Morning Chip Report"
    )


def test_faq_with_multi_paragraph_answers_ends_at_next_heading() -> None:
    raw = (
        "Headline For FAQ\n"
        "FAQ\n"
        "What shipped?\n"
        "A new model.\n\n"
        "It is faster.\n"
        "When?\n"
        "Today.\n\n"
        "About the author\n"
        "Jane writes about chips?\n"
        "Not an answer."
    )
    story = parse_story(raw)
    assert story.key_questions == (
        KeyQuestion("What shipped?", "A new model.\n\nIt is faster."),
        KeyQuestion("When?", "Today."),
    )


def test_question_without_answer_is_skipped() -> None:
    story = parse_story("Key questions:\nFirst?\nSecond?\nAnswer two.")
    assert story.key_questions == (KeyQuestion("Second?", "Answer two."),)


@pytest.mark.parametrize(
    ("label", "status"),
    [
        ("Editor reviewed", "verified"),
        ("Fact-checked", "verified"),
        ("Disputed", "disputed"),
        ("Retracted", "retracted"),
        ("AI-generated, not reviewed", "unreviewed"),
        ("Pending", None),
    ],
)
def test_review_labels_map_to_statuses(label: str, status: str | None) -> None:
    raw = f"Title Words\nReview status\n{label}\nConfidence\n70%\nThe story continues here."
    provenance = parse_story(raw).provenance
    assert provenance.review_label == label
    assert provenance.review_status == status
    assert provenance.confidence == 70


def test_key_questions_end_at_a_section_heading() -> None:
    raw = "Key Questions\nIs it out?\nYes, since May.\nWhat’s Next\nA launch in June is planned."
    assert parse_story(raw).key_questions == (KeyQuestion("Is it out?", "Yes, since May."),)


def test_non_ascii_digits_do_not_break_provenance() -> None:
    raw = "Sources reviewed\n²\nOfficial sources\n٣\nThe story text follows the widget here."
    provenance = parse_story(raw).provenance
    assert (provenance.sources_reviewed, provenance.official_sources) == (None, 3)


def test_out_of_range_confidence_is_ignored() -> None:
    raw = "Title Words\nConfidence: 150/100\nSources reviewed: 4\nBody."
    provenance = parse_story(raw).provenance
    assert (provenance.confidence, provenance.sources_reviewed) == (None, 4)


@pytest.mark.parametrize("raw", ["", "\x00\x01\x02", "\ufffd" * 50, "?\n" * 1000, "a" * 500_000])
def test_junk_input_does_not_raise(raw: str) -> None:
    story = parse_story(raw)
    assert story.summary is None or story.summary in story.text


_PAGE_LINES = st.sampled_from(
    [
        "",
        "TL;DR",
        "TL;DR: a one-line summary.",
        "Key Questions",
        "FAQ",
        "Is it true?",
        "Yes, it is.",
        "Updated May 11, 2026",
        "Review status",
        "Human reviewed",
        "Confidence",
        "85/100",
        "As an affiliate, we earn on qualifying purchases.",
        "More in Tech",
        "A sentence of the story that is long enough to count as real prose in the text.",
    ]
)


def _assert_verbatim(story: ParsedStory) -> None:
    """Assert the summary and every key-question answer are substrings of the text."""
    assert story.summary is None or story.summary in story.text
    for pair in story.key_questions:
        assert pair.answer in story.text
        assert pair.question in story.text


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_parse_story_survives_arbitrary_text(raw: str) -> None:
    _assert_verbatim(parse_story(raw))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(_PAGE_LINES, st.text(max_size=40)), max_size=40))
def test_parse_story_survives_page_like_text(lines: list[str]) -> None:
    _assert_verbatim(parse_story("\n".join(lines)))


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_parse_date_never_raises(text: str) -> None:
    result = parse_date(text)
    assert result is None or isinstance(result, date)
