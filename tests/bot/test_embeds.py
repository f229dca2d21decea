"""Formatting: every payload within Discord's limits (property-tested) and nothing injectable."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import limits
from bot.digest_embeds import digest_messages
from bot.embeds import (
    answer_embed,
    choice_name,
    duplicate_embed,
    removal_embed,
    review_embed,
    story_info_embed,
    story_list_embed,
    story_preview_embed,
)
from bot.limits import embed_problems, message_problems
from index.digest import AskedQuestion, Digest, DigestStory
from index.models import (
    Answer,
    Article,
    Citation,
    Excerpt,
    KeyQuestion,
    Provenance,
    Suggestion,
)

FAST = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Hostile text: long, multi-line, Markdown, mentions, masked links, astral characters.
NASTY = st.sampled_from(
    ["@everyone", "@here", "<@123456789012345678>", "<@&123456789012345678>", "<#123>",
     "[click](https://evil.example)", "**bold**", "# heading", "> quote", "```code```",
     "||spoiler||", "\n", "`", "\\", "_", "😀", "https://a.example/x_y"]
)  # fmt: skip
TEXT = st.lists(st.one_of(st.text(max_size=400), NASTY), max_size=12).map("".join)
LONG_TEXT = st.one_of(TEXT, st.integers(0, 9000).map(lambda n: "x" * n))
URL = st.one_of(
    st.none(),
    st.just("https://example.com/story"),
    st.text(max_size=60).map(lambda t: "https://example.com/" + t),
    st.integers(0, 3000).map(lambda n: "https://example.com/" + "a" * n),
    st.text(max_size=200),
)
DAY = st.one_of(st.none(), st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 1, 1)))
PROVENANCE = st.builds(
    Provenance,
    review_status=st.sampled_from([None, "unreviewed", "verified", "disputed", "retracted"]),
    review_label=st.one_of(st.none(), TEXT),
    confidence=st.one_of(st.none(), st.integers(0, 100)),
    sources_reviewed=st.one_of(st.none(), st.integers(0, 10**6)),
    note=st.one_of(st.none(), LONG_TEXT),
    reviewed_by=st.one_of(st.none(), LONG_TEXT),
    reviewed_at=st.one_of(st.none(), st.just(datetime(2026, 5, 12, 9, tzinfo=UTC))),
)


@st.composite
def answers(draw: st.DrawFn) -> Answer:
    n = draw(st.integers(0, 40))
    citations = tuple(
        Citation(
            n=i + 1,
            article_id=f"a{i}",
            title=draw(LONG_TEXT),
            url=draw(URL),
            source=draw(st.one_of(st.none(), LONG_TEXT)),
            published=draw(DAY),
            excerpts=(draw(LONG_TEXT) or "x",),
            provenance=draw(PROVENANCE),
        )
        for i in range(n)
    )
    excerpts = tuple(Excerpt(c.excerpt, c.n) for c in citations)
    suggestions = tuple(
        Suggestion(f"s{i}", draw(LONG_TEXT), draw(URL), draw(DAY))
        for i in range(draw(st.integers(0, 30)))
    )
    return Answer(
        question=draw(LONG_TEXT), refused=draw(st.booleans()) or not citations,
        excerpts=excerpts, citations=citations, suggestions=suggestions,
    )  # fmt: skip


@st.composite
def articles(draw: st.DrawFn, max_key_questions: int = 40) -> Article:
    n_kqs = draw(st.integers(0, max_key_questions))
    kqs = tuple(KeyQuestion(draw(LONG_TEXT), draw(LONG_TEXT)) for _ in range(n_kqs))
    return Article(
        id=draw(st.text("abcdef0123456789", min_size=1, max_size=64)), title=draw(LONG_TEXT),
        text=draw(LONG_TEXT), url=draw(URL), source=draw(st.one_of(st.none(), LONG_TEXT)),
        published=draw(DAY), updated=draw(DAY), summary=draw(st.one_of(st.none(), LONG_TEXT)),
        key_questions=kqs, provenance=draw(PROVENANCE),
        added_at=datetime(2026, 5, 1, tzinfo=UTC), added_by=draw(st.one_of(st.none(), LONG_TEXT)),
        chunk_count=draw(st.integers(0, 10**6)),
    )  # fmt: skip


@st.composite
def digests(draw: st.DrawFn) -> Digest:
    stories = tuple(
        DigestStory(
            f"a{i}",
            draw(LONG_TEXT),
            draw(st.one_of(st.none(), LONG_TEXT)),
            draw(DAY),
            draw(URL),
            draw(st.one_of(st.none(), LONG_TEXT)),
            draw(st.one_of(st.none(), LONG_TEXT)),
        )
        for i in range(draw(st.integers(0, 60)))
    )
    top = tuple(AskedQuestion(draw(LONG_TEXT), draw(st.integers(2, 10**6))) for _ in range(5))
    end = datetime(2026, 5, 11, 9, tzinfo=UTC)
    return Digest(
        start=end - timedelta(days=draw(st.integers(1, 400))), end=end,
        timezone=draw(st.sampled_from(["UTC", "Europe/Paris", "Pacific/Kiritimati"])),
        stories=stories, question_count=draw(st.integers(0, 10**9)), top_questions=top,
    )  # fmt: skip


@FAST
@given(answers())
def test_answer_embeds_respect_every_limit(answer: Answer) -> None:
    embed = answer_embed(answer)
    assert message_problems(None, [embed]) == []
    assert "@everyone" not in (embed.description or "") + (embed.title or "")


@FAST
@given(articles(), st.sampled_from(["added", "updated", "unchanged"]))
def test_story_embeds_respect_every_limit(article: Article, outcome: str) -> None:
    for embed in (
        story_preview_embed(article, outcome),  # type: ignore[arg-type]
        duplicate_embed(article),
        removal_embed(article),
        story_info_embed(article),
        review_embed(article),
    ):
        assert message_problems(None, [embed]) == []
    assert len(choice_name(article.title, article.date)) <= limits.CHOICE_NAME


@FAST
@given(st.lists(articles(max_key_questions=0), max_size=30), st.integers(-3, 5))
def test_story_list_pages_respect_every_limit(items: list[Article], page: int) -> None:
    assert embed_problems(story_list_embed(items, page)) == []


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(digests(), st.one_of(st.none(), st.integers(1, 2**63)))
def test_digest_messages_respect_every_limit(digest: Digest, role_id: int | None) -> None:
    messages = digest_messages(digest, role_id)
    for message in messages:
        assert message_problems(message.content, message.embeds) == []
    shown = sum(len(e.fields) for m in messages for e in m.embeds)
    assert shown == len(digest.stories) + 1  # every story, plus the questions field
    pinging = [m for m in messages if m.allowed_mentions.to_dict().get("roles")]
    assert len(pinging) <= 1


def test_answer_embed_layout() -> None:
    citation = Citation(
        n=1, article_id="a", title="Title *with* @everyone", url="https://example.com/a_b",
        source="Pub", published=date(2026, 5, 11), excerpts=("It <@&123456789012345678> said.",),
        provenance=Provenance(review_status="verified", confidence=85, sources_reviewed=1),
    )  # fmt: skip
    answer = Answer("Q?", False, (Excerpt(citation.excerpt, 1),), (citation,))
    embed = answer_embed(answer)
    assert embed.description.startswith(
        "\u201cIt <\u200b@\u200b&123456789012345678> said.\u201d [1]"
    )
    assert (
        "[1] **Title \\*with\\* @\u200beveryone** — Pub, May 11, 2026 — <https://example.com/a_b>"
        in (embed.description)
    )
    assert "↳ ✅ verified · 85/100 · 1 source" in embed.description
    assert "disputed" not in embed.description
    assert embed.footer.text == "Answers quote indexed stories only. As of May 11, 2026."


def test_a_quote_across_paragraphs_is_one_line_of_the_embed() -> None:
    text = "Writers *train* AI.\n\nPay is up to $150 per hour."
    bold = ((text.index("$150"), len(text) - 1),)
    cited = Citation(1, "a", "T", None, "Pub", None, (text,))
    embed = answer_embed(Answer("Q?", False, (Excerpt(text, 1, bold),), (cited,)))
    assert (embed.description or "").split("\n")[0] == (
        "\u201cWriters \\*train\\* AI. Pay is up to **$150 per hour**.\u201d [1]"
    )


def test_disputed_citation_is_marked_on_its_excerpts_and_its_source_line() -> None:
    disputed = Provenance(
        review_status="disputed", confidence=40, sources_reviewed=1,
        note="Figures **not** confirmed @everyone", reviewed_by="mod",
        reviewed_at=datetime(2026, 5, 12, tzinfo=UTC),
    )  # fmt: skip
    cited = [
        Citation(1, "a", "Verified story", None, "Pub", date(2026, 5, 11), ("It said so.",),
                 Provenance(review_status="verified", confidence=85, sources_reviewed=1)),
        Citation(2, "b", "Disputed story", None, "Pub", date(2026, 5, 10), ("It said otherwise.",),
                 disputed),
    ]  # fmt: skip
    excerpts = (Excerpt("It said so.", 1), Excerpt("It said otherwise.", 2))
    embed = answer_embed(Answer("Q?", False, excerpts, tuple(cited)))
    body = embed.description
    assert body.startswith(
        "\u201cIt said so.\u201d [1]\n\u201cIt said otherwise.\u201d [2] (⚠️ disputed)"
    )
    assert "↳ ✅ verified · 85/100 · 1 source\n" in body
    assert (
        "↳ ⚠️ disputed · 40/100 · 1 source — Figures \\*\\*not\\*\\* confirmed @\u200beveryone"
        in body
    )


def test_retracted_story_is_marked_in_list_and_info() -> None:
    retracted = Article(
        id="abc", title="Pulled story", text="Text of the story.",
        provenance=Provenance(review_status="retracted", note="Source withdrew it",
                              reviewed_by="mod", reviewed_at=datetime(2026, 5, 12, tzinfo=UTC)),
        added_at=datetime(2026, 5, 1, tzinfo=UTC), added_by="ann",
    )  # fmt: skip
    listed = story_list_embed([retracted], 0)
    assert "`abc` · ⛔ retracted" in listed.description
    info = story_info_embed(retracted)
    assert info.description.startswith("⛔ **Retracted**: answers never quote or cite this story.")
    fields = {f.name: f.value for f in info.fields}
    assert fields["Review"] == "⛔ retracted by mod, May 12, 2026"
    assert fields["Review note"] == "Source withdrew it"


def test_answer_embed_dates_excerpts_shows_disagreements_and_stale_note() -> None:
    from index.models import Claim, Disagreement

    cited = (
        Citation(1, "a", "New", None, "Pub", date(2026, 9, 14), ("Pay is $200 per hour now.",)),
        Citation(2, "b", "Old", None, "Pub", date(2026, 1, 5), ("Pay is $150 per hour now.",)),
    )
    excerpts = (Excerpt("Pay is $200 per hour now.", 1), Excerpt("Pay is $150 per hour now.", 2))
    differ = Disagreement(
        "figure",
        ("hour", "pay"),
        (Claim(1, "$200", date(2026, 9, 14)), Claim(2, "$150", date(2026, 1, 5))),
    )
    answer = Answer("Q?", False, excerpts, cited, disagreements=(differ,), stale_days=70)
    embed = answer_embed(answer)
    body = embed.description or ""
    assert body.startswith(
        "\u201cPay is $200 per hour now.\u201d [1] (Sep 14, 2026)\n"
        "\u201cPay is $150 per hour now.\u201d [2] (Jan 5, 2026)\n\n"
        "⚖️ Sources differ: [1] says $200 (Sep 14, 2026); [2] says $150 (Jan 5, 2026)."
    )
    footer = embed.footer.text or ""
    assert "As of Sep 14, 2026." in footer and "70 days old" in footer
    # Close dates: no per-excerpt dates; no disagreement, no note.
    near = tuple(replace(c, published=date(2026, 9, 1 + c.n)) for c in cited)
    plain = answer_embed(Answer("Q?", False, excerpts, near)).description or ""
    assert "(Sep" not in plain.split("**Sources**")[0] and "⚖️" not in plain


def test_a_blank_review_note_adds_no_empty_field() -> None:
    # Found by the property test above: Discord rejects an embed field with an empty value.
    from index.models import Article, Provenance
    from index.present import provenance_note

    blank = Provenance(review_status="disputed", note="  \n ")
    article = Article(id="a", title="T", text="x", provenance=blank)
    for embed in (story_info_embed(article), review_embed(article)):
        assert message_problems(None, [embed]) == []
    assert provenance_note(blank) == "⚠️ disputed"
