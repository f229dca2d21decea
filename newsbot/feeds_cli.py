"""`newsbot feed add|list|remove|pause|resume|poll`: RSS and Atom subscriptions from the shell."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.feeds import FeedResult
    from index.services import Services
    from index.settings import Settings


def add_feed_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `feed` and its subcommands."""
    feed = sub.add_parser("feed", help="subscribe libraries to RSS/Atom feeds and poll them")
    cmds = feed.add_subparsers(dest="feed_command", required=True, metavar="ACTION")
    p = cmds.add_parser("add", help="subscribe to a feed (read once to check it)")
    p.add_argument("url", metavar="URL")
    p.add_argument("--name", help="what the feed is called in lists")
    p.add_argument("--include", default="", metavar="WORDS",
                   help="comma-separated words: only items naming one are indexed")  # fmt: skip
    p.add_argument("--exclude", default="", metavar="WORDS",
                   help="comma-separated words: items naming one are skipped")  # fmt: skip
    p.add_argument("--backfill", type=int, metavar="DAYS",
                   help="also index items up to DAYS old (default: 7)")  # fmt: skip
    p.add_argument("--interval", type=int, metavar="SECONDS",
                   help="poll interval (default NEWSBOT_FEED_INTERVAL_SECONDS)")  # fmt: skip
    p.add_argument("--by", default=None, help="who added the feed")
    _server(p)
    p = cmds.add_parser("list", help="list subscriptions with their last poll and error")
    p.add_argument("--json", action="store_true", help="print a JSON array")
    _server(p)
    changes = (("remove", "unsubscribe (its stories stay indexed)"),
               ("pause", "stop polling a feed"), ("resume", "poll a feed again"))  # fmt: skip
    for action, text in changes:
        p = cmds.add_parser(action, help=text)
        p.add_argument("feed_id", type=int, metavar="ID")
        _server(p)
    p = cmds.add_parser("poll", help="poll every due feed once (for cron), every library")
    p.add_argument("--json", action="store_true", help="print a JSON array")


def _server(p: argparse.ArgumentParser) -> None:
    """Add --server: that server's library instead of the shared one."""
    p.add_argument("--server", type=int, default=0, metavar="GUILD_ID",
                   help="this server's library instead of the shared library")  # fmt: skip


def cmd_feed(args: argparse.Namespace, settings: Settings) -> int:
    """Run one `newsbot feed` action."""
    from index.services import build_services

    services = build_services(settings)
    try:
        return _ACTIONS[args.feed_command](args, services)
    finally:
        services.close()


def _add(args: argparse.Namespace, services: Services) -> int:
    """Subscribe and print the new feed."""
    feed = services.feeds.add(
        args.url, args.server, name=args.name, include=args.include, exclude=args.exclude,
        backfill_days=args.backfill, interval=args.interval, added_by=args.by,
    )  # fmt: skip
    print(f"added feed {feed.id}: {feed.publisher or feed.url} ({feed.url}); "
          "`newsbot feed poll` indexes its items")  # fmt: skip
    return 0


def _list(args: argparse.Namespace, services: Services) -> int:
    """Print the library's feeds."""
    from index.feeds.present import feed_state, feed_to_dict

    feeds = services.feeds.list_feeds((args.server,))
    if args.json:
        print(json.dumps([feed_to_dict(f) for f in feeds], indent=2))
        return 0
    if not feeds:
        print("no feeds; add one with `newsbot feed add URL`")
    for f in feeds:
        print(f"{f.id:>4}  {f.publisher or '(untitled)'}  {f.url}\n      {feed_state(f)}")
    return 0


def _change(args: argparse.Namespace, services: Services) -> int:
    """Remove, pause or resume a feed."""
    scope = (args.server,)
    if args.feed_command == "remove":
        feed = services.feeds.remove(args.feed_id, scope)
    else:
        feed = services.feeds.set_paused(args.feed_id, scope, args.feed_command == "pause")
    print(f"{args.feed_command}d feed {feed.id} ({feed.url})")  # removed, paused, resumed
    return 0


def _poll(args: argparse.Namespace, services: Services) -> int:
    """Poll due feeds once; exit 1 when a feed failed."""
    results = services.feeds.poll_due()
    reports = services.feeds.take_failure_reports()
    if args.json:
        print(json.dumps([r.to_dict() for r in results], indent=2))
    else:
        for r in results:
            print(poll_line(r))
        if not results:
            print("no feed is due")
    for feed in reports:
        print(f"newsbot feed: feed {feed.id} ({feed.url}) has failed for a day: "
              f"{feed.last_error}", file=sys.stderr)  # fmt: skip
    return 1 if any(r.status == "failed" for r in results) else 0


def poll_line(r: FeedResult) -> str:
    """Return one line saying what a poll of a feed did."""
    if r.status == "failed":
        return f"feed {r.feed_id} {r.url}: failed: {r.error}"
    if r.status == "unchanged":
        return f"feed {r.feed_id} {r.url}: unchanged (304)"
    return (f"feed {r.feed_id} {r.url}: {len(r.added)} added, {len(r.updated)} updated, "
            f"{r.skipped} skipped, {len(r.failed)} failed")  # fmt: skip


_ACTIONS: dict[str, Callable[[argparse.Namespace, Services], int]] = {
    "add": _add, "list": _list, "remove": _change, "pause": _change, "resume": _change,
    "poll": _poll,
}  # fmt: skip

FEED_COMMANDS: dict[str, Callable[[argparse.Namespace, Settings], int]] = {"feed": cmd_feed}
