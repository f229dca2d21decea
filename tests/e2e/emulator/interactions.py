"""Interactions: the published commands, INTERACTION_CREATE payloads (slash commands, button
clicks, modal submits) and their deadlines."""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.emulator.world import APP_ID, GENERAL_CHANNEL_ID, GUILD_ID, Person, World

ACK_WINDOW = 3.0  # seconds Discord waits for the first response to an interaction
FOLLOWUP_WINDOW = 15 * 60.0  # seconds an interaction token stays valid for follow-ups
ATTACHMENT_SIZE_LIMIT = 10 * 1024 * 1024
_OPTION_TYPES = {3: str, 4: int, 5: bool, 10: float}  # the scalar option types tests may send


@dataclass(frozen=True)
class Refusal:
    """An HTTP error the way Discord sends it."""

    status: int
    body: dict[str, Any]


UNKNOWN_INTERACTION = Refusal(404, {"message": "Unknown interaction", "code": 10062})
ALREADY_ACKNOWLEDGED = Refusal(
    400, {"message": "Interaction has already been acknowledged.", "code": 40060}
)
UNKNOWN_WEBHOOK = Refusal(404, {"message": "Unknown Webhook", "code": 10015})
INVALID_WEBHOOK_TOKEN = Refusal(401, {"message": "Invalid Webhook Token", "code": 50027})


@dataclass
class Tracked:
    """One interaction the emulator created, and how the bot answered it."""

    id: int
    token: str
    payload: dict[str, Any]
    sent_at: float | None = None  # when INTERACTION_CREATE left (replays: the first delivery)
    acked_at: float | None = None
    ack: dict[str, Any] | None = None
    original_id: int | None = None  # the message the first response created or updated, if any

    @property
    def kind(self) -> int:
        """Return the interaction type (2 command, 3 component, 5 modal submit)."""
        return int(self.payload["type"])

    @property
    def modal(self) -> dict[str, Any] | None:
        """Return the modal the bot answered with (callback type 9), or None."""
        if self.ack is None or self.ack.get("type") != 9:
            return None
        return dict(self.ack["data"])

    @property
    def ack_latency(self) -> float | None:
        """Return seconds from delivery to the first response, or None if unanswered."""
        if self.sent_at is None or self.acked_at is None:
            return None
        return self.acked_at - self.sent_at


@dataclass
class Ledger:
    """Every interaction by id and token, enforcing Discord's 3 s and 15 min windows."""

    ack_window: float = ACK_WINDOW
    followup_window: float = FOLLOWUP_WINDOW
    _by_id: dict[int, Tracked] = field(default_factory=dict)
    _by_token: dict[str, Tracked] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, payload: dict[str, Any]) -> Tracked:
        """Track a new interaction."""
        tracked = Tracked(int(payload["id"]), payload["token"], payload)
        with self._lock:
            self._by_id[tracked.id] = tracked
            self._by_token[tracked.token] = tracked
        return tracked

    def get(self, interaction_id: int) -> Tracked | None:
        """Return a tracked interaction by id."""
        with self._lock:
            return self._by_id.get(interaction_id)

    def mark_sent(self, interaction_id: int, at: float) -> None:
        """Start the 3 s window when the event first reaches the bot."""
        with self._lock:
            tracked = self._by_id.get(interaction_id)
            if tracked is not None and tracked.sent_at is None:
                tracked.sent_at = at

    def acknowledge(
        self, interaction_id: int, token: str, body: dict[str, Any], now: float
    ) -> Refusal | None:
        """Record the first response, or refuse it: unknown, late (>3 s) or a second one."""
        with self._lock:
            tracked = self._by_id.get(interaction_id)
            if tracked is None or tracked.token != token or tracked.sent_at is None:
                return UNKNOWN_INTERACTION
            if tracked.acked_at is not None:
                return ALREADY_ACKNOWLEDGED
            if now - tracked.sent_at > self.ack_window:
                return UNKNOWN_INTERACTION  # Discord forgets an interaction nobody answered in time
            tracked.acked_at = now
            tracked.ack = body
        return None

    def webhook(self, application_id: int, token: str, now: float) -> Refusal | Tracked:
        """Return the interaction a follow-up or edit belongs to, or Discord's refusal."""
        with self._lock:
            tracked = self._by_token.get(token)
        if application_id != APP_ID or tracked is None or tracked.acked_at is None:
            return UNKNOWN_WEBHOOK  # tokens work only after the interaction was answered
        if tracked.sent_at is not None and now - tracked.sent_at > self.followup_window:
            return INVALID_WEBHOOK_TOKEN
        return tracked


