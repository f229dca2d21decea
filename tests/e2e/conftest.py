"""Module-scoped fixtures: one emulator, one article server, one `newsbot run` per test module."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta

import pytest

from index.settings import SAMPLES_DIR
from tests.e2e.articles import FRESH_PATH, LONG_PATH, fresh_article, long_article
from tests.e2e.botproc import BotProcess, clean_env, finish, newsbot
from tests.e2e.emulator import Emulator
from tests.e2e.emulator.recorder import wait_for
from tests.e2e.emulator.world import (
    DIGEST_CHANNEL_ID,
    DIGEST_ROLE_ID,
    GUILD_ID,
    MOD_ROLE_ID,
    TOKEN,
)
from tests.e2e.harness import DIGEST_CHECK_SECONDS, HEARTBEAT_MS, Harness, stored_titles
from tests.index.httpserver import Route, Server, serve

STARTUP_TIMEOUT = 90.0  # seconds: imports and loading the embedding model on a slow CI machine


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
    }
    with serve(routes) as server:
        yield server


def digest_slot() -> datetime:
    """Return a weekly slot two days ahead, so stories indexed now fall inside its week."""
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    return datetime.combine(day, time(9, 0), tzinfo=UTC)


@pytest.fixture(scope="module")
def harness(
    emulator: Emulator, site: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Harness]:
    """Index the sample stories, publish the commands, then start `newsbot run` once."""
    home = tmp_path_factory.mktemp("e2e")
    slot = digest_slot()
    clock_file = home / "now.txt"
    clock_file.write_text((slot - timedelta(hours=1)).isoformat(), encoding="utf-8")
    env = clean_env(
        {
            "NEWSBOT_DISCORD_TOKEN": TOKEN,
            "NEWSBOT_DISCORD_API_BASE": emulator.api_base,
            "NEWSBOT_DISCORD_GATEWAY": emulator.gateway_url,
            "NEWSBOT_DATA_DIR": str(home / "data"),
            "NEWSBOT_GUILD_IDS": str(GUILD_ID),
            "NEWSBOT_MODERATOR_ROLE_IDS": str(MOD_ROLE_ID),
            "NEWSBOT_CLOCK_FILE": str(clock_file),
            "NEWSBOT_DIGEST_CHANNEL_ID": str(DIGEST_CHANNEL_ID),
            "NEWSBOT_DIGEST_ROLE_ID": str(DIGEST_ROLE_ID),
            "NEWSBOT_DIGEST_WEEKDAY": f"{slot:%A}".lower(),
            "NEWSBOT_DIGEST_TIME": f"{slot:%H:%M}",
            "NEWSBOT_DIGEST_TIMEZONE": "UTC",
            "NEWSBOT_DIGEST_CHECK_SECONDS": str(DIGEST_CHECK_SECONDS),
            "NEWSBOT_FETCH_ALLOW_PRIVATE_HOSTS": site.hostport,  # this one test server only
        }
    )
    # Two real CLI runs at once: indexing the samples, and publishing the commands to the
    # emulator (in its own data dir, so the two never share the SQLite file or Chroma).
    ingest = newsbot(["ingest", str(SAMPLES_DIR)], env, home)
    sync_env = env | {"NEWSBOT_DATA_DIR": str(home / "sync")}
    sync = newsbot(["sync", "--guild", str(GUILD_ID)], sync_env, home)
    finish(sync, "newsbot sync")
    finish(ingest, "newsbot ingest")
    samples = stored_titles(home / "data")
    bot = BotProcess.start(env, home, home / "bot.log")
    try:
        harness = Harness(emulator, bot, home / "data", clock_file, slot, site, samples)
        wait_for(lambda: emulator.recorder.frames("received", op=2), STARTUP_TIMEOUT, "IDENTIFY")
        bot.wait_for_log("logged in as", STARTUP_TIMEOUT)
        yield harness
    finally:
        code = bot.stop()
        print(f"--- newsbot run exited with {code}; its log:\n{bot.log()}")
