"""Pure formatting of /feedback: answers members marked unhelpful, a page at a time."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot import limits
from bot.text import member_text, pages_needed, safe, truncate, when
from index.feedback import NegativeAnswer

COLOUR = discord.Colour.orange()
PAGE_SIZE = 4  # 4 fields of at most 256 + 1,024 characters stay under the 6,000 total
EMPTY_NOTE = "No answer has been marked unhelpful yet."
_TITLE_CHARS = 120  # a cited story's title inside a line
_REASON_CHARS = 300


def page_count(n_items: int) -> int:
    """Return how many pages n answers need (at least one)."""
    return pages_needed(n_items, PAGE_SIZE)


def negative_field(item: NegativeAnswer) -> tuple[str, str]:
    """Return an answer's field: the question; votes, dates, cited stories and reasons."""
    name = member_text(item.question, limits.FIELD_NAME, "Question")
    outcome = "refused" if item.refused else "answered"
    head = (
        f"👎 ×{item.downvotes} · last {when(item.last_vote_at.date())} · "
        f"asked {when(item.asked_at.date())} · {outcome} · #{item.question_id}"
    )
    if item.private:
        head += " · asked privately"
    lines = [head]
    if item.cited_titles:
        titles = "; ".join(safe(t, _TITLE_CHARS, "Untitled story") for t in item.cited_titles)
        lines.append(f"**Cited:** {titles}")
    lines.extend(f"• “{member_text(reason, _REASON_CHARS)}”" for reason in item.reasons)
    if not item.reasons:
        lines.append("• (no reason given)")
    return name, truncate("\n".join(lines), limits.FIELD_VALUE)


def negative_feedback_embed(items: Sequence[NegativeAnswer], page: int) -> discord.Embed:
    """Return one page (0-based) of the answers marked unhelpful, newest 👎 first."""
    pages = page_count(len(items))
    page = min(max(page, 0), pages - 1)
    embed = discord.Embed(title=f"Answers marked unhelpful ({len(items)})", colour=COLOUR)
    shown = items[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    if not shown:
        embed.description = EMPTY_NOTE
    for item in shown:
        name, value = negative_field(item)
        embed.add_field(name=name, value=value, inline=False)
    return embed.set_footer(text=f"Page {page + 1}/{pages} · newest 👎 first")
