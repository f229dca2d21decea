"""What makes two feed items one: a GUID, a canonical link without tracking, or the same text."""

from __future__ import annotations

import hashlib

from index.feeds._parse import FeedItem
from index.sources import canonical_url, web_url


def canonical_link(link: str | None) -> str | None:
    """Return an item's link without fragment or tracking parameters (utm_*, fbclid...)."""
    return canonical_url(link) if link and web_url(link) else None


def text_hash(item: FeedItem) -> str:
    """Return a hash of an item's title and text, blind to case and spacing."""
    words = " ".join(f"{item.title or ''}\n{item.text}".casefold().split())
    return hashlib.sha256(words.encode("utf-8")).hexdigest()[:32]


def item_key(item: FeedItem) -> str:
    """Return the key an item is known by in its feed: GUID, else canonical link, else text."""
    if item.guid:
        return "g:" + item.guid[:500]
    link = canonical_link(item.link)
    return "l:" + link[:500] if link else "h:" + text_hash(item)


def guid_story_id(key: str) -> str:
    """Return the story id of an item without a link: stable across polls and edits."""
    return "r" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
