"""Conversations against the real `newsbot run` process: /ask in a new thread, follow-ups in it
(slash command and mention), the "Ask newsbot" message menu, sharing a private answer, and the
channels where the bot speaks. The tests run in file order and share the thread."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import pytest

from tests.e2e.emulator.interactions import Tracked
from tests.e2e.emulator.recorder import Call, wait_for
from tests.e2e.emulator.world import APP_ID, DIGEST_CHANNEL_ID, GENERAL_CHANNEL_ID, MODERATOR
from tests.e2e.harness import (
    ACK_DEADLINE,
    EPHEMERAL,
    Harness,
    buttons,
    describe,
    embeds,
    pings_nobody,
)

pytestmark = pytest.mark.e2e

FIRST = "Are Hollywood writers training AI?"
EARN = "How much do they earn?"
COMPANIES = "Which companies?"
FOLLOW_UP = f"Read as a follow-up to: {FIRST}"
QUIET = 2.0  # seconds: time for a wrong reply to a mention to happen
DEFERRED_EPHEMERAL = {"type": 5, "data": {"flags": EPHEMERAL}}


@dataclass
class Shared:
    """What earlier tests hand on: the thread the bot started, a private answer to share."""

    thread_id: int = 0
    private_message_id: int = 0
    share_id: str = ""


SHARED = Shared()


def deferred_in_time(harness: Harness, tracked: Tracked) -> dict[str, Any]:
    """Return the first response of an interaction, checked to arrive within 3 s."""
    ack = harness.acked(tracked)
    assert tracked.ack_latency is not None and tracked.ack_latency < ACK_DEADLINE
    return ack


def posted_in(harness: Harness, channel_id: int, since: float, timeout: float = 30.0) -> Call:
    """Wait for the bot's first message in a channel after `since`."""
    return wait_for(lambda: harness.posts(channel_id, since), timeout, f"a post in {channel_id}")[0]


def plain(call: Call) -> str:
    """Return a message's embed description without the bold answer spans."""
    return str(embeds(call)[0]["description"]).replace("**", "")


