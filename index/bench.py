"""`newsbot bench`: measure ingestion and ask speed against their floors, in one process."""

from __future__ import annotations

import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

from index.chunk import split_sentences
from index.embed import Embedder
from index.models import Article, Chunk, RawDocument
from index.registry import SentenceRow
from index.services import Services, build_services
from index.settings import Settings
from index.sources import iter_documents

# Real (model-embedded) chunks at most; beyond this the index is filled with perturbed copies.
REAL_CHUNK_CAP = 3000
SYNTHETIC_NOISE = 0.35  # scale of the noise added to a real vector to make a synthetic one


@dataclass(frozen=True, slots=True)
class BenchConfig:
    """What to measure."""

    chunks: int = 2000
    questions: int = 200
    articles: Path | None = None
    seed: int = 7
    real_chunk_cap: int = REAL_CHUNK_CAP
    cold_start: bool = True
    # Above 1: ask again with the same stories spread over this many libraries (0 the shared
    # one), each question as a member of one server (its library + the shared one) would.
    libraries: int = 1


def _percentiles(values: list[float]) -> dict[str, float]:
    """Return p50 and p95 of values, in the values' unit."""
    qs = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": round(qs[49], 2), "p95": round(qs[94], 2)}


def _sentence_pool(settings: Settings, articles: Path | None) -> list[str]:
    """Return quotable sentences from the sample stories or an articles file."""
    from index.answer import is_quotable
    from index.parse import parse_story

    source = str(articles) if articles else str(settings.samples_dir)
    pool: list[str] = []
    for doc in iter_documents([source], fetch=lambda url: RawDocument(text="", origin=url)):
        if isinstance(doc, RawDocument):
            text = parse_story(doc.text, title=doc.title, fallback_title=doc.fallback_title).text
            pool.extend(s for s in split_sentences(text) if is_quotable(s))
    return pool


def synthetic_stories(pool: list[str], words: int, rng: random.Random) -> Iterator[RawDocument]:
    """Yield distinct stories of about `words` words recombined from real sentences."""
    start = date(2026, 1, 1)
    n = 0
    while True:
        picked, count = [], 0
        while count < words:
            sentence = rng.choice(pool)
            picked.append(sentence)
            count += len(sentence.split())
        title = f"Bench story {n}: " + " ".join(picked[0].split()[:6])
        published = (start + timedelta(days=n % 300)).isoformat()
        yield RawDocument(text="\n".join(picked), origin=f"bench:{n}", id=f"bench{n}",
                          title=title, source="Bench Wire", published=published)  # fmt: skip
        n += 1


