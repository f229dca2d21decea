"""Discord's `enforce_nonce` on message create: a repeat of a nonce by the same author within a
few minutes returns the message first created with it and posts nothing.

Discord documents the window only as "the past few minutes"; the emulator keeps the short end
of that, so a design that relies on a longer memory fails here before it fails on Discord.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

NONCE_MAX = 25  # characters: Discord refuses a longer nonce (BASE_TYPE_MAX_LENGTH)
WINDOW_S = 120.0


class NonceMemory:
    """The messages each author created with an enforced nonce, for WINDOW_S seconds."""

    def __init__(self, window_s: float = WINDOW_S, now: Callable[[], float] = time.monotonic):
        self.window_s = window_s
        self._now = now
        self._seen: dict[tuple[str, str], tuple[float, dict[str, Any]]] = {}

    def earlier(self, author_id: str, nonce: str) -> dict[str, Any] | None:
        """Return the message this author created with this nonce within the window, or None."""
        found = self._seen.get((author_id, nonce))
        if found is None or self._now() - found[0] > self.window_s:
            return None
        return found[1]

    def remember(self, author_id: str, nonce: str, message: dict[str, Any]) -> None:
        """Note a message created with an enforced nonce."""
        self._seen[(author_id, nonce)] = (self._now(), message)
