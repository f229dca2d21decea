"""Votes on answers, /feedback and followed questions, against the real `newsbot run` process.

This module runs its own bot (followed questions checked four times a second) and restarts it once.
The tests run in file order and share what earlier ones did: the answer voted on, the follows.
"""

from __future__ import annotations

import copy
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from tests.e2e.articles import (
    FINE_PATH,
    FINE_TITLE,
    FRESH_PATH,
    LINKY_LINKS,
    LINKY_PATH,
    LINKY_SOURCE,
)
from tests.e2e.emulator import Emulator
from tests.e2e.emulator.interactions import Tracked
from tests.e2e.emulator.recorder import Call, wait_for
from tests.e2e.emulator.world import DIGEST_CHANNEL_ID, GENERAL_CHANNEL_ID, MODERATOR, Person
from tests.e2e.harness import (
    ACK_DEADLINE,
    EPHEMERAL,
    Harness,
    assert_cited_answer,
    buttons,
    describe,
    embeds,
    launch,
    pings_nobody,
    rendered,
)
from tests.index.httpserver import Server
from tests.reliability.test_inert_links import live_links

pytestmark = pytest.mark.e2e

FOLLOW_CHECK_SECONDS = 0.25  # NEWSBOT_FOLLOW_CHECK_SECONDS for this module's bot
QUIET = 4 * FOLLOW_CHECK_SECONDS  # several checks: time for a repeated notification to happen
DELIVERY_TIMEOUT = 15.0  # seconds from a story being indexed to the news reaching the member
QUESTION = "Are Hollywood writers working as AI trainers?"  # the sample stories answer it
FAST_QUESTION = "How fast does OpenAI's new model answer spoken questions?"  # not yet covered
FAST_TITLE = "OpenAI ships a faster model"
FINE_QUESTION = "How much did the European Commission fine Meta under the Digital Markets Act?"
REASON = "It quoted the wrong story"
VOTE_ID = re.compile(r"newsbot:fb:(?P<question_id>[0-9]+):(?P<verdict>up|down)")
DEFERRED_EPHEMERAL = {"type": 5, "data": {"flags": EPHEMERAL}}


@dataclass
class Shared:
    """What the tests of this module hand on to the later ones."""

    answer_message_id: int = 0
    question_id: int = 0
    vote_ids: dict[str, str] = field(default_factory=dict)  # "up"/"down" -> the custom_id
    dm_follower: Person | None = None
    open_form: Tracked | None = None  # a 👎 answered with its form, not submitted before a restart


@pytest.fixture(scope="module")
def harness(
    emulator: Emulator, site: Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Harness]:
    """This module's own bot, checking followed questions four times a second."""
    settings = {"NEWSBOT_FOLLOW_CHECK_SECONDS": str(FOLLOW_CHECK_SECONDS)}
    yield from launch(emulator, site, tmp_path_factory.mktemp("e2e-feedback"), settings)


@pytest.fixture(scope="module")
def shared() -> Shared:
    """Return the state the tests of this module share."""
    return Shared()


def query(harness: Harness, sql: str, *args: object) -> list[tuple[Any, ...]]:
    """Run a read-only query on the bot's SQLite registry (the bot may be writing meanwhile)."""
    uri = f"file:{harness.data_dir / 'newsbot.db'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        return db.execute(sql, args).fetchall()


def stored_votes(harness: Harness, question_id: int) -> list[tuple[int, str | None]]:
    """Return (helpful, reason) of every vote on an answer, oldest first."""
    sql = "SELECT helpful, reason FROM feedback WHERE question_id = ? ORDER BY id"
    return [(int(helpful), reason) for helpful, reason in query(harness, sql, question_id)]


def logged_question(harness: Harness, question_id: int) -> str | None:
    """Return the text of a question-log entry."""
    rows = query(harness, "SELECT question FROM questions WHERE id = ?", question_id)
    return rows[0][0] if rows else None


def vote(harness: Harness, shared: Shared, verdict: str) -> Tracked:
    """Have a new member click 👍 ("up") or 👎 ("down") under the shared answer."""
    return harness.emulator.click(
        harness.member(), shared.answer_message_id, shared.vote_ids[verdict]
    )


def text_inputs(modal: dict[str, Any]) -> list[dict[str, Any]]:
    """Return a modal's text inputs, in action rows or in labels."""
    found: list[dict[str, Any]] = []
    for component in modal["components"]:
        found += component.get("components") or [component.get("component") or {}]
    return [c for c in found if c.get("type") == 4]


def dm_openings(harness: Harness, since: float = 0.0) -> list[Call]:
    """Return the bot's Create DM requests."""
    return harness.emulator.recorder.calls("POST", "/users/@me/channels", since)


