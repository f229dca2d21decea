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
# Discord links "scheme://..." anywhere, and "<scheme:/...>" autolinks with one slash.
_SCHEME_SLASH = re.compile(r":(?=[/\\])")
# Discord's own domains open invites, gifts and templates even without a scheme
# ("discord.gg/abc", "DISCORDAPP.com/invite/abc", "discord.gift/xyz"), so the dot is broken.
# Look-alike dots (ideographic, full-width, halfwidth), spaced-out spellings and a glued-on
# prefix or suffix ("hdiscord.ggx") count too: an invisible break costs nothing.
_DISCORD_DOMAIN = re.compile(
    r"(?i)(?:discord(?:app)?|dsc)\s*([.\u3002\uff0e\uff61])"
    r"(?=\s*(?:gg|gift|com|io|me|li|new|net))"
)


def break_links(text: str) -> str:
    """Return text whose bare links and invites are not clickable: a zero-width space follows
    the ":" of every "scheme:/" and precedes the "." of Discord's own domains (the text reads
    the same; README "Links in quoted text")."""
    text = _SCHEME_SLASH.sub(":" + ZWSP, text)
    return _DISCORD_DOMAIN.sub(lambda m: m.group(0)[:-1] + ZWSP + m.group(1), text)


def escape_text(text: str) -> str:
    """Return text that renders literally: no Markdown, mentions, links, invites, tags or
    direction overrides (which make a title or question read differently from what it says)."""
    text = break_links(_BIDI.sub("", text))
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
    """Return text a member typed (a question, a reason) exactly like story text (`safe`)."""
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
