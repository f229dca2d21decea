"""`newsbot bench --feeds`: 50 feeds x 20 items from 127.0.0.1, polled twice; the second pass
(every feed unchanged) must cost under a second of CPU: conditional GET and dedupe, no embedding.
"""

from __future__ import annotations

import multiprocessing
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from index.embed import Embedder
from index.services import build_services
from index.settings import Settings

FEEDS, ITEMS = 50, 20
CPU_TARGET_S = 1.0
_WORDS = (
    "lumen",
    "vexa",
    "quarry",
    "nimbus",
    "delta",
    "orca",
    "ferrum",
    "tallinn",
    "porto",
    "oslo",
    "rhine",
    "barge",
    "chip",
    "model",
    "robot",
    "clinic",
    "fine",
    "trial",
)


def synthetic_feed(base: str, feed: int, items: int, now: datetime) -> bytes:
    """Return an RSS 2.0 feed of `items` distinct full-text items (no page fetch needed)."""
    entries = []
    for i in range(items):
        words = " ".join(_WORDS[(feed * 7 + i * 3 + k) % len(_WORDS)] for k in range(12))
        text = " ".join(f"Story {feed}-{i} sentence {n}: the {words} report number {n * i}."
                        for n in range(14))  # fmt: skip
        entries.append(
            f"<item><title>Feed {feed} story {i}: {words[:40]}</title>"
            f"<link>{base}/f{feed}/s{i}?utm_source=rss</link><guid>f{feed}-s{i}</guid>"
            f"<pubDate>{format_datetime(now - timedelta(hours=i + 1))}</pubDate>"
            f"<description>{escape(text)}</description></item>"
        )
    return (f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench feed {feed}'
            f"</title><link>{base}/</link>{''.join(entries)}</channel></rss>").encode()  # fmt: skip


def _serve(ready: Any, honour: Any, now: datetime) -> None:
    """Serve the bench feeds with ETags on 127.0.0.1 (in its own process: its CPU is not ours)."""
    docs: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = docs.get(self.path)
            if body is None:
                self.send_error(404)
                return
            etag = f'"{self.path}"'
            if honour.value and self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    docs.update({f"/f{n}.rss": synthetic_feed(base, n, ITEMS, now) for n in range(FEEDS)})
    ready.send(httpd.server_address[1])
    httpd.serve_forever()


def _timed(call: Callable[[], Any]) -> tuple[Any, float, float]:
    """Run call; return its result, CPU seconds of this process and wall seconds."""
    cpu, wall = time.process_time(), time.perf_counter()
    result = call()
    return result, time.process_time() - cpu, time.perf_counter() - wall


def run_feed_bench(
    base: Settings, log: Callable[[str], None], embedder: Embedder | None = None
) -> dict[str, Any]:
    """Poll 50 local feeds three times (new, unchanged with 304s, unchanged without validators)."""
    ctx = multiprocessing.get_context("spawn")  # no fork of a process holding threads
    now = datetime.now(UTC).replace(microsecond=0)
    receive, send = ctx.Pipe(duplex=False)
    honour = ctx.Value("b", 1)
    server = ctx.Process(target=_serve, args=(send, honour, now), daemon=True)
    server.start()
    try:
        port = receive.recv()
        with tempfile.TemporaryDirectory(prefix="newsbot-feed-bench-") as tmp:
            settings = base.model_copy(update={
                "data_dir": Path(tmp), "fetch_allow_private_hosts": [f"127.0.0.1:{port}"],
                "feed_min_interval_seconds": 60, "feed_interval_seconds": 600,
                "feed_max_items": ITEMS,
            })  # fmt: skip
            clock = {"now": now}
            services = build_services(settings, embedder=embedder, clock=lambda: clock["now"])
            try:
                return _passes(services, port, clock, honour, log)
            finally:
                services.close()
    finally:
        server.terminate()
        server.join(timeout=5)


def _passes(services: Any, port: int, clock: dict[str, datetime], honour: Any,
            log: Callable[[str], None]) -> dict[str, Any]:  # fmt: skip
    """Subscribe, then time the three passes."""
    feeds = services.feeds
    for n in range(FEEDS):
        feeds.add(f"http://127.0.0.1:{port}/f{n}.rss", 0)
    log(f"first pass: {FEEDS} feeds x {ITEMS} items, indexing every item…")
    first, first_cpu, first_wall = _timed(feeds.poll_due)
    clock["now"] += timedelta(seconds=601)
    log("second pass: every feed unchanged (conditional GET)…")
    second, cpu, wall = _timed(feeds.poll_due)
    clock["now"] += timedelta(seconds=601)
    honour.value = 0  # the server now ignores validators: dedupe alone must skip every item
    log("third pass: every feed unchanged, the server ignoring validators…")
    third, third_cpu, third_wall = _timed(feeds.poll_due)
    return {
        "feeds": FEEDS, "items": FEEDS * ITEMS,
        "first_pass_added": sum(len(r.added) for r in first),
        "first_pass_s": round(first_wall, 2), "first_pass_cpu_s": round(first_cpu, 2),
        "second_pass_304": sum(r.status == "unchanged" for r in second),
        "second_pass_added": sum(len(r.added) + len(r.updated) for r in second),
        "second_pass_cpu_s": round(cpu, 3), "second_pass_s": round(wall, 3),
        "second_pass_target_cpu_s": CPU_TARGET_S, "second_pass_ok": cpu < CPU_TARGET_S,
        "no_validators_added": sum(len(r.added) + len(r.updated) for r in third),
        "no_validators_skipped": sum(r.skipped for r in third),
        "no_validators_cpu_s": round(third_cpu, 3), "no_validators_s": round(third_wall, 3),
    }  # fmt: skip
