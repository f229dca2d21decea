"""Issue 13, finding 7: one story's work is bounded, and odd files and dates are reported.

A 1 MB story took minutes and a gigabyte, a 4 MB one-word file became one 4 MB chunk, an empty
.jsonl exited 0 silently and `published: 2999-12-31` was accepted.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from index.chunk import MAX_SENTENCE_CHARS, chunk_article, split_sentences
from index.models import RawDocument
from index.services import Services, build_services
from index.settings import Settings
from newsbot import cli
from tests.fakes import FakeEmbedder
from tests.reliability.test_bad_input import snapshot

SENTENCE = "Quokka robots deliver mail in Perth every morning, officials said on Monday. "


def _cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("COLUMNS", "300")  # rich wraps at the terminal width
    monkeypatch.setattr("index.services.SentenceTransformerEmbedder", lambda *a: FakeEmbedder())
    return cli.main(["--data-dir", str(tmp_path / "data"), *args])


def test_a_20_mb_file_is_refused_fast_naming_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    big = tmp_path / "huge-story.txt"
    big.write_text("Title line\n" + SENTENCE * (20_000_000 // len(SENTENCE) - 1))
    assert 19_000_000 < big.stat().st_size <= 20_000_000  # under the file cap: the story cap acts
    start = time.monotonic()
    code = _cli(tmp_path, monkeypatch, "ingest", str(big))
    took = time.monotonic() - start
    out = capsys.readouterr().out
    assert code == 1 and "over the cap of 200,000 (NEWSBOT_STORY_MAX_CHARS)" in out, out
    assert took < 10, f"{took:.1f} s to refuse a 20 MB file"  # CLI start included


def _services(settings: Settings, **caps: int) -> Services:
    return build_services(settings.model_copy(update=caps), embedder=FakeEmbedder())


def test_per_story_caps_on_text_and_chunks_name_their_setting(settings: Settings) -> None:
    services = _services(settings, story_max_chars=5_000, story_max_chunks=3)
    try:
        before = snapshot(services)
        long_doc = RawDocument(text=SENTENCE * 100, origin="long.txt", title="Long")
        many = RawDocument(text=SENTENCE * 40, origin="many.txt", title="Many")  # ~3,000 chars
        report = services.ingestor.ingest([long_doc, many])
        reasons = dict(report.failed)
        assert reasons["long.txt"] == (
            "the story is 7,700 characters long, over the cap of 5,000 (NEWSBOT_STORY_MAX_CHARS)"
        )
        assert reasons["many.txt"].startswith("the story makes ")
        assert reasons["many.txt"].endswith("chunks, over the cap of 3 (NEWSBOT_STORY_MAX_CHUNKS)")
        assert not report.added and snapshot(services) == before
    finally:
        services.close()


def test_a_sentence_and_a_chunk_are_bounded_and_stay_verbatim() -> None:
    one_word = "x" * 150_000  # a file with no space and no full stop
    pieces = split_sentences(one_word)
    assert max(map(len, pieces)) <= MAX_SENTENCE_CHARS and "".join(pieces) == one_word
    spaced = ("word " * 50_000).strip()
    assert all(len(p) <= MAX_SENTENCE_CHARS and p in spaced for p in split_sentences(spaced))
    chunks = chunk_article("a", one_word, size=120, overlap=30)
    assert max(len(c.text) for c in chunks) <= 120 * 12
    assert all(c.text in one_word and s in c.text for c in chunks for s in c.sentences)


def test_a_one_word_story_indexes_in_bounded_chunks(services: Services) -> None:
    doc = RawDocument(text="Title\n" + "y" * 150_000, origin="one-word.txt")
    report = services.ingestor.ingest([doc])
    assert len(report.added) == 1, report.failed
    [article] = [a for a in services.registry.list_articles() if a.origin == "one-word.txt"]
    chunks = services.registry.chunks_of(article.id)
    assert max(len(c.text) for c in chunks) <= 120 * 12 and len(chunks) <= 500


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("empty.jsonl", "", "the file is empty"),
        ("blank.jsonl", "\n  \n\n", "the file is empty (only blank lines)"),
        ("empty.txt", "", "the file is empty"),
        ("blank.md", " \n\t\n", "the file is empty (only blank lines)"),
    ],
)
def test_empty_files_are_reported_and_exit_1(
    name: str,
    content: str,
    reason: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / name
    path.write_text(content)
    code = _cli(tmp_path, monkeypatch, "ingest", str(path))
    out = capsys.readouterr().out
    assert code == 1
    assert len([ln for ln in out.splitlines() if name in ln and reason in ln]) == 1, out
    assert "Traceback" not in out


def test_dates_after_tomorrow_are_refused_tomorrow_is_not(services: Services) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    docs = [
        RawDocument(text=SENTENCE * 5, origin="far.txt", title="Far", published="2999-12-31"),
        RawDocument(text=SENTENCE * 6, origin="soon.txt", title="Soon", published=tomorrow),
    ]
    report = services.ingestor.ingest(docs)
    reasons = dict(report.failed)
    assert reasons == {
        "far.txt": "the published date 2999-12-31 is in the future; fix it or leave it out"
    }
    assert len(report.added) == 1
