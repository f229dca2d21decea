"""Feed test kit: the feed files of tests/data/feeds filled in, article pages, a movable clock."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from string import Template

from tests.index.httpserver import Route

FEEDS_DIR = Path(__file__).resolve().parents[2] / "data" / "feeds"
RSS = {"Content-Type": "application/rss+xml; charset=utf-8"}
ATOM = {"Content-Type": "application/atom+xml"}
HTML = {"Content-Type": "text/html; charset=utf-8"}

# Made-up facts: each story says its own, so the fake embedder tells them apart.
FACTS = {
    "orca": ("Lumen Labs", "Orca-7", "an open model with seven billion parameters", "Utrecht"),
    "vexa": ("the Estonian trade regulator", "Vexa", "a fine of 4.2 million euros", "Tallinn"),
    "quarry": ("Quarry Robotics", "its Porto plant", "two thousand warehouse robots a year",
               "Porto"),
    "ferrum": ("Ferrum AI", "its old chatbot", "a retired assistant", "Lyon"),
    "nimbus": ("Nimbus Health", "a diagnostic assistant", "a trial in nine clinics", "Oslo"),
    "delta": ("Delta Freight", "self-driving barges", "three barges on the Rhine", "Duisburg"),
}  # fmt: skip


def story(key: str, paragraphs: int = 6, twist: str = "") -> str:
    """Return a long made-up story about one set of facts, as HTML paragraphs."""
    who, what, detail, city = FACTS[key]
    lines = [
        f"<p>{who} announced {what} in {city} on Tuesday, describing {detail}.{twist}</p>",
        *(
            f"<p>In part {n}, people in {city} said {what} from {who} would matter for "
            f"{detail}; analysts counted {n * 7} similar moves by rivals this year.</p>"
            for n in range(1, paragraphs)
        ),
    ]
    return "\n".join(lines)


def article_page(key: str, title: str) -> bytes:
    """Return a news page whose article the HTML extractor finds."""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
            f"<body><nav><a href='/'>Home</a></nav><article><h1>{title}</h1>{story(key)}"
            "</article><footer>Copyright</footer></body></html>").encode()  # fmt: skip


@dataclass
class Clock:
    """A clock tests move by hand."""

    now: datetime

    def __call__(self) -> datetime:
        """Return the current test time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += timedelta(seconds=seconds)


def fill(name: str, base: str, now: datetime, **texts: str) -> bytes:
    """Return a feed file with the server's base URL, dates around `now` and story texts."""
    recent = now - timedelta(days=2)
    values = {key: story(key) for key in FACTS} | texts
    return Template((FEEDS_DIR / name).read_text(encoding="utf-8")).substitute(
        base=base, recent=format_datetime(recent), recent_iso=recent.isoformat(),
        old=format_datetime(now - timedelta(days=40)), **values,
    ).encode()  # fmt: skip


def routes(base: str, now: datetime) -> dict[str, Route]:
    """Return the routes of both feeds, the pages of their summary-only items and a broken feed."""
    return {
        "/wire.rss": Route(fill("wire.rss", base, now), headers=RSS, etag='"wire-1"'),
        "/ledger.atom": Route(fill("ledger.atom", base, now), headers=ATOM,
                              last_modified="Mon, 30 Nov 2026 08:00:00 GMT"),
        "/broken.rss": Route(fill("broken.rss", base, now), headers=RSS),
        "/a/vexa": Route(article_page("vexa", "Tallinn regulator fines Vexa"), headers=HTML),
        "/b/nimbus": Route(article_page("nimbus", "Nimbus Health trial"), headers=HTML),
        # A feed link that sends the fetcher to the cloud metadata address.
        "/moved.rss": Route(status=302, headers={"Location": "http://169.254.169.254/feed.rss"}),
        "/private.rss": Route(status=301, headers={"Location": "http://10.1.2.3/feed.rss"}),
    }  # fmt: skip


def now_utc() -> datetime:
    """Return a fixed-precision current time (seconds), for clocks the tests move."""
    return datetime.now(UTC).replace(microsecond=0)
