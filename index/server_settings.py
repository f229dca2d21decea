"""Per-server settings: what a server's moderators changed, over the environment's defaults."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from pydantic import ValidationError

from index.errors import InvalidSettingError
from index.library import Libraries, server_scope
from index.registry import Registry
from index.settings import Settings

log = logging.getLogger(__name__)

# What /settings may change, by Settings field name (the environment variable without
# NEWSBOT_). A later feature adds its key here and its field to Settings; nothing else changes.
SERVER_KEYS: tuple[str, ...] = (
    "digest_channel_id",
    "digest_weekday",
    "digest_time",
    "digest_timezone",
    "digest_empty",
    "digest_role_id",
    "moderator_role_ids",
    "ask_rate",
    "ask_per_seconds",
    "follow_delivery",
    "use_shared_library",
    "mention_channel_ids",
    "thread_channel_ids",
)
# Typed as the way back to the environment's default.
RESET_WORDS = frozenset({"default", "reset", ""})
_VALUE_MAX_CHARS = 400


class ServerSettingsTable:
    """The server_settings table's SQL (its one owner): raw validated values per server."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry

    def values(self, guild_id: int) -> dict[str, str]:
        """Return {key: value as typed} of what a server changed."""
        with self._registry.read() as db:
            rows = db.execute(
                "SELECT key, value FROM server_settings WHERE guild_id = ?", (guild_id,)
            ).fetchall()
        return {r[0]: json.loads(r[1]) for r in rows}

    def put(self, guild_id: int, key: str, value: str | None) -> None:
        """Store a server's value for key, or delete it with None."""
        with self._registry.transaction() as db:
            if value is None:
                db.execute(
                    "DELETE FROM server_settings WHERE guild_id = ? AND key = ?", (guild_id, key)
                )
                return
            db.execute(
                "INSERT INTO server_settings (guild_id, key, value) VALUES (?,?,?)"
                " ON CONFLICT(guild_id, key) DO UPDATE SET value = excluded.value",
                (guild_id, key, json.dumps(value)),
            )

    def all_values(self) -> dict[int, dict[str, str]]:
        """Return every server's changed values, by server."""
        with self._registry.read() as db:
            rows = db.execute("SELECT guild_id, key, value FROM server_settings").fetchall()
        out: dict[int, dict[str, str]] = {}
        for guild_id, key, value in rows:
            out.setdefault(int(guild_id), {})[key] = json.loads(value)
        return out


class ServerSettings:
    """Each server's effective settings: the environment's, with its own changes laid over."""

    def __init__(self, registry: Registry, base: Settings) -> None:
        self._table = ServerSettingsTable(registry)
        self._base = base
        self._cache: dict[int, Settings] = {}
        self._lock = threading.Lock()
        # Read once here: the bot looks settings up on its event loop, which must never wait
        # for the registry (a long ingestion may hold it). Only set() changes them afterwards.
        self._values = self._table.all_values()

    @property
    def base(self) -> Settings:
        """Return the environment's settings (every server's defaults)."""
        return self._base

    def rebase(self, base: Settings) -> None:
        """Take new defaults (servers keep their own changes over them)."""
        with self._lock:
            self._base = base
            self._cache = {}

    def for_guild(self, guild_id: int | None) -> Settings:
        """Return the settings a server runs with (None: the environment's own)."""
        if guild_id is None:
            return self._base
        with self._lock:
            cached = self._cache.get(guild_id)
        if cached is not None:
            return cached
        with self._lock:
            values = dict(self._values.get(guild_id, {}))
        effective = self._merged(values, guild_id)
        with self._lock:
            self._cache[guild_id] = effective
        return effective

    def scope(self, guild_id: int | None) -> Libraries:
        """Return the libraries a member of the server is answered from."""
        return server_scope(guild_id, self.for_guild(guild_id).use_shared_library)

    def changed(self, guild_id: int) -> dict[str, str]:
        """Return what a server changed, as typed."""
        with self._lock:
            return dict(self._values.get(guild_id, {}))

    def set(self, guild_id: int, key: str, value: str | None) -> Settings:
        """Validate and store one setting of a server (None or "default" resets it)."""
        if key not in SERVER_KEYS:
            known = ", ".join(SERVER_KEYS)
            raise InvalidSettingError(key, f"not a server setting; use one of {known}")
        typed = None if value is None or value.strip().lower() in RESET_WORDS else value.strip()
        if typed is not None and len(typed) > _VALUE_MAX_CHARS:
            raise InvalidSettingError(key, f"keep the value under {_VALUE_MAX_CHARS} characters")
        values = {k: v for k, v in self.changed(guild_id).items() if k != key}
        if typed is not None:
            values[key] = typed
        effective = self._validated(values, key)  # raises before anything is stored
        self._table.put(guild_id, key, typed)
        with self._lock:
            self._values[guild_id] = values
            self._cache[guild_id] = effective
        return effective

    def guilds_configured(self) -> list[int]:
        """Return the servers that changed any setting."""
        with self._lock:
            return sorted(g for g, values in self._values.items() if values)

    def _merged(self, values: dict[str, str], guild_id: int) -> Settings:
        """Return the base with a server's stored values; a value no longer valid is dropped."""
        try:
            return self._validated(values, None)
        except InvalidSettingError as exc:
            log.warning("server %d: ignoring its %s setting: %s", guild_id, exc.key, exc.reason)
            return self._merged({k: v for k, v in values.items() if k != exc.key}, guild_id)

    def _validated(self, values: dict[str, str], key: str | None) -> Settings:
        """Return the base settings with values applied, validated by the same rules."""
        if not values:
            return self._base
        data: dict[str, Any] = {**self._base.model_dump(), **values}
        try:
            # model_validate runs every field's bounds and validators, without reading the
            # environment again (that happens only in Settings.__init__).
            return Settings.model_validate(data)
        except ValidationError as exc:
            error = exc.errors()[0]
            bad = str(error["loc"][0]) if error["loc"] else key or "?"
            raise InvalidSettingError(bad, str(error["msg"])) from exc
