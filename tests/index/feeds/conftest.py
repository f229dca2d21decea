"""Fixtures of the feed tests: a local feed server, a movable clock, services on both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.services import Services, build_services
from index.settings import Settings
from tests.fakes import FakeEmbedder
from tests.index.feeds.feedkit import Clock, now_utc, routes
from tests.index.httpserver import Server, guard_connections, serve


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Refuse (and record) every connection not to 127.0.0.1."""
    return guard_connections(monkeypatch)


@pytest.fixture
def clock() -> Clock:
    """Return a clock the test moves."""
    return Clock(now_utc())


@pytest.fixture
def server(clock: Clock) -> Iterator[Server]:
    """Serve the test feeds and their article pages on 127.0.0.1."""
    with serve({}) as running:
        running.routes.update(routes(running.base, clock.now))
        yield running


@pytest.fixture
def feed_settings(tmp_path: Path, server: Server, database_url: str) -> Settings:
    """Return settings that may fetch from the test server only (on PostgreSQL too in modules
    marked both_backends)."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "data", refusal_threshold=0.3,
        database_url=database_url,
        fetch_allow_private_hosts=[server.hostport], fetch_timeout=5,
        feed_interval_seconds=600, feed_min_interval_seconds=60,
    )  # fmt: skip


@pytest.fixture
def embedder() -> FakeEmbedder:
    """Return the fake embedder, which counts its calls."""
    return FakeEmbedder()


@pytest.fixture
def fs(feed_settings: Settings, clock: Clock, embedder: FakeEmbedder) -> Iterator[Services]:
    """Return services on the fake embedder and the test clock."""
    services = build_services(feed_settings, embedder=embedder, clock=clock)
    yield services
    services.close()
