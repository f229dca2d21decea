"""Helpers for the crash tests: generated stories, a real ingestion process, consistency checks."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from index.services import Services, build_services
from index.settings import SAMPLES_DIR, Settings
from tests.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parents[2]
# Small chunks: many Chroma writes per story, and more than 1,000 vectors in all, past the point
# where Chroma persists its HNSW index, so kills land inside those writes too.
# Small ingestion batches: the run is written in several steps, so kills land between them too.
WORKER_ENV = {
    "NEWSBOT_CHUNK_SIZE": "20",
    "NEWSBOT_CHUNK_OVERLAP": "0",
    "NEWSBOT_INGEST_BATCH_TEXTS": "512",
}
# 100 made-up words, distinct in their first six letters (the fake embedder's crude stem).
_VOCABULARY = [a + b for a in ("lum", "vec", "sil", "qua", "orb", "del", "nim", "cob", "fer", "tun")
               for b in ("ex", "ix", "on", "ar", "um", "el", "os", "ia", "ot", "ud")]  # fmt: skip
SEED_QUESTIONS = {
    "Are Hollywood writers being replaced by AI?": "Hollywood Writers AI Trainers",
    "Are former screenwriters shifting to work in AI training?": (
        "Hollywood Professionals Transition to AI Training Roles"
    ),
}


def key_sentence(i: int) -> str:
    """Return the sentence that only generated story i contains."""
    return f"The startup Q{i:03d}corp raised {10 + i} million dollars for photonic chips in Tartu."


def question(i: int) -> str:
    """Return a question only generated story i answers."""
    return f"How much did Q{i:03d}corp raise for photonic chips in Tartu?"


def write_stories(path: Path, n: int, sentences: int = 70, first: int = 0) -> Path:
    """Write n generated stories (numbered from `first`) as JSONL, dated two days ago."""
    day = (date.today() - timedelta(days=2)).isoformat()  # answers favour recent news
    rng = random.Random(n + first)
    lines = []
    for i in range(first, first + n):
        # Varied filler: near-identical chunks would make Chroma's HNSW graph degenerate.
        filler = " ".join(
            f"Analysts at Q{i:03d}corp said {' '.join(rng.sample(_VOCABULARY, 8))} this week."
            for _ in range(sentences)
        )
        lines.append(json.dumps({
            "id": f"gen{i:03d}", "title": f"Q{i:03d}corp raises money", "source": "Test Wire",
            "published": day, "text": f"{key_sentence(i)} {filler}",
        }))  # fmt: skip
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Worker:
    """`python -m tests.reliability.ingest_worker DATA_DIR SOURCE...` as a subprocess."""

    def __init__(self, data_dir: Path, *sources: Path) -> None:
        self.data_dir = data_dir
        env = {**os.environ, **WORKER_ENV, "PYTHONPATH": str(ROOT)}
        env = {k: v for k, v in env.items() if not k.startswith("NEWSBOT_") or k in WORKER_ENV}
        args = [sys.executable, "-m", "tests.reliability.ingest_worker", str(data_dir)]
        self.proc = subprocess.Popen(
            [*args, *map(str, sources)], cwd=ROOT, env=env, text=True,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        )  # fmt: skip

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Wait for "ready" (services open, repair done); return the monotonic time it came."""
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the worker prints "ready" first, or dies
        assert line.strip() == "ready", f"worker did not start: {line!r} {self.finish(timeout)}"
        return time.monotonic()

    def kill(self) -> None:
        """SIGKILL the worker (no cleanup of any kind can run) and reap it."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def finish(self, timeout: float = 120.0) -> str:
        """Wait for a normal exit and return its output; fail on a non-zero exit."""
        out, err = self.proc.communicate(timeout=timeout)
        assert self.proc.returncode == 0, f"worker failed ({self.proc.returncode}):\n{err}"
        return out


def make_template(data_dir: Path) -> None:
    """Index the two bundled seed stories under data_dir with a worker process."""
    worker = Worker(data_dir, SAMPLES_DIR)
    worker.wait_ready()
    assert "added=2 " in worker.finish()


def open_services(data_dir: Path) -> Services:
    """Open the services as the next start would (build_services runs repair)."""
    from chromadb.api.client import SharedSystemClient

    # This process may have opened the directory before another process wrote to it; Chroma
    # caches one client per path, so drop it to read what is on disk now.
    SharedSystemClient.clear_system_cache()
    # Every start self-queries every vector (the default samples 300): a reopened embedded Chroma
    # can miss a vector or two that a sample may not catch.
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, data_dir=data_dir, refusal_threshold=0.3, start_check_sample=1_000_000
    )
    return build_services(settings, embedder=FakeEmbedder())


@dataclass
class State:
    """What a data directory holds after repair."""

    ready: dict[str, int]  # article id -> chunk count (registry)
    problems: list[str]


def check_consistent(services: Services) -> State:
    """Return the ready stories and every inconsistency between registry and Chroma."""
    registry, problems = services.registry, []
    if registry.pending_article_ids():
        problems.append(f"pending rows after repair: {registry.pending_article_ids()}")
    ready = registry.ready_chunk_counts()
    stored = Counter(services.store.chunk_counts())
    for article_id, count in ready.items():
        rows = len(registry.chunks_of(article_id))
        if not count == rows == stored.get(article_id, 0):
            problems.append(
                f"{article_id}: registry says {count} chunks, has {rows}, Chroma has "
                f"{stored.get(article_id, 0)}"
            )
    orphans = sorted(set(stored) - set(ready))
    if orphans:
        problems.append(f"vectors of stories that are not ready: {orphans}")
    # Chroma must still be able to return every stored vector (a damaged index cannot).
    got = services.store.collection.get(include=["embeddings"])  # type: ignore[attr-defined]
    if len(got["ids"]) != sum(stored.values()) or len(got["embeddings"]) != len(got["ids"]):
        problems.append("Chroma cannot return all of its vectors")
    return State(ready, problems)


def unanswered(services: Services, ready: dict[str, int], sample: int | None = None) -> list[str]:
    """Return the questions that do not get their own story cited (seeds, then generated)."""
    failures = []
    articles = services.registry.list_articles()
    titles = {a.id: a.title for a in articles}
    every = tuple({0, *(a.library for a in articles)})  # asked across every library present
    for q, title in SEED_QUESTIONS.items():
        answer = services.ask(q, log_question=False, libraries=every)
        if title not in {titles.get(c.article_id) for c in answer.citations}:
            failures.append(q)
    generated = sorted(a for a in ready if a.startswith("gen"))
    for article_id in generated[:sample] if sample is not None else generated:
        i = int(article_id[3:])
        answer = services.ask(question(i), log_question=False, libraries=every)
        cited = {c.article_id for c in answer.citations}
        if article_id not in cited or key_sentence(i) not in answer.text:
            failures.append(question(i))
    return failures