def add_story(harness: Harness, path: str) -> Call:
    """Have a moderator add a page of the local site with /story add url:; return the preview."""
    added = harness.emulator.slash("story", MODERATOR, {"url": harness.site.base + path}, sub="add")
    preview = harness.answer(added)
    assert preview.status == 200, preview.note
    return preview


def follow(harness: Harness, person: Person, question: str) -> Call:
    """Have a member follow a question; return the bot's (private) reply."""
    followed = harness.emulator.slash("follow", person, {"question": question})
    assert harness.acked(followed) == DEFERRED_EPHEMERAL
    reply = harness.answer(followed)
    assert reply.status == 200 and reply.reply["flags"] & EPHEMERAL, reply.note
    assert pings_nobody(reply.body)
    return reply


# -- 👍 / 👎 --------------------------------------------------------------------------------------


def test_an_answer_has_two_vote_buttons_naming_its_logged_question(
    harness: Harness, shared: Shared
) -> None:
    since = time.monotonic()
    reply = harness.answer(harness.ask(QUESTION))
    assert reply.status == 200, reply.note
    message = harness.message(reply)
    (row,) = message["components"]
    assert row["type"] == 1
    up, down = buttons(message)
    assert [b["emoji"]["name"] for b in (up, down)] == ["👍", "👎"]
    up_id, down_id = VOTE_ID.fullmatch(up["custom_id"]), VOTE_ID.fullmatch(down["custom_id"])
    assert up_id and down_id, [up["custom_id"], down["custom_id"]]
    assert (up_id["verdict"], down_id["verdict"]) == ("up", "down")
    question_id = int(up_id["question_id"])
    assert int(down_id["question_id"]) == question_id
    assert logged_question(harness, question_id) == QUESTION
    shared.answer_message_id, shared.question_id = int(message["id"]), question_id
    shared.vote_ids = {"up": up["custom_id"], "down": down["custom_id"]}
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_thumbs_up_is_thanked_privately_and_stored(harness: Harness, shared: Shared) -> None:
    since = time.monotonic()
    before = copy.deepcopy(harness.emulator.messages.get(shared.answer_message_id))
    clicked = vote(harness, shared, "up")
    assert harness.acked(clicked) == DEFERRED_EPHEMERAL
    assert clicked.ack_latency is not None and clicked.ack_latency < ACK_DEADLINE
    thanks = harness.answer(clicked)
    assert thanks.status == 200, thanks.note
    assert thanks.reply["flags"] & EPHEMERAL
    assert thanks.body["content"] == "Thanks, glad it helped!"
    assert pings_nobody(thanks.body)
    assert stored_votes(harness, shared.question_id) == [(1, None)]
    assert harness.emulator.messages.get(shared.answer_message_id) == before  # buttons stay
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_thumbs_down_opens_a_form_whose_reason_is_stored(harness: Harness, shared: Shared) -> None:
    since = time.monotonic()
    clicked = vote(harness, shared, "down")
    ack = harness.acked(clicked)
    assert ack["type"] == 9, ack  # a modal, validated by the emulator as Discord would
    assert clicked.ack_latency is not None and clicked.ack_latency < ACK_DEADLINE
    modal = clicked.modal
    assert modal is not None and modal["title"] == "What was wrong?"
    (reason_input,) = text_inputs(modal)
    assert reason_input["style"] == 2 and reason_input["required"] is False
    assert reason_input["max_length"] == 300
    assert stored_votes(harness, shared.question_id) == [(1, None)]  # nothing until submitted

    submitted = harness.emulator.submit_modal(clicked, {reason_input["custom_id"]: REASON})
    assert harness.acked(submitted) == DEFERRED_EPHEMERAL
    thanks = harness.answer(submitted)
    assert thanks.status == 200 and thanks.reply["flags"] & EPHEMERAL, thanks.note
    assert thanks.body["content"].startswith("Thanks, noted")
    assert stored_votes(harness, shared.question_id) == [(1, None), (0, REASON)]
    assert harness.followups(clicked) == []  # the form was the whole response to the click
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_feedback_shows_moderators_the_thumbs_down_answer(harness: Harness, shared: Shared) -> None:
    since = time.monotonic()
    refused = harness.emulator.slash("feedback", harness.member())
    ack = harness.acked(refused)
    assert ack["type"] == 4 and ack["data"]["flags"] == EPHEMERAL  # members may not list it

    listed = harness.emulator.slash("feedback", MODERATOR)
    assert harness.acked(listed) == DEFERRED_EPHEMERAL
    reply = harness.answer(listed)
    assert reply.status == 200 and reply.reply["flags"] & EPHEMERAL, reply.note
    assert pings_nobody(reply.body)
    (embed,) = embeds(reply)
    assert embed["title"] == "Answers marked unhelpful (1)"
    (item,) = embed["fields"]
    assert item["name"] == QUESTION
    assert "👎 ×1" in item["value"] and f"#{shared.question_id}" in item["value"]
    assert f"“{REASON}”" in item["value"]
    assert "Hollywood Writers AI Trainers" in item["value"]  # the story the answer cited
    assert not harness.rejected(since), describe(harness.rejected(since))


