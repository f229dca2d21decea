"""Shared fixtures: settings in a temporary data dir, services on the fake embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.services import Services, build_services
from index.settings import SAMPLES_DIR, Settings
from tests.backends import fresh_database, parametrize_backends
from tests.chroma_server import ChromaServer
from tests.fakes import FakeEmbedder
from tests.postgres_server import PostgresServer, postgres_bindir

SEEDS = sorted(SAMPLES_DIR.glob("*.txt"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """Run one PostgreSQL server for the session (each test gets its own database)."""
    if postgres_bindir() is None:
        pytest.skip("no PostgreSQL binaries (initdb, pg_ctl): apt-get install postgresql")
    server = PostgresServer()
    server.start()
    yield server
    server.stop()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run the tests of modules marked both_backends on SQLite and on PostgreSQL."""
    parametrize_backends(metafunc)


@pytest.fixture
def database_url(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Return the registry's url: "" (SQLite under the data dir) unless a both_backends module
    asks for a fresh PostgreSQL database."""
    if getattr(request, "param", "sqlite") == "sqlite":
        yield ""
        return
    yield from fresh_database(request.getfixturevalue("postgres_server"), monkeypatch)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Return settings isolated from the environment, with state under tmp_path."""
    # The fake embedder scores lower than MiniLM; real-model calibration is tested in test_cli.
    return Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "data", refusal_threshold=0.3,
        database_url=database_url,
    )  # fmt: skip


@pytest.fixture
def services(settings: Settings) -> Iterator[Services]:
    """Return core services on the fake embedder and a temporary embedded Chroma."""
    svc = build_services(settings, embedder=FakeEmbedder())
    yield svc
    svc.close()


@pytest.fixture
def seeded(services: Services) -> Services:
    """Return services with the two bundled seed stories indexed."""
    report = services.ensure_samples()
    assert report is not None and len(report.added) == 2, report
    return services


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[ChromaServer]:
    """Run a real `chroma run` on 127.0.0.1 for one test."""
    server = ChromaServer(tmp_path / "chroma-server")
    server.start()
    yield server
    server.stop()
