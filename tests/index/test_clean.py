"""Tests for index.clean: boilerplate goes, the story's own lines stay verbatim."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from index.clean import clean_text, find_provenance_widget, is_section_heading, normalize

ARTICLES = Path(__file__).resolve().parents[2] / "data" / "articles"
PROFESSIONALS = ARTICLES / "hollywood-professionals-ai-training-roles.txt"
WRITERS = ARTICLES / "hollywood-writers-ai-trainers.txt"

BOILERPLATE = (
    "As an affiliate",
    "FancyDove",
    "No Subscription & Lifetime Access",
    "Training Data for Machine Learning",
    "Data Labeling in Machine Learning",
    "content moderation training platform",
    "Log in with",
    "Loading comments",
    "More in Business",
    "Google Finance",
    "Fitbit",
    "Elon Musk",
    "Enterprises Scaling AI",
    "8h ago",
    "2h ago",
    "Share this story",
    "[email protected]",
    "If you spot an issue",
    "Sources reviewed",
    "Official sources",
    "Linked below for direct verification.",
    "Preferred when available.",
    "Review status",
    "AI-assisted draft, editor-approved publish.",
    "High confidence",
    "85/100 from the draft pipeline.",
)


@pytest.fixture(scope="module")
def professionals() -> tuple[str, str]:
    """Return the raw and cleaned first seed story."""
    raw = PROFESSIONALS.read_text(encoding="utf-8")
    return raw, clean_text(raw)


@pytest.fixture(scope="module")
def writers() -> tuple[str, str]:
    """Return the raw and cleaned second seed story."""
    raw = WRITERS.read_text(encoding="utf-8")
    return raw, clean_text(raw)


@pytest.mark.parametrize("junk", BOILERPLATE)
def test_seed_boilerplate_is_removed(
    junk: str, professionals: tuple[str, str], writers: tuple[str, str]
) -> None:
    raws = professionals[0] + writers[0]
    assert junk in raws  # the test means something only if the junk was there to begin with
    assert junk not in professionals[1]
    assert junk not in writers[1]


def test_first_seed_keeps_story_lines(professionals: tuple[str, str]) -> None:
    raw, text = professionals
    lines = text.split("\n")
    assert lines[0] == "Hollywood Professionals Transition to AI Training Roles"
    assert lines.count("Hollywood Professionals Transition to AI Training Roles") == 2
    assert lines.count("Why it matters") == 2
    for heading in ("What happened", "Context and caveats", "What to watch next"):
        assert heading in lines
    what_happened = next(ln for ln in raw.splitlines() if ln.startswith("According to a recent"))
    assert what_happened in lines
    assert "Updated May 11, 2026" in lines
    assert lines[-1].startswith("In conclusion, the transition of Hollywood professionals")
    # The sentence before the e-mail junk survives; only the junk sentence goes.
    kept = next(ln for ln in lines if ln.startswith("This story appears to rely mostly"))
    assert kept.endswith("treat it as a developing summary rather than a final word.")


def test_second_seed_keeps_story_lines(writers: tuple[str, str]) -> None:
    raw, text = writers
    lines = text.split("\n")
    start = raw.index("Key Questions")
    for line in raw[start:].splitlines():
        assert line.rstrip() in lines  # every question and answer, verbatim
    for heading in ("TL;DR", "Why It Matters", "Background", "What Remains Unclear", "What’s Next"):
        assert heading in lines
    assert raw.splitlines()[1] in lines  # the TL;DR paragraph
    assert any(ln.startswith("“Many of us are secretly training AI models") for ln in lines)
    assert any(ln.startswith("“These companies are hiring industry professionals") for ln in lines)
    assert "— Anonymous Hollywood writer" in lines
    assert any(ln.startswith("It is unclear how widespread") for ln in lines)
    assert any(ln.startswith("Industry insiders expect increased scrutiny") for ln in lines)


@pytest.mark.parametrize("path", [PROFESSIONALS, WRITERS])
def test_seed_kept_lines_are_raw_lines(path: Path) -> None:
    raw_lines = {line.rstrip() for line in path.read_text(encoding="utf-8").splitlines()}
    edited = "This story appears to rely mostly on secondary"
    for line in clean_text(path.read_text(encoding="utf-8")).split("\n"):
        if line and not line.startswith(edited):
            assert line in raw_lines


@pytest.mark.parametrize("path", [PROFESSIONALS, WRITERS])
def test_cleaning_is_idempotent_on_seeds(path: Path) -> None:
    once = clean_text(path.read_text(encoding="utf-8"))
    assert clean_text(once) == once


def test_normalises_line_endings_unicode_and_controls() -> None:
    raw = "Cafe\u0301 opens\r\nsecond\x00 line\rthird\tline \x07\n\n\n\nlast   "
    assert clean_text(raw) == "Café opens\nsecond line\nthird\tline\n\nlast"


def test_normalize_drops_lone_surrogates_and_bom() -> None:
    assert normalize("\ufeffa\ud800b\u2028c") == "ab\nc"


def test_affiliate_block_keeps_sentence_before_it() -> None:
    raw = (
        "The model shipped on Tuesday.\n"
        "Best Laptop Stand 2026 Edition\n"
        "Adjustable, foldable, and…\n"
        "We may earn a commission when you buy through links on our site.\n"
        "Next paragraph continues the story."
    )
    assert clean_text(raw) == "The model shipped on Tuesday.\nNext paragraph continues the story."


def test_ad_walk_back_is_limited_and_spares_headings() -> None:
    notice = "As an Amazon Associate I earn from qualifying purchases."
    raw = f"Background\nOne\nTwo\nThree\nFour\n{notice}"
    assert clean_text(raw) == "Background\nOne"
    assert clean_text("Background\nAs an affiliate, we earn on qualifying purchases.") == (
        "Background"
    )


def test_more_from_list_is_removed_until_prose() -> None:
    raw = (
        "The chip is faster than last year's model.\n"
        "More from Tech\n\n"
        "Startup raises $40M for robot arms\n"
        "The company says its arms learn from video and…\n"
        "3 days ago\n"
        "Yesterday's teaser\n"
        "45m ago\n\n"
        "Analysts said the launch would reshape the market for data-centre accelerators this year."
    )
    assert clean_text(raw) == (
        "The chip is faster than last year's model.\n"
        "Analysts said the launch would reshape the market for data-centre accelerators this year."
    )


def test_related_list_stops_at_a_section_heading() -> None:
    raw = "Body text.\nRelated stories\nA teaser title\nKey Questions\nIs it out?\nYes."
    assert clean_text(raw) == "Body text.\nKey Questions\nIs it out?\nYes."


def test_repeated_disclaimer_line_is_kept_once() -> None:
    notice = "Subscribe to the weekly digest to get these stories in your inbox."
    raw = f"{notice}\nThe story itself.\n{notice}\nShort line\nShort line"
    assert clean_text(raw) == f"{notice}\nThe story itself.\nShort line\nShort line"


def test_repeated_headline_is_kept() -> None:
    title = "A Long Headline That Appears Twice On The Scraped Page"
    raw = f"{title}\nUpdated May 1, 2026\n{title}\nBody."
    assert clean_text(raw).split("\n").count(title) == 2


def test_widgets_are_removed_case_insensitively() -> None:
    raw = "Story line.\nSHARE\n  Leave a comment  \n12 Comments\nLoading comments...\nEnd."
    assert clean_text(raw) == "Story line.\nEnd."


def test_junk_sentence_alone_drops_the_line() -> None:
    raw = "Before.\nIf you spot an error, email [email protected].\nAfter."
    assert clean_text(raw) == "Before.\nAfter."


FURNITURE = (
    "1. How relevant is this ad to you?",
    "Video player was slow to load content Video content never loaded Ad froze or did not finish"
    " loading Other issues",
    "Get the Health Desk's weekly newsletter Sign up here to get the answers with Dr. Jane Roe"
    " every Tuesday.",
    "Sign up for our Wonder science newsletter. Explore the universe with news on discoveries.",
    "Need a break? Play the Daily Crossword Puzzle.",
    "Prep for the polls: See who is running and where they stand in our Voter Guide",
    "Ann Example covers trending news for the Gazette. Reach her at aexample@gazette.test",
    "Journalism like this takes time and resources. Please support it with a subscription here.",
    "What's the weather today? Check your local forecast here>>>",
    # A video player's caption: the label, another story's title, its length and source.
    "Video Ad Feedback 'I'm a little verklempt': Analyst on new images 03:50 - Source: CNN",
    "Video Ad Feedback 02:33 - Source: CNN Very hot temperatures for the West Coast",
)


@pytest.mark.parametrize("line", FURNITURE)
def test_page_furniture_lines_are_removed_whole(line: str) -> None:
    raw = f"The council voted on Tuesday.\n\n{line}\n\nThe vote passed 7 to 2."
    assert clean_text(raw) == "The council voted on Tuesday.\n\nThe vote passed 7 to 2."


def test_a_page_of_only_the_players_ad_form_leaves_nothing_to_quote() -> None:
    assert clean_text(f"{FURNITURE[0]}\n\n{FURNITURE[1]}") == ""


def test_prose_about_signing_up_is_kept() -> None:
    raw = (
        "Borrowers can sign up for updates at the department's subscriptions page.\n"
        "Netflix will launch a cheaper plan with ads, and viewers can sign up in November.\n"
        "Lopez confirmed the wedding in her newsletter on Sunday."
    )
    assert clean_text(raw) == raw


def test_furniture_inside_a_long_paragraph_goes_alone() -> None:
    story = "The launch was delayed twice by weather before the rocket finally lifted off. " * 4
    raw = f"{story}Sign up here for our space newsletter. It reached orbit at 9:14 a.m."
    assert clean_text(raw) == f"{story}It reached orbit at 9:14 a.m."


@pytest.mark.parametrize(
    "line",
    [
        "More:Camden homicides fall sharply, despite more shootings",
        "Student loans:Payments are set to restart in 2023.",
        "Meta layoffs:Facebook parent company to lay off more than 11,000 employees",
        "Fact check:No, the senator's brother-in-law does not own the company",
        "REVIEW:Innings Festival draws to a triumphant close",
        "Editor’s note:Tickets for the tour went on sale on Friday.",
    ],
)
def test_links_to_other_stories_glued_to_a_label_are_removed(line: str) -> None:
    raw = f"The council voted on Tuesday.\n\n{line}\n\nThe vote passed 7 to 2."
    assert clean_text(raw) == "The council voted on Tuesday.\n\nThe vote passed 7 to 2."


def test_colons_in_prose_times_and_long_lines_are_kept() -> None:
    raw = (
        "The mayor had one message: Stay home.\n"
        "Doors open at 10:30 and the show starts at 11:00.\n"
        "Verse John 3:16 was read aloud at the service.\n"
        + "Meet the Starship:It is larger than the SLS. Will it fly? "
        * 4
    )
    assert clean_text(raw) == raw.rstrip()


def test_provenance_widget_is_found_and_removed() -> None:
    body = "The body of the story goes on after the widget with a full sentence."
    lines = ["Intro.", "Review status: Unreviewed", "Confidence", "40/100", body]
    widget = find_provenance_widget(lines)
    assert widget is not None
    assert (widget.start, widget.end) == (1, 4)
    assert widget.fields == {"review status": ("Unreviewed",), "confidence": ("40/100",)}
    assert clean_text("\n".join(lines)) == f"Intro.\n{body}"


def test_a_lone_confidence_heading_is_not_a_widget() -> None:
    raw = "Confidence\nInvestors regained confidence after the launch."
    assert find_provenance_widget(raw.split("\n")) is None
    assert clean_text(raw) == raw


def test_section_headings() -> None:
    assert is_section_heading("What’s Next:")
    assert is_section_heading("  KEY QUESTIONS ")
    assert not is_section_heading("Hollywood Professionals Transition to AI Training Roles")


def test_empty_and_blank_input() -> None:
    assert clean_text("") == ""
    assert clean_text("\n \n\t\n") == ""


def test_huge_line_is_kept() -> None:
    line = "word " * 200_000
    assert clean_text(line) == line.rstrip()


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_clean_text_never_raises_on_arbitrary_text(raw: str) -> None:
    text = clean_text(raw)
    assert "\r" not in text
    assert "\n\n\n" not in text
    assert text == text.strip("\n")


_LINES = st.sampled_from(
    [
        "",
        "Share",
        "As an affiliate, we earn on qualifying purchases.",
        "Some product title",
        "More in Tech",
        "8h ago",
        "A sentence of the story that is long enough to count as real prose in the text.",
        "Why it matters",
        "Short teaser…",
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_LINES, max_size=30))
def test_cleaning_page_like_text_is_idempotent(lines: list[str]) -> None:
    once = clean_text("\n".join(lines))
    assert clean_text(once) == once
