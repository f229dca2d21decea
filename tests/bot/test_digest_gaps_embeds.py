"""The digest's "Questions we couldn't answer" and "Now answered" fields: layout and limits."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.digest_embeds import NOW_ANSWERED_NAME, UNANSWERED_NAME, digest_messages
from bot.limits import message_problems
from index.digest import AskedQuestion, Digest, build_digest
from index.gaps import GAPS_SHOWN, RECHECKED, NowAnswered, Unanswered
from tests.bot.test_embeds import LONG_TEXT, digests

END = datetime(2026, 5, 11, 9, tzinfo=UTC)


def _fields(digest: Digest) -> dict[str, str]:
    return {f.name: f.value for m in digest_messages(digest) for e in m.embeds for f in e.fields}


def test_unanswered_and_now_answered_layout() -> None:
    digest = replace(
        build_digest([], [], END - timedelta(days=7), END, "UTC"),
        top_questions=(AskedQuestion("How much did OpenAI pay for io?", 4),),
        unanswered=(
            Unanswered("How much did OpenAI pay for io?", 4, refused=True),
            Unanswered("Are Hollywood writers being replaced by AI?", 2, refused=False),
            Unanswered("Who won the **2026** World Cup? @everyone", 1, refused=True),
        ),
        now_answered=(
            NowAnswered("How fast is OpenAI's new voice model?", "v1", "OpenAI Ships Voice"),
        ),
    )
    fields = _fields(digest)
    assert fields[UNANSWERED_NAME] == (
        "1. How much did OpenAI pay for io? (×4)\n"
        "2. Are Hollywood writers being replaced by AI? (×2, answer marked unhelpful)\n"
        "3. Who won the \\*\\*2026\\*\\* World Cup? @\u200beveryone (×1)"
    )
    assert fields[NOW_ANSWERED_NAME] == (
        "How fast is OpenAI's new voice model? → **OpenAI Ships Voice**"
    )
    names = [f.name for m in digest_messages(digest) for e in m.embeds for f in e.fields]
    assert names == ["Questions", UNANSWERED_NAME, NOW_ANSWERED_NAME]


def test_no_gaps_no_fields() -> None:
    fields = _fields(build_digest([], [], END - timedelta(days=7), END, "UTC"))
    assert UNANSWERED_NAME not in fields and NOW_ANSWERED_NAME not in fields


@st.composite
def digests_with_gaps(draw: st.DrawFn) -> Digest:
    digest = draw(digests())
    unanswered = [
        Unanswered(draw(LONG_TEXT), draw(st.integers(1, 10**9)), draw(st.booleans()))
        for _ in range(draw(st.integers(0, GAPS_SHOWN)))
    ]
    now_answered = [
        NowAnswered(draw(LONG_TEXT), f"a{i}", draw(LONG_TEXT))
        for i in range(draw(st.integers(0, RECHECKED)))
    ]
    return replace(digest, unanswered=tuple(unanswered), now_answered=tuple(now_answered))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(digests_with_gaps(), st.one_of(st.none(), st.integers(1, 2**63)))
def test_digest_with_gaps_respects_every_limit(digest: Digest, role_id: int | None) -> None:
    messages = digest_messages(digest, role_id)
    for message in messages:
        assert message_problems(message.content, message.embeds) == []
    shown = sum(len(e.fields) for m in messages for e in m.embeds)
    extra = bool(digest.unanswered) + bool(digest.now_answered)
    assert shown == len(digest.stories) + 1 + extra


def test_members_links_in_public_questions_are_never_live() -> None:
    asked = "Is the giveaway at https://free-nitro.example/claim legit?"
    digest = replace(
        build_digest([], [], END - timedelta(days=7), END, "UTC"),
        top_questions=(AskedQuestion(asked, 2),),
        unanswered=(Unanswered(asked, 2, refused=True),),
        now_answered=(NowAnswered("Is https://x.example/a still up?", "v1", "Story"),),
    )
    fields = _fields(digest)
    assert fields and all("://" not in value for value in fields.values())
    assert "https:\u200b//free-nitro.example/claim" in fields[UNANSWERED_NAME]
