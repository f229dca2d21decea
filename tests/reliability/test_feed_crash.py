"""Crash safety of feed polls: SIGKILL a real `newsbot feed poll` at varied moments.

A data directory subscribed to one local feed of 24 items is copied per trial; a real poll
process (the fake embedder keeps it fast, small chunks make many writes) is killed with SIGKILL
after a growing share of its items, watched in the registry. Once the kill's lease has expired,
the next poll must leave every item indexed exactly once: no lost item, no duplicate story,
registry and Chroma agreeing.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from index.backup import REGISTRY
from index.feed_bench import synthetic_feed
from index.feeds import FeedTable
from index.feeds._poll import LEASE_SECONDS
from tests.index.httpserver import Route, Server, serve
from tests.reliability.crashkit import ROOT, WORKER_ENV, check_consistent, open_services

ITEMS = 24
TRIALS = 5


@pytest.fixture(scope="module")
def feed_server() -> Iterator[Server]:
    """Serve one feed of ITEMS full-text items (with an ETag) on 127.0.0.1."""
    with serve({}) as running:
        body = synthetic_feed(running.base, 7, ITEMS, datetime.now(UTC))
        headers = {"Content-Type": "application/rss+xml"}
        running.routes["/crash.rss"] = Route(body, headers=headers, etag='"crash-1"')
        yield running


class Poller:
    """`newsbot ARGS` through tests.reliability.cli_worker, on one data dir and clock file."""

    def __init__(self, data: Path, server: Server) -> None:
        self.data, self.clock = data, data.parent / f"{data.name}.now"
        if not self.clock.exists():
            self.clock.write_text(datetime.now(UTC).isoformat())
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSBOT_")}
        self.env |= {**WORKER_ENV, "PYTHONPATH": str(ROOT), "NEWSBOT_CLOCK_FILE": str(self.clock),
                     "NEWSBOT_FETCH_ALLOW_PRIVATE_HOSTS": server.hostport,
                     "NEWSBOT_FEED_MAX_ITEMS": str(ITEMS)}  # fmt: skip

    def start(self, *args: str) -> subprocess.Popen[str]:
        """Start `newsbot --data-dir DATA ARGS`."""
        cmd = [sys.executable, "-m", "tests.reliability.cli_worker", "--data-dir", str(self.data)]
        return subprocess.Popen([*cmd, *args], cwd=ROOT, env=self.env, text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip

    def run(self, *args: str) -> str:
        """Run `newsbot ARGS` to the end and return its output."""
        out, err = self.start(*args).communicate(timeout=300)
        assert "Traceback" not in err, err
        return out

    def advance(self, seconds: float) -> None:
        """Move the clock file forward."""
        now = datetime.fromisoformat(self.clock.read_text())
        self.clock.write_text((now + timedelta(seconds=seconds)).isoformat())


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory, feed_server: Server) -> Path:
    """Return a folder with `template/`: a data dir subscribed to the feed, never polled."""
    root = tmp_path_factory.mktemp("feedcrash")
    Poller(root / "template", feed_server).run("feed", "add", f"{feed_server.base}/crash.rss")
    return root


def _copy(workdir: Path, name: str) -> Path:
    shutil.copytree(workdir / "template", workdir / name)
    shutil.copy(workdir / "template.now", workdir / f"{name}.now")
    return workdir / name


def _check(data: Path, where: str) -> None:
    """Every item once: a ready story per item, each item's key pointing at it, no stray rows."""
    services = open_services(data)
    try:
        state = check_consistent(services)
        assert state.problems == [], f"{where}: {state.problems}"
        stories = services.stories.list_stories(None)
        assert len(stories) == ITEMS, f"{where}: {len(stories)} stories"
        assert len({a.url for a in stories}) == ITEMS, where  # one story per item link
        known = FeedTable(services.registry).known_items(1)
        assert len(known) == ITEMS, f"{where}: {len(known)} items remembered"
    finally:
        services.close()


@pytest.fixture(scope="module")
def timing(workdir: Path, feed_server: Server) -> tuple[float, float]:
    """Return (start-up seconds, whole poll seconds) of an uninterrupted poll."""
    poller = Poller(_copy(workdir, "startup"), feed_server)
    begin = time.monotonic()
    poller.run("feed", "list")
    startup = time.monotonic() - begin
    poller = Poller(_copy(workdir, "complete"), feed_server)
    begin = time.monotonic()
    polled = json.loads(poller.run("feed", "poll", "--json"))
    assert len(polled[0]["added"]) == ITEMS
    _check(poller.data, "uninterrupted")
    return startup, time.monotonic() - begin


def _ready_count(data: Path) -> int:
    """Return how many stories the registry holds as ready, read beside the writer (WAL)."""
    try:
        with closing(sqlite3.connect(f"file:{data / REGISTRY}?mode=ro", uri=True, timeout=5)) as db:
            return int(
                db.execute("SELECT count(*) FROM articles WHERE status = 'ready'").fetchone()[0]
            )
    except sqlite3.OperationalError:  # not created yet
        return 0


def _kill_after(proc: subprocess.Popen[str], data: Path, stories: int, extra: float) -> None:
    """SIGKILL proc `extra` seconds after `stories` stories are ready (or once it has ended)."""
    deadline = time.monotonic() + 120
    while stories and proc.poll() is None and time.monotonic() < deadline:
        if _ready_count(data) >= stories:
            break
        time.sleep(0.01)
    time.sleep(extra)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def test_sigkill_during_a_poll_loses_nothing_and_duplicates_nothing(
    workdir: Path, feed_server: Server, timing: tuple[float, float]
) -> None:
    startup, whole = timing
    per_item = (whole - startup) / ITEMS
    rng = random.Random(20261202)
    added_by_killed = []
    for trial in range(TRIALS):
        poller = Poller(_copy(workdir, f"trial{trial}"), feed_server)
        # Kills are placed by progress, not by the clock alone (a loaded machine stretches a
        # run): the first lands around start-up, the others after a growing share of the items,
        # each at a random moment within the next item's writes.
        target = ITEMS * trial // TRIALS
        extra = startup * (0.5 + rng.random()) if not target else per_item * rng.random()
        proc = poller.start("feed", "poll", "--json")
        _kill_after(proc, poller.data, target, extra)
        services = open_services(poller.data)
        try:
            added_by_killed.append(services.stories.count(None))
        finally:
            services.close()
        # The dead poller's lease runs out, and the feed's interval (1800 s by default).
        poller.advance(max(LEASE_SECONDS, 1800) + 1)
        after = json.loads(poller.run("feed", "poll", "--json"))
        # A poll the kill came too late for has finished: the next one gets a 304.
        assert [r["status"] for r in after] in (["polled"], ["unchanged"]), after
        _check(poller.data, f"trial {trial}, killed {extra:.2f} s after {target} stories")
    # The kills landed in varied places: before any story and part way through the items.
    assert min(added_by_killed) < ITEMS // 2 and max(added_by_killed) > 0, added_by_killed
