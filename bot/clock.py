"""The bot's clock is the core's one clock (index/clock.py); kept importable from here."""

from index.clock import FileClock, clock_from_settings

__all__ = ["FileClock", "clock_from_settings"]