def test_ask_thread_answers_in_a_new_thread_named_after_the_question(harness: Harness) -> None:
    since = time.monotonic()
    asked = harness.emulator.slash("ask", harness.member(), {"question": FIRST, "thread": True})
    assert deferred_in_time(harness, asked) == {"type": 5}
    starter = harness.answer(asked)
    assert starter.status == 200 and FIRST in starter.body["content"] and pings_nobody(starter.body)
    path = f"/channels/{GENERAL_CHANNEL_ID}/messages/{starter.reply['id']}/threads"
    (started,) = wait_for(lambda: harness.emulator.recorder.calls("POST", path), 10, "a thread")
    assert started.status == 201, started.note
    assert started.body["name"] == FIRST and started.reply["type"] == 11
    SHARED.thread_id = int(started.reply["id"])
    frames = harness.emulator.recorder.frames("sent", t="THREAD_CREATE")
    assert frames and frames[-1].d["id"] == str(SHARED.thread_id)
    answer = posted_in(harness, SHARED.thread_id, since)
    assert answer.status == 200, answer.note
    assert embeds(answer)[0]["title"] == FIRST and pings_nobody(answer.body)
    assert "Hollywood Writers AI Trainers" in plain(answer)
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_a_follow_up_ask_in_the_thread_keeps_its_context(harness: Harness) -> None:
    assert SHARED.thread_id, "the thread test runs first"
    since = time.monotonic()
    asked = harness.emulator.slash(
        "ask", harness.member(), {"question": EARN}, channel_id=SHARED.thread_id
    )
    assert deferred_in_time(harness, asked) == {"type": 5}
    reply = harness.answer(asked)
    assert reply.status == 200 and reply.reply["channel_id"] == str(SHARED.thread_id)
    (embed,) = embeds(reply)
    assert FOLLOW_UP in embed["footer"]["text"]
    assert "$150 per hour" in plain(reply) and pings_nobody(reply.body)
    # The same words in the channel are read on their own.
    alone = harness.answer(harness.emulator.slash("ask", harness.member(), {"question": EARN}))
    assert "follow-up" not in embeds(alone)[0]["footer"]["text"]
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_a_mention_in_the_thread_is_answered_with_its_context(harness: Harness) -> None:
    since = time.monotonic()
    harness.emulator.say(harness.member(), f"<@{APP_ID}> {COMPANIES}", SHARED.thread_id)
    reply = posted_in(harness, SHARED.thread_id, since)
    assert reply.status == 200, reply.note
    assert FOLLOW_UP in embeds(reply)[0]["footer"]["text"]
    assert any(name in plain(reply) for name in ("Mercor", "Outlier", "Turing"))
    assert pings_nobody(reply.body) and reply.body["message_reference"]
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_the_message_menu_answers_another_members_message_privately(harness: Harness) -> None:
    since = time.monotonic()
    target = harness.emulator.post(harness.member(), f"{FIRST} <@{MODERATOR.user_id}>")
    asked = harness.emulator.message_command("Ask newsbot", harness.member(), target)
    assert deferred_in_time(harness, asked) == DEFERRED_EPHEMERAL
    reply = harness.answer(asked)
    assert reply.status == 200 and reply.reply["flags"] & EPHEMERAL
    # The message's mention is shown inert: broken up, and nothing may ping.
    title = embeds(reply)[0]["title"]
    assert title.startswith(FIRST) and f"<@{MODERATOR.user_id}>" not in title
    assert pings_nobody(reply.body)
    ids = [b["custom_id"] for b in buttons(harness.message(reply))]
    assert [i.split(":")[1] for i in ids] == ["fb", "fb", "share"]
    SHARED.private_message_id, SHARED.share_id = int(reply.reply["id"]), ids[2]
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_post_in_channel_shares_it_naming_who_did_with_the_votes(harness: Harness) -> None:
    assert SHARED.share_id, "the message menu test runs first"
    since = time.monotonic()
    sharer = harness.member()
    clicked = harness.emulator.click(sharer, SHARED.private_message_id, SHARED.share_id)
    assert deferred_in_time(harness, clicked)["type"] == 7  # the private copy loses the button
    kept = [
        b["custom_id"]
        for b in buttons(harness.emulator.messages.get(SHARED.private_message_id) or {})
    ]
    assert kept and SHARED.share_id not in kept
    shared = harness.answer(clicked)
    assert shared.status == 200 and not shared.reply["flags"] & EPHEMERAL
    assert shared.body["content"] == f"Shared by <@{sharer.user_id}>" and pings_nobody(shared.body)
    assert embeds(shared)[0]["title"].startswith(FIRST)  # the message's mention is escaped
    assert [b["custom_id"] for b in buttons(harness.message(shared))] == kept  # the 👍/👎
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_outside_the_bots_channels_ask_is_private_and_mentions_are_ignored(
    harness: Harness,
) -> None:
    since = time.monotonic()
    options = {"key": "mention_channel_ids", "value": f"<#{DIGEST_CHANNEL_ID}>"}
    done = harness.answer(harness.emulator.slash("settings", MODERATOR, options, sub="set"))
    assert done.status == 200, done.note
    try:
        asked = harness.emulator.slash("ask", harness.member(), {"question": FIRST})
        assert deferred_in_time(harness, asked) == DEFERRED_EPHEMERAL
        private = harness.answer(asked)
        assert private.reply["flags"] & EPHEMERAL
        # Its "Post in channel" is refused here: the bot does not speak in this channel.
        share = [b["custom_id"] for b in buttons(harness.message(private))][-1]
        clicked = harness.emulator.click(harness.member(), int(private.reply["id"]), share)
        refusal = deferred_in_time(harness, clicked)
        assert refusal["type"] == 4 and refusal["data"]["flags"] == EPHEMERAL
        assert "only in this server's newsbot channels" in refusal["data"]["content"]
        quiet_since = time.monotonic()
        harness.emulator.say(harness.member(), f"<@{APP_ID}> {FIRST}")
        time.sleep(QUIET)
        assert not harness.posts(GENERAL_CHANNEL_ID, quiet_since)  # ignored, silently
        reactions = harness.emulator.recorder.calls(
            "PUT", f"/channels/{GENERAL_CHANNEL_ID}/messages/", quiet_since
        )
        assert not reactions  # not even the ⏳ of a cooldown
    finally:
        reset = {"key": "mention_channel_ids", "value": "default"}
        harness.answer(harness.emulator.slash("settings", MODERATOR, reset, sub="set"))
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_thread_channels_make_threads_the_default(harness: Harness) -> None:
    since = time.monotonic()
    options = {"key": "thread_channel_ids", "value": f"<#{GENERAL_CHANNEL_ID}>"}
    assert (
        harness.answer(harness.emulator.slash("settings", MODERATOR, options, sub="set")).status
        == 200
    )
    try:
        asked = harness.emulator.slash("ask", harness.member(), {"question": COMPANIES})
        assert deferred_in_time(harness, asked) == {"type": 5}
        starter = harness.answer(asked)
        path = f"/channels/{GENERAL_CHANNEL_ID}/messages/{starter.reply['id']}/threads"
        (started,) = wait_for(lambda: harness.emulator.recorder.calls("POST", path), 10, "a thread")
        assert started.status == 201 and started.body["name"] == COMPANIES
        answer = posted_in(harness, int(started.reply["id"]), since)
        # A new thread has no context yet: the question is read on its own.
        assert "follow-up" not in embeds(answer)[0]["footer"]["text"]
    finally:
        reset = {"key": "thread_channel_ids", "value": "default"}
        harness.answer(harness.emulator.slash("settings", MODERATOR, reset, sub="set"))
    assert not harness.rejected(since), describe(harness.rejected(since))
