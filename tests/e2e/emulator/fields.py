"""The smallest checks Discord makes on a value, shared by the payload validators."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One refused value: where it is (field path), Discord's error code and message."""

    path: tuple[str | int, ...]
    code: str
    message: str


def max_length(path: tuple[str | int, ...], value: object, limit: int) -> list[Problem]:
    """Refuse a non-string or a string longer than limit."""
    if not isinstance(value, str):
        return [Problem(path, "STRING_TYPE_CONVERT", "Could not interpret value as string.")]
    if len(value) > limit:
        return [Problem(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")]
    return []


def required_text(path: tuple[str | int, ...], value: object, limit: int) -> list[Problem]:
    """Refuse a missing or empty string, or one longer than limit."""
    if value is None or value == "":
        return [Problem(path, "BASE_TYPE_REQUIRED", "This field is required")]
    return max_length(path, value, limit)


def url_problems(path: tuple[str | int, ...], value: object) -> list[Problem]:
    """Refuse a URL whose scheme Discord does not accept in embeds."""
    if not isinstance(value, str) or not re.match(r"^(https?|attachment)://\S+$", value):
        return [Problem(path, "URL_TYPE_INVALID_URL", "Not a well formed URL.")]
    return []
