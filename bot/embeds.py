"""Pure formatting: core results in, Discord embeds within every limit out."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Literal

import discord

from bot import limits
from bot.text import (
    escape_text,
    fit_lines,
    link,
    one_line,
    pages_needed,
    safe,
    safe_url,
    truncate,
    when,
)
from index.models import Answer, Article, Citation, Provenance
from index.present import (
    also_reported_line,
    disagreement_line,
    disputed_mark,
    provenance_note,
    quote_body,
    status_label,
)

FOOTER = "Answers quote indexed stories only."
COLOUR = discord.Colour.blurple()
REFUSED_COLOUR = discord.Colour.light_grey()
TITLE_CHARS = 150  # a story title inside a line
PUBLISHER_CHARS = 80
PREVIEW_CHARS = 600  # "first lines" of a story preview
SOURCES_MIN_BUDGET = 1500  # room kept for the sources under a long answer
LIST_PAGE_SIZE = 10
KQ_ANSWER_CHARS = 400  # per Key Question in /story info, so several fit in one embed
RETRACTED_BANNER = "⛔ **Retracted**: answers never quote or cite this story."
REVIEW_COLOURS = {
    "verified": discord.Colour.green(),
    "disputed": discord.Colour.orange(),
    "retracted": discord.Colour.red(),
}


def question_title(question: str) -> str:
    """Return the question as an embed title."""
    return safe(question, limits.EMBED_TITLE, "Question")


def citation_line(c: Citation) -> str:
    """Return '[n] title — publisher, date — <link>' and a compact provenance note."""
    title = safe(c.title, TITLE_CHARS, "Untitled story")
    source = safe(c.source, PUBLISHER_CHARS, "publisher not stated")
    line = f"[{c.n}] **{title}** — {source}, {when(c.published)} — {link(c.url)}"
    note = provenance_note(c.provenance)
    line = f"{line}\n    ↳ {escape_text(note)}" if note else line
    others = also_reported_line(c.also_reported, lambda n: safe(n, PUBLISHER_CHARS), link)
    return f"{line}\n    ↳ {others}" if others else line


def answer_text(answer: Answer) -> str:
    """Return the answer's escaped excerpts, one a line, each followed by its [n] marker, its
    story's date when the stories span months, and ⚠️ if disputed; then where sources differ."""
    marks = {c.n: disputed_mark(c.provenance) for c in answer.citations}
    dates = {
        c.n: f" ({when(c.published)})" if answer.spans_months else "" for c in answer.citations
    }
    lines = [
        f"\u201c{quote_body(e.text, e.bold, escape_text)}\u201d [{e.n}]"
        f"{dates.get(e.n, '')}{marks.get(e.n, '')}"
        for e in answer.excerpts
    ]
    if answer.disagreements:
        lines.append("")
        lines += [f"⚖️ {escape_text(disagreement_line(d))}" for d in answer.disagreements]
    return "\n".join(lines)


def _description(body: str, heading: str, lines: Sequence[str]) -> str:
    """Return body then a list under a heading, both cut to share the description limit."""
    if not lines:
        return truncate(body, limits.EMBED_DESCRIPTION)
    full_list = fit_lines(lines, limits.EMBED_DESCRIPTION)
    room = limits.EMBED_DESCRIPTION - len(body) - len(heading) - 4
    if len(full_list) <= room:
        listed = full_list
    else:
        listed = fit_lines(lines, max(room, SOURCES_MIN_BUDGET))
    body = truncate(body, limits.EMBED_DESCRIPTION - len(listed) - len(heading) - 4)
    return f"{body}\n\n{heading}\n{listed}"


def answer_embed(answer: Answer) -> discord.Embed:
    """Return the embed of an answer (or of a refusal) with its numbered sources."""
    if answer.refused:
        return refusal_embed(answer)
    lines = [citation_line(c) for c in answer.citations]
    embed = discord.Embed(
        title=question_title(answer.question),
        description=_description(answer_text(answer), "**Sources**", lines),
        colour=COLOUR,
    )
    as_of = f" As of {when(answer.as_of)}." if answer.as_of else ""
    if answer.stale_days:
        as_of += f" The newest story cited is {answer.stale_days} days old."
    if answer.follows_up:  # footers render no Markdown and ping no one: the text as typed
        as_of += f" Read as a follow-up to: {truncate(one_line(answer.follows_up), 120)}"
    return embed.set_footer(text=FOOTER + as_of)


