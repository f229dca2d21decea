"""Read RSS 2.0, RSS 1.0 and Atom documents with feedparser into plain feed items."""

from __future__ import annotations

import html
import io
import re
import xml.sax
from calendar import timegm
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from index.errors import FeedError
from index.plain import plain_line

# Block-level ends become line breaks, so paragraphs survive the tag stripping below.
_BREAKS = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/blockquote|/tr)\b[^>]*>", re.I)
_TAGS = re.compile(r"<[^>]+>")
_DROPPED = re.compile(r"<(script|style)\b.*?</\1\s*>", re.I | re.S)


@dataclass(frozen=True, slots=True)
class FeedItem:
    """One entry of a feed, as plain text and metadata."""

    guid: str | None
    link: str | None
    title: str | None
    text: str  # the longest of the entry's content and summary, as plain paragraphs
    published: datetime | None
    source: str | None  # the publisher the item names (RSS <source>, Atom <source>), if any


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A feed's own title and its items, in document order."""

    title: str | None
    items: list[FeedItem]


def parse_feed(body: bytes, url: str, content_type: str = "") -> ParsedFeed:
    """Parse a feed document; raise FeedError when it is not a well-formed RSS or Atom feed."""
    headers = {"content-type": content_type} if content_type else {}
    # A stream, never bytes or str: feedparser would take a string for a URL or file name.
    parsed = feedparser.parse(
        io.BytesIO(body), response_headers=headers, resolve_relative_uris=True
    )
    problem = parsed.get("bozo_exception")
    if isinstance(problem, xml.sax.SAXParseException):
        where = f" (line {problem.getLineNumber()})" if problem.getLineNumber() else ""
        raise FeedError(url, f"not a well-formed feed{where}: {problem.getMessage()}")
    if not parsed.get("version") and not parsed.entries:
        raise FeedError(url, "not an RSS or Atom feed")
    feed = parsed.get("feed", {})
    items = [_item(entry) for entry in parsed.entries]
    return ParsedFeed(_line(feed.get("title")), items)


def _item(entry: Any) -> FeedItem:
    """Turn one feedparser entry into a FeedItem."""
    contents = [c.get("value", "") for c in entry.get("content", []) or []]
    texts = [to_text(t) for t in (*contents, entry.get("summary", ""))]
    source = entry.get("source") or {}
    return FeedItem(
        guid=_line(entry.get("id")),
        link=_line(entry.get("link")),
        title=_line(html.unescape(_TAGS.sub("", entry.get("title", "") or ""))),
        text=max(texts, key=len, default=""),
        published=_when(entry.get("published_parsed") or entry.get("updated_parsed")),
        source=_line(source.get("title") if hasattr(source, "get") else None),
    )


def to_text(markup: str) -> str:
    """Return feed HTML (already sanitised by feedparser) as plain paragraphs, one per line."""
    text = _TAGS.sub(" ", _BREAKS.sub("\n", _DROPPED.sub(" ", markup or "")))
    lines = (plain_line(html.unescape(line)) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def _line(value: object) -> str | None:
    """Return a metadata value on one line, or None when empty."""
    return plain_line(value) or None if isinstance(value, str) else None


def _when(parsed: Any) -> datetime | None:
    """Return feedparser's UTC struct_time as an aware datetime, or None."""
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(timegm(parsed), UTC)
    except (OverflowError, ValueError, TypeError):
        return None
