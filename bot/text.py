"""Make untrusted text safe and short enough for Discord: escaping, truncation, links, dates."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date
from urllib.parse import urlsplit

import discord

ELLIPSIS = "…"
ZWSP = "\u200b"  # zero-width space: breaks a syntax without changing what a reader sees
MAX_LINK = 512  # longer links are not shown (a cut link is a wrong link)

# "<" starting mention-like syntax: <@id> <@!id> <@&id> <#id> <t:..> </cmd:id> <:emoji:id> <a:..>
_ANGLE_SYNTAX = re.compile(r"<(?=[@#:/]|[at]:)")
_MASKED_LINK = re.compile(r"\]\s*\(")
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
_BAD_URL_CHARS = re.compile(r"[\s<>\"'`\\\x00-\x1f\x7f]")
# Invites are linked even without a scheme ("discord.gg/abc").
_INVITE = re.compile(r"(?i)\b(discord(?:app)?)\.(?=(?:gg|com|io|me|li)/)")


def escape_text(text: str) -> str:
    """Return text that renders literally: no Markdown, mentions, masked links, tags or
    direction overrides (which make a title or question read differently from what it says)."""
    text = _BIDI.sub("", text)
    text = discord.utils.escape_markdown(text)
    text = discord.utils.escape_mentions(text)
    text = _ANGLE_SYNTAX.sub("<" + ZWSP, text)
    # escape_markdown backslashes a masked link's "[", but only when it matches on one line.
    return _MASKED_LINK.sub("]" + ZWSP + "(", text)


def truncate(text: str, limit: int) -> str:
    """Return text cut to at most `limit` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS if limit > 0 else ""


def one_line(text: str) -> str:
    """Return text with every run of whitespace (newlines too) collapsed to one space."""
    return " ".join(text.split())


def safe(text: str | None, limit: int, placeholder: str = "") -> str:
    """Return untrusted text escaped, on one line and cut to `limit` characters."""
    if not text or not text.strip():
        return placeholder
    return truncate(escape_text(one_line(text)), limit)


def member_text(text: str | None, limit: int, placeholder: str = "") -> str:
    """Return text a member typed (a question, a reason) like `safe`, with every link broken,
    so nobody can make the bot post a clickable link by asking or voting."""
    if not text or not text.strip():
        return placeholder
    # "scheme://" becomes a live link wherever it appears in a message or an embed field.
    text = text.replace("://", ":" + ZWSP + "//")
    text = _INVITE.sub(lambda m: m.group(1) + ZWSP + ".", text)
    return safe(text, limit, placeholder)


def safe_url(url: str | None) -> str | None:
    """Return an http(s) URL that is safe to show and link, or None."""
    if not url or len(url) > MAX_LINK or _BAD_URL_CHARS.search(url):
        return None
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return url


def link(url: str | None) -> str:
    """Return a link wrapped in <...> so Discord shows no preview card, or a placeholder."""
    checked = safe_url(url)
    if checked:
        return f"<{checked}>"
    return "link not shown" if url else "no link"


def when(day: date | None) -> str:
    """Return a date as 'May 11, 2026', or 'undated'."""
    return f"{day:%b} {day.day}, {day.year}" if day else "undated"


def pages_needed(n_items: int, per_page: int) -> int:
    """Return how many pages of `per_page` items n items need (at least one)."""
    return max(1, -(-n_items // per_page))


def fit_lines(lines: Sequence[str], budget: int, more: str = "…and {n} more") -> str:
    """Join lines while they fit in `budget` characters; say how many were left out."""
    whole = "\n".join(lines)
    if len(whole) <= budget:
        return whole
    out: list[str] = []
    for i, line in enumerate(lines):
        if len("\n".join([*out, line, more.format(n=len(lines) - i - 1)])) > budget:
            break
        out.append(line)
    text = "\n".join([*out, more.format(n=len(lines) - len(out))])
    return text if len(text) <= budget else truncate("\n".join(out), budget)
