"""Scale-out end to end: PostgreSQL, a real `chroma run`, two `newsbot run` processes (shards 0
and 1 of two) against the emulator, and `newsbot ingest` processes beside them.

The two servers of the emulator sit on different shards, so each bot process serves one. The
tests run in file order: the digest test kills one of the processes.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from index.settings import SAMPLES_DIR
from tests.chroma_server import ChromaServer, chroma_executable
from tests.e2e.botproc import BotProcess, clean_env, finish, newsbot
from tests.e2e.emulator import Emulator
from tests.e2e.emulator.gateway import shard_of
from tests.e2e.emulator.recorder import wait_for
from tests.e2e.emulator.world import (
    APP_ID,
    DIGEST_CHANNEL_ID,
    DIGEST_ROLE_ID,
    GENERAL_CHANNEL_ID,
    GUILD_ID,
    MOD_ROLE_ID,
    OTHER_GENERAL_CHANNEL_ID,
    OTHER_GUILD_ID,
    TOKEN,
    member_person,
)
from tests.e2e.harness import DIGEST_CHECK_SECONDS, HEARTBEAT_MS, STARTUP_TIMEOUT, digest_slot
from tests.library_stories import LUMEN, QUESTION
from tests.postgres_server import PostgresServer, postgres_bindir

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(chroma_executable() is None, reason="chroma CLI not installed"),
    pytest.mark.skipif(postgres_bindir() is None, reason="no PostgreSQL binaries (initdb)"),
]

LEASE_SECONDS = 3  # a killed digest poster's work passes on this fast
MESSAGE_DELAY = 1.0
REPLY_DELAY = 3.0  # seconds between Discord posting a message and the bot hearing so
DIGEST_PATH = f"/channels/{DIGEST_CHANNEL_ID}/messages"
EXTRA_STORIES = 40  # enough stories for a digest of several messages
LUMEN_TITLE = "Lumenwave opens a robotics lab in Lisbon"


@dataclass
class Cluster:
    """The shared stores, the emulator and the two bot processes."""

    emulator: Emulator
    url: str
    env: dict[str, str]
    home: Path
    clock_file: Path
    slot: Any
    bots: dict[int, BotProcess]  # by shard id

    def ingest(self, path: Path, name: str) -> str:
        """Run `newsbot ingest` as a third process (a data directory of its own)."""
        env = self.env | {"NEWSBOT_DATA_DIR": str(self.home / name)}
        return finish(newsbot(["ingest", str(path)], env, self.home), "newsbot ingest")

    def digest_holder(self) -> str | None:
        """Return who holds the first server's digest lease, or None."""
        with psycopg.connect(self.url) as conn:
            row = conn.execute(
                "SELECT owner FROM leases WHERE name = %s", (f"digest:{GUILD_ID}",)
            ).fetchone()
        return row[0] if row else None

    def meta(self, key: str) -> str | None:
        """Return one registry flag."""
        with psycopg.connect(self.url) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return row[0] if row else None