def refusal_embed(answer: Answer) -> discord.Embed:
    """Return the embed that says plainly the stories do not cover a question."""
    untitled = "Untitled story"
    lines = [
        f"• **{safe(s.title, TITLE_CHARS, untitled)}** — {when(s.published)} — {link(s.url)}"
        for s in answer.suggestions
    ]
    embed = discord.Embed(
        title=question_title(answer.question),
        description=_description(answer.text, "**Nearest stories**", lines),
        colour=REFUSED_COLOUR,
    )
    return embed.set_footer(text=FOOTER)


# -- stories ------------------------------------------------------------------------------------


def story_title(article: Article) -> str:
    """Return a story's title for an embed title."""
    return safe(article.title, limits.EMBED_TITLE, "Untitled story")


def first_lines(text: str, limit: int = PREVIEW_CHARS) -> str:
    """Return the opening lines of a story, escaped and cut to `limit` characters."""
    lines = [line.strip() for line in text.splitlines() if line.strip()][:4]
    return truncate(escape_text("\n".join(lines)), limit) or "(no text)"


def _story_embed(article: Article, colour: discord.Colour) -> discord.Embed:
    """Return an embed titled (and linked) with the story."""
    return discord.Embed(title=story_title(article), url=safe_url(article.url), colour=colour)


def _added(article: Article) -> str:
    """Return 'May 3, 2026 by someone'."""
    day = when(article.added_at.date()) if article.added_at else "an unknown date"
    return f"{day} by {safe(article.added_by, 100, 'an unknown moderator')}"


Outcome = Literal["added", "updated", "unchanged"]


def story_preview_embed(article: Article, outcome: Outcome) -> discord.Embed:
    """Return the preview shown after a story was indexed."""
    verb = {"added": "Added", "updated": "Replaced", "unchanged": "Already up to date"}[outcome]
    embed = _story_embed(article, discord.Colour.green())
    embed.description = first_lines(article.text)
    embed.add_field(name="Publisher", value=safe(article.source, 200, "not stated"))
    embed.add_field(name="Date", value=when(article.date))
    embed.add_field(name="Chunks indexed", value=str(article.chunk_count))
    embed.add_field(name="Link", value=link(article.url), inline=False)
    return embed.set_footer(text=f"{verb} · id {article.id}")


def duplicate_embed(article: Article) -> discord.Embed:
    """Return the notice that a story is already indexed, by whom and when."""
    embed = _story_embed(article, discord.Colour.orange())
    embed.description = (
        f"This story is already indexed: added {_added(article)}.\n"
        "Replace it with the version you just gave?"
    )
    embed.add_field(name="Publisher", value=safe(article.source, 200, "not stated"))
    embed.add_field(name="Date", value=when(article.date))
    embed.add_field(name="Chunks indexed", value=str(article.chunk_count))
    return embed.set_footer(text=f"id {article.id}")


def removal_embed(article: Article) -> discord.Embed:
    """Return the question asked before a story is removed."""
    embed = _story_embed(article, discord.Colour.red())
    embed.description = (
        f"Remove this story and its {article.chunk_count} indexed chunks? "
        f"It was added {_added(article)}. Answers will no longer quote it."
    )
    return embed.set_footer(text=f"id {article.id}")


def removed_embed(article: Article) -> discord.Embed:
    """Return the confirmation that a story was removed."""
    embed = discord.Embed(title="Story removed", colour=discord.Colour.red())
    embed.description = f"**{story_title(article)}** is no longer indexed."
    return embed.set_footer(text=f"id {article.id}")


def review_value(p: Provenance) -> str:
    """Return a story's review: a moderator's status, by whom and when, or the page's own words."""
    if p.reviewed_at is None:
        return safe(p.review_label or p.review_status, 200, "not stated")
    who = safe(p.reviewed_by, 100, "a moderator")
    return f"{status_label(p)} by {who}, {when(p.reviewed_at.date())}"


