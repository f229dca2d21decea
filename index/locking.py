"""One writer at a time per data directory, across threads and processes."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: threads are still serialised, processes are not
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

_POLL_S = 0.05


class WriteLock:
    """An exclusive lock held while stories are written, removed or repaired.

    The CLI and the bot may run at once on one data directory. Without this lock, a process
    starting up would take another process's half-written story for an interrupted one and
    roll it back under its feet. The file lock (flock) is released by the kernel when its
    process dies, so a killed writer never leaves it held. Reentrant within a thread.
    """

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None

    @contextmanager
    def hold(self, timeout: float | None = None) -> Iterator[None]:
        """Hold the lock; raise TimeoutError if it stays busy for `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._thread_lock.acquire(timeout=-1 if timeout is None else timeout):
            raise TimeoutError("another thread is writing to the index")
        try:
            if self._depth == 0:
                self._lock_file(deadline)
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._unlock_file()
        finally:
            self._thread_lock.release()

    def _lock_file(self, deadline: float | None) -> None:
        """Take the file lock, waiting until `deadline` (monotonic seconds) at most."""
        if self._path is None or fcntl is None:
            return
        fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if deadline is None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            else:
                while True:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                        break
                    except BlockingIOError:
                        if time.monotonic() >= deadline:
                            raise TimeoutError("another process is writing to the index") from None
                        time.sleep(_POLL_S)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _unlock_file(self) -> None:
        """Release the file lock."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
