"""The real `newsbot run` process against the Discord emulator: what members and moderators get.

One bot process serves the whole module (loading the model takes seconds), so the tests run in
file order and later ones see what earlier ones did (the story a moderator added, the digest).
"""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest

from tests.e2e.articles import (
    FRESH_PATH,
    LINKY_LINKS,
    LINKY_PATH,
    LINKY_SOURCE,
    LONG_PATH,
    LONG_TITLE,
)
from tests.e2e.emulator.recorder import wait_for
from tests.e2e.emulator.world import (
    APP_ID,
    DIGEST_CHANNEL_ID,
    DIGEST_ROLE_ID,
    GENERAL_CHANNEL_ID,
    MODERATOR,
    PRIVILEGED_INTENTS,
    TOKEN,
)
from tests.e2e.harness import (
    ACK_DEADLINE,
    DIGEST_CHECK_SECONDS,
    EPHEMERAL,
    HEARTBEAT_MS,
    Harness,
    assert_cited_answer,
    describe,
    embeds,
    pings_nobody,
    rendered,
)
from tests.reliability.test_inert_links import live_links

pytestmark = pytest.mark.e2e

QUESTION = "Are Hollywood writers working as AI trainers?"
NEW_STORY_TITLE = "OpenAI ships a faster model"
NEW_STORY_QUESTION = "How fast does OpenAI's new model answer spoken questions?"
HEARTBEAT_S = HEARTBEAT_MS / 1000
MAX_HEARTBEAT_GAP = 1.5 * HEARTBEAT_S
QUIET = 4 * DIGEST_CHECK_SECONDS  # several scheduler checks: time for a wrong post to happen
# 50 different questions: the bot caches query embeddings, and the burst should make it embed.
OPENERS = ("", "Quick question:", "I'm curious:", "Please tell me:", "Do you know:", "Honestly,")
OPENERS += ("In short,", "Briefly:", "Help me understand:", "From the news:")
BURST_QUESTIONS = [
    f"{opener} {question}".strip()
    for opener in OPENERS
    for question in (
        QUESTION,
        "Why are Hollywood professionals taking AI training jobs?",
        "Is AI training replacing creative roles in Hollywood?",
        "Are screenwriters secretly training AI models?",
        NEW_STORY_QUESTION,
    )
]


def test_logs_in_publishes_commands_and_identifies_like_a_bot(harness: Harness) -> None:
    recorder = harness.emulator.recorder
    assert len(recorder.calls("GET", "/users/@me")) >= 2  # `newsbot sync`, then `newsbot run`
    assert recorder.calls("GET", "/oauth2/applications/@me")
    (published,) = recorder.calls("PUT", f"/applications/{APP_ID}/guilds/")
    assert published.status == 200, published.note
    published_names = {c["name"] for c in published.body}
    assert published_names >= {"ask", "story", "digest", "follow", "unfollow", "follows"}
    (identify,) = recorder.frames("received", op=2)
    assert identify.d["token"] == TOKEN
    assert identify.d["intents"] & PRIVILEGED_INTENTS == 0  # works without portal switches
    first = harness.emulator.gateway.connections[0]
    assert first.path == "/gateway" and first.query.get("v") == "10"
    assert not harness.rejected(), describe(harness.rejected())


