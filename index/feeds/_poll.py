"""One poll of one feed: conditional fetch, parse, filter, dedupe, full text, then index."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from index.errors import FeedError, IngestError, NewsbotError
from index.feeds._dedupe import canonical_link, guid_story_id, item_key, text_hash
from index.feeds._parse import FeedItem, ParsedFeed, parse_feed
from index.feeds._table import FeedRow, FeedTable
from index.fetch import FetchedPage
from index.models import RawDocument
from index.stories import StoryService

log = logging.getLogger(__name__)

# An item whose own text is shorter than this is a summary: its link is fetched for the story.
FULL_TEXT_CHARS = 1000
# How long a poller's claim on a feed lasts: longer than any poll (items x fetch deadline).
LEASE_SECONDS = 900
# A failing feed is retried at most this far apart, so a day of failures is noticed in time.
MAX_BACKOFF_SECONDS = 6 * 3600

FetchFeed = Callable[[str, Mapping[str, str]], FetchedPage]
FetchArticle = Callable[[str], RawDocument]
Status = Literal["unchanged", "polled", "failed", "busy"]


@dataclass(frozen=True, slots=True)
class FeedResult:
    """What one poll of one feed did."""

    feed_id: int
    url: str
    status: Status
    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    skipped: int = 0
    failed: tuple[tuple[str, str], ...] = ()  # (item link or title, reason)
    error: str | None = None
    library: int = 0
    announce_channel_id: int | None = None  # where the bot posts the newly added stories

    def to_dict(self) -> dict[str, Any]:
        """Return the result as JSON-ready data."""
        return {"feed_id": self.feed_id, "url": self.url, "status": self.status,
                "added": list(self.added), "updated": list(self.updated),
                "skipped": self.skipped, "failed": [list(f) for f in self.failed],
                "error": self.error}  # fmt: skip


@dataclass
class PollContext:
    """What polling needs from the rest of the core."""

    table: FeedTable
    stories: StoryService
    fetch_feed: FetchFeed
    fetch_article: FetchArticle
    max_items: int


@dataclass
class _Tally:
    """Running counts of one poll."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0

    @property
    def work(self) -> int:
        """Return how many items this poll tried to index."""
        return len(self.added) + len(self.updated) + len(self.failed)


def backoff(feed: FeedRow) -> int:
    """Return seconds until a failing feed is tried again: doubling, capped."""
    return min(feed.interval_seconds * 2 ** min(feed.failures + 1, 16),
               max(MAX_BACKOFF_SECONDS, feed.interval_seconds))  # fmt: skip


def poll_feed(
    feed: FeedRow, ctx: PollContext, owner: str, now: int, renew: Callable[[], object] = bool
) -> FeedResult:
    """Poll a feed whose lease `owner` holds; record the outcome and give the lease back.

    `renew` extends the lease; it is called after every item indexed, so a long poll keeps it.
    """
    tally = _Tally()
    try:
        page = ctx.fetch_feed(feed.url, _conditional(feed))
        if page.not_modified:
            validators = (page.etag or feed.etag, page.last_modified or feed.last_modified)
            ctx.table.succeeded(feed.id, owner, now, validators, None, now + feed.interval_seconds)
            return FeedResult(feed.id, feed.url, "unchanged")
        parsed = parse_feed(page.body, feed.url, page.content_type)
        complete = _take_all(parsed, feed, ctx, now, tally, renew)
    except (FeedError, IngestError) as exc:  # FetchError is an IngestError
        return _failed(feed, ctx, owner, now, tally, exc.reason)
    except NewsbotError as exc:  # e.g. the index is down: nothing recorded, try again later
        return _failed(feed, ctx, owner, now, tally, exc.user_message())
    # Validators only once every item was looked at: a 304 must not hide items left for later.
    validators = (page.etag, page.last_modified) if complete else (None, None)
    ctx.table.succeeded(feed.id, owner, now, validators, parsed.title, now + feed.interval_seconds)
    return FeedResult(feed.id, feed.url, "polled", tuple(tally.added), tuple(tally.updated),
                      tally.skipped, tuple(tally.failed), None, feed.library,
                      feed.announce_channel_id)  # fmt: skip


def _failed(
    feed: FeedRow, ctx: PollContext, owner: str, now: int, tally: _Tally, reason: str
) -> FeedResult:
    """Record a failed poll with its backoff and return its result."""
    log.warning("feed %d (%s) failed: %s", feed.id, feed.url, reason)
    ctx.table.failed(feed.id, owner, now, reason, now + backoff(feed))
    return FeedResult(feed.id, feed.url, "failed", tuple(tally.added), tuple(tally.updated),
                      tally.skipped, tuple(tally.failed), reason)  # fmt: skip