def _time(call: Callable[[], Any]) -> float:
    """Return the seconds a call takes."""
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def measure_ingest(services: Services, docs: list[RawDocument], rounds: int = 6) -> dict[str, Any]:
    """Time the pipeline and a raw encode of exactly the texts it embeds, interleaved.

    The machines are shared and noisy: alternating a slice of ingestion with the raw encode of
    that slice's texts lets both sides of the ratio see the same load.
    """
    services.embedder.encode(services.ingestor.embed_texts_for(docs[:8]))  # warm the model
    ingest_s = encode_s = 0.0
    texts_total = 0
    size = max(1, -(-len(docs) // rounds))
    for i in range(0, len(docs), size):
        part = docs[i : i + size]
        texts = services.ingestor.embed_texts_for(part)
        texts_total += len(texts)
        ingest_s += _time(partial(services.ingestor.ingest, part))
        encode_s += _time(partial(services.embedder.encode, texts))
    chunks = services.registry.count_chunks()
    return {
        "chunks": chunks,
        "texts_embedded": texts_total,
        "ingest_chunks_per_s": round(chunks / ingest_s, 1),
        "encode_chunks_per_s": round(chunks / encode_s, 1),
        "ingest_vs_encode": round(encode_s / ingest_s, 3),
    }


def fill_synthetic(services: Services, target: int, rng: random.Random) -> int:
    """Add perturbed copies of indexed stories until the index holds `target` chunks."""
    originals = [_Original.load(services, a) for a in services.registry.list_articles()]
    noise = np.random.default_rng(rng.randrange(2**32))
    real = services.registry.count_chunks()
    total, n = real, 0
    while total < target:
        batch: list[_Copy] = []
        while len(batch) < _FILL_BATCH and total < target:
            base = originals[n % len(originals)]
            n += 1
            batch.append(base.copy(n, noise))
            total += len(batch[-1][1])
        _store_copies(services, batch)
    return total - real


_FILL_BATCH = 400  # stories per Chroma write: each call has a large fixed cost
_Copy = tuple[Article, list[Chunk], np.ndarray, list[SentenceRow]]  # a synthetic story to store


@dataclass(frozen=True, slots=True)
class _Original:
    """A really embedded story with its chunk and sentence vectors, to copy from."""

    article: Article
    chunks: list[Chunk]
    vectors: np.ndarray
    sentences: list[SentenceRow]

    @classmethod
    def load(cls, services: Services, article: Article) -> _Original:
        """Read a story's chunks and vectors back from the stores."""
        ids = [f"{article.id}:{i}" for i in range(article.chunk_count)]
        rows = services.registry.chunks_by_id(ids)
        chunks = [
            Chunk(cid, article.id, i, "kq" if rows[cid][1] == "kq" else "body", rows[cid][2], ())
            for i, cid in enumerate(ids)
        ]
        vectors = services.store.vectors(ids)
        return cls(article, chunks, vectors, services.registry.sentences_for(ids))

    def copy(self, n: int, noise: np.random.Generator) -> _Copy:
        """Return a variant of the story whose vectors are perturbed copies of the original's."""
        a = self.article
        new = replace(a, id=f"{a.id}-syn{n}", title=f"{a.title} (variant {n})")
        chunks = [replace(c, id=f"{new.id}:{c.n}", article_id=new.id) for c in self.chunks]
        stacked = np.stack([r.vector.astype(np.float32) for r in self.sentences])
        sentences = [
            SentenceRow(f"{new.id}:{r.chunk_id.rsplit(':', 1)[1]}", r.idx, r.role, r.text, v)
            for r, v in zip(self.sentences, _perturb(stacked, noise), strict=True)
        ]
        return new, chunks, _perturb(self.vectors, noise), sentences


def _store_copies(services: Services, batch: list[_Copy]) -> None:
    """Write synthetic stories the way ingestion does: pending, vectors in one call, ready."""
    from index.ingest import chunk_metadata

    for article, chunks, _, _ in batch:
        services.registry.begin_article(replace(article, chunk_count=len(chunks)))
    services.store.upsert(
        [c for _, chunks, _, _ in batch for c in chunks],
        np.concatenate([v for _, _, v, _ in batch]),
        [chunk_metadata(a, c) for a, chunks, _, _ in batch for c in chunks],
    )
    for article, chunks, _, sentences in batch:
        services.registry.finish_article(article.id, chunks, sentences)


def _perturb(vectors: np.ndarray, noise: np.random.Generator) -> np.ndarray:
    """Return unit vectors near the given ones."""
    out = vectors + SYNTHETIC_NOISE * noise.normal(size=vectors.shape).astype(np.float32) / 20
    return out / np.linalg.norm(out, axis=1, keepdims=True)


def make_questions(pool: list[str], count: int, rng: random.Random) -> list[str]:
    """Return `count` distinct questions made from sentence openings."""
    questions: set[str] = set()
    while len(questions) < count:
        words = rng.choice(pool).split()
        cut = rng.randint(5, min(12, len(words)))
        questions.add(f"What about {' '.join(words[:cut]).rstrip('.,;:')}?")
    return sorted(questions)


def _floor_query(services: Services, question: str, k: int) -> None:
    """Embed a question and run one raw vector query: what any answer costs at least."""
    services.store.query(services.embedder.encode([question])[0], k)


def measure_ask(
    services: Services,
    questions: list[str],
    scope: Callable[[int], tuple[int, ...]] = lambda i: (0,),
) -> dict[str, Any]:
    """Time `ask` (without logging; question i from libraries scope(i)) and the floor for the
    same questions, interleaved."""
    today = services.clock().date()
    services.answerer.answer("warm up the lexical index and caches", today=today)
    services.retriever.queries.clear()
    k = services.settings.top_k
    ask: list[float] = []
    floor: list[float] = []
    for i, q in enumerate(questions):
        # The floor: one query embedding and one raw Chroma query (a different string, so the
        # ask's cached embedding is not reused).
        floor.append(_time(partial(_floor_query, services, q + " ", k)) * 1000)
        answer = partial(services.answerer.answer, q, today=today, libraries=scope(i))
        ask.append(_time(answer) * 1000)
    ask_pct, floor_pct = _percentiles(ask), _percentiles(floor)
    return {
        "ask_ms": ask_pct,
        "floor_ms": floor_pct,
        "ask_vs_floor": round(ask_pct["p50"] / floor_pct["p50"], 2),
        "ask_vs_floor_p95": round(ask_pct["p95"] / floor_pct["p95"], 2),
        "questions": len(questions),
    }


def measure_libraries(
    services: Services,
    questions: list[str],
    count: int,
    single_p95: float,
    rng: random.Random,
    log: Callable[[str], None],
) -> dict[str, Any]:
    """Spread the stories over `count` libraries and time `ask` from servers' scopes.

    Returns the figures as `libraries_*` keys, with the p95 ratio to the single-library run.
    """
    log(f"spreading the stories over {count} libraries and asking again…")
    ids = sorted(services.registry.article_libraries())
    spread = {aid: rng.randrange(count) for aid in ids}  # library 0 is the shared one
    services.registry.move_to_libraries(spread)
    services.store.tag_libraries(spread, only_untagged=False)
    servers = [rng.randrange(1, count) for _ in questions]
    got = measure_ask(services, questions, lambda i: (servers[i], 0))
    return {
        "libraries": count,
        "libraries_ask_ms": got["ask_ms"],
        "libraries_floor_ms": got["floor_ms"],
        "libraries_vs_single_p95": round(got["ask_ms"]["p95"] / single_p95, 2),
    }


def cold_start(data_dir: Path) -> dict[str, float]:
    """Time `newsbot --help` and a whole `newsbot ask` process."""
    base = [sys.executable, "-m", "newsbot.cli"]
    run = lambda *args: subprocess.run([*base, *args], capture_output=True, check=True)  # noqa: E731
    return {
        "help_s": round(_time(lambda: run("--help")), 3),
        "cold_ask_s": round(
            _time(lambda: run("--data-dir", str(data_dir), "ask", "What changed this week?")), 3
        ),
    }


def _disk_mb(path: Path) -> float:
    """Return the size of everything under path, in MB."""
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 1)


def run_bench(
    config: BenchConfig,
    base: Settings,
    log: Callable[[str], None],
    embedder: Embedder | None = None,
) -> dict[str, Any]:
    """Run every measurement in one process and return the figures."""
    rng = random.Random(config.seed)
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as tmp:
        settings = base.model_copy(update={"data_dir": Path(tmp)})
        services = build_services(settings, embedder=embedder)
        try:
            pool = _sentence_pool(settings, config.articles)
            real_target = min(config.chunks, config.real_chunk_cap)
            docs = _stories_for(services, pool, real_target, rng)
            log(f"ingesting {len(docs)} synthetic stories (real embeddings)…")
            figures: dict[str, Any] = measure_ingest(services, docs)
            figures["real_chunks"] = figures["chunks"]
            if config.chunks > figures["chunks"]:
                log(
                    f"filling to {config.chunks} chunks with perturbed copies of real vectors "
                    f"(beyond {figures['chunks']} really embedded chunks)…"
                )
                figures["synthetic_chunks"] = fill_synthetic(services, config.chunks, rng)
            figures["chunks"] = services.registry.count_chunks()
            log(f"asking {config.questions} questions…")
            questions = make_questions(pool, config.questions, rng)
            figures.update(measure_ask(services, questions))
            if config.libraries > 1:
                single = figures["ask_ms"]["p95"]
                figures.update(
                    measure_libraries(services, questions, config.libraries, single, rng, log)
                )
        finally:
            services.close()
        figures["rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        figures["index_mb"] = _disk_mb(Path(tmp))
        if config.cold_start:
            figures.update(cold_start(Path(tmp)))
    return figures


def _stories_for(
    services: Services, pool: list[str], chunks: int, rng: random.Random
) -> list[RawDocument]:
    """Return enough synthetic stories to make about `chunks` chunks."""
    size = services.settings.chunk_size
    step = max(1, size - min(services.settings.chunk_overlap, size // 2))
    per_story = 4  # chunks per story: ~4 windows of `size` words
    words = size + step * (per_story - 1)
    stories = synthetic_stories(pool, words, rng)
    return [next(stories) for _ in range(max(1, chunks // per_story))]
