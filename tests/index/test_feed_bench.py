"""`newsbot bench --feeds` end to end on the fake embedder: 50 local feeds, three passes."""

from __future__ import annotations

from pathlib import Path

from index.feed_bench import FEEDS, ITEMS, run_feed_bench
from index.settings import Settings
from tests.fakes import FakeEmbedder


def test_an_unchanged_second_pass_is_304s_and_no_embedding(tmp_path: Path) -> None:
    base = Settings(_env_file=None, data_dir=tmp_path / "unused")  # type: ignore[call-arg]
    embedder = FakeEmbedder()
    messages: list[str] = []
    figures = run_feed_bench(base, messages.append, embedder=embedder)
    assert figures["first_pass_added"] == FEEDS * ITEMS == 1000
    assert (figures["second_pass_304"], figures["second_pass_added"]) == (FEEDS, 0)
    assert figures["no_validators_added"] == 0
    assert figures["no_validators_skipped"] == FEEDS * ITEMS
    assert figures["second_pass_cpu_s"] > 0
    assert figures["second_pass_ok"] and figures["second_pass_cpu_s"] < 1.0  # CPU, not wall
    assert len(messages) == 3 and not (tmp_path / "unused").exists()
