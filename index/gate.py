"""A gate for a shared client: many calls at once, or one reopening with none in flight."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class CallGate:
    """Calls pass together; `exclusive()` waits until none is in flight and holds new ones back.

    Reentrant for calls: a thread already inside a call may make another (it is counted
    twice), so a call made while exclusive is held by the same thread is the caller's bug.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._active = 0
        self._closed = False

    @contextmanager
    def call(self) -> Iterator[None]:
        """Run one call, waiting while the gate is held exclusively."""
        with self._cond:
            while self._closed:
                self._cond.wait()
            self._active += 1
        try:
            yield
        finally:
            with self._cond:
                self._active -= 1
                if self._active == 0:
                    self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        """Hold new calls back, wait for those in flight to end, and run the block alone."""
        with self._cond:
            while self._closed:
                self._cond.wait()
            self._closed = True
            while self._active:
                self._cond.wait()
        try:
            yield
        finally:
            with self._cond:
                self._closed = False
                self._cond.notify_all()
