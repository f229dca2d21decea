"""Plain renderings of feeds for the CLI and the bot: one wording of a feed's state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from index.feeds._table import FeedRow


def when(ts: int | None) -> str | None:
    """Return epoch seconds as an ISO UTC time."""
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="minutes") if ts else None


def feed_state(f: FeedRow) -> str:
    """Return a feed's state in words: paused, failing (with the error and when) or polled."""
    head = "paused" if f.paused else f"every {f.interval_seconds} s"
    if f.failures:
        return f"{head}; failing ({f.failures}x): {f.last_error} at {when(f.last_error_at)}"
    polled = when(f.last_poll)
    return f"{head}; last poll {polled}" if polled else f"{head}; not polled yet"


def feed_to_dict(f: FeedRow) -> dict[str, Any]:
    """Return a feed as JSON-ready data."""
    return {"id": f.id, "library": f.library, "url": f.url, "name": f.name, "title": f.title,
            "include": f.include_words, "exclude": f.exclude_words, "paused": f.paused,
            "interval_seconds": f.interval_seconds, "since": when(f.since),
            "last_poll": when(f.last_poll), "failures": f.failures,
            "last_error": f.last_error, "last_error_at": when(f.last_error_at)}  # fmt: skip