def story_info_embed(article: Article) -> discord.Embed:
    """Return a story's metadata, provenance, Key Questions and chunk count."""
    embed = _story_embed(article, COLOUR)
    embed.description = safe(article.summary, 1000, "") or first_lines(article.text, 1000)
    p = article.provenance
    if p.retracted:
        embed.description = f"{RETRACTED_BANNER}\n\n{embed.description}"
    rows = [
        ("Publisher", safe(article.source, 200, "not stated")),
        ("Published", when(article.published)),
        ("Updated", when(article.updated)),
        ("Added", _added(article)),
        ("Chunks", str(article.chunk_count)),
        ("Link", link(article.url)),
        ("Review", review_value(p)),
        ("Confidence", f"{p.confidence}/100" if p.confidence is not None else "not stated"),
        ("Sources reviewed", str(p.sources_reviewed) if p.sources_reviewed is not None else "—"),
    ]
    if p.note and p.note.strip():
        rows.append(("Review note", safe(p.note, 400)))
    for name, value in rows:
        embed.add_field(name=name, value=value, inline=name not in ("Link", "Review note"))
    _add_key_questions(embed, article)
    return embed.set_footer(text=f"id {article.id}")


def review_embed(article: Article, *, cleared: bool = False) -> discord.Embed:
    """Return the confirmation of a moderator's review (or of its removal), with what answers
    now do."""
    p = article.provenance
    embed = _story_embed(article, REVIEW_COLOURS.get(p.review_status or "", COLOUR))
    effect = {
        "retracted": RETRACTED_BANNER,
        "disputed": "Answers still cite this story, marked ⚠️ disputed.",
    }.get(p.review_status or "", "Answers cite this story with its review.")
    confidence = f" · {p.confidence}/100" if p.confidence is not None else ""
    shown = f"**{status_label(p)}{confidence}**" if p.review_status else "nothing stated"
    heading = "Review cleared; the story's own provenance applies" if cleared else "Review recorded"
    embed.description = f"{heading}: {shown}\n{effect}"
    if p.note and p.note.strip():
        embed.add_field(name="Note", value=safe(p.note, 400), inline=False)
    embed.add_field(name="Reviewed", value=review_value(p), inline=False)
    return embed.set_footer(text=f"id {article.id}")


def _add_key_questions(embed: discord.Embed, article: Article) -> None:
    """Add the story's Key Questions as fields while the embed stays within its limits."""
    kqs = article.key_questions
    for i, kq in enumerate(kqs):
        name = truncate("Q: " + safe(kq.question, limits.FIELD_NAME), limits.FIELD_NAME)
        value = safe(kq.answer, KQ_ANSWER_CHARS, "(no answer given)")
        full = len(embed.fields) >= limits.EMBED_FIELDS - 1
        if full or len(embed) + len(name) + len(value) > limits.MESSAGE_EMBEDS_TOTAL - 100:
            embed.add_field(name="More Key Questions", value=f"{len(kqs) - i} not shown")
            return
        embed.add_field(name=name, value=value, inline=False)


def story_list_embed(articles: Sequence[Article], page: int) -> discord.Embed:
    """Return one page (0-based) of the story list, newest first."""
    pages = page_count(len(articles))
    page = min(max(page, 0), pages - 1)
    start = page * LIST_PAGE_SIZE
    lines = [
        f"**{start + i + 1}.** {safe(a.title, TITLE_CHARS, 'Untitled story')} — "
        f"{safe(a.source, PUBLISHER_CHARS, 'publisher not stated')}, {when(a.date)}\n"
        f"    added {_added(a)} · `{a.id}`{_listed_status(a.provenance)}"
        for i, a in enumerate(articles[start : start + LIST_PAGE_SIZE])
    ]
    embed = discord.Embed(
        title=f"Indexed stories ({len(articles)})",
        description=fit_lines(lines, limits.EMBED_DESCRIPTION) or "No stories are indexed yet.",
        colour=COLOUR,
    )
    return embed.set_footer(text=f"Page {page + 1}/{pages} · newest first")


def _listed_status(p: Provenance) -> str:
    """Return ' · ⛔ retracted' for the story list (moderated statuses only, to stay short)."""
    return f" · {status_label(p)}" if p.review_status in ("retracted", "disputed") else ""


def page_count(n_items: int) -> int:
    """Return how many pages n stories need (at least one)."""
    return pages_needed(n_items, LIST_PAGE_SIZE)


def choice_name(title: str, day: date | None) -> str:
    """Return an autocomplete label: 'title (date)' within Discord's 100 characters."""
    suffix = f" ({when(day)})"
    title = " ".join(title.split()) or "Untitled story"
    return truncate(title, limits.CHOICE_NAME - len(suffix)) + suffix