def _stories(folder: Path) -> Path:
    """Write stories with long titles and summaries, so their digest needs several messages."""
    folder.mkdir()
    for n in range(EXTRA_STORIES):
        title = f"Orbital robotics maker number {n} opens an assembly line for lunar rovers"
        body = (
            f"Orbital robotics maker number {n} opened an assembly line for lunar rovers on"
            f" Monday, employing {100 + n} engineers and planning {n + 3} rovers a year, the"
            " company said in a statement that also listed its suppliers, its investors and the"
            " test sites where the rovers drive before they fly. The line replaces a smaller"
            " workshop that built prototypes by hand."
        )
        front = f"---\ntitle: {title}\nsource: Harbor Ledger\npublished: 2026-10-01\n---\n"
        (folder / f"rover-{n}.md").write_text(front + body + "\n", encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Start PostgreSQL, Chroma, the emulator; index; then two bot processes, one per shard."""
    home = tmp_path_factory.mktemp("e2e-scale")
    postgres = PostgresServer()
    postgres.start()
    chroma = ChromaServer(home / "chroma")
    chroma.start()
    emulator = Emulator(heartbeat_ms=HEARTBEAT_MS, second_guild=True).start()
    bots: dict[int, BotProcess] = {}
    try:
        url = postgres.create_database()
        slot = digest_slot()
        clock_file = home / "now.txt"
        clock_file.write_text((slot - timedelta(hours=1)).isoformat(), encoding="utf-8")
        env = clean_env({
            "NEWSBOT_DATABASE_URL": url, "NEWSBOT_CHROMA_HOST": chroma.host,
            "NEWSBOT_CHROMA_PORT": str(chroma.port), "NEWSBOT_DISCORD_TOKEN": TOKEN,
            "NEWSBOT_DISCORD_API_BASE": emulator.api_base,
            "NEWSBOT_DISCORD_GATEWAY": emulator.gateway_url,
            "NEWSBOT_GUILD_IDS": f"{GUILD_ID},{OTHER_GUILD_ID}",
            "NEWSBOT_MODERATOR_ROLE_IDS": str(MOD_ROLE_ID), "NEWSBOT_CLOCK_FILE": str(clock_file),
            "NEWSBOT_DIGEST_CHANNEL_ID": str(DIGEST_CHANNEL_ID),
            "NEWSBOT_DIGEST_ROLE_ID": str(DIGEST_ROLE_ID),
            "NEWSBOT_DIGEST_WEEKDAY": f"{slot:%A}".lower(), "NEWSBOT_DIGEST_TIME": f"{slot:%H:%M}",
            "NEWSBOT_DIGEST_TIMEZONE": "UTC",
            "NEWSBOT_DIGEST_CHECK_SECONDS": str(DIGEST_CHECK_SECONDS),
            "NEWSBOT_LEASE_SECONDS": str(LEASE_SECONDS), "NEWSBOT_SHARD_COUNT": "2",
        })  # fmt: skip
        cluster = Cluster(emulator, url, env, home, clock_file, slot, bots)
        sync = newsbot(["sync"], env | {"NEWSBOT_DATA_DIR": str(home / "sync")}, home)
        cluster.ingest(SAMPLES_DIR, "ingest-samples")
        cluster.ingest(_stories(home / "rovers"), "ingest-rovers")
        finish(sync, "newsbot sync")
        for shard in (0, 1):
            run_env = env | {"NEWSBOT_SHARD_IDS": str(shard),
                             "NEWSBOT_DATA_DIR": str(home / f"bot-{shard}")}  # fmt: skip
            bots[shard] = BotProcess.start(run_env, home, home / f"bot-{shard}.log")
        for bot in bots.values():
            bot.wait_for_log("logged in as", STARTUP_TIMEOUT)
        yield cluster
    finally:
        for shard, bot in bots.items():
            code = bot.stop()
            print(f"--- newsbot run (shard {shard}) exited with {code}; its log:\n{bot.log()}")
        emulator.stop()
        chroma.stop()
        postgres.stop()


def _ask(cluster: Cluster, channel_id: int, member: int) -> str:
    """Ask the Lumenwave question in a channel and return the answer's embed text."""
    tracked = cluster.emulator.slash("ask", member_person(member), {"question": QUESTION},
                                     channel_id=channel_id)  # fmt: skip
    path = f"/webhooks/{APP_ID}/{tracked.token}"
    calls = wait_for(lambda: cluster.emulator.recorder.calls("POST", path), 30,
                     f"an answer in channel {channel_id}")  # fmt: skip
    return json.dumps(calls[0].body)


def test_each_server_is_served_by_the_process_running_its_shard(cluster: Cluster) -> None:
    assert shard_of(GUILD_ID, 2) != shard_of(OTHER_GUILD_ID, 2)
    ready = cluster.emulator.recorder.frames("sent", t="READY")
    assert sorted(f.d["shard"][0] for f in ready) == [0, 1]  # one session per shard
    created = cluster.emulator.recorder.frames("sent", t="GUILD_CREATE")
    by_conn = {f.conn: int(f.d["id"]) for f in created}
    assert sorted(by_conn.values()) == sorted([GUILD_ID, OTHER_GUILD_ID])
    assert len(by_conn) == 2  # each server went to one connection only, not to both


def test_a_story_a_third_process_ingests_is_answered_by_both_bots(cluster: Cluster) -> None:
    story = cluster.home / "lumen.md"
    story.write_text(LUMEN, encoding="utf-8")
    before = _ask(cluster, GENERAL_CHANNEL_ID, 1)
    assert LUMEN_TITLE not in before  # not indexed yet: not cited
    cluster.ingest(story, "ingest-lumen")
    started = time.monotonic()
    here = _ask(cluster, GENERAL_CHANNEL_ID, 2)
    there = _ask(cluster, OTHER_GENERAL_CHANNEL_ID, 3)
    assert "140" in here and LUMEN_TITLE in here, here  # quoted and cited
    assert "140" in there and LUMEN_TITLE in there, there
    assert time.monotonic() - started < 30
    asked = cluster.emulator.recorder.frames("sent", t="INTERACTION_CREATE")
    assert len({f.conn for f in asked[-2:]}) == 2  # the two questions reached the two processes


def test_the_digest_is_posted_once_even_when_its_poster_is_killed_mid_post(
    cluster: Cluster,
) -> None:
    # Each message is created at once but answered late: the kill lands after Discord posted
    # a message and before its poster heard so (and recorded it), the window nonces close.
    cluster.emulator.rest.reply_delay = REPLY_DELAY
    partial = cluster.clock_file.with_suffix(".tmp")
    partial.write_text((cluster.slot + timedelta(minutes=1)).isoformat(), encoding="utf-8")
    os.replace(partial, cluster.clock_file)
    posted = lambda: cluster.emulator.messages.in_channel(DIGEST_CHANNEL_ID)  # noqa: E731
    wait_for(posted, 30, "the first digest message")
    holder = wait_for(cluster.digest_holder, 5, "the digest lease's holder")
    pid = int(holder.split(":")[1])
    [(shard, victim)] = [(s, b) for s, b in cluster.bots.items() if b.process.pid == pid]
    os.kill(pid, signal.SIGKILL)
    victim.process.wait(10)
    at_kill, recorded = len(posted()), _recorded(cluster)
    assert at_kill > recorded, "the kill missed the window between posting and recording"
    cluster.emulator.rest.reply_delay = MESSAGE_DELAY / 10  # the survivor finishes quickly
    wait_for(lambda: cluster.meta(f"digest.last_run_at:{GUILD_ID}"), 60, "the digest to finish")
    time.sleep(4 * DIGEST_CHECK_SECONDS + MESSAGE_DELAY)  # nothing more comes later
    messages = posted()
    bodies = [json.dumps(m.get("embeds"), sort_keys=True) for m in messages]
    assert len(messages) > at_kill >= 1, "the survivor finished nothing"
    assert len(set(bodies)) == len(bodies), "a digest message was posted twice"
    # The survivor did send the unrecorded message again, with the same nonce: Discord (the
    # emulator, as Discord) answered with the first one instead of posting it twice.
    nonces = [c.body.get("nonce") for c in cluster.emulator.recorder.calls("POST", DIGEST_PATH)]
    repeated = {n for n in nonces if nonces.count(n) > 1}
    assert repeated and all(c.body.get("enforce_nonce") for c in
                            cluster.emulator.recorder.calls("POST", DIGEST_PATH))  # fmt: skip
    assert len(set(nonces)) == len(messages)
    text = " ".join(bodies)
    for n in range(EXTRA_STORIES):  # every story of the week, each exactly once
        title = f"Orbital robotics maker number {n} opens an assembly line for lunar rovers"
        assert text.count(title) == 1, title
    assert sum(m.get("content") == f"<@&{DIGEST_ROLE_ID}>" for m in messages) == 1
    survivor = cluster.bots[1 - shard]
    assert survivor.process.poll() is None and "Traceback" not in survivor.log()


def _recorded(cluster: Cluster) -> int:
    """Return how many digest messages of this period the registry records as sent."""
    value = cluster.meta(f"digest.sent_upto:{GUILD_ID}")
    return int(value.rpartition(" ")[2]) if value else 0
