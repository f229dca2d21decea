"""The registry's schema version: written after the upgrades, the key that picks which upgrades
run, and a refusal (nothing changed) of a database from a newer newsbot."""

from __future__ import annotations

import inspect
import re
import shutil
import sqlite3
from functools import partial
from pathlib import Path

import pytest

from index import schema
from index.database import Backend, open_backend
from index.registry import Registry
from index.schema import SCHEMA_VERSION
from index.schema_version import SchemaTooNewError, read_version
from newsbot import cli
from tests.index.test_library_upgrade import FIXTURE, _old_data_dir
from tests.index.test_registry_upgrade import _old_database

pytestmark = pytest.mark.both_backends  # registry tests run on SQLite and PostgreSQL


def _version(registry: Registry) -> int | None:
    with registry.read() as db:
        return read_version(db)


def _set_version(registry: Registry, version: int | None) -> None:
    """Make the registry look written by another version (None: before the version table)."""
    with registry.transaction() as db:
        if version is None:
            db.execute("DROP TABLE schema_version")
        else:
            db.execute("UPDATE schema_version SET version = ?", (version,))


def _state(registry: Registry | Backend) -> tuple[object, ...]:
    """Return what a refused open must leave as it was: tables, version, rows."""
    names = [*re.findall(r"CREATE TABLE IF NOT EXISTS (\w+)", schema.SCHEMA), "schema_version"]
    with registry.read() as db:
        tables = [t for t in names if db.columns(t)]
        rows = db.execute("SELECT id, title FROM articles ORDER BY id").fetchall()
        return tables, read_version(db), [tuple(r) for r in rows]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "newsbot.db"


def test_a_new_registry_records_this_version(path: Path, database_url: str) -> None:
    registry = Registry(path, url=database_url)
    assert _version(registry) == SCHEMA_VERSION
    registry.close()
    again = Registry(path, url=database_url)  # reopening keeps it
    assert _version(again) == SCHEMA_VERSION
    again.close()


def test_an_up_to_date_registry_runs_no_upgrade(
    path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    Registry(path, url=database_url).close()
    monkeypatch.setattr(schema, "_upgrades", lambda legacy: pytest.fail("an upgrade ran"))
    Registry(path, url=database_url).close()


def test_upgrades_run_from_the_recorded_version_on(
    path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = Registry(path, url=database_url)
    _set_version(first, SCHEMA_VERSION - 2)
    first.close()
    ran: list[int] = []
    real = schema._upgrades

    def recording(legacy: int) -> dict[int, object]:
        return {v: partial(lambda v, f, db: (ran.append(v), f(db)), v, f)
                for v, f in real(legacy).items()}  # fmt: skip

    monkeypatch.setattr(schema, "_upgrades", recording)
    registry = Registry(path, url=database_url)
    assert ran == [SCHEMA_VERSION - 1, SCHEMA_VERSION]
    assert _version(registry) == SCHEMA_VERSION
    registry.close()


def test_a_registry_from_a_newer_newsbot_is_refused_and_left_unchanged(
    path: Path, database_url: str
) -> None:
    registry = Registry(path, url=database_url)
    with registry.transaction() as db:  # a table this version's SCHEMA would not touch
        db.execute("DROP TABLE follow_seen")
    _set_version(registry, SCHEMA_VERSION + 1)
    before = _state(registry)
    registry.close()
    with pytest.raises(SchemaTooNewError, match=f"version {SCHEMA_VERSION + 1}") as raised:
        Registry(path, url=database_url)
    assert "newer newsbot" in raised.value.user_message()
    check = open_backend(path, database_url)  # looked at without the schema code
    assert _state(check) == before and "follow_seen" not in before[0]
    check.close()


def test_the_cli_refuses_a_newer_registry_with_exit_2(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    registry = Registry(data / "newsbot.db", url=database_url)
    _set_version(registry, SCHEMA_VERSION + 5)
    registry.close()
    assert cli.main(["--data-dir", str(data), "articles"]) == 2
    err = capsys.readouterr().err
    assert f"schema version {SCHEMA_VERSION + 5}" in err and "nothing was changed" in err
    check = open_backend(data / "newsbot.db", database_url)
    assert _state(check)[1] == SCHEMA_VERSION + 5
    check.close()


def test_a_registry_of_the_version_before_the_table_is_upgraded_and_recorded(
    path: Path, database_url: str
) -> None:
    # The previous newsbot made every table of today's SCHEMA but recorded no version.
    registry = Registry(path, url=database_url)
    registry.log_question("Kept?", False, [], 0.5)
    _set_version(registry, None)
    registry.close()
    again = Registry(path, url=database_url)
    assert _version(again) == SCHEMA_VERSION and again.count_questions() == 1
    again.close()


@pytest.mark.sqlite_only
def test_the_v8_data_directory_is_upgraded_and_recorded(tmp_path: Path) -> None:
    assert FIXTURE.exists()
    data = _old_data_dir(tmp_path)
    with sqlite3.connect(data / "newsbot.db") as raw:  # the fixture predates the version table
        found = raw.execute("SELECT 1 FROM sqlite_master WHERE name = 'schema_version'")
        assert not found.fetchall()
    registry = Registry(data / "newsbot.db")
    assert _version(registry) == SCHEMA_VERSION
    with registry.read() as db:
        assert "library" in db.columns("articles") and "thread_id" in db.columns("questions")
    registry.close()


@pytest.mark.sqlite_only
def test_the_first_release_questions_table_is_upgraded_and_recorded(tmp_path: Path) -> None:
    path = tmp_path / "newsbot.db"
    _old_database(path)
    registry = Registry(path)
    assert _version(registry) == SCHEMA_VERSION
    with registry.read() as db:
        assert {"private", "guild_id", "thread_id"} <= db.columns("questions")
    registry.close()
    copy = tmp_path / "copy.db"
    shutil.copy(path, copy)  # opening the upgraded copy again changes nothing more
    assert _version(Registry(copy)) == SCHEMA_VERSION


def test_every_upgrade_function_has_a_version() -> None:
    upgrades = schema._upgrades(0)
    assert sorted(upgrades) == list(range(1, SCHEMA_VERSION + 1))
    keyed = {getattr(f, "func", f).__name__ for f in upgrades.values()}
    defined = {
        name for name, f in inspect.getmembers(schema, inspect.isfunction)
        if name.startswith("_add_") and f.__module__ == schema.__name__
    }  # fmt: skip
    assert defined <= keyed, f"upgrades without a version: {defined - keyed}"