@dataclass
class CommandBook:
    """The application commands the bot published, per scope (None = global, else a guild id)."""

    world: World
    _scopes: dict[int | None, list[dict[str, Any]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def overwrite(self, scope: int | None, commands: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replace a scope's commands, as a bulk PUT does; return them with ids."""
        stored = [
            command
            | {
                "id": str(self.world.ids.next()),
                "application_id": str(APP_ID),
                "version": str(self.world.ids.next()),
                "type": command.get("type", 1),
                "description": command.get("description") or "",  # menus: "" as Discord answers
                "guild_id": None if scope is None else str(scope),
            }
            for command in commands
        ]
        with self._lock:
            self._scopes[scope] = stored
        return stored

    def listed(self, scope: int | None) -> list[dict[str, Any]]:
        """Return a scope's commands."""
        with self._lock:
            return list(self._scopes.get(scope, []))

    def find(self, name: str, kind: int = 1) -> tuple[int | None, dict[str, Any]]:
        """Return a published command by name and type (1 chat input, 3 message menu), server
        commands first."""
        for scope in (GUILD_ID, None):
            for command in self.listed(scope):
                if command["name"] == name and command["type"] == kind:
                    return scope, command
        raise LookupError(f"{name!r} (type {kind}) was never published (run `newsbot sync`)")


def command_data(
    book: CommandBook, name: str, options: dict[str, Any], sub: str | None = None
) -> dict[str, Any]:
    """Return an interaction's `data` for /name [sub] with options, checked against the schema."""
    scope, command = book.find(name)
    spec = command
    if sub is not None:
        spec = next((o for o in command.get("options", []) if o["name"] == sub), {})
        if spec.get("type") != 1:
            raise LookupError(f"/{name} has no subcommand {sub!r}")
    values = _option_values(f"/{name} {sub or ''}".strip(), spec.get("options", []), options)
    data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1}
    data["options"] = [{"type": 1, "name": sub, "options": values}] if sub else values
    if scope is not None:
        data["guild_id"] = str(scope)
    return data


def message_command_data(book: CommandBook, name: str, message: dict[str, Any]) -> dict[str, Any]:
    """Return a message menu's `data`: the command, its target and the message resolved (with
    its content, which message commands carry whatever the intents)."""
    scope, command = book.find(name, kind=3)
    data: dict[str, Any] = {
        "id": command["id"],
        "name": name,
        "type": 3,
        "target_id": message["id"],
        "resolved": {"messages": {message["id"]: message}},
    }
    if scope is not None:
        data["guild_id"] = str(scope)
    return data


def _option_values(
    where: str, schema: list[dict[str, Any]], given: dict[str, Any]
) -> list[dict[str, Any]]:
    """Return the option list a client sends, refusing options the command does not declare."""
    by_name = {o["name"]: o for o in schema}
    unknown = set(given) - set(by_name)
    missing = {n for n, o in by_name.items() if o.get("required") and n not in given}
    if unknown or missing:
        raise ValueError(f"{where}: unknown options {unknown or '{}'}, missing {missing or '{}'}")
    values = []
    for option_name, value in given.items():
        kind = by_name[option_name]["type"]
        if not isinstance(value, _OPTION_TYPES.get(kind, object)):
            raise ValueError(f"{where}: option {option_name} (type {kind}) cannot be {value!r}")
        values.append({"type": kind, "name": option_name, "value": value})
    return values


def interaction_payload(
    world: World,
    data: dict[str, Any],
    person: Person,
    channel_id: int = GENERAL_CHANNEL_ID,
    kind: int = 2,
    message: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Return a full INTERACTION_CREATE payload in the server (kind 2: a slash command).

    Components (3) and modals opened from a component (5) carry the message the component is on.
    """
    channel = world.channel(channel_id)
    guild_id = world.guild_of(channel_id)
    payload = {
        "id": str(world.ids.next()),
        "application_id": str(APP_ID),
        "type": kind,
        "token": secrets.token_urlsafe(48),
        "version": 1,
        "guild_id": str(guild_id),
        "guild": {"id": str(guild_id), "locale": "en-US", "features": []},
        "channel_id": str(channel_id),
        "channel": channel,
        "member": person.member(with_permissions=True),
        "data": data,
        "app_permissions": str(world.roles(guild_id)[0]["permissions"]),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": str(guild_id)},
        "context": 0,
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    }
    if message is not None:
        payload["message"] = message
    return payload


def component_data(message: dict[str, Any], custom_id: str) -> dict[str, Any]:
    """Return a button click's `data`, refusing what a client cannot click (absent, disabled)."""
    for row in message.get("components") or []:
        for child in row.get("components") or []:
            if child.get("custom_id") != custom_id:
                continue
            if child.get("disabled"):
                raise LookupError(f"the button {custom_id!r} is disabled: nobody can click it")
            if child.get("type") != 2:
                raise LookupError(f"{custom_id!r} is a component of type {child.get('type')}")
            return {"custom_id": custom_id, "component_type": 2}
    shown = [c.get("custom_id") for r in message.get("components") or [] for c in r["components"]]
    raise LookupError(f"message {message['id']} has no button {custom_id!r} (it has {shown})")


def modal_submit_data(modal: dict[str, Any], values: dict[str, str]) -> dict[str, Any]:
    """Return a modal submit's `data`: each text input's value, as the form's layout nests it.

    `values` are keyed by a text input's custom_id or its label; inputs not given are sent
    empty. A value the client would not let through (required, min/max length) is refused.
    """
    used: set[str] = set()
    submitted = []
    for component in modal["components"]:
        if component["type"] == 1:  # an action row holding one text input
            (text_input,) = component["components"]
            value = _input_value(text_input, text_input["label"], values, used)
            submitted.append({"type": 1, "components": [_submitted(text_input, value)]})
        elif component["type"] == 18:  # a label around its input
            text_input = component["component"]
            value = _input_value(text_input, component["label"], values, used)
            submitted.append({"type": 18, "component": _submitted(text_input, value)})
    unknown = set(values) - used
    if unknown:
        raise LookupError(f"the modal {modal['title']!r} has no input {sorted(unknown)}")
    return {"custom_id": modal["custom_id"], "components": submitted}


def _input_value(
    text_input: dict[str, Any], label: str, values: dict[str, str], used: set[str]
) -> str:
    """Return the value typed into one text input, checked as the client checks it."""
    key = next((k for k in (text_input["custom_id"], label) if k in values), None)
    value = "" if key is None else values[key]
    if key is not None:
        used.add(key)
    required = text_input.get("required", True)
    low, high = text_input.get("min_length") or 0, text_input.get("max_length") or 4000
    if (required and not value) or (value and not low <= len(value) <= high):
        raise ValueError(f"{label!r}: a client cannot submit {value!r} (required={required}, "
                         f"{low}-{high} characters)")  # fmt: skip
    return value


def _submitted(text_input: dict[str, Any], value: str) -> dict[str, Any]:
    """Return a text input as a submit carries it: type, custom_id and value only."""
    return {"type": 4, "custom_id": text_input["custom_id"], "value": value}
