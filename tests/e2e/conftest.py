"""Module-scoped fixtures: one emulator, one article server, one `newsbot run` per test module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.articles import (
    FINE_PATH,
    FRESH_PATH,
    LINKY_PATH,
    LONG_PATH,
    fine_article,
    fresh_article,
    linky_article,
    long_article,
)
from tests.e2e.emulator import Emulator
from tests.e2e.harness import HEARTBEAT_MS, Harness, launch
from tests.index.httpserver import Route, Server, serve


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """Run the Discord emulator on 127.0.0.1."""
    emulator = Emulator(heartbeat_ms=HEARTBEAT_MS).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def site() -> Iterator[Server]:
    """Serve news pages on 127.0.0.1 for /story add url:."""
    html = {"Content-Type": "text/html; charset=utf-8"}
    routes = {
        FRESH_PATH: Route(fresh_article().encode(), headers=html),
        LONG_PATH: Route(long_article().encode(), headers=html),
        FINE_PATH: Route(fine_article().encode(), headers=html),
        LINKY_PATH: Route(linky_article().encode(), headers=html),
    }
    with serve(routes) as server:
        yield server


@pytest.fixture(scope="module")
def harness(
    emulator: Emulator, site: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Harness]:
    """Index the sample stories, publish the commands, then start `newsbot run` once."""
    yield from launch(emulator, site, tmp_path_factory.mktemp("e2e"))
