"""Two servers, one real `newsbot run`: each sees only its own stories, settings and digest.

This module runs its own emulator (with a second server) and its own bot, commands published
globally. The tests run in file order: the story server one adds is what server two must not see.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.articles import FINE_PATH, FINE_TITLE
from tests.e2e.emulator import Emulator
from tests.e2e.emulator.interactions import Tracked
from tests.e2e.emulator.recorder import wait_for
from tests.e2e.emulator.world import (
    ADMIN,
    DIGEST_CHANNEL_ID,
    GUILD_ID,
    MODERATOR,
    OTHER_DIGEST_CHANNEL_ID,
    OTHER_GENERAL_CHANNEL_ID,
    OTHER_GUILD_ID,
)
from tests.e2e.harness import (
    DIGEST_CHECK_SECONDS,
    HEARTBEAT_MS,
    Harness,
    describe,
    embeds,
    launch,
)
from tests.index.httpserver import Server

pytestmark = pytest.mark.e2e

FINE_QUESTION = "How much did the European Commission fine Meta under the Digital Markets Act?"
QUIET = 4 * DIGEST_CHECK_SECONDS


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    """Run the Discord emulator with two servers."""
    emulator = Emulator(heartbeat_ms=HEARTBEAT_MS, second_guild=True).start()
    yield emulator
    emulator.stop()


@pytest.fixture(scope="module")
def harness(
    emulator: Emulator, site: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Harness]:
    """This module's bot, serving both servers."""
    settings = {"NEWSBOT_GUILD_IDS": f"{GUILD_ID},{OTHER_GUILD_ID}"}
    home = tmp_path_factory.mktemp("e2e-communities")
    yield from launch(emulator, site, home, settings, sync_guild=None)


def _in_other(harness: Harness, name: str, options: dict[str, Any], sub: str | None = None,
              person: Any = None) -> Tracked:  # fmt: skip
    return harness.emulator.slash(
        name, person or ADMIN, options, sub=sub, channel_id=OTHER_GENERAL_CHANNEL_ID
    )


def _reply(harness: Harness, tracked: Tracked) -> str:
    """Return what the bot answered: its follow-up, or a refusal sent as the first response."""
    ack = harness.acked(tracked, timeout=30)
    if ack.get("type") == 4:
        return str(ack["data"])
    return str(harness.answer(tracked).body)


def _shown(calls: list[Any]) -> str:
    return " ".join(str(c.body) for c in calls)


def test_a_story_added_in_one_server_answers_only_there(harness: Harness) -> None:
    added = harness.emulator.slash(
        "story", MODERATOR, {"url": f"{harness.site.base}{FINE_PATH}"}, sub="add"
    )
    preview = harness.answer(added)
    assert FINE_TITLE in str(preview.body), describe([preview])
    here = harness.answer(harness.ask(FINE_QUESTION))
    (embed,) = embeds(here)
    assert "200 million euros" in embed["description"].replace("**", "")  # spans are bold
    there = harness.answer(_in_other(harness, "ask", {"question": FINE_QUESTION},
                                     person=harness.member()))  # fmt: skip
    (embed,) = embeds(there)
    assert FINE_TITLE not in str(embed) and "200 million" not in str(embed)


def test_the_other_servers_admin_cannot_see_or_remove_it(harness: Harness) -> None:
    listed = _reply(harness, _in_other(harness, "story", {}, sub="list"))
    assert "Indexed stories (0)" in listed and FINE_TITLE not in listed, listed
    removal = _reply(harness, _in_other(harness, "story", {"story": FINE_TITLE}, sub="remove"))
    assert "No indexed story matches" in removal, removal
    shared = _reply(harness, _in_other(harness, "story", {"library": "shared"}, sub="list"))
    assert "operator" in shared, shared  # no operator servers: nobody curates it here
    assert FINE_TITLE in harness.stored_titles()  # still there for the first server


def test_each_server_posts_its_own_digest_at_its_own_time(harness: Harness) -> None:
    later = harness.slot + timedelta(hours=2)
    for key, value in (
        ("digest_channel_id", str(OTHER_DIGEST_CHANNEL_ID)),
        ("digest_weekday", f"{later:%A}".lower()),
        ("digest_time", f"{later:%H:%M}"),
    ):
        done = _reply(harness, _in_other(harness, "settings", {"key": key, "value": value}, "set"))
        assert f"`{key}` is now" in done, done
    shown = _reply(harness, _in_other(harness, "settings", {}, sub="show"))
    assert "set here" in shown, shown

    harness.set_clock(harness.slot + timedelta(minutes=1))
    wait_for(lambda: harness.posts(DIGEST_CHANNEL_ID), 15, "the first server's digest")
    time.sleep(QUIET)
    assert harness.posts(OTHER_DIGEST_CHANNEL_ID) == [], "the second server posted too early"
    assert FINE_TITLE in _shown(harness.posts(DIGEST_CHANNEL_ID))

    harness.set_clock(later + timedelta(minutes=1))
    wait_for(lambda: harness.posts(OTHER_DIGEST_CHANNEL_ID), 15, "the second server's digest")
    time.sleep(QUIET)
    posts = harness.posts(OTHER_DIGEST_CHANNEL_ID)
    assert all(p.status == 200 for p in posts), describe(posts)
    assert len(posts) == 1, describe(posts)  # once
    assert FINE_TITLE not in _shown(posts)
    assert "Hollywood" in _shown(posts)  # the shared library's samples
    first = len(harness.posts(DIGEST_CHANNEL_ID))
    time.sleep(QUIET)
    assert len(harness.posts(DIGEST_CHANNEL_ID)) == first  # the first server's stays at one
