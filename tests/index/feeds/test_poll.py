"""Polling real RSS 2.0 and Atom files from 127.0.0.1 through feedparser and the fetch guard."""

from __future__ import annotations

from dataclasses import replace

import pytest

from index.errors import FeedError, FeedNotFoundError
from index.feeds import FeedTable
from index.services import Services
from tests.fakes import FakeEmbedder
from tests.index.feeds.feedkit import Clock, fill, story
from tests.index.httpserver import Route, Server

pytestmark = pytest.mark.both_backends  # the feeds table on SQLite and PostgreSQL


def _subscribe(fs: Services, server: Server, library: int = 0) -> tuple[int, int]:
    wire = fs.feeds.add(f"{server.base}/wire.rss", library, name="Wire")
    ledger = fs.feeds.add(f"{server.base}/ledger.atom", library)
    return wire.id, ledger.id


def _titles(fs: Services, library: int = 0) -> list[str]:
    return sorted(a.title for a in fs.stories.list_stories((library,)))


def test_every_item_is_indexed_once_and_an_unchanged_feed_costs_one_304(
    fs: Services, server: Server, clock: Clock, embedder: FakeEmbedder
) -> None:
    wire, ledger = _subscribe(fs, server)
    results = {r.feed_id: r for r in fs.feeds.poll_due()}
    assert results[wire].status == results[ledger].status == "polled"
    assert len(results[wire].added) == 3  # orca, vexa (full text fetched), quarry (no GUID)
    assert results[wire].skipped == 1  # the 40-day-old item, before the feed's `since`
    assert len(results[ledger].added) == 2  # nimbus (fetched) and delta (no link)
    assert results[ledger].skipped == 1  # orca again, under a link with other utm_* params
    assert _titles(fs) == [
        "Delta Freight tests self-driving barges on the Rhine",
        "Lumen Labs releases the open Orca-7 model",
        "Nimbus Health trials a diagnostic assistant in Oslo clinics",
        "Quarry Robotics opens a warehouse robot plant in Porto",
        "Tallinn regulator fines chipmaker Vexa over export papers",
    ]
    calls, seen = embedder.calls, len(server.seen)
    clock.advance(601)
    again = fs.feeds.poll_due()
    assert [r.status for r in again] == ["unchanged", "unchanged"]
    assert embedder.calls == calls and len(_titles(fs)) == 5
    asked = dict(server.seen[seen:])
    assert len(asked) == 2  # one conditional request per feed, nothing else
    assert asked["/wire.rss"]["If-None-Match"] == '"wire-1"'
    assert asked["/ledger.atom"]["If-Modified-Since"] == "Mon, 30 Nov 2026 08:00:00 GMT"


def test_a_summary_only_item_keeps_the_feeds_metadata_with_the_pages_text(
    fs: Services, server: Server
) -> None:
    _subscribe(fs, server)
    fs.feeds.poll_due()
    by_title = {a.title: a for a in fs.stories.list_stories((0,))}
    vexa = by_title["Tallinn regulator fines chipmaker Vexa over export papers"]
    assert "analysts counted 35 similar moves" in vexa.text  # only the page has part 5
    assert vexa.source == "AI Wire" and vexa.url == f"{server.base}/a/vexa"
    assert vexa.published is not None
    orca = by_title["Lumen Labs releases the open Orca-7 model"]
    assert orca.url == f"{server.base}/a/orca"  # tracking parameters dropped
    assert by_title["Nimbus Health trials a diagnostic assistant in Oslo clinics"].source == (
        "Tech Ledger"
    )
    assert "/a/orca" not in {p for p, _ in server.seen}  # full content: no page fetch


def test_an_updated_item_replaces_its_story(fs: Services, server: Server, clock: Clock) -> None:
    wire, _ = _subscribe(fs, server)
    fs.feeds.poll_due()
    before = {a.title: a.id for a in fs.stories.list_stories((0,))}
    twist = " The licence now allows commercial use."
    body = fill("wire.rss", server.base, clock.now, orca=story("orca", twist=twist))
    server.routes["/wire.rss"] = replace(server.routes["/wire.rss"], body=body, etag='"wire-2"')
    clock.advance(601)
    results = {r.feed_id: r for r in fs.feeds.poll_due()}
    orca_id = before["Lumen Labs releases the open Orca-7 model"]
    assert results[wire].updated == (orca_id,) and results[wire].added == ()
    assert twist.strip() in fs.stories.get(orca_id, (0,)).text
    assert {a.title: a.id for a in fs.stories.list_stories((0,))} == before


def test_without_validators_a_second_poll_embeds_nothing(
    fs: Services, server: Server, clock: Clock, embedder: FakeEmbedder
) -> None:
    server.routes["/wire.rss"] = replace(server.routes["/wire.rss"], etag=None)
    wire = fs.feeds.add(f"{server.base}/wire.rss", 0)
    first = fs.feeds.poll_due()[0]
    calls = embedder.calls
    clock.advance(601)
    second = fs.feeds.poll_due()[0]
    assert second.feed_id == wire.id and second.status == "polled"
    assert (len(first.added), second.added, second.skipped) == (3, (), 4)
    assert embedder.calls == calls