def test_ask_is_deferred_then_answered_with_quotes_markers_and_sources(harness: Harness) -> None:
    since = time.monotonic()
    asked = harness.ask(QUESTION)
    assert harness.acked(asked) == {"type": 5}  # a public "thinking…" deferral
    assert asked.ack_latency is not None and asked.ack_latency < ACK_DEADLINE
    reply = harness.answer(asked)
    assert reply.status == 200, reply.note
    (embed,) = embeds(reply)
    assert embed["title"] == QUESTION
    assert_cited_answer(embed["description"], "Hollywood Writers AI Trainers")
    assert reply.body["allowed_mentions"] == {"parse": []}
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_private_ask_stays_ephemeral(harness: Harness) -> None:
    since = time.monotonic()
    asked = harness.ask(QUESTION, private=True)
    assert harness.acked(asked) == {"type": 5, "data": {"flags": EPHEMERAL}}
    reply = harness.answer(asked)
    assert reply.status == 200, reply.note
    assert reply.reply["flags"] & EPHEMERAL  # the deferral fixed it; Discord keeps it
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_story_add_by_a_member_without_the_role_is_refused_and_nothing_is_indexed(
    harness: Harness,
) -> None:
    since = time.monotonic()
    url = f"{harness.site.base}{FRESH_PATH}"
    tried = harness.emulator.slash("story", harness.member(), {"url": url}, sub="add")
    ack = harness.acked(tried)
    assert ack["type"] == 4 and ack["data"]["flags"] == EPHEMERAL
    assert "moderator" in ack["data"]["content"].lower()  # says why, in a short sentence
    assert pings_nobody(ack["data"])
    time.sleep(1.0)  # room for a misbehaving bot to fetch or follow up anyway
    assert harness.site.seen == []  # the page was never even fetched
    assert harness.followups(tried) == []
    assert harness.stored_titles() == harness.sample_titles
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_story_add_by_a_moderator_role_previews_it_and_ask_then_cites_it(harness: Harness) -> None:
    since = time.monotonic()
    url = f"{harness.site.base}{FRESH_PATH}"
    added = harness.emulator.slash("story", MODERATOR, {"url": url}, sub="add")
    assert harness.acked(added) == {"type": 5, "data": {"flags": EPHEMERAL}}
    assert added.ack_latency is not None and added.ack_latency < ACK_DEADLINE
    preview = harness.answer(added)
    assert preview.status == 200, preview.note
    (embed,) = embeds(preview)
    assert NEW_STORY_TITLE in embed["title"]
    assert "320 milliseconds" in embed["description"].replace("**", "")
    assert embed["footer"]["text"].startswith("Added")
    assert pings_nobody(preview.body)
    assert [path for path, _ in harness.site.seen] == [FRESH_PATH]
    assert harness.stored_titles() == harness.sample_titles | {NEW_STORY_TITLE}

    asked = harness.ask(NEW_STORY_QUESTION)
    reply = harness.answer(asked)
    (answer,) = embeds(reply)
    assert "320 milliseconds" in answer["description"].replace("**", "")
    assert_cited_answer(answer["description"], NEW_STORY_TITLE)
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_a_mention_gets_a_reply_that_pings_nobody(harness: Harness) -> None:
    since = time.monotonic()
    message_id = harness.emulator.say(harness.member(), f"<@{APP_ID}> {QUESTION}")
    (reply,) = wait_for(lambda: harness.posts(GENERAL_CHANNEL_ID, since), 30, "a reply")
    assert reply.status == 200, reply.note
    assert int(reply.body["message_reference"]["message_id"]) == message_id
    assert pings_nobody(reply.body)  # not even the member it replies to
    (embed,) = embeds(reply)
    assert_cited_answer(embed["description"], "Hollywood Writers AI Trainers")
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_weekly_digest_is_posted_once_when_its_time_comes(harness: Harness) -> None:
    since = time.monotonic()
    harness.set_clock(harness.slot - timedelta(minutes=1))
    time.sleep(QUIET)
    assert harness.posts(DIGEST_CHANNEL_ID) == [], "posted before the scheduled time"

    harness.set_clock(harness.slot + timedelta(minutes=1))
    wait_for(lambda: harness.posts(DIGEST_CHANNEL_ID), 10, "the weekly digest")
    time.sleep(QUIET)
    harness.set_clock(harness.slot + timedelta(days=3))  # later in the same week
    time.sleep(QUIET)
    posts = harness.posts(DIGEST_CHANNEL_ID)
    assert len(posts) == 1, f"{len(posts)} digest messages posted: {describe(posts)}"
    digest = posts[0]
    assert digest.status == 200, digest.note
    assert digest.body["content"] == f"<@&{DIGEST_ROLE_ID}>"
    mentions = digest.body["allowed_mentions"]
    assert mentions["parse"] == [] and [int(r) for r in mentions["roles"]] == [DIGEST_ROLE_ID]
    assert not mentions.get("users") and not mentions.get("replied_user")
    (embed,) = embeds(digest)
    assert embed["title"].startswith("Weekly digest")
    story_names = {f["name"] for f in embed["fields"]} - {"Questions"}
    assert story_names == harness.sample_titles | {NEW_STORY_TITLE}
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_links_in_a_story_and_a_question_are_never_live(harness: Harness) -> None:
    since = time.monotonic()
    url = f"{harness.site.base}{LINKY_PATH}"
    added = harness.emulator.slash("story", MODERATOR, {"url": url}, sub="add")
    preview = harness.answer(added)
    assert preview.status == 200 and "Quokka" in rendered(preview.body), preview.note
    question = f"Do quokka robots deliver mail in Perth? {LINKY_LINKS[0]} {LINKY_LINKS[1]}"
    answer = harness.answer(harness.ask(question))
    message_id = harness.emulator.say(harness.member(), f"<@{APP_ID}> {question}")
    (reply,) = wait_for(lambda: harness.posts(GENERAL_CHANNEL_ID, since), 30, "a reply")
    assert int(reply.body["message_reference"]["message_id"]) == message_id
    for call in (preview, answer, reply):
        shown = rendered(call.body)
        assert "evil" in shown and f"<{LINKY_SOURCE}>" in shown, shown  # quoted; source live
        assert live_links(shown, frozenset({LINKY_SOURCE})) == [], shown
        assert {e.get("url") for e in embeds(call)} <= {None, LINKY_SOURCE}
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_after_a_dropped_connection_the_bot_resumes_and_answers(harness: Harness) -> None:
    since = time.monotonic()
    gateway = harness.emulator.gateway
    session_id = gateway.session.id if gateway.session else None
    last_seq = max(f.s or 0 for f in harness.emulator.recorder.frames("sent", op=0))
    missed = harness.emulator.prepare("ask", harness.member(), {"question": QUESTION})
    harness.emulator.drop_connection(missed=(missed,))  # asked while the bot is away

    (resume,) = wait_for(
        lambda: harness.emulator.recorder.frames("received", op=6, since=since), 15, "RESUME"
    )
    assert resume.d["session_id"] == session_id and resume.d["seq"] == last_seq
    assert harness.emulator.recorder.frames("received", op=2, since=since) == []  # no IDENTIFY
    assert gateway.connections[-1].path == "/gateway/resume"  # READY's resume_gateway_url
    recorder = harness.emulator.recorder
    wait_for(lambda: recorder.frames("sent", t="RESUMED", since=since), 5, "RESUMED")

    assert harness.answer(missed).status == 200  # replayed on resume, then answered
    assert missed.ack_latency is not None and missed.ack_latency < ACK_DEADLINE
    asked = harness.ask(QUESTION)
    assert harness.acked(asked) == {"type": 5}
    reply = harness.answer(asked)
    assert reply.status == 200 and embeds(reply), reply.note
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_fifty_asks_at_once_while_a_long_story_is_indexed(harness: Harness) -> None:
    emulator = harness.emulator
    indexing = emulator.prepare(
        "story", MODERATOR, {"url": f"{harness.site.base}{LONG_PATH}"}, sub="add"
    )
    burst = [
        emulator.prepare("ask", harness.member(), {"question": question})
        for question in BURST_QUESTIONS
    ]
    start = time.monotonic()
    emulator.send([indexing])
    harness.acked(indexing)
    time.sleep(1.0)  # fetched and parsed by now: the questions arrive while it is embedded
    asked_at = time.monotonic()
    emulator.send(burst)
    replies = [harness.answer(asked, timeout=90) for asked in burst]
    answered = time.monotonic()
    preview = harness.answer(indexing, timeout=120)
    end = time.monotonic()

    latencies = {a.id: a.ack_latency for a in [indexing, *burst]}
    late = {i: s for i, s in latencies.items() if s is None or s >= ACK_DEADLINE}
    assert not late, f"deferred too late (s): {late}"
    assert all(a.ack == {"type": 5} for a in burst)
    assert all(r.status == 200 and len(embeds(r)) == 1 for r in replies), describe(replies)
    assert preview.status == 200 and LONG_TITLE in embeds(preview)[0]["title"], preview.note
    gap = harness.max_heartbeat_gap(start, end)
    assert gap <= MAX_HEARTBEAT_GAP, f"no heartbeat for {gap:.2f} s while busy"
    slowest = max(s or 0 for s in latencies.values())
    print(
        f"\n50 asks answered in {answered - asked_at:.1f} s; long story indexed in"
        f" {end - start:.1f} s; slowest deferral {slowest * 1000:.0f} ms;"
        f" longest heartbeat gap {gap:.2f} s"
    )
    assert not harness.rejected(start), describe(harness.rejected(start))


