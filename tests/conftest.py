"""Shared fixtures: settings in a temporary data dir, services on the fake embedder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from index.services import Services, build_services
from index.settings import SAMPLES_DIR, Settings
from tests.chroma_server import ChromaServer
from tests.fakes import FakeEmbedder

SEEDS = sorted(SAMPLES_DIR.glob("*.txt"))


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Return settings isolated from the environment, with state under tmp_path."""
    # The fake embedder scores lower than MiniLM; real-model calibration is tested in test_cli.
    return Settings(_env_file=None, data_dir=tmp_path / "data", refusal_threshold=0.3)  # type: ignore[call-arg]


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
