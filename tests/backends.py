"""Both registry backends for tests: modules marked `both_backends` run each test that uses
`settings` (or `database_url`) on SQLite and on a fresh PostgreSQL database.

Mark a test `sqlite_only` when it is about SQLite files (upgrades of older databases).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.postgres_server import PostgresServer

BACKENDS = ["sqlite", "postgresql"]


def parametrize_backends(metafunc: pytest.Metafunc) -> None:
    """Run a marked module's tests once per backend (pytest_generate_tests calls this)."""
    if "database_url" not in metafunc.fixturenames:
        return
    if metafunc.definition.get_closest_marker("sqlite_only"):
        return
    if metafunc.definition.get_closest_marker("both_backends"):
        metafunc.parametrize("database_url", BACKENDS, indirect=True, ids=BACKENDS)


def fresh_database(server: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Yield a new database's url; afterwards close what the test left open and drop it."""
    from index.postgres import PostgresBackend

    opened: list[PostgresBackend] = []
    original = PostgresBackend.__init__

    def tracked(self: PostgresBackend, *args: object, **kwargs: object) -> None:
        original(self, *args, **kwargs)  # type: ignore[arg-type]
        opened.append(self)

    monkeypatch.setattr(PostgresBackend, "__init__", tracked)
    url = server.create_database()
    # Settings read from the environment (the CLI's, a subprocess's) use this database too.
    monkeypatch.setenv("NEWSBOT_DATABASE_URL", url)
    yield url
    for backend in opened:  # tests open registries without closing them, as processes do
        backend.close()
    server.drop_database(url)