def test_a_member_over_the_cooldown_is_told_to_wait(harness: Harness) -> None:
    since = time.monotonic()
    person = harness.member()
    for _ in range(3):  # NEWSBOT_ASK_RATE: 3 per 30 s
        assert harness.answer(harness.ask(QUESTION, person)).status == 200
    refused = harness.ask(QUESTION, person)
    ack = harness.acked(refused)
    assert ack["type"] == 4 and ack["data"]["flags"] == EPHEMERAL
    assert "wait" in ack["data"]["content"].lower()
    message_id = harness.emulator.say(person, f"<@{APP_ID}> {QUESTION}")  # mentions count too
    reaction = f"/channels/{GENERAL_CHANNEL_ID}/messages/{message_id}/reactions/"
    (react,) = wait_for(lambda: harness.emulator.recorder.calls("PUT", reaction), 10, "a ⏳")
    assert react.status == 204 and "⏳" in react.path
    assert not harness.rejected(since), describe(harness.rejected(since))


def test_the_whole_session_had_no_refusals_steady_heartbeats_and_no_errors(
    harness: Harness,
) -> None:
    assert not harness.rejected(), describe(harness.rejected())
    for conn in harness.emulator.gateway.connections:  # each connection, from HELLO to its end
        end = conn.closed_at or time.monotonic()
        gap = harness.max_heartbeat_gap(conn.opened_at, end, conn.number)
        assert gap <= MAX_HEARTBEAT_GAP, f"connection {conn.number}: no heartbeat for {gap:.2f} s"
    assert harness.bot.process.poll() is None, "the bot exited"
    log = harness.bot.log()
    assert not re.search(r"Traceback|\bERROR\b", log), log


def test_sigterm_closes_the_gateway_and_exits_0(harness: Harness) -> None:
    assert harness.bot.stop() == 0
    last = harness.emulator.gateway.connections[-1]
    wait_for(lambda: last.closed_at, 5, "the gateway connection to close")
    # discord.py calls close(1000), but its reader task closes the socket first with 4000, so
    # Discord keeps the session until it times out (Rapptz/discord.py#6719): closed is enough.
    assert last.close_code in (1000, 4000)
