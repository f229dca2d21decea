"""The bot's clock: the real UTC time, or the time in NEWSBOT_CLOCK_FILE read on every look."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FileClock, clock_from_settings
from index.digest import utc_now
from index.settings import Settings


def test_without_a_clock_file_the_bot_uses_real_utc_time(settings: Settings) -> None:
    assert clock_from_settings(settings) is utc_now


def test_the_clock_file_is_read_on_every_look(settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "now.txt"
    path.write_text("2026-03-09T08:59:00+00:00\n")
    clock = clock_from_settings(settings.model_copy(update={"clock_file": path}))
    assert clock() == datetime(2026, 3, 9, 8, 59, tzinfo=UTC)
    path.write_text("2026-03-09T10:01:00+01:00")
    assert clock() == datetime(2026, 3, 9, 9, 1, tzinfo=UTC)


def test_a_time_without_a_zone_means_utc(tmp_path: Path) -> None:
    path = tmp_path / "now.txt"
    path.write_text("2026-03-09T09:00:00")
    assert FileClock(path)() == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def test_an_unreadable_clock_file_falls_back_to_real_time_and_warns_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "now.txt"
    clock = FileClock(path)
    with caplog.at_level(logging.WARNING, logger="bot.clock"):
        assert abs(clock() - datetime.now(UTC)) < timedelta(seconds=5)  # missing
        path.write_text("next Monday")
        assert abs(clock() - datetime.now(UTC)) < timedelta(seconds=5)  # not ISO-8601
    assert len(caplog.records) == 1 and str(path) in caplog.text
    path.write_text("2026-03-09T09:00:00Z")
    assert clock() == datetime(2026, 3, 9, 9, 0, tzinfo=UTC)


def test_every_service_stamps_times_with_the_one_clock(settings: Settings) -> None:
    from index.services import build_services
    from tests.fakes import FakeEmbedder
    from tests.follow_stories import EU_FINE, EU_QUESTION, add_story

    then = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
    services = build_services(settings, embedder=FakeEmbedder(), clock=lambda: then)
    try:
        first = add_story(services, EU_FINE)
        services.ask(EU_QUESTION, guild_id=7)
        services.follows.follow(5, EU_QUESTION, guild_id=7)
        later = then + timedelta(days=3)
        services.clock = lambda: later  # as tests and the bot move time: every service follows
        reviewed = services.stories.review(first, None, "verified", reviewed_by="mod")
        assert reviewed.provenance.reviewed_at == later
        story = services.registry.get_article(first)
        assert story is not None and story.added_at == then
        [asked] = services.registry.questions_since(then - timedelta(days=1))
        assert asked.asked_at == then
        assert services.follows.follows_of(5, 7)[0].created_at == then
        assert services.registry.articles_added_since(later) == []
    finally:
        services.close()
