"""Per-server settings: validated like the environment's, kept per server, defaults otherwise."""

from __future__ import annotations

from datetime import time

import pytest

from index.errors import InvalidSettingError
from index.registry import Registry
from index.server_settings import SERVER_KEYS, ServerSettings
from index.settings import Settings

pytestmark = pytest.mark.both_backends  # registry tests run on SQLite and PostgreSQL

A, B = 11, 22


@pytest.fixture
def servers(settings: Settings, database_url: str) -> ServerSettings:
    return ServerSettings(Registry(settings.db_path, url=database_url), settings)


def test_a_server_changes_only_its_own(servers: ServerSettings) -> None:
    servers.set(A, "digest_time", "17:30")
    servers.set(A, "moderator_role_ids", "<@&5>, <@&6>")
    assert servers.for_guild(A).digest_time == time(17, 30)
    assert servers.for_guild(A).moderator_role_ids == [5, 6]
    assert servers.for_guild(B).digest_time == time(9, 0)  # the environment's default
    assert servers.changed(B) == {}


@pytest.mark.parametrize(
    ("key", "value"),
    [("digest_timezone", "Mars/Olympus"), ("ask_rate", "0"), ("digest_weekday", "someday"),
     ("follow_delivery", "pigeon"), ("digest_channel_id", "#general"), ("data_dir", "/tmp")],
)  # fmt: skip
def test_bad_values_are_refused_and_change_nothing(
    servers: ServerSettings, key: str, value: str
) -> None:
    with pytest.raises(InvalidSettingError):
        servers.set(A, key, value)
    assert servers.changed(A) == {}


def test_default_resets_and_settings_survive_a_restart(
    settings: Settings, database_url: str
) -> None:
    servers = ServerSettings(Registry(settings.db_path, url=database_url), settings)
    servers.set(A, "use_shared_library", "false")
    servers.set(A, "ask_rate", "7")
    servers.set(A, "ask_rate", "default")
    again = ServerSettings(Registry(settings.db_path, url=database_url), settings)
    assert again.for_guild(A).use_shared_library is False
    assert again.for_guild(A).ask_rate == settings.ask_rate
    assert again.scope(A) == (A,) and again.scope(B) == (B, 0)


def test_every_server_key_is_a_setting() -> None:
    assert set(SERVER_KEYS) <= set(Settings.model_fields)
