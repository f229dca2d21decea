"""The benchmark runs end to end on a small index and reports every figure."""

from __future__ import annotations

from pathlib import Path

from index.bench import BenchConfig, run_bench
from index.settings import Settings
from tests.fakes import FakeEmbedder


def test_bench_reports_every_key_and_fills_with_synthetic_chunks(tmp_path: Path) -> None:
    base = Settings(_env_file=None, data_dir=tmp_path / "unused")  # type: ignore[call-arg]
    config = BenchConfig(chunks=120, questions=20, real_chunk_cap=40, cold_start=False)
    messages: list[str] = []
    figures = run_bench(config, base, messages.append, embedder=FakeEmbedder())
    for key in ("ingest_chunks_per_s", "encode_chunks_per_s", "ingest_vs_encode", "ask_ms",
                "floor_ms", "ask_vs_floor", "rss_mb", "chunks", "index_mb"):  # fmt: skip
        assert key in figures, key
    assert figures["chunks"] >= 120
    assert 0 < figures["real_chunks"] <= 40 + 4  # about the cap, then synthetic copies
    assert figures["synthetic_chunks"] == figures["chunks"] - figures["real_chunks"] > 0
    assert figures["ask_ms"]["p50"] > 0 and figures["floor_ms"]["p95"] > 0
    assert figures["questions"] == 20
    assert any("perturbed copies" in m for m in messages)  # the output says what is synthetic
    assert not (tmp_path / "unused").exists()


def test_bench_spreads_stories_over_libraries_and_asks_from_server_scopes(tmp_path: Path) -> None:
    base = Settings(_env_file=None, data_dir=tmp_path / "unused")  # type: ignore[call-arg]
    config = BenchConfig(chunks=80, questions=20, real_chunk_cap=80, cold_start=False, libraries=5)
    figures = run_bench(config, base, lambda _: None, embedder=FakeEmbedder())
    assert figures["libraries"] == 5
    assert figures["libraries_ask_ms"]["p95"] > 0
    ratio = figures["libraries_ask_ms"]["p95"] / figures["ask_ms"]["p95"]
    assert figures["libraries_vs_single_p95"] == round(ratio, 2)
