"""Everything the emulator saw and sent: REST calls and gateway frames, readable from any thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Call:
    """One REST request and the emulator's answer."""

    at: float  # time.monotonic() when the request arrived
    method: str
    path: str  # without the /api/v10 prefix
    query: dict[str, str]
    body: Any  # the parsed JSON (payload_json for multipart), or None
    status: int
    reply: Any  # the JSON answered, or None for 204
    note: str = ""  # why a request was refused, for failure messages

    @property
    def rejected(self) -> bool:
        """Return True when the emulator refused the request, as Discord would have."""
        return self.status >= 400


@dataclass(frozen=True)
class Frame:
    """One gateway message, sent to the bot or received from it."""

    at: float
    conn: int  # which websocket connection (1, 2, ... in connection order)
    direction: Literal["sent", "received"]
    op: int
    t: str | None = None
    s: int | None = None
    d: Any = None


@dataclass
class Recorder:
    """A thread-safe log of calls and frames with small query helpers for tests."""

    _calls: list[Call] = field(default_factory=list)
    _frames: list[Frame] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add_call(self, call: Call) -> None:
        """Record a REST call."""
        with self._lock:
            self._calls.append(call)

    def add_frame(self, frame: Frame) -> None:
        """Record a gateway frame."""
        with self._lock:
            self._frames.append(frame)

    def calls(
        self, method: str | None = None, path: str | None = None, since: float = 0.0
    ) -> list[Call]:
        """Return calls, optionally one method, paths starting with `path`, and after `since`."""
        with self._lock:
            found = list(self._calls)
        return [
            c
            for c in found
            if c.at >= since
            and (method is None or c.method == method)
            and (path is None or c.path.startswith(path))
        ]

    def frames(
        self,
        direction: Literal["sent", "received"] | None = None,
        op: int | None = None,
        t: str | None = None,
        since: float = 0.0,
    ) -> list[Frame]:
        """Return frames, optionally filtered by direction, op code, event name and time."""
        with self._lock:
            found = list(self._frames)
        return [
            f
            for f in found
            if f.at >= since
            and (direction is None or f.direction == direction)
            and (op is None or f.op == op)
            and (t is None or f.t == t)
        ]

    def rejected(self, since: float = 0.0) -> list[Call]:
        """Return every call the emulator refused."""
        return [c for c in self.calls(since=since) if c.rejected]


def wait_for(probe: Callable[[], T | None], timeout: float, what: str, every: float = 0.02) -> T:
    """Poll `probe` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
