"""What e2e tests hold: the emulator, the running bot and helpers that read the recorded traffic."""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from index.registry import Registry
from index.settings import SAMPLES_DIR
from tests.e2e.botproc import BotProcess, clean_env, finish, newsbot
from tests.e2e.emulator import Emulator
from tests.e2e.emulator.interactions import Tracked
from tests.e2e.emulator.recorder import Call, wait_for
from tests.e2e.emulator.world import (
    APP_ID,
    DIGEST_CHANNEL_ID,
    DIGEST_ROLE_ID,
    GUILD_ID,
    MOD_ROLE_ID,
    TOKEN,
    Person,
    member_person,
)
from tests.index.httpserver import Server

HEARTBEAT_MS = 1000  # the emulator's heartbeat interval: short, so every test sees several
DIGEST_CHECK_SECONDS = 0.5  # NEWSBOT_DIGEST_CHECK_SECONDS for the bot under test
ACK_DEADLINE = 3.0  # Discord's: the first response to an interaction within three seconds
EPHEMERAL = 64  # the message flag only the member who acted can see
STARTUP_TIMEOUT = 90.0  # seconds: imports and loading the embedding model on a slow CI machine


@dataclass
class Harness:
    """One running bot against one emulator, shared by the tests of a module."""

    emulator: Emulator
    bot: BotProcess
    data_dir: Path
    clock_file: Path
    slot: datetime  # the weekly digest time the bot is configured for (UTC)
    site: Server  # the local web server /story add fetches from
    sample_titles: frozenset[str]  # the bundled stories indexed before the bot started
    env: dict[str, str] = field(default_factory=dict)  # `newsbot run`'s environment, to restart it
    home: Path | None = None  # the bot's working directory (its logs are kept there)
    stopped: list[BotProcess] = field(default_factory=list)  # earlier processes, before restarts
    _members: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def wait_until_connected(self, since: float = 0.0, timeout: float = STARTUP_TIMEOUT) -> None:
        """Wait until the bot process identified (after `since`) and logged that it is ready."""
        recorder = self.emulator.recorder
        wait_for(lambda: recorder.frames("received", op=2, since=since), timeout, "IDENTIFY")
        self.bot.wait_for_log("logged in as", timeout)

    def restart(self) -> int:
        """Stop the bot with SIGTERM, start a new process on the same data; return the exit code."""
        assert self.home is not None, "restart needs the bot's working directory"
        code = self.bot.stop()
        self.stopped.append(self.bot)
        since = time.monotonic()
        log_path = self.home / f"bot-{len(self.stopped) + 1}.log"
        self.bot = BotProcess.start(self.env, self.home, log_path)
        self.wait_until_connected(since)
        return code

    def logs(self) -> str:
        """Return the logs of every bot process this harness ran, oldest first."""
        runs = [*self.stopped, self.bot]
        return "\n".join(f"--- process {n}:\n{bot.log()}" for n, bot in enumerate(runs, 1))

    def stored_titles(self) -> frozenset[str]:
        """Return the titles of the stories in the bot's registry (read while it runs)."""
        return stored_titles(self.data_dir)

    def member(self) -> Person:
        """Return a member nobody used yet (each member has their own /ask cooldown)."""
        return member_person(next(self._members))

    def set_clock(self, moment: datetime) -> None:
        """Write the bot's "now" atomically, so it never reads half a timestamp."""
        partial = self.clock_file.with_suffix(".tmp")
        partial.write_text(moment.isoformat(), encoding="utf-8")
        os.replace(partial, self.clock_file)

    def ask(self, question: str, person: Person | None = None, *, private: bool = False) -> Tracked:
        """Have a member run /ask."""
        options: dict[str, Any] = {"question": question}
        if private:
            options["private"] = True
        return self.emulator.slash("ask", person or self.member(), options)

    def acked(self, tracked: Tracked, timeout: float = 5.0) -> dict[str, Any]:
        """Wait for the bot's first response to an interaction and return its body."""
        wait_for(
            lambda: tracked.ack or self._refused(tracked), timeout, f"a response to {tracked.id}"
        )
        assert tracked.ack is not None, describe(self._refused(tracked))
        return tracked.ack

    def followups(self, tracked: Tracked, since: float = 0.0) -> list[Call]:
        """Return every follow-up the bot sent for an interaction (accepted or not)."""
        return self.emulator.recorder.calls("POST", f"/webhooks/{APP_ID}/{tracked.token}", since)

    def answer(self, tracked: Tracked, timeout: float = 30.0) -> Call:
        """Wait for the first follow-up of an interaction and return it."""
        found = wait_for(
            lambda: self.followups(tracked) or self._refused(tracked),
            timeout,
            f"a follow-up to {tracked.id}",
        )
        assert not self._refused(tracked), describe(self._refused(tracked))
        return found[0]

    def _refused(self, tracked: Tracked) -> list[Call]:
        """Return refused responses to an interaction (no answer will follow: fail fast)."""
        path = f"/interactions/{tracked.id}/"
        return [c for c in self.emulator.recorder.calls("POST", path) if c.rejected]

    def posts(self, channel_id: int, since: float = 0.0) -> list[Call]:
        """Return the messages the bot posted to a channel."""
        return self.emulator.recorder.calls("POST", f"/channels/{channel_id}/messages", since)

    def message(self, call: Call) -> dict[str, Any]:
        """Return the message a request created, as the emulator holds it now (with edits)."""
        assert call.reply and "id" in call.reply, f"no message in {call.status} {call.path}"
        stored = self.emulator.messages.get(int(call.reply["id"]))
        assert stored is not None, f"message {call.reply['id']} is gone"
        return stored

    def dms(self, user_id: int, since: float = 0.0) -> list[Call]:
        """Return the messages the bot sent (or tried to send) to a member's DMs."""
        channel_id = self.emulator.dm_channel_id(user_id)
        return [] if channel_id is None else self.posts(channel_id, since)

    def rejected(self, since: float = 0.0) -> list[Call]:
        """Return the requests the emulator refused, as Discord would have."""
        return self.emulator.recorder.rejected(since)

    def max_heartbeat_gap(self, start: float, end: float, conn: int | None = None) -> float:
        """Return the longest stretch without a heartbeat between start and end."""
        frames = self.emulator.recorder.frames("received", op=1)
        beats = [f.at for f in frames if start <= f.at <= end and conn in (None, f.conn)]
        marks = [start, *beats, end]
        return max(b - a for a, b in itertools.pairwise(marks))


