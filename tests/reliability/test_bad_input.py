"""Bad input changes nothing: hostile questions, files, JSONL and arbitrary text (hypothesis).

tests/index/test_ingest.py and test_answer.py cover the plain cases (empty question, binary or
latin-1 file, a JSONL with bad lines); these add what an attacker or a broken export sends.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from bot.client import NewsBot
from index.chunk import chunk_article
from index.clean import clean_text
from index.errors import IngestError, InvalidQuestionError
from index.models import RawDocument
from index.parse import parse_story
from index.services import Services, build_services
from index.settings import Settings
from tests.bot.support import GUILD_ID, command, interaction, invoke, member, sent
from tests.fakes import FakeEmbedder
from tests.reliability.grounding import assert_grounded

QUESTION = "Are Hollywood writers being replaced by AI?"
BODY = "Chipmakers expanded factories in Arizona this spring, officials said on Monday. " * 3


def snapshot(services: Services) -> tuple[object, ...]:
    """Return what bad input must not change: stories, chunks, vectors, logged questions."""
    articles = sorted((a.id, a.content_hash) for a in services.registry.list_articles())
    return (articles, services.store.count(), services.registry.count_questions())


# -- questions ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bad", "says"),
    [
        ("\u202e\u2066\u200b\x7f", "Please ask a question"),  # bidi, zero-width, control
        ("\ud800\udfff", "Please ask a question"),  # lone surrogates: undecodable bytes
        ("\t\r\n\x0b\x0c\x1b\x85", "Please ask a question"),
        ("?!… 🤖", "Please ask a question in words"),
        ("x" * 501, "501 characters"),
        ("x" * 5_000_000, "5000000 characters"),  # refused before any work is done on it
    ],
)
def test_invalid_questions_get_a_clear_reason_and_change_nothing(
    seeded: Services, bad: str, says: str
) -> None:
    before = snapshot(seeded)
    with pytest.raises(InvalidQuestionError) as info:
        seeded.ask(bad)
    message = info.value.user_message()
    assert says in message and "\n" not in message and len(message) < 200
    assert snapshot(seeded) == before


def test_control_characters_and_surrogates_are_removed_not_fatal(seeded: Services) -> None:
    noisy = "Are Hollywood\x00 writers\u202e being\udcff replaced\x1b by AI?\ud800"
    answer = seeded.ask(noisy, guild_id=GUILD_ID)
    assert not answer.refused and answer.question == QUESTION
    [logged] = seeded.registry.questions_since(datetime(2000, 1, 1, tzinfo=UTC))
    assert logged.question == QUESTION


@pytest.mark.parametrize("bad", ["   ", "\u200b\u202e", "why " * 200])
async def test_a_bad_slash_question_is_refused_privately_before_deferring(
    bot: NewsBot, bad: str
) -> None:
    # A public defer would make the follow-up carrying the reason public too.
    before = snapshot(bot.services)
    fake = interaction(bot, member(9001))
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), fake, question=bad)
    fake.response.defer.assert_not_awaited()
    [reply] = sent(fake)
    assert reply["ephemeral"] is True and reply["content"].startswith(("Please", "That question"))
    assert snapshot(bot.services) == before


# -- files and folders ----------------------------------------------------------------------------


def test_a_folder_of_bad_files_indexes_only_the_good_one(seeded: Services, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    (folder / "good.txt").write_text("Robot editors arrive.\n" + BODY, encoding="utf-8")
    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_bytes(b" \n\t\n")
    (folder / "tiny.txt").write_text("Too short to cite.", encoding="utf-8")
    (folder / "nul.txt").write_bytes(b"text\x00with a NUL byte" * 10)
    (folder / "latin.md").write_bytes("Caf\xe9 cr\xe8me ".encode("latin-1") * 20)
    (folder / "utf16.txt").write_bytes(BODY.encode("utf-16"))
    (folder / "bomb.html").write_bytes(b"<html>" + b"<div>" * 5000 + b"</html>")
    (folder / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # skipped: not a story type
    # A file name that is not UTF-8 (any byte is allowed in a Linux file name).
    os.close(os.open(os.fsencode(folder) + b"/caf\xe9-news.txt", os.O_CREAT | os.O_WRONLY))
    before = snapshot(seeded)
    report = seeded.ingest_sources([str(folder)])
    assert len(report.added) == 1 and not report.updated
    reasons = dict(report.failed)
    assert len(reasons) == 8, reasons
    for origin, reason in report.failed:
        origin.encode("utf-8")  # printable: no lone surrogates from the odd file name
        assert reason and "\n" not in reason and "Traceback" not in reason
    assert any("\ufffd" in origin for origin in reasons)
    after = snapshot(seeded)
    assert after[1] > before[1] and len(after[0]) == len(before[0]) + 1


# -- JSONL --------------------------------------------------------------------------------------


def _line(**record: object) -> str:
    return json.dumps(record)


def test_jsonl_bad_lines_are_reported_by_number_and_the_rest_indexed(
    seeded: Services, tmp_path: Path
) -> None:
    lines = [
        "\ufeff" + _line(id="ok1", title="Chips", text="Arizona chips. " + BODY),  # BOM
        "",
        "   ",
        _line(id="ok2", title="Bad \ud800 title\x00", source="\udcff", text="Fabs. " + BODY),
        _line(id="badurl", url="http://[::1", text="A broken link. " + BODY),
        _line(id="js", url="javascript:alert(1)", text="A script link. " + BODY),
        _line(id="port", url="https://example.com:99999/x", text="A bad port. " + BODY),
        '{"id": "cut", "text": "the export stopped in the mid',  # truncated last write
        _line(id="ok1", text="Same id again. " + BODY),
        "null",
        _line(id="num", text=42),
        _line(id="short", text="Too short."),
    ]
    path = tmp_path / "batch.jsonl"
    path.write_bytes("\r\n".join(lines).encode("utf-8"))
    report = seeded.ingest_sources([str(path)])
    assert sorted(report.added) == ["ok1", "ok2"]
    failed = {origin.rsplit(":", 1)[1]: reason for origin, reason in report.failed}
    assert sorted(failed, key=int) == ["5", "6", "7", "8", "9", "10", "11", "12"]
    assert "not a valid http:// or https:// address" in failed["5"] == failed["6"] == failed["7"]
    assert "invalid JSON" in failed["8"] and "duplicate id" in failed["9"]
    ok2 = seeded.registry.get_article("ok2")
    assert ok2 is not None and ok2.title == "Bad title" and ok2.source is None


def test_a_jsonl_file_with_invalid_utf8_is_refused_whole(seeded: Services, tmp_path: Path) -> None:
    good = _line(id="fine", text="Fine story. " + BODY).encode()
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(good + b"\n" + b'{"id": "bad", "text": "caf\xe9"}\n')
    before = snapshot(seeded)
    report = seeded.ingest_sources([str(path)])
    [(origin, reason)] = report.failed
    assert origin == str(path) and reason.startswith("not UTF-8 text (bad byte at offset")
    assert snapshot(seeded) == before


def test_duplicates_in_one_batch_are_indexed_once(seeded: Services, tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(_line(id="dup", text="First copy. " + BODY) + "\n")
    (tmp_path / "b.jsonl").write_text(_line(id="dup", text="Second copy. " + BODY) + "\n")
    (tmp_path / "c.jsonl").write_text(
        _line(text="No id, same text. " + BODY) + "\n" + _line(text="No id, same text. " + BODY)
    )
    report = seeded.ingest_sources([str(tmp_path / n) for n in ("a.jsonl", "b.jsonl", "c.jsonl")])
    assert len(report.added) == 2
    assert [reason.split(" (")[0] for _, reason in report.failed] == [
        "duplicate of a story earlier in this batch"
    ] * 2
    article = seeded.registry.get_article("dup")
    assert article is not None and article.text.startswith("First copy.")
    assert seeded.store.count() == seeded.registry.count_chunks()


# -- arbitrary text (hypothesis) --------------------------------------------------------------

# Any character at all (surrogates and controls too), mixed with the markers the parser reacts to.
ANY_CHAR = st.characters(exclude_categories=())
MARKERS = st.sampled_from(
    ["\n", "\n\n", "---\ntitle: T\n---\n", "TL;DR\n", "Key Questions\n", "Q: Why?\n", "?\n",
     "Share this story\n", "Sources reviewed\n1\n", "Confidence\n85/100\n", "More in AI\n",
     "As an affiliate, we earn on qualifying purchases.\n", ". ", "Mr. ", "\r\n", "\u2028",
     "[email protected]", "Updated May 11, 2026\n", "# ", "@everyone "]
)  # fmt: skip
TEXT = st.lists(st.one_of(st.text(ANY_CHAR, max_size=80), MARKERS), max_size=30).map("".join)
FAST = settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))


def _printable_storable(text: str) -> None:
    text.encode("utf-8")  # no lone surrogates: SQLite and Discord can store and show it
    assert not any(ord(ch) < 32 and ch not in "\n\t" for ch in text)


@FAST
@given(TEXT)
def test_cleaning_and_parsing_accept_any_text(raw: str) -> None:
    cleaned = clean_text(raw)
    _printable_storable(cleaned)
    story = parse_story(raw)
    _printable_storable(story.text)
    for kq in story.key_questions:
        assert kq.question in story.text and kq.answer in story.text
    if story.summary:
        story.summary.encode("utf-8")


@FAST
@given(TEXT, st.integers(20, 200), st.integers(0, 100))
def test_chunks_are_verbatim_spans_of_any_text(raw: str, size: int, overlap: int) -> None:
    story = parse_story(raw)
    chunks = chunk_article("a1", story.text, story.key_questions, size=size, overlap=overlap)
    assert [c.n for c in chunks] == list(range(len(chunks)))
    assert len({c.id for c in chunks}) == len(chunks)
    for c in chunks:
        if c.kind == "body":
            assert c.text in story.text
        for sentence in c.sentences:
            assert sentence in c.text


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Services]:
    """Return one index for every hypothesis example (building one per example is slow)."""
    data = tmp_path_factory.mktemp("hypothesis") / "data"
    settings_ = Settings(_env_file=None, data_dir=data, refusal_threshold=0.3)  # type: ignore[call-arg]
    services = build_services(settings_, embedder=FakeEmbedder())
    services.ensure_samples()
    yield services
    services.close()


WORDS = st.sampled_from(
    ["Hollywood", "writers", "AI", "trainers", "Mercor", "chips", "Arizona", "strike", "the",
     "replaced", "earn", "hour", "?", ".", "Key Questions\n", "\n"]
)  # fmt: skip
SENTENCE = st.lists(
    st.one_of(WORDS, WORDS, st.text(ANY_CHAR, max_size=15)), min_size=4, max_size=14
)
STORY = st.lists(SENTENCE.map(lambda words: " ".join(words) + "."), min_size=2, max_size=12).map(
    " ".join
)
ASKED = st.one_of(
    st.text(ANY_CHAR, max_size=600),
    st.lists(st.one_of(WORDS, st.text(ANY_CHAR, max_size=10)), max_size=15).map(" ".join),
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(STORY, st.one_of(st.none(), st.text(ANY_CHAR, max_size=60)), ASKED)
def test_any_story_and_any_question_give_a_grounded_answer_or_a_typed_error(
    shared: Services, text: str, title: str | None, asked: str
) -> None:
    doc = RawDocument(text=text, origin="hypothesis", title=title)
    try:
        shared.ingestor.ingest_one(doc, added_by="hypothesis")
    except IngestError as exc:
        assert exc.reason and "\n" not in exc.reason
        event("story refused")
    try:
        answer = shared.ask(asked)
    except InvalidQuestionError as exc:
        assert exc.user_message()
        return
    assert_grounded(shared, answer)
    answer.question.encode("utf-8")
    event("refused" if answer.refused else "answered with excerpts")
