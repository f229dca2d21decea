"""Feeds: RSS and Atom subscriptions per library, polled politely and deduplicated.

Offers `FeedService` (add, list, remove, pause, poll due feeds, failure reports), `FeedRow`
(one subscription) and `FeedResult` (what one poll did). Only `_table` writes feed SQL.
"""

from index.feeds._poll import FeedResult, PollContext
from index.feeds._service import FeedService
from index.feeds._table import FeedRow, FeedTable

__all__ = ["FeedResult", "FeedRow", "FeedService", "FeedTable", "PollContext"]