def stored_titles(data_dir: Path) -> frozenset[str]:
    """Return the titles of the stories in a data directory's registry."""
    registry = Registry(data_dir / "newsbot.db")
    try:
        return frozenset(article.title for article in registry.list_articles())
    finally:
        registry.close()


def describe(calls: Iterable[Call]) -> str:
    """Return refused calls as lines for an assertion message."""
    return "\n".join(f"{c.status} {c.method} {c.path}: {c.note}" for c in calls)


def buttons(message: dict[str, Any]) -> list[dict[str, Any]]:
    """Return the buttons of a message, row by row."""
    rows = message.get("components") or []
    return [c for row in rows for c in row.get("components", []) if c.get("type") == 2]


def embeds(call: Call) -> list[dict[str, Any]]:
    """Return the embeds a message request carried."""
    return list((call.body or {}).get("embeds") or [])


def assert_cited_answer(description: str, cited_title: str) -> None:
    """Check an answer: quoted excerpts each with an [n] marker, then the numbered sources."""
    answer, _, sources = description.partition("**Sources**")
    assert re.search(r"\u201d \[\d+\]", answer), description
    assert re.search(rf"\[\d+\] \*\*{re.escape(cited_title)}\*\*", sources), description


def pings_nobody(payload: dict[str, Any]) -> bool:
    """Return True when a message's allowed_mentions lets nothing ping."""
    mentions = payload.get("allowed_mentions")
    if mentions is None:
        return False  # Discord's default parses every mention in the content
    return (
        mentions.get("parse") == []
        and not mentions.get("users")
        and not mentions.get("roles")
        and not mentions.get("replied_user")
    )


def digest_slot() -> datetime:
    """Return a weekly slot two days ahead, so stories indexed now fall inside its week."""
    day = (datetime.now(UTC) + timedelta(days=2)).date()
    return datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


def launch(
    emulator: Emulator,
    site: Server,
    home: Path,
    settings: dict[str, str] | None = None,
    *,
    sync_guild: int | None = GUILD_ID,
) -> Iterator[Harness]:
    """Index the samples, publish the commands (to one server, or globally with None), run the
    bot (with extra settings) until closed."""
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
            **(settings or {}),
        }
    )
    # Two real CLI runs at once: indexing the samples, and publishing the commands to the
    # emulator (in its own data dir, so the two never share the SQLite file or Chroma).
    ingest = newsbot(["ingest", str(SAMPLES_DIR)], env, home)
    sync_env = env | {"NEWSBOT_DATA_DIR": str(home / "sync")}
    scope = [] if sync_guild is None else ["--guild", str(sync_guild)]
    sync = newsbot(["sync", *scope], sync_env, home)
    finish(sync, "newsbot sync")
    finish(ingest, "newsbot ingest")
    samples = stored_titles(home / "data")
    bot = BotProcess.start(env, home, home / "bot.log")
    harness = Harness(
        emulator, bot, home / "data", clock_file, slot, site, samples, env=env, home=home
    )
    try:
        harness.wait_until_connected()
        yield harness
    finally:
        code = harness.bot.stop()
        print(f"--- newsbot run exited with {code}; its logs:\n{harness.logs()}")


def rendered(body: dict[str, Any]) -> str:
    """Return every string of a recorded message that Discord renders."""
    parts = [body.get("content") or ""]
    for embed in body.get("embeds") or []:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [(embed.get("footer") or {}).get("text") or ""]
        parts += [(embed.get("author") or {}).get("name") or ""]
        for item in embed.get("fields") or []:
            parts += [item.get("name") or "", item.get("value") or ""]
    return "\n".join(parts)
