"""The messages the emulated Discord holds: what the bot posted and what members 'sent'."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from tests.e2e.emulator.world import APP_ID, Person, World, iso_now

DEFAULT = 0
REPLY = 19
CHAT_INPUT_COMMAND = 20


@dataclass
class MessageStore:
    """Message objects by id, shaped as Discord returns them."""

    world: World
    _by_id: dict[int, dict[str, Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def create(
        self,
        channel_id: int,
        payload: dict[str, Any],
        *,
        interaction_id: int | None = None,
        loading: bool = False,
    ) -> dict[str, Any]:
        """Store a message the bot sent (interaction responses carry the webhook and flags)."""
        message_id = self.world.ids.next()
        kind = REPLY if payload.get("message_reference") else DEFAULT
        if interaction_id is not None:
            kind = CHAT_INPUT_COMMAND
        flags = (payload.get("flags") or 0) | (1 << 7 if loading else 0)  # 128: "thinking"
        message: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "type": kind,
            "author": self.world.bot_user(),
            "content": payload.get("content") or "",
            "embeds": [{"type": "rich"} | e for e in payload.get("embeds") or []],
            "components": payload.get("components") or [],
            "attachments": [],
            "mentions": [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": bool(payload.get("tts")),
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "flags": flags,
        }
        if interaction_id is not None:
            message["webhook_id"] = str(APP_ID)
            message["application_id"] = str(APP_ID)
        if payload.get("message_reference"):
            message["message_reference"] = payload["message_reference"]
        with self._lock:
            self._by_id[message_id] = message
        return message

    def member_message(self, channel_id: int, person: Person, content: str) -> dict[str, Any]:
        """Store and return a member's message as MESSAGE_CREATE carries it."""
        message_id = self.world.ids.next()
        message: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "guild_id": str(self.world.guild_of(channel_id)),
            "type": DEFAULT,
            "author": person.member()["user"],
            "member": {k: v for k, v in person.member().items() if k != "user"},
            "content": content,
            "embeds": [],
            "components": [],
            "attachments": [],
            "mentions": [self.world.bot_user() | {"member": {"roles": [], "joined_at": iso_now()}}]
            if f"<@{APP_ID}>" in content
            else [],
            "mention_roles": [],
            "mention_everyone": False,
            "pinned": False,
            "tts": False,
            "timestamp": iso_now(),
            "edited_timestamp": None,
            "flags": 0,
        }
        with self._lock:
            self._by_id[message_id] = message
        return message

    def in_channel(self, channel_id: int) -> list[dict[str, Any]]:
        """Return the messages of one channel, oldest first."""
        with self._lock:
            return [m for m in self._by_id.values() if m["channel_id"] == str(channel_id)]

    def get(self, message_id: int) -> dict[str, Any] | None:
        """Return a stored message."""
        with self._lock:
            return self._by_id.get(message_id)

    def edit(self, message_id: int, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Apply an edit (only the fields given change); return the message, or None."""
        with self._lock:
            message = self._by_id.get(message_id)
            if message is None:
                return None
            for key in ("content", "components"):
                if key in payload:
                    message[key] = payload[key] or ([] if key == "components" else "")
            if "embeds" in payload:
                message["embeds"] = [{"type": "rich"} | e for e in payload["embeds"] or []]
            message["flags"] &= ~(1 << 7)  # an edit ends "thinking"
            message["edited_timestamp"] = iso_now()
            return dict(message)

    def delete(self, message_id: int) -> bool:
        """Delete a stored message; return whether it existed."""
        with self._lock:
            return self._by_id.pop(message_id, None) is not None