def test_a_malformed_feed_is_refused_and_changes_nothing(
    fs: Services, server: Server, clock: Clock
) -> None:
    with pytest.raises(FeedError, match="not a well-formed feed"):
        fs.feeds.add(f"{server.base}/broken.rss", 0)
    assert fs.feeds.list_feeds(None) == []
    wire, _ = _subscribe(fs, server)
    fs.feeds.poll_due()
    titles = _titles(fs)
    server.routes["/wire.rss"] = server.routes["/broken.rss"]
    clock.advance(601)
    result = {r.feed_id: r for r in fs.feeds.poll_due()}[wire]
    assert result.status == "failed" and "not a well-formed feed (line" in str(result.error)
    assert _titles(fs) == titles
    feed = fs.feeds.get(wire, (0,))
    assert feed.failures == 1 and feed.last_error == result.error
    assert feed.last_error_at == int(clock.now.timestamp())
    assert feed.etag == '"wire-1"'  # the last good poll's validators are kept


def test_a_web_page_is_not_taken_for_a_feed(fs: Services, server: Server) -> None:
    with pytest.raises(FeedError, match=r"not .*feed"):
        fs.feeds.add(f"{server.base}/a/vexa", 0)
    assert fs.feeds.list_feeds(None) == []


@pytest.mark.parametrize(
    ("path", "why"),
    [("/moved.rss", "169.254.169.254 is link-local"), ("/private.rss", "10.1.2.3 is private")],
)
def test_a_feed_redirecting_to_a_private_address_is_refused(
    fs: Services, server: Server, connections: list[tuple[str, int]], path: str, why: str
) -> None:
    with pytest.raises(FeedError, match=f"refused: the address {why}"):
        fs.feeds.add(f"{server.base}{path}", 0)
    assert fs.feeds.list_feeds(None) == []
    assert {host for host, _ in connections} == {"127.0.0.1"}


def test_a_feed_that_starts_redirecting_is_refused_at_poll(
    fs: Services, server: Server, clock: Clock, connections: list[tuple[str, int]]
) -> None:
    feed = fs.feeds.add(f"{server.base}/wire.rss", 0)
    server.routes["/wire.rss"] = server.routes["/moved.rss"]
    result = fs.feeds.poll_due()[0]
    assert result.status == "failed" and "link-local" in str(result.error)
    assert fs.stories.count((0,)) == 0 and fs.feeds.get(feed.id, None).failures == 1
    assert {host for host, _ in connections} == {"127.0.0.1"}


def test_failures_back_off_and_a_day_of_them_is_reported_once(
    fs: Services, server: Server, clock: Clock
) -> None:
    feed = fs.feeds.add(f"{server.base}/wire.rss", 0)
    server.routes["/wire.rss"] = Route(b"down", status=503)
    waits = []
    for _ in range(6):
        fs.feeds.poll_due()
        state = fs.feeds.get(feed.id, None)
        waits.append(state.next_poll - int(clock.now.timestamp()))
        assert fs.feeds.take_failure_reports() == []  # not yet failing for a day
        clock.now = clock.now.fromtimestamp(state.next_poll, clock.now.tzinfo)
    assert waits == [1200, 2400, 4800, 9600, 19200, 21600]  # doubling, capped at six hours
    assert fs.feeds.get(feed.id, None).last_error == "HTTP 503 from the server"
    clock.advance(86_400)
    reports = fs.feeds.take_failure_reports()
    assert [r.id for r in reports] == [feed.id] and reports[
        0
    ].last_error == "HTTP 503 from the server"
    assert fs.feeds.take_failure_reports() == []  # once, not on every poll


def test_the_first_day_of_failures_is_not_reported(
    fs: Services, server: Server, clock: Clock
) -> None:
    fs.feeds.add(f"{server.base}/wire.rss", 0)
    server.routes["/wire.rss"] = Route(b"down", status=500)
    fs.feeds.poll_due()
    clock.advance(86_000)
    fs.feeds.poll_due()
    assert fs.feeds.take_failure_reports() == []


def test_word_filters_and_backfill(fs: Services, server: Server) -> None:
    fs.feeds.add(f"{server.base}/wire.rss", 0, include="porto, ferrum", exclude="warehouse",
                 backfill_days=60)  # fmt: skip
    fs.feeds.poll_due()
    assert _titles(fs) == ["An old story from last season about Ferrum AI"]


def test_a_whole_word_filter_does_not_match_inside_words(fs: Services, server: Server) -> None:
    fs.feeds.add(f"{server.base}/wire.rss", 0, include="arch")  # not in "search", "march"
    fs.feeds.poll_due()
    assert _titles(fs) == []


