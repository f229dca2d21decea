"""Text people type (questions, review notes, vote reasons) made plain: one line, as it reads."""

from __future__ import annotations

import re
import unicodedata

# Control characters, bidi overrides and isolates (they make text shown in a channel read
# differently from what it says) and lone surrogates (SQLite and Discord cannot encode them).
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def plain_line(text: str) -> str:
    """Return text NFC-normalised, without control characters, on one line of single spaces."""
    return " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", text)).split())
