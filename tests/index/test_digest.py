"""The weekly digest: schedule under a controlled clock, persistence, and content."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from index.digest import (
    WEEKDAYS,
    DigestService,
    Schedule,
    build_digest,
    most_asked,
    normalize_question,
    one_line_summary,
)
from index.models import Article, KeyQuestion
from index.registry import Registry
from index.settings import Settings

pytestmark = pytest.mark.both_backends  # registry tests run on SQLite and PostgreSQL

PARIS = ZoneInfo("Europe/Paris")


def _settings(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path,
        "digest_channel_id": 1,
        "digest_weekday": "monday",
        "digest_time": time(9, 0),
        "digest_timezone": "Europe/Paris",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


def _paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS)  # type: ignore[misc]


def _add_article(registry: Registry, article_id: str, added_at: datetime, **fields: object) -> None:
    """Store a ready article (no chunks needed here) added at a chosen time."""
    article = Article(
        id=article_id, title=fields.pop("title", f"Story {article_id}"), text="Body text. More.",  # type: ignore[arg-type]
        added_at=added_at.astimezone(UTC), **fields,  # type: ignore[arg-type]
    )  # fmt: skip
    registry.begin_article(article)
    registry.finish_article(article_id, [], [])


def _tick(service: DigestService, moments: Iterable[datetime]) -> list[datetime]:
    """Run the scheduler at each moment; return when it posted."""
    posted = []
    for now in moments:
        if service.due(now):
            service.mark_posted(service.build(now))
            posted.append(now)
    return posted


def _every(start: datetime, end: datetime, step: timedelta) -> list[datetime]:
    out, now = [], start
    while now < end:
        out.append(now)
        now += step
    return out


# -- schedule --------------------------------------------------------------------------------------


def test_latest_and_next_slot_in_local_time() -> None:
    schedule = Schedule(0, time(9, 0), PARIS)
    wednesday = _paris(2026, 3, 4, 12, 0)
    assert schedule.latest_slot(wednesday) == _paris(2026, 3, 2, 9, 0)
    assert schedule.next_slot(wednesday) == _paris(2026, 3, 9, 9, 0)
    monday_early = _paris(2026, 3, 9, 8, 59)
    assert schedule.latest_slot(monday_early) == _paris(2026, 3, 2, 9, 0)
    assert schedule.latest_slot(_paris(2026, 3, 9, 9, 0)) == _paris(2026, 3, 9, 9, 0)


def test_slots_keep_local_time_across_dst() -> None:
    schedule = Schedule(0, time(9, 0), PARIS)
    # Paris moves to summer time on Sunday 29 March 2026: 09:00 is 08:00 UTC before, 07:00 after.
    assert schedule.latest_slot(_paris(2026, 3, 24, 0, 0)).astimezone(UTC).hour == 8
    assert schedule.latest_slot(_paris(2026, 3, 31, 0, 0)).astimezone(UTC).hour == 7
    assert schedule.next_slot(_paris(2026, 3, 24, 0, 0)) == _paris(2026, 3, 30, 9, 0)


def test_first_start_waits_for_the_first_slot_then_posts_once_per_week(
    tmp_path: Path, database_url: str
) -> None:
    registry = Registry(tmp_path / "db.sqlite", url=database_url)
    service = DigestService(registry, _settings(tmp_path))
    start = _paris(2026, 3, 4, 12, 0)  # a Wednesday: first start
    posted = _tick(service, _every(start, start + timedelta(days=22), timedelta(minutes=15)))
    assert posted == [
        _paris(2026, 3, 9, 9, 0),
        _paris(2026, 3, 16, 9, 0),
        _paris(2026, 3, 23, 9, 0),
    ]


def test_restart_neither_repeats_nor_skips(tmp_path: Path, database_url: str) -> None:
    db = tmp_path / "db.sqlite"
    settings = _settings(tmp_path)
    first = DigestService(Registry(db, url=database_url), settings)
    assert not first.due(_paris(2026, 3, 4, 12, 0))
    assert _tick(first, [_paris(2026, 3, 9, 9, 1)]) == [_paris(2026, 3, 9, 9, 1)]
    # Restart right after posting: the new process does not post again this week.
    second = DigestService(Registry(db, url=database_url), settings)
    assert (
        _tick(
            second, _every(_paris(2026, 3, 9, 9, 2), _paris(2026, 3, 16, 8, 59), timedelta(hours=1))
        )
        == []
    )
    # ...and a restart just before the next slot does not skip it.
    third = DigestService(Registry(db, url=database_url), settings)
    assert _tick(third, [_paris(2026, 3, 16, 8, 59), _paris(2026, 3, 16, 9, 0)]) == [
        _paris(2026, 3, 16, 9, 0)
    ]


def test_downtime_over_the_slot_posts_once_on_return_with_everything_missed(
    tmp_path: Path, database_url: str
) -> None:
    registry = Registry(tmp_path / "db.sqlite", url=database_url)
    service = DigestService(registry, _settings(tmp_path))
    service.due(_paris(2026, 3, 1, 12, 0))
    assert _tick(service, [_paris(2026, 3, 2, 9, 0)]) == [_paris(2026, 3, 2, 9, 0)]
    _add_article(registry, "before-down", _paris(2026, 3, 6, 10, 0))
    _add_article(registry, "while-down", _paris(2026, 3, 10, 10, 0))  # added by the CLI meanwhile
    # Down from Saturday 7 to Thursday 12 March: the Monday 9 slot was missed.
    back = _paris(2026, 3, 12, 18, 0)
    digest = service.build(back)
    assert [s.article_id for s in digest.stories] == ["while-down", "before-down"]
    assert _tick(service, _every(back, _paris(2026, 3, 16, 8, 0), timedelta(minutes=30))) == [back]
    assert service.build(_paris(2026, 3, 16, 9, 0)).stories == ()


def test_manual_post_after_the_slot_counts_for_the_week(tmp_path: Path, database_url: str) -> None:
    service = DigestService(Registry(tmp_path / "db.sqlite", url=database_url), _settings(tmp_path))
    service.due(_paris(2026, 3, 1, 12, 0))
    service.mark_posted(service.build(_paris(2026, 3, 2, 10, 0)))  # /digest post at 10:00
    assert (
        _tick(
            service, _every(_paris(2026, 3, 2, 10, 1), _paris(2026, 3, 9, 8, 0), timedelta(hours=1))
        )
        == []
    )


ZONES = ["UTC", "Europe/Paris", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata"]


@hsettings(max_examples=60, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    weekday=st.sampled_from(WEEKDAYS),
    at=st.times(),
    start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2027, 1, 1)),
    gaps=st.lists(st.integers(min_value=1, max_value=60 * 24 * 10), min_size=1, max_size=40),
)
def test_one_post_per_slot_at_the_first_check_after_it(
    tmp_path_factory: pytest.TempPathFactory,
    zone: str,
    weekday: str,
    at: time,
    start: datetime,
    gaps: list[int],
) -> None:
    tmp = tmp_path_factory.mktemp("digest")
    settings = _settings(tmp, digest_timezone=zone, digest_weekday=weekday, digest_time=at)
    service = DigestService(Registry(":memory:"), settings)
    moments = [start.replace(tzinfo=UTC)]
    for minutes in gaps:
        moments.append(moments[-1] + timedelta(minutes=minutes))
    posted = _tick(service, moments)
    # Independent oracle: local slots day by day, then the first check at or after each one.
    slots = _slots(zone, WEEKDAYS.index(weekday), at, moments[0], moments[-1])
    expected = []
    for slot, following in zip(slots, [*slots[1:], None], strict=True):
        later = [m for m in moments if m >= slot and (following is None or m < following)]
        if later and slot > moments[0].replace(microsecond=0):
            expected.append(later[0])
    assert posted == expected


def _slots(zone: str, weekday: int, at: time, first: datetime, last: datetime) -> list[datetime]:
    tz = ZoneInfo(zone)
    day = first.astimezone(tz).date() - timedelta(days=8)
    out = []
    while day <= last.astimezone(tz).date() + timedelta(days=1):
        if day.weekday() == weekday:
            out.append(datetime.combine(day, at, tzinfo=tz).astimezone(UTC))
        day += timedelta(days=1)
    return out


# -- content ---------------------------------------------------------------------------------------


def test_digest_lists_new_stories_newest_first_with_summary_and_key_question(
    tmp_path: Path,
    database_url: str,
) -> None:
    registry = Registry(tmp_path / "db.sqlite", url=database_url)
    service = DigestService(registry, _settings(tmp_path))
    service.mark_posted(service.build(_paris(2026, 3, 2, 9, 0)))
    _add_article(registry, "old", _paris(2026, 3, 1, 9, 0))
    _add_article(
        registry, "a", _paris(2026, 3, 3, 9, 0), title="First", source="Pub", url="https://e/a",
        published=date(2026, 3, 3), summary="The TL;DR\nof A.",
        key_questions=(KeyQuestion("Why A?", "Because."), KeyQuestion("And?", "More.")),
    )  # fmt: skip
    _add_article(registry, "b", _paris(2026, 3, 5, 9, 0), title="Second")
    digest = service.build(_paris(2026, 3, 9, 9, 0))
    assert [s.article_id for s in digest.stories] == ["b", "a"]
    first = digest.stories[1]
    assert (first.title, first.source, first.url, first.published) == (
        "First", "Pub", "https://e/a", date(2026, 3, 3),
    )  # fmt: skip
    assert first.summary == "The TL;DR of A."
    assert first.key_question == "Why A?"
    assert digest.stories[0].summary == "Body text."  # no TL;DR: the lead sentence
    assert digest.stories[0].key_question is None


def test_digest_counts_the_weeks_questions(tmp_path: Path, database_url: str) -> None:
    registry = Registry(tmp_path / "db.sqlite", url=database_url)
    service = DigestService(registry, _settings(tmp_path))
    now = datetime.now(UTC)
    service.mark_posted(service.build(now - timedelta(days=1)))
    for q in [
        "What is GPT-5?",
        "what is gpt 5",
        "What is GPT-5 ?",
        "Who won?",
        "Who won?",
        "Once?",
    ]:
        registry.log_question(q, False, [], 0.9)
    digest = service.build(now + timedelta(minutes=1))
    assert digest.question_count == 6
    assert [(q.text, q.count) for q in digest.top_questions] == [
        ("What is GPT-5?", 3), ("Who won?", 2),
    ]  # fmt: skip
    assert digest.is_empty


def test_most_asked_merges_near_identical_and_caps_at_five() -> None:
    questions = ["Is AI replacing writers?"] * 6 + ["Is AI replacing the writers?"] * 4
    questions += [f"Chip news in {2000 + i}?" for i in range(8) for _ in range(i + 2)]
    top = most_asked(questions)
    assert len(top) == 5
    assert [(q.text, q.count) for q in top[:2]] == [
        ("Is AI replacing writers?", 10),
        ("Chip news in 2007?", 9),
    ]
    assert [q.count for q in top] == [10, 9, 8, 7, 6]
    assert most_asked(["Only once?"]) == []
    assert normalize_question("  What's NEW?? ") == "what s new"


def test_build_digest_is_pure_and_one_line_summary_is_short() -> None:
    article = Article(id="x", title="T", text="Lead sentence here! Rest.", summary=None)
    assert one_line_summary(article) == "Lead sentence here!"
    long = Article(id="y", title="T", text="t", summary="word " * 200)
    assert len(one_line_summary(long) or "") <= 300
    start = datetime(2026, 3, 2, tzinfo=UTC)
    digest = build_digest([article], [], start, start + timedelta(days=7), "UTC")
    assert digest.question_count == 0 and digest.top_questions == ()


def test_privately_asked_questions_count_but_are_never_shown(
    tmp_path: Path, database_url: str
) -> None:
    registry = Registry(tmp_path / "db.sqlite", url=database_url)
    service = DigestService(registry, _settings(tmp_path))
    now = datetime.now(UTC)
    service.mark_posted(service.build(now - timedelta(days=1)))
    for _ in range(3):
        registry.log_question("Is my employer using AI to screen me?", False, [], 0.9, private=True)
    for _ in range(2):
        registry.log_question("Who won?", False, [], 0.9)
    digest = service.build(now + timedelta(minutes=1))
    assert digest.question_count == 5
    assert [(q.text, q.count) for q in digest.top_questions] == [("Who won?", 2)]


def test_each_digest_message_has_one_nonce_in_every_process(
    tmp_path: Path, database_url: str
) -> None:
    settings = _settings(tmp_path)
    now = _paris(2026, 3, 9, 9, 1)
    one = DigestService(Registry(tmp_path / "db.sqlite", url=database_url), settings, guild_id=7)
    other = DigestService(Registry(tmp_path / "db.sqlite", url=database_url), settings, guild_id=7)
    digest = one.build(now)
    nonces = [one.message_nonce(digest, n) for n in (1, 2)]
    assert nonces == [other.message_nonce(digest, n) for n in (1, 2)]  # another process: same
    assert nonces[0] != nonces[1] and all(len(n) <= 25 for n in nonces)  # Discord's limit
    elsewhere = DigestService(Registry(tmp_path / "db.sqlite", url=database_url), settings,
                              guild_id=8)  # fmt: skip
    assert elsewhere.message_nonce(digest, 1) not in nonces
    one.mark_posted(digest)  # the next period's messages are new messages
    assert one.message_nonce(one.build(now + timedelta(days=7)), 1) not in nonces
