"""Formatting: every payload within Discord's limits (property-tested) and nothing injectable."""

from __future__ import annotations

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
    assert "↳ verified · confidence 85/100 · 1 source reviewed" in embed.description
    assert embed.footer.text == "Answers quote indexed stories only. As of May 11, 2026."