def test_items_past_the_cap_wait_for_the_next_poll(
    fs: Services, server: Server, clock: Clock
) -> None:
    fs.feeds._ctx.max_items = 2
    feed = fs.feeds.add(f"{server.base}/wire.rss", 0)
    assert len(fs.feeds.poll_due()[0].added) == 2
    assert fs.feeds.get(feed.id, None).etag is None  # no 304 may hide the third item
    clock.advance(601)
    second = fs.feeds.poll_due()[0]
    assert second.status == "polled" and len(second.added) == 1
    assert fs.feeds.get(feed.id, None).etag == '"wire-1"'


def test_a_removed_feed_keeps_its_stories_and_readding_it_imports_nothing_twice(
    fs: Services, server: Server
) -> None:
    wire, ledger = _subscribe(fs, server)
    fs.feeds.poll_due()
    titles = _titles(fs)
    fs.feeds.remove(wire, (0,))
    fs.feeds.remove(ledger, (0,))
    assert _titles(fs) == titles
    _subscribe(fs, server)
    results = fs.feeds.poll_due()
    assert [r.added for r in results] == [(), ()] and _titles(fs) == titles


def test_feeds_belong_to_their_library(fs: Services, server: Server) -> None:
    wire, _ = _subscribe(fs, server, library=42)
    with pytest.raises(FeedNotFoundError):
        fs.feeds.remove(wire, (0,))
    with pytest.raises(FeedError, match="already subscribed"):
        fs.feeds.add(f"{server.base}/wire.rss", 42)
    fs.feeds.poll_due()
    assert _titles(fs, 0) == [] and len(_titles(fs, 42)) == 5
    paused = fs.feeds.set_paused(wire, (42,), True)
    assert paused.paused and [f.id for f in fs.feeds.list_feeds((7,))] == []


def test_a_paused_feed_is_not_polled_until_resumed(fs: Services, server: Server) -> None:
    feed = fs.feeds.add(f"{server.base}/wire.rss", 0)
    fs.feeds.set_paused(feed.id, (0,), True)
    assert fs.feeds.poll_due() == []
    fs.feeds.set_paused(feed.id, (0,), False)
    assert [r.feed_id for r in fs.feeds.poll_due()] == [feed.id]


@pytest.mark.parametrize(
    ("url", "options", "why"),
    [
        ("ftp://example.org/feed", {}, "not a valid http"),
        ("not a link", {}, "not a valid http"),
        ("https://example.org/feed", {"interval": 10}, "at least 60 seconds"),
        ("https://example.org/feed", {"backfill_days": -1}, "backfill must be"),
        ("https://example.org/feed", {"name": "n" * 101}, "longer than 100"),
        ("https://example.org/feed", {"include": "w," * 300}, "limited to 500"),
    ],
)
def test_bad_input_is_refused_before_any_request(
    fs: Services, server: Server, url: str, options: dict[str, object], why: str
) -> None:
    seen = len(server.seen)
    with pytest.raises(FeedError, match=why):
        fs.feeds.add(url, 0, **options)  # type: ignore[arg-type]
    assert fs.feeds.list_feeds(None) == [] and len(server.seen) == seen


def test_one_poller_holds_a_feed_at_a_time(fs: Services, server: Server, clock: Clock) -> None:
    feed = fs.feeds.add(f"{server.base}/wire.rss", 0)
    table = FeedTable(fs.registry)
    now = int(clock.now.timestamp())
    assert table.claim(feed.id, "other-host:1", now, now + 900)
    assert fs.feeds.poll_due() == []  # leased elsewhere: not even listed as due
    assert not table.claim(feed.id, "third:1", now + 899, now + 1800)
    clock.advance(901)
    assert [r.status for r in fs.feeds.poll_due()] == ["polled"]


def test_an_item_linking_to_a_private_address_is_never_fetched(
    fs: Services, server: Server, clock: Clock, connections: list[tuple[str, int]]
) -> None:
    body = fill("wire.rss", server.base, clock.now).replace(
        f"{server.base}/a/vexa".encode(), b"http://169.254.169.254/a/vexa"
    )
    server.routes["/wire.rss"] = replace(server.routes["/wire.rss"], body=body)
    fs.feeds.add(f"{server.base}/wire.rss", 0)
    result = fs.feeds.poll_due()[0]
    # The summary alone is too short to be a story: the item fails, the rest are indexed.
    assert len(result.added) == 2
    assert [link for link, _ in result.failed] == ["http://169.254.169.254/a/vexa"]
    assert "too short" in result.failed[0][1]
    assert {host for host, _ in connections} == {"127.0.0.1"}


def test_a_long_poll_renews_its_lease_after_each_item_indexed(
    fs: Services, server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    renewed: list[tuple[int, str, int]] = []
    real = FeedTable.renew

    def spy(self: FeedTable, feed_id: int, owner: str, until: int) -> bool:
        renewed.append((feed_id, owner, until))
        return real(self, feed_id, owner, until)

    monkeypatch.setattr(FeedTable, "renew", spy)
    feed = fs.feeds.add(f"{server.base}/wire.rss", 0)
    fs.feeds.poll_due()
    assert [(f, o) for f, o, _ in renewed] == [(feed.id, fs.feeds.owner)] * 3  # three indexed
