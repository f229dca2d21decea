"""The weekly digest's slot: a weekday and a local time, and whether one has passed (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from index.settings import Settings

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEK = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Schedule:
    """A weekly slot: a weekday and a wall-clock time in a time zone."""

    weekday: int  # Monday = 0
    at: time
    tz: ZoneInfo

    @classmethod
    def from_settings(cls, settings: Settings) -> Schedule:
        """Return the schedule the digest settings describe."""
        at = settings.digest_time.replace(tzinfo=None)
        return cls(WEEKDAYS.index(settings.digest_weekday), at, ZoneInfo(settings.digest_timezone))

    def _slot_on(self, day: date) -> datetime:
        """Return the slot on a local calendar day, in UTC (DST gaps resolve as zoneinfo does)."""
        return datetime.combine(day, self.at, tzinfo=self.tz).astimezone(UTC)

    def latest_slot(self, now: datetime) -> datetime:
        """Return the most recent scheduled time at or before now, in UTC."""
        now = now.astimezone(UTC)
        local_day = now.astimezone(self.tz).date()
        day = local_day - timedelta(days=(local_day.weekday() - self.weekday) % 7)
        slot = self._slot_on(day)
        # Compare in UTC: aware datetimes sharing a tzinfo compare by wall time, wrong across DST.
        return slot if slot <= now else self._slot_on(day - WEEK)

    def next_slot(self, now: datetime) -> datetime:
        """Return the first scheduled time strictly after now, in UTC."""
        latest = self.latest_slot(now)
        return self._slot_on(latest.astimezone(self.tz).date() + WEEK)


def floor_second(moment: datetime) -> datetime:
    """Return a moment in UTC without microseconds, as the registry stores times."""
    return moment.astimezone(UTC).replace(microsecond=0)


def is_due(
    schedule: Schedule, now: datetime, last_run: datetime | None, first_seen: datetime
) -> bool:
    """Return True when a slot has passed since the last run (or since the first check)."""
    reference = last_run or first_seen
    return schedule.latest_slot(now) > reference.astimezone(UTC)
