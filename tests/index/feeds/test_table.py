"""The feeds tables: made in older databases too, one subscription per library and URL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from index.feeds import FeedTable
from index.feeds._table import NewFeed
from index.registry import Registry


def _feed(library: int = 0, url: str = "https://example.org/feed.rss") -> NewFeed:
    return NewFeed(library, url, "Example", None, "", "", 0, 600, None, 1_700_000_000, "ann")


def test_an_older_database_gains_the_feed_tables(tmp_path: Path) -> None:
    path = tmp_path / "newsbot.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
    old.commit()
    old.close()
    registry = Registry(path)
    table = FeedTable(registry)
    first = table.insert(_feed())
    assert first is not None and table.insert(_feed()) is None  # one per library and URL
    assert table.insert(_feed(library=42)) is not None
    assert [f.url for f in table.list_feeds((0,))] == ["https://example.org/feed.rss"]
    row = table.get(first)
    assert row is not None and (row.paused, row.reported, row.added_by) == (False, False, "ann")
    registry.close()


def test_a_lease_is_taken_once_until_it_expires(tmp_path: Path) -> None:
    registry = Registry(tmp_path / "newsbot.db")
    table = FeedTable(registry)
    feed_id = table.insert(_feed())
    assert feed_id is not None
    assert table.claim(feed_id, "a", now=100, until=1000)
    assert not table.claim(feed_id, "b", now=999, until=1900)
    table.succeeded(feed_id, "b", 999, ('"x"', None), "Title", 2000)  # not b's lease: ignored
    assert table.get(feed_id).etag is None  # type: ignore[union-attr]
    assert not table.renew(feed_id, "b", until=5000)  # only the holder extends a lease
    assert table.renew(feed_id, "a", until=1500)
    assert not table.claim(feed_id, "b", now=1001, until=1900)
    assert table.claim(feed_id, "b", now=1501, until=1900)
    table.succeeded(feed_id, "b", 1501, ('"x"', None), "Title", 2000)
    row = table.get(feed_id)
    assert row is not None and (row.etag, row.title, row.next_poll) == ('"x"', "Title", 2000)
    assert table.due(1999) == [] and table.due(2000) == [feed_id]
    registry.close()
