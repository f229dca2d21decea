"""The one clock: the real UTC time, or a time read from NEWSBOT_CLOCK_FILE on every look."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from index.settings import Settings

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(UTC)


class FileClock:
    """A clock that reads an ISO-8601 time from a file each call, so tests can move time."""

    def __init__(self, path: Path, fallback: Clock = utc_now) -> None:
        self.path = path
        self.fallback = fallback
        self._failing = False  # warn once per run of failed reads, not on every digest check

    def __call__(self) -> datetime:
        """Return the time in the file (naive means UTC), or the fallback clock's if unreadable."""
        try:
            moment = datetime.fromisoformat(self.path.read_text(encoding="utf-8").strip())
        except (OSError, ValueError) as exc:
            if not self._failing:
                log.warning("clock file %s unreadable (%s): using the real clock", self.path, exc)
                self._failing = True
            return self.fallback()
        if self._failing:
            log.info("clock file %s readable again", self.path)
            self._failing = False
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment


def clock_from_settings(settings: Settings) -> Clock:
    """Return the clock settings ask for: the clock file when set, else real UTC time."""
    if settings.clock_file is None:
        return utc_now
    log.info("taking the time from %s (NEWSBOT_CLOCK_FILE)", settings.clock_file)
    return FileClock(settings.clock_file)


class SharedClock:
    """The one clock every service holds; moving it (tests, the bot) moves them all."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def __call__(self) -> datetime:
        """Return the time of the clock it currently wraps."""
        return self.clock()
