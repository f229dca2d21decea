"""One writer at a time per data directory, across threads and processes."""

from __future__ import annotations

import atexit
import json
import logging
import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from index.registry import Registry
    from index.store import VectorStore

try:
    import fcntl
except ImportError:  # Windows: threads are still serialised, processes are not
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

_POLL_S = 0.05
# Registry flags. WRITING: a write session is under way (its value lists the stories it
# touches); left set, its writer died. DAMAGED: the stories a dead writer touched, until repair
# has rebuilt and checked the index. GENERATION: changes with every write session.
WRITING = "vectors_writing"
DAMAGED = "vectors_damaged"
GENERATION = "vectors_generation"
# The processes that wrote and have not exited cleanly since (pids). A dead one may have
# left embedded Chroma's search index with changes it never saved; a reload from Chroma's own
# log then sometimes leaves a few vectors unreachable (seen in the SIGKILL trials).
WRITERS = "vectors_writers"


class WriteLock:
    """An exclusive lock held while stories are written, removed or repaired.

    Without it, a process starting up would take another process's half-written story for an
    interrupted one and roll it back under its feet. The lock alone does not make two processes
    safe on one embedded Chroma: WriteGuard adds that. The file lock (flock) is released by the
    kernel when its process dies, so a killed writer never leaves it held. Reentrant within a
    thread.
    """

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._thread_lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        # A session (a whole `newsbot ingest`) keeps the file lock between its batches.
        self._session_guard = threading.Lock()
        self._sessions = 0
        self._session_fd: int | None = None

    @contextmanager
    def session(self, timeout: float | None = None) -> Iterator[None]:
        """Keep other processes from writing until the block ends, between batches too.

        Embedded Chroma loses a few vectors from its search index when two processes' batches
        interleave, even one at a time (2 of 3,600 in each of three trials; 0 when each run
        wrote alone): so a multi-batch run holds the file lock for its whole length. Threads
        of this process still take turns batch by batch through hold().
        """
        self.enter_session(timeout)
        try:
            yield
        finally:
            with self._session_guard:
                self._sessions -= 1
                if self._sessions == 0:
                    self._drop_session()

    def enter_session(self, timeout: float | None = None) -> None:
        """Begin a session (see session(), which ends it)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._session_guard:
            if self._sessions == 0:
                self._take_session(deadline)
            self._sessions += 1

    def _take_session(self, deadline: float | None) -> None:
        """Take the lock for a session (the session guard is held)."""
        self._session_fd = _flock(self._path, deadline)

    def _drop_session(self) -> None:
        """Release the session's lock (the session guard is held)."""
        if self._session_fd is not None:
            fd, self._session_fd = self._session_fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

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
        if self._session_fd is None:  # within this process's session the lock is held
            self._fd = _flock(self._path, deadline)

    def _unlock_file(self) -> None:
        """Release the file lock."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


def _flock(path: Path | None, deadline: float | None) -> int | None:
    """Open and lock `path` exclusively, waiting until `deadline` at most; return the fd."""
    if path is None or fcntl is None:
        return None
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if deadline is None:
            fcntl.flock(fd, fcntl.LOCK_EX)
            return fd
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError("another process is writing to the index") from None
                time.sleep(_POLL_S)
    except BaseException:
        os.close(fd)
        raise


class WriteGuard:
    """Write sessions: the write lock, Chroma state reloaded when others wrote, crash flags.

    Several processes (the bot, `newsbot ingest`, another CLI command) may write to one data
    directory. Each embedded Chroma client keeps the search index in its own memory and saves
    it from there, so a process must never write from a copy older than the last write: under
    the lock, a changed GENERATION makes the store reopen from disk first. A run of several
    batches (an ingest) is one session: another process's writes wait for its end, then go on
    from fresh state.
    """

    def __init__(self, registry: Registry, store: VectorStore) -> None:
        self._registry = registry
        self._store = store
        self._seen = registry.get_meta(GENERATION)  # before the store first opens Chroma
        self._depth = 0
        self._registered = False
        self.wrote = False  # this process wrote or removed a story (a clean close notes the index)

    @contextmanager
    def hold(self, article_ids: Iterable[str] = (), timeout: float | None = None) -> Iterator[None]:
        """Run a write session touching `article_ids`; raise TimeoutError if the lock stays busy."""
        registry = self._registry
        with registry.write_lock.hold(timeout=timeout):
            if self._depth:  # a nested session belongs to the outer one
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            self._catch_up_locked()
            left = registry.get_meta(WRITING)
            if left:  # we hold the lock, so the writer that set it is gone
                log.warning("a process died while writing; the vector index will be rebuilt")
                registry.set_meta(DAMAGED, json.dumps(sorted(touched(left) | damaged(registry))))
            self._note_writers()
            ids = sorted(set(article_ids))
            self.wrote = self.wrote or bool(ids)
            registry.set_meta(WRITING, json.dumps(ids))
            self._depth = 1
            try:
                yield
            finally:
                self._depth = 0
                self._seen = uuid.uuid4().hex
                registry.set_meta(GENERATION, self._seen)
                registry.set_meta(WRITING, "")

    @contextmanager
    def session(self, timeout: float | None = None) -> Iterator[None]:
        """Write several batches with no other process writing in between (see WriteLock).

        Only the embedded Chroma needs it: a Chroma server takes writers' batches in any order.
        """
        if not self._store.embedded:
            yield
            return
        with self._registry.write_lock.session(timeout):
            yield

    def _note_writers(self) -> None:
        """Flag the index if a writer died since; list this process as a writer (lock held)."""
        if not self._store.embedded:
            # A Chroma server keeps its own state, and writers may run on other machines,
            # whose pids cannot be looked up here: nothing to track.
            return
        registry = self._registry
        writers = _writers(registry.get_meta(WRITERS))
        dead = {pid for pid in writers if pid != os.getpid() and not _alive(pid)}
        if dead and not registry.get_meta(DAMAGED):
            log.warning("a process that wrote exited uncleanly; the vector index will be rebuilt")
            registry.set_meta(DAMAGED, "[]")
        if dead or os.getpid() not in writers:
            registry.set_meta(WRITERS, json.dumps(sorted((writers - dead) | {os.getpid()})))
        if not self._registered:  # a normal exit records itself; release() unregisters
            self._registered = True
            atexit.register(self.release)

    def release(self) -> None:
        """Say this process exits cleanly: its Chroma state is saved (call at shutdown)."""
        if not self._registered:
            return
        try:
            with self._registry.write_lock.hold(timeout=5.0):
                writers = _writers(self._registry.get_meta(WRITERS))
                self._registry.set_meta(WRITERS, json.dumps(sorted(writers - {os.getpid()})))
            self._registered = False
            atexit.unregister(self.release)
        except (TimeoutError, OSError, sqlite3.Error) as exc:  # the next start just rebuilds
            log.debug("could not record a clean exit: %s", exc)

    def catch_up(self) -> None:
        """See what other processes wrote since this one last looked, unless one is writing."""
        if self._registry.get_meta(GENERATION) == self._seen:
            return  # the usual case: one SQLite read
        try:
            with self._registry.write_lock.hold(timeout=0):
                self._catch_up_locked()
        except TimeoutError:
            return  # a write is under way: look again at the next call

    def _catch_up_locked(self) -> None:
        """Reopen the store if the generation moved (the write lock is held)."""
        now = self._registry.get_meta(GENERATION)
        if now != self._seen:
            log.info("another process wrote to the index; reopening the vector store")
            self._store.refresh()
            self._seen = now


def _writers(value: str | None) -> set[int]:
    """Parse the WRITERS flag."""
    try:
        pids = json.loads(value or "[]")
    except ValueError:
        return set()
    return {int(p) for p in pids} if isinstance(pids, list) else set()


def _alive(pid: int) -> bool:
    """Tell whether a process with this id is running (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def touched(flag: str | None) -> set[str]:
    """Return the story ids a WRITING or DAMAGED flag lists ("1" from older versions: none)."""
    if not flag:
        return set()
    try:
        ids = json.loads(flag)
    except ValueError:
        return set()
    return {str(i) for i in ids} if isinstance(ids, list) else set()


def damaged(registry: Registry) -> set[str]:
    """Return the stories a dead writer touched that repair has not checked yet."""
    return touched(registry.get_meta(DAMAGED))
