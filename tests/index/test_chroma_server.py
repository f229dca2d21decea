"""The same core against a real Chroma server (HttpClient) on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.services import build_services
from index.settings import Settings
from tests.chroma_server import ChromaServer, chroma_executable
from tests.fakes import FakeEmbedder

pytestmark = pytest.mark.skipif(chroma_executable() is None, reason="chroma CLI not installed")


def test_ingest_and_answer_through_a_chroma_server(
    chroma_server: ChromaServer, tmp_path: Path
) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=tmp_path / "data", chroma_host=chroma_server.host,
        chroma_port=chroma_server.port, refusal_threshold=0.3,
    )  # fmt: skip
    services = build_services(settings, embedder=FakeEmbedder())
    try:
        report = services.ensure_samples()
        assert report is not None and len(report.added) == 2
        assert not (tmp_path / "data" / "chroma").exists()  # nothing embedded locally
        assert services.store.count() == services.registry.count_chunks() > 0
        answer = services.ask("Are Hollywood writers being replaced by AI?")
        assert not answer.refused and answer.citations
    finally:
        services.close()
    # A second process (new services) sees the same vectors on the server.
    again = build_services(settings, embedder=FakeEmbedder())
    try:
        assert again.store.count() == again.registry.count_chunks()
        assert not again.ask("Are Hollywood writers being replaced by AI?").refused
    finally:
        again.close()
