"""What Discord's API refuses, written independently of the bot: limits, known fields, shapes.

Each check returns a list of Problems; `form_error` turns them into the JSON body Discord sends
with a 400 (code 50035, "Invalid Form Body", errors nested by field path).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from tests.e2e.emulator.fields import Problem
from tests.e2e.emulator.fields import max_length as _max_length
from tests.e2e.emulator.fields import required_text as _required_text
from tests.e2e.emulator.fields import url_problems as _url
from tests.e2e.emulator.nonces import NONCE_MAX
from tests.e2e.emulator.ui import component_problems, modal_problems

# Limits from https://discord.com/developers/docs/resources/message#embed-object-embed-limits
CONTENT_MAX = 2000
EMBEDS_MAX = 10
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELDS_MAX = 25
FIELD_NAME_MAX = 256
FIELD_VALUE_MAX = 1024
FOOTER_MAX = 2048
AUTHOR_MAX = 256
EMBED_TOTAL_MAX = 6000  # across every embed of one message

# Top-level fields each endpoint documents; anything else is refused.
_COMMON = {"content", "tts", "embeds", "allowed_mentions", "components", "attachments", "flags"}
_COMMON |= {"poll", "files", "payload_json"}
CHANNEL_MESSAGE = _COMMON | {"nonce", "enforce_nonce", "message_reference", "sticker_ids"}
WEBHOOK_MESSAGE = _COMMON | {"username", "avatar_url", "thread_name", "applied_tags"}
INTERACTION_MESSAGE = _COMMON - {"files", "payload_json"}
EDIT_MESSAGE = {"content", "embeds", "flags", "allowed_mentions", "components", "attachments"}
EDIT_MESSAGE |= {"poll", "files", "payload_json"}
MessageKind = Literal["channel", "webhook", "interaction", "edit"]
_FIELDS_BY_KIND: dict[str, set[str]] = {
    "channel": CHANNEL_MESSAGE,
    "webhook": WEBHOOK_MESSAGE,
    "interaction": INTERACTION_MESSAGE,
    "edit": EDIT_MESSAGE,
}
_EMBED_KEYS = {"title", "type", "description", "url", "timestamp", "color", "footer", "image"}
_EMBED_KEYS |= {"thumbnail", "video", "provider", "author", "fields"}
_EMBED_KEYS |= {"flags"}  # embed flags: discord.py 2.6+ sends `"flags": 0` with every embed
EPHEMERAL = 1 << 6
SUPPRESS_EMBEDS = 1 << 2
SUPPRESS_NOTIFICATIONS = 1 << 12
_ALLOWED_FLAGS: dict[str, int] = {
    "channel": SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS,
    "webhook": SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | EPHEMERAL,
    "interaction": SUPPRESS_EMBEDS | SUPPRESS_NOTIFICATIONS | EPHEMERAL,
    "edit": SUPPRESS_EMBEDS,
}
_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$")


def embed_problems(embed: object, index: int) -> tuple[list[Problem], int]:
    """Return an embed's problems and its character count toward the 6,000 total."""
    at: tuple[str | int, ...] = ("embeds", index)
    if not isinstance(embed, Mapping):
        return [Problem(at, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")], 0
    problems = [
        Problem((*at, key), "UNKNOWN_FIELD", "Unknown field.")
        for key in embed
        if key not in _EMBED_KEYS
    ]
    counted = 0
    for key, limit in (("title", TITLE_MAX), ("description", DESCRIPTION_MAX)):
        if key in embed:
            problems += _max_length((*at, key), embed[key], limit)
            counted += len(embed[key]) if isinstance(embed[key], str) else 0
    if "url" in embed:
        problems += _url((*at, "url"), embed["url"])
    if "color" in embed and not (isinstance(embed["color"], int) and 0 <= embed["color"] < 1 << 24):
        problems.append(
            Problem((*at, "color"), "NUMBER_TYPE_MAX", "int value should be <= 16777215.")
        )
    if "timestamp" in embed:
        try:
            datetime.fromisoformat(str(embed["timestamp"]))
        except ValueError:
            problems.append(Problem((*at, "timestamp"), "DATE_TYPE_PARSE", "Could not parse date."))
    for key, text_key, limit in (("footer", "text", FOOTER_MAX), ("author", "name", AUTHOR_MAX)):
        part = embed.get(key)
        if part is None:
            continue
        problems += _required_text((*at, key, text_key), part.get(text_key), limit)
        counted += len(part.get(text_key) or "")
        for url_key in ("url", "icon_url"):
            if part.get(url_key) is not None:
                problems += _url((*at, key, url_key), part[url_key])
    field_problems, field_chars = _fields_problems(at, embed.get("fields"))
    return problems + field_problems, counted + field_chars


def _fields_problems(at: tuple[str | int, ...], fields: object) -> tuple[list[Problem], int]:
    """Return the problems of an embed's fields and their character count."""
    if fields is None:
        return [], 0
    if not isinstance(fields, list):
        return [Problem((*at, "fields"), "LIST_TYPE_CONVERT", "Must be an array.")], 0
    problems: list[Problem] = []
    if len(fields) > FIELDS_MAX:
        problems.append(
            Problem(
                (*at, "fields"), "BASE_TYPE_MAX_LENGTH", f"Must be {FIELDS_MAX} or fewer in length."
            )
        )
    counted = 0
    for n, item in enumerate(fields):
        name, value = item.get("name"), item.get("value")
        problems += _required_text((*at, "fields", n, "name"), name, FIELD_NAME_MAX)
        problems += _required_text((*at, "fields", n, "value"), value, FIELD_VALUE_MAX)
        counted += len(name or "") + len(value or "")
    return problems, counted


def allowed_mentions_problems(mentions: object) -> list[Problem]:
    """Refuse an allowed_mentions object Discord would not parse."""
    at: tuple[str | int, ...] = ("allowed_mentions",)
    if not isinstance(mentions, Mapping):
        return [Problem(at, "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")]
    problems = [
        Problem((*at, key), "UNKNOWN_FIELD", "Unknown field.")
        for key in mentions
        if key not in {"parse", "roles", "users", "replied_user"}
    ]
    parse = mentions.get("parse", [])
    for n, kind in enumerate(parse if isinstance(parse, list) else [parse]):
        if kind not in {"users", "roles", "everyone"}:
            problems.append(
                Problem((*at, "parse", n), "ENUM_TYPE_COERCE", f"Value {kind!r} is not valid.")
            )
    for kind in ("users", "roles"):
        if kind in parse and mentions.get(kind):
            problems.append(
                Problem(
                    (*at, kind), "SET_TYPE_ALREADY_CONTAINS_VALUE", f"parse and {kind} conflict."
                )
            )
    return problems


def message_problems(payload: object, kind: MessageKind) -> list[Problem]:
    """Return every reason Discord would refuse this message payload (empty list: accepted)."""
    if not isinstance(payload, Mapping):
        return [Problem((), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")]
    known = _FIELDS_BY_KIND[kind]
    problems = [
        Problem((key,), "UNKNOWN_FIELD", "Unknown field.") for key in payload if key not in known
    ]
    if payload.get("content") is not None:
        problems += _max_length(("content",), payload["content"], CONTENT_MAX)
    if isinstance(payload.get("nonce"), str):  # an integer nonce is any 64-bit number
        problems += _max_length(("nonce",), payload["nonce"], NONCE_MAX)
    embeds = payload.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        problems.append(
            Problem(
                ("embeds",), "BASE_TYPE_MAX_LENGTH", f"Must be {EMBEDS_MAX} or fewer in length."
            )
        )
    total = 0
    for n, embed in enumerate(embeds):
        found, chars = embed_problems(embed, n)
        problems += found
        total += chars
    if total > EMBED_TOTAL_MAX:
        problems.append(
            Problem(
                ("embeds",), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000"
            )
        )
    if "allowed_mentions" in payload and payload["allowed_mentions"] is not None:
        problems += allowed_mentions_problems(payload["allowed_mentions"])
    if payload.get("components"):
        problems += component_problems(payload["components"])
    flags = payload.get("flags") or 0
    if not isinstance(flags, int) or flags & ~_ALLOWED_FLAGS[kind]:
        problems.append(
            Problem(("flags",), "MESSAGE_FLAGS_INVALID", f"Flags {flags!r} not allowed here.")
        )
    return problems


def is_empty_message(payload: Mapping[str, Any]) -> bool:
    """Return True for a new message with nothing to show (Discord's error 50006)."""
    shown = ("content", "embeds", "components", "sticker_ids", "attachments", "files", "poll")
    return not any(payload.get(key) for key in shown)


def callback_problems(body: object) -> list[Problem]:
    """Return every reason Discord would refuse an interaction callback body."""
    if not isinstance(body, Mapping):
        return [Problem((), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")]
    problems = [
        Problem((key,), "UNKNOWN_FIELD", "Unknown field.")
        for key in body
        if key not in {"type", "data"}
    ]
    kind, data = body.get("type"), body.get("data")
    if kind in (4, 7):
        problems += [
            Problem(("data", *p.path), p.code, p.message)
            for p in message_problems(data or {}, "interaction")
        ]
    elif kind in (5, 6):
        extra = set(data or {}) - {"flags"}
        problems += [
            Problem(("data", key), "UNKNOWN_FIELD", "Unknown field.") for key in sorted(extra)
        ]
    elif kind == 8:
        problems += _choices_problems((data or {}).get("choices"))
    elif kind == 9:
        problems += modal_problems(data)
    else:
        problems.append(
            Problem(("type",), "ENUM_TYPE_COERCE", f"Value {kind!r} is not a valid enum value.")
        )
    return problems


def _choices_problems(choices: object) -> list[Problem]:
    """Refuse autocomplete results over 25 choices or with bad names."""
    if not isinstance(choices, list):
        return [Problem(("data", "choices"), "LIST_TYPE_CONVERT", "Must be an array.")]
    problems = []
    if len(choices) > 25:
        problems.append(
            Problem(("data", "choices"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        )
    for n, choice in enumerate(choices):
        problems += _required_text(("data", "choices", n, "name"), choice.get("name"), 100)
    return problems


def command_problems(commands: object) -> list[Problem]:
    """Return every reason Discord would refuse a bulk command overwrite."""
    if not isinstance(commands, list):
        return [Problem((), "LIST_TYPE_CONVERT", "Must be an array.")]
    problems: list[Problem] = []
    names = [c.get("name") for c in commands]
    for n, command in enumerate(commands):
        problems += _command_problems((n,), command, top=True)
        if names.count(command.get("name")) > 1:
            problems.append(
                Problem((n, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Duplicate name.")
            )
    return problems


def _menu_problems(at: tuple[str | int, ...], spec: Mapping[str, Any]) -> list[Problem]:
    """Refuse a context menu command with a bad name, a description or options."""
    name = spec.get("name")
    problems: list[Problem] = []
    if not isinstance(name, str) or not 1 <= len(name) <= 32 or name != name.strip():
        problems.append(
            Problem((*at, "name"), "APPLICATION_COMMAND_INVALID_NAME", f"Invalid name {name!r}.")
        )
    if spec.get("description") or spec.get("options"):
        problems.append(
            Problem(
                (*at, "description"),
                "APPLICATION_COMMAND_CONTEXT_MENU_NO_DESCRIPTION",
                "Context menu commands cannot have a description or options.",
            )
        )
    return problems


def _command_problems(
    at: tuple[str | int, ...], spec: Mapping[str, Any], *, top: bool
) -> list[Problem]:
    """Refuse a chat-input command or option with a bad name, description or option list."""
    problems: list[Problem] = []
    name = spec.get("name")
    if top and spec.get("type", 1) in (2, 3):  # user and message menus: any case, spaces too
        return _menu_problems(at, spec)
    if not isinstance(name, str) or not _COMMAND_NAME.match(name) or name != name.lower():
        problems.append(
            Problem((*at, "name"), "APPLICATION_COMMAND_INVALID_NAME", f"Invalid name {name!r}.")
        )
    if not top or spec.get("type", 1) == 1:
        description = spec.get("description")
        if not isinstance(description, str) or not 1 <= len(description) <= 100:
            problems.append(
                Problem(
                    (*at, "description"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 100 in length.",
                )
            )
    options = spec.get("options") or []
    if len(options) > 25:
        problems.append(
            Problem((*at, "options"), "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        )
    seen_optional = False
    for n, option in enumerate(options):
        problems += _command_problems((*at, "options", n), option, top=False)
        if option.get("type") in (1, 2):
            continue
        if option.get("required") and seen_optional:
            problems.append(
                Problem(
                    (*at, "options", n),
                    "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                    "Required options must be placed before non-required options.",
                )
            )
        seen_optional = seen_optional or not option.get("required")
        if len(option.get("choices") or []) > 25:
            problems.append(
                Problem(
                    (*at, "options", n, "choices"),
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 25 or fewer in length.",
                )
            )
    return problems


def form_error(problems: Iterable[Problem]) -> dict[str, Any]:
    """Return Discord's 400 body for refused fields: errors nested by path, `_errors` at leaves."""
    errors: dict[str, Any] = {}
    for problem in problems:
        node = errors
        for part in problem.path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": problem.code, "message": problem.message})
    return {"code": 50035, "errors": errors, "message": "Invalid Form Body"}