# -- followed questions ---------------------------------------------------------------------------


def test_a_followed_question_gets_one_dm_when_a_new_story_answers_it(
    harness: Harness, shared: Shared
) -> None:
    since = time.monotonic()
    follower = shared.dm_follower = harness.member()
    reply = follow(harness, follower, FAST_QUESTION)
    assert "don't cover it yet" in reply.body["content"] and "DM" in reply.body["content"]
    time.sleep(QUIET)
    assert dm_openings(harness, since) == []  # nothing new to tell

    preview = add_story(harness, FRESH_PATH)
    (dm,) = wait_for(lambda: harness.dms(follower.user_id, since), DELIVERY_TIMEOUT, "a DM")
    (opened,) = dm_openings(harness, since)
    assert opened.status == 200 and int(opened.body["recipient_id"]) == follower.user_id
    assert opened.reply["type"] == 1  # a DM channel, then the message in it
    assert dm.status == 200, dm.note
    assert dm.body["content"].startswith("New on a question you follow: **How fast")
    assert "/unfollow" in dm.body["content"]
    assert pings_nobody(dm.body)
    (embed,) = embeds(dm)
    assert "320 milliseconds" in embed["description"].replace("**", "")
    assert_cited_answer(embed["description"], FAST_TITLE)
    print(f"\nDM {dm.at - preview.at:.2f} s after the story was indexed")

    time.sleep(QUIET)
    assert len(harness.dms(follower.user_id, since)) == 1, "the same news was sent twice"
    assert len(dm_openings(harness, since)) == 1
    assert harness.posts(GENERAL_CHANNEL_ID, since) == []
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_with_dms_closed_the_news_is_posted_in_the_channel_pinging_only_that_member(
    harness: Harness, shared: Shared
) -> None:
    since = time.monotonic()
    follower = harness.member()
    harness.emulator.close_dms(follower.user_id)
    reply = follow(harness, follower, FINE_QUESTION)
    assert "don't cover it yet" in reply.body["content"]

    add_story(harness, FINE_PATH)
    (post,) = wait_for(
        lambda: harness.posts(GENERAL_CHANNEL_ID, since), DELIVERY_TIMEOUT, "a channel post"
    )
    (tried,) = harness.dms(follower.user_id, since)  # the DM came first, and was refused
    assert (tried.status, tried.reply["code"]) == (403, 50007)
    assert post.status == 200, post.note
    assert post.body["content"].startswith(f"<@{follower.user_id}> I couldn't DM you")
    mentions = post.body["allowed_mentions"]
    assert mentions["parse"] == [] and [int(u) for u in mentions["users"]] == [follower.user_id]
    assert not mentions.get("roles") and not mentions.get("replied_user")
    (embed,) = embeds(post)
    assert "200 million euros" in embed["description"].replace("**", "")
    assert_cited_answer(embed["description"], FINE_TITLE)

    time.sleep(QUIET)
    assert len(harness.posts(GENERAL_CHANNEL_ID, since)) == 1, "the same news was posted twice"
    assert len(harness.dms(follower.user_id, since)) == 1
    assert shared.dm_follower is not None  # the story does not concern the earlier follow
    assert harness.dms(shared.dm_follower.user_id, since) == []
    assert [c for c in harness.rejected(since) if c is not tried] == []


# -- a restart --------------------------------------------------------------------------------


