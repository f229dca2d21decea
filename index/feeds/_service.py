"""The feeds service: subscriptions per library, and polls of the feeds that are due."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial

from index.errors import FeedError, FeedNotFoundError, IngestError
from index.feeds._parse import parse_feed
from index.feeds._poll import LEASE_SECONDS, FeedResult, PollContext, poll_feed
from index.feeds._table import FeedRow, FeedTable, NewFeed
from index.library import Libraries
from index.plain import plain_line
from index.settings import Settings
from index.sources import web_url

DEFAULT_SINCE_DAYS = 7  # a new feed imports its last week unless asked for more (--backfill)
MAX_BACKFILL_DAYS = 3650
REPORT_AFTER_SECONDS = 86_400  # a feed failing this long is reported to moderators, once
NAME_CHARS, WORDS_CHARS, URL_CHARS = 100, 500, 2000


class FeedService:
    """Subscribes libraries to feeds and polls them; several processes may poll at once."""

    def __init__(
        self, table: FeedTable, ctx: PollContext, settings: Settings,
        clock: Callable[[], datetime],
    ) -> None:  # fmt: skip
        self._table = table
        self._ctx = ctx
        self._settings = settings
        self._clock = clock
        # Who holds a lease: unique per service, so two bots on one machine never share one.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def _now(self) -> int:
        """Return the shared clock's time in epoch seconds."""
        return int(self._clock().timestamp())

    def add(
        self, url: str, library: int, *, name: str | None = None, include: str = "",
        exclude: str = "", backfill_days: int | None = None, interval: int | None = None,
        added_by: str | None = None, announce_channel_id: int | None = None,
    ) -> FeedRow:  # fmt: skip
        """Subscribe a library to a feed after reading it once; raise FeedError on bad input."""
        url = url.strip()
        seconds = self._check(url, name, include, exclude, backfill_days, interval)
        try:  # refused links, dead servers and non-feeds fail here, before anything is saved
            page = self._ctx.fetch_feed(url, {})
        except IngestError as exc:  # FetchError
            raise FeedError(url, exc.reason) from exc
        parsed = parse_feed(page.body, url, page.content_type)
        added = self._clock()
        since = added - timedelta(days=DEFAULT_SINCE_DAYS if backfill_days is None
                                  else backfill_days)  # fmt: skip
        feed_id = self._table.insert(NewFeed(
            library, url, plain_line(name or "") or None, parsed.title, plain_line(include),
            plain_line(exclude), int(since.timestamp()), seconds, announce_channel_id,
            int(added.timestamp()), added_by,
        ))  # fmt: skip
        if feed_id is None:
            raise FeedError(url, "this library is already subscribed to it")
        return self.get(feed_id, (library,))

    def _check(
        self, url: str, name: str | None, include: str, exclude: str,
        backfill_days: int | None, interval: int | None,
    ) -> int:  # fmt: skip
        """Raise FeedError for unusable input; return the poll interval in seconds."""
        if not web_url(url) or len(url) > URL_CHARS:
            raise FeedError(url[:200], "not a valid http:// or https:// link")
        if name is not None and len(name) > NAME_CHARS:
            raise FeedError(url, f"the name is longer than {NAME_CHARS} characters")
        if len(include) > WORDS_CHARS or len(exclude) > WORDS_CHARS:
            raise FeedError(url, f"word filters are limited to {WORDS_CHARS} characters")
        if backfill_days is not None and not 0 <= backfill_days <= MAX_BACKFILL_DAYS:
            raise FeedError(url, f"backfill must be 0 to {MAX_BACKFILL_DAYS} days")
        floor = self._settings.feed_min_interval_seconds
        seconds = self._settings.feed_interval_seconds if interval is None else interval
        if seconds < floor:
            raise FeedError(url, f"the interval must be at least {floor} seconds")
        return max(seconds, floor)

    def get(self, feed_id: int, libraries: Libraries | None) -> FeedRow:
        """Return a feed of the libraries (None: any); raise FeedNotFoundError otherwise."""
        feed = self._table.get(feed_id, libraries)
        if feed is None:
            raise FeedNotFoundError(feed_id)
        return feed

    def list_feeds(self, libraries: Libraries | None) -> list[FeedRow]:
        """Return the feeds of the libraries (None: all), oldest first."""
        return self._table.list_feeds(libraries)

    def remove(self, feed_id: int, libraries: Libraries | None) -> FeedRow:
        """Unsubscribe; the stories it brought stay indexed."""
        feed = self.get(feed_id, libraries)
        self._table.delete(feed_id)
        return feed

    def set_paused(self, feed_id: int, libraries: Libraries | None, paused: bool) -> FeedRow:
        """Pause a feed, or resume it (its next poll is due at once)."""
        self.get(feed_id, libraries)
        self._table.set_paused(feed_id, paused, self._now())
        return self.get(feed_id, libraries)

    def poll_due(self) -> list[FeedResult]:
        """Poll every feed that is due and that no other poller holds; one pass."""
        results: list[FeedResult] = []
        for feed_id in self._table.due(self._now()):
            now = self._now()
            if not self._table.claim(feed_id, self.owner, now, now + LEASE_SECONDS):
                continue  # another process took it between the listing and the claim
            feed = self._table.get(feed_id)
            if feed is not None:
                renew = partial(self._renew, feed_id)
                results.append(poll_feed(feed, self._ctx, self.owner, now, renew))
        return results

    def _renew(self, feed_id: int) -> None:
        """Extend this poller's lease on a feed it is polling."""
        self._table.renew(feed_id, self.owner, self._now() + LEASE_SECONDS)

    def take_failure_reports(self) -> list[FeedRow]:
        """Return feeds failing for a day that moderators have not heard of (each only once)."""
        return self._table.take_reports(self._now() - REPORT_AFTER_SECONDS)