def _conditional(feed: FeedRow) -> dict[str, str]:
    """Return the validators of the feed's last good poll as request headers."""
    headers = {"If-None-Match": feed.etag} if feed.etag else {}
    if feed.last_modified:
        headers["If-Modified-Since"] = feed.last_modified
    return headers


def _take_all(
    parsed: ParsedFeed, feed: FeedRow, ctx: PollContext, now: int, t: _Tally,
    renew: Callable[[], object],
) -> bool:  # fmt: skip
    """Take every item, up to max_items indexed; return True when every item was looked at."""
    known = ctx.table.known_items(feed.id)
    for item in parsed.items:
        if t.work >= ctx.max_items:
            return False
        before = t.work
        _take(item, feed, parsed, known, ctx, now, t)
        if t.work > before:
            renew()
    return True


def _take(
    item: FeedItem, feed: FeedRow, parsed: ParsedFeed, known: dict[str, str],
    ctx: PollContext, now: int, t: _Tally,
) -> None:  # fmt: skip
    """Index one item unless it is known, filtered out, too old or a duplicate."""
    key, digest, link = item_key(item), text_hash(item), canonical_link(item.link)
    prior = known.get(key)
    if prior == digest or (prior is None and not wanted(item, feed)):
        t.skipped += 1
        return
    if prior is None and (twin := _indexed_twin(item, feed, digest, link, ctx)) is not None:
        ctx.table.record_item(feed, key, link, digest, twin, now)
        t.skipped += 1
        return
    doc = _document(item, feed, parsed, key, ctx)
    try:
        outcome, article = ctx.stories.add(doc, feed.library, added_by=f"feed {feed.id}")
    except IngestError as exc:  # this item's own problem: remembered, retried once it changes
        ctx.table.record_item(feed, key, link, digest, None, now)
        t.failed.append((item.link or item.title or key, exc.reason))
        return
    ctx.table.record_item(feed, key, link, digest, article.id, now)
    {"added": t.added, "updated": t.updated}.get(outcome, []).append(article.id)
    t.skipped += outcome == "unchanged"


def wanted(item: FeedItem, feed: FeedRow) -> bool:
    """Return True when an item is recent enough and passes the feed's word filters."""
    if item.published is not None and item.published.timestamp() < feed.since:
        return False
    words = f"{item.title or ''}\n{item.text}".casefold()
    include, exclude = _words(feed.include_words), _words(feed.exclude_words)
    if include and not any(_has(words, w) for w in include):
        return False
    return not any(_has(words, w) for w in exclude)


def _words(spec: str) -> list[str]:
    """Split a comma-separated filter into casefolded words or phrases."""
    return [w.strip().casefold() for w in spec.split(",") if w.strip()]


def _has(text: str, word: str) -> bool:
    """Return True when text holds word as a whole word ("AI" is not in "said")."""
    return re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text) is not None


def _indexed_twin(
    item: FeedItem, feed: FeedRow, digest: str, link: str | None, ctx: PollContext
) -> str | None:
    """Return the library's story this new item duplicates (same link or same text), if any."""
    if link is not None:
        probe = RawDocument(text="", origin=link, url=link)
        existing = ctx.stories.existing(probe, feed.library)
        if existing is not None:
            return existing.id
    return ctx.table.story_with_text(feed.library, digest)


def _document(
    item: FeedItem, feed: FeedRow, parsed: ParsedFeed, key: str, ctx: PollContext
) -> RawDocument:
    """Return the item as a document; a summary-only item gets its linked article's text."""
    link = item.link if canonical_link(item.link) else None
    text = item.text
    if len(text) < FULL_TEXT_CHARS and link is not None:
        try:
            page = ctx.fetch_article(link)
        except IngestError as exc:  # the summary is still a story, if long enough
            log.info("feed %d: full text of %s unavailable (%s)", feed.id, link, exc.reason)
        else:
            text = page.text if len(page.text) > len(text) else text
    published = item.published.date().isoformat() if item.published else None
    return RawDocument(
        text=text,
        origin=link or f"{feed.url}#{key}",
        id=None if link else guid_story_id(f"{feed.id}:{key}"),
        title=item.title,
        url=link,
        source=item.source or feed.publisher or parsed.title,
        published=published,
    )