def test_vote_buttons_posted_before_a_restart_still_work(harness: Harness, shared: Shared) -> None:
    shared.open_form = vote(harness, shared, "down")  # a member is typing a reason...
    assert harness.acked(shared.open_form)["type"] == 9
    assert harness.restart() == 0  # SIGTERM, then a new process on the same data directory
    since = time.monotonic()
    clicked = vote(harness, shared, "up")
    assert harness.acked(clicked) == DEFERRED_EPHEMERAL
    assert clicked.ack_latency is not None and clicked.ack_latency < ACK_DEADLINE
    thanks = harness.answer(clicked)
    assert thanks.status == 200 and thanks.body["content"] == "Thanks, glad it helped!"
    assert stored_votes(harness, shared.question_id) == [(1, None), (0, REASON), (1, None)]
    (delivered,) = harness.emulator.recorder.frames("sent", t="INTERACTION_CREATE", since=since)
    assert delivered.conn == harness.emulator.gateway.connections[-1].number  # the new process

    time.sleep(QUIET)  # the new process knows what every follower was already told
    assert harness.emulator.recorder.calls("POST", "/channels/", since) == []
    assert dm_openings(harness, since) == []
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_a_reason_form_opened_before_a_restart_can_still_be_submitted(
    harness: Harness, shared: Shared
) -> None:
    assert shared.open_form is not None
    before = stored_votes(harness, shared.question_id)
    reason = "Typed across a restart"
    submitted = harness.emulator.submit_modal(
        shared.open_form, {"What was wrong? (optional)": reason}
    )
    assert harness.acked(submitted, timeout=ACK_DEADLINE) == DEFERRED_EPHEMERAL
    deadline = time.monotonic() + 5
    while stored_votes(harness, shared.question_id) == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert stored_votes(harness, shared.question_id) == [*before, (0, reason)]


# -- links inside stories, questions and reasons ---------------------------------------------------


def _inert(harness: Harness, call: Call, *, pings: bool = False) -> str:
    """Check a recorded message shows no live link but stories' <sources>; return its text.

    Only a posted digest may ping (its opt-in role): `pings` allows that and nothing else.
    """
    assert call.status == 200, call.note
    shown = rendered(call.body)
    sources = frozenset(u for (u,) in query(harness, "SELECT url FROM articles") if u)
    assert live_links(shown, sources) == [], shown
    assert {e.get("url") for e in embeds(call)} <= {None} | sources
    mentions = call.body["allowed_mentions"]
    assert pings_nobody(call.body) or (
        pings and mentions["parse"] == [] and not mentions.get("users")
    )
    return shown


def test_links_are_never_live_in_follow_news_refusals_lists_info_feedback_or_digests(
    harness: Harness,
) -> None:
    since = time.monotonic()
    links = " ".join(LINKY_LINKS)
    question = f"Do quokka robots deliver mail in Perth? {links}"
    person = harness.member()
    assert "evil" in _inert(harness, follow(harness, person, question))  # a refusal: no story yet
    refusal = harness.answer(harness.ask(f"Who won the 1950 chess olympiad? {links}"))
    assert "evil" in _inert(harness, refusal) and "not covered" in rendered(refusal.body)

    assert "evil" in _inert(harness, add_story(harness, LINKY_PATH))
    (news,) = wait_for(lambda: harness.dms(person.user_id, since), DELIVERY_TIMEOUT, "a DM")
    assert "Quokka" in _inert(harness, news) and f"<{LINKY_SOURCE}>" in rendered(news.body)

    answer = harness.answer(harness.ask(question))
    assert "Quokka" in _inert(harness, answer)
    message = harness.message(answer)
    down = next(b for b in buttons(message) if b["custom_id"].endswith(":down"))
    clicked = harness.emulator.click(harness.member(), int(message["id"]), down["custom_id"])
    assert harness.acked(clicked)["type"] == 9 and clicked.modal is not None
    (reason_input,) = text_inputs(clicked.modal)
    reason = f"Spam, see {links}"
    submitted = harness.emulator.submit_modal(clicked, {reason_input["custom_id"]: reason})
    _inert(harness, harness.answer(submitted))

    (story_id,) = query(harness, "SELECT id FROM articles WHERE url = ?", LINKY_SOURCE)[0]
    # The bot's clock stands still in this module: a digest covers [last run, now), so move on.
    harness.set_clock(harness.slot - timedelta(minutes=30))
    for name, sub, options in (
        ("feedback", None, {}),
        ("story", "list", {}),
        ("story", "info", {"story": story_id}),
        ("digest", "preview", {}),
    ):
        reply = harness.answer(harness.emulator.slash(name, MODERATOR, options, sub=sub))
        assert "uokka" in _inert(harness, reply), (name, sub)  # the story or its question
    posted = harness.emulator.slash("digest", MODERATOR, sub="post")
    harness.answer(posted)
    (digest,) = wait_for(lambda: harness.posts(DIGEST_CHANNEL_ID, since), 15, "the digest")
    assert "uokka" in _inert(harness, digest, pings=True)
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_the_session_logged_no_errors_and_sigterm_exits_0(harness: Harness) -> None:
    # Refused as expected: only the DM to the member whose DMs are closed (50007).
    unexpected = [c for c in harness.rejected() if (c.reply or {}).get("code") != 50007]
    assert not unexpected, describe(unexpected)
    assert harness.bot.process.poll() is None, "the bot exited"
    logs = harness.logs()
    assert not re.search(r"Traceback|\bERROR\b", logs), logs
    assert harness.bot.stop() == 0
