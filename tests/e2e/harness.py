"""What e2e tests hold: the emulator, the running bot and helpers that read the recorded traffic."""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from index.registry import Registry
from tests.e2e.botproc import BotProcess
from tests.e2e.emulator import Emulator
from tests.e2e.emulator.interactions import Tracked
from tests.e2e.emulator.recorder import Call, wait_for
from tests.e2e.emulator.world import APP_ID, Person, member_person
from tests.index.httpserver import Server

HEARTBEAT_MS = 1000  # the emulator's heartbeat interval: short, so every test sees several
DIGEST_CHECK_SECONDS = 0.5  # NEWSBOT_DIGEST_CHECK_SECONDS for the bot under test


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
    _members: Iterator[int] = field(default_factory=lambda: itertools.count(1))

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


def embeds(call: Call) -> list[dict[str, Any]]:
    """Return the embeds a message request carried."""
    return list((call.body or {}).get("embeds") or [])


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
