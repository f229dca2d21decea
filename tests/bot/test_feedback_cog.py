"""👍 / 👎 under answers, the "what was wrong?" form, and /feedback for moderators."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.checks import NotModerator
from bot.client import NewsBot
from bot.feedback_embeds import PAGE_SIZE, negative_feedback_embed
from bot.limits import message_problems
from bot.views import (
    FEEDBACK_TEMPLATE,
    THANKS_DOWN,
    THANKS_UP,
    FeedbackButton,
    PagedView,
    ReasonModal,
)
from index import feedback
from index.errors import QuestionNotFoundError
from index.feedback import NegativeAnswer
from index.services import Services, build_services
from index.settings import Settings
from tests.bot.conftest import loaded_bot
from tests.bot.support import (
    GUILD_ID,
    checked,
    command,
    interaction,
    invoke,
    member,
    moderator_by_role,
    sent,
)
from tests.fakes import FakeEmbedder

QUESTION = "Are Hollywood writers being replaced by AI?"
REFUSED = "Price of bananas in Peru?"
VOTER = member(6006, name="voter")


async def _ask(bot: NewsBot, question: str, **options: Any) -> tuple[int, discord.ui.View]:
    """Ask through /ask; return the logged question id and the view sent with the answer."""
    fake = interaction(bot)
    await invoke(command(bot, "ask"), bot.get_cog("Ask"), fake, question=question, **options)
    view = fake.followup.send.await_args.kwargs["view"]
    qid = max(q.id for q in bot.services.registry.questions_since(datetime(2000, 1, 1, tzinfo=UTC)))
    return qid, view


async def _press(bot: NewsBot, custom_id: str, user: Any = VOTER, **kw: Any) -> MagicMock:
    """Press a vote button the way discord.py does: rebuild it from its custom_id, check, call."""
    match = re.fullmatch(FEEDBACK_TEMPLATE, custom_id)
    assert match is not None
    fake = interaction(bot, user, **kw)
    button = await FeedbackButton.from_custom_id(fake, MagicMock(), match)
    if await button.interaction_check(fake):
        await button.callback(fake)
    return fake


def _votes(services: Services) -> list[tuple[int, int, str | None]]:
    with services.registry.read() as db:
        rows = db.execute("SELECT question_id, helpful, reason FROM feedback ORDER BY id")
        return [(r[0], r[1], r[2]) for r in rows]


# -- the buttons --------------------------------------------------------------------------------


async def test_answers_and_refusals_carry_vote_buttons_with_their_log_id(bot: NewsBot) -> None:
    for question in (QUESTION, REFUSED):
        qid, view = await _ask(bot, question)
        assert [c.custom_id for c in view.children] == [
            f"newsbot:fb:{qid}:up",
            f"newsbot:fb:{qid}:down",
        ]
        assert [str(c.item.emoji) for c in view.children] == ["👍", "👎"]
        assert view.timeout is None


async def test_mention_answers_carry_vote_buttons(
    bot: NewsBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    me = MagicMock(id=999_000_999_000_999_000)
    monkeypatch.setattr(type(bot), "user", property(lambda self: me))
    message = MagicMock(spec=discord.Message)
    message.content = f"<@{me.id}> {QUESTION}"
    message.author = member(5005)
    message.guild = MagicMock(id=bot.settings.guild_ids[0])
    message.reply = checked(discord.Message.reply)
    message.channel.typing = MagicMock(return_value=AsyncMock())
    await bot.get_cog("Ask").on_message(message)
    view = message.reply.await_args.kwargs["view"]
    assert [c.custom_id.rsplit(":", 1)[1] for c in view.children] == ["up", "down"]
    [logged] = bot.services.registry.questions_since(datetime(2000, 1, 1, tzinfo=UTC))
    assert logged.guild_id == bot.settings.guild_ids[0]  # logged under its server


async def test_private_questions_are_logged_as_private(bot: NewsBot) -> None:
    await _ask(bot, QUESTION, private=True)
    await _ask(bot, QUESTION)
    logged = bot.services.registry.questions_since(datetime(2000, 1, 1, tzinfo=UTC))
    assert [q.private for q in logged] == [True, False]


async def test_the_dynamic_item_parses_its_custom_id(bot: NewsBot) -> None:
    for custom_id, expected in (
        ("newsbot:fb:42:up", (42, True)),
        ("newsbot:fb:7:down", (7, False)),
    ):
        match = re.fullmatch(FEEDBACK_TEMPLATE, custom_id)
        assert match is not None
        button = await FeedbackButton.from_custom_id(interaction(bot), MagicMock(), match)
        assert (button.question_id, button.helpful) == expected
        assert button.custom_id == custom_id
    for bad in ("newsbot:fb:x:up", "newsbot:fb:1:maybe", "newsbot:fb:1:up:2", "fb:1:up",
                "newsbot:fb:" + "9" * 19 + ":up"):  # fmt: skip
        assert re.fullmatch(FEEDBACK_TEMPLATE, bad) is None, bad
    # Loading the cog registers the template, so buttons sent before a restart still dispatch.
    dynamic = bot._connection._view_store._dynamic_items  # no public accessor in discord.py
    assert dynamic[FeedbackButton.__discord_ui_compiled_template__] is FeedbackButton


async def test_thumbs_up_records_at_once_and_thanks_privately(bot: NewsBot) -> None:
    qid, view = await _ask(bot, QUESTION)
    fake = await _press(bot, view.children[0].custom_id)
    fake.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    [reply] = sent(fake)
    assert reply["content"] == THANKS_UP and reply["ephemeral"] is True
    assert _votes(bot.services) == [(qid, 1, None)]
    again = await _press(bot, view.children[0].custom_id)
    assert "replaces your earlier vote" in sent(again)[0]["content"]
    assert _votes(bot.services) == [(qid, 1, None)]


async def test_thumbs_down_opens_the_form_and_stores_the_reason(bot: NewsBot) -> None:
    qid, view = await _ask(bot, REFUSED)
    fake = await _press(bot, view.children[1].custom_id)
    modal = fake.response.send_modal.await_args.args[0]
    assert isinstance(modal, ReasonModal) and _votes(bot.services) == []
    assert modal.reason.max_length == feedback.MAX_REASON_CHARS and not modal.reason.required
    modal.reason._value = "We do have a story on Peru's banana prices."
    submit = interaction(bot, VOTER)
    await modal.on_submit(submit)
    assert sent(submit)[0]["content"] == THANKS_DOWN
    assert _votes(bot.services) == [(qid, 0, "We do have a story on Peru's banana prices.")]
    # The same member changes their mind: one vote, now 👍, without the reason.
    await _press(bot, view.children[0].custom_id)
    assert _votes(bot.services) == [(qid, 1, None)]


async def test_a_vote_on_an_unknown_answer_is_refused_clearly(bot: NewsBot) -> None:
    fake = await _press(bot, "newsbot:fb:987654:up")
    [reply] = sent(fake)
    assert reply["ephemeral"] is True and "vote was not saved" in reply["content"]
    # 👎: the form's submission fails the same way; discord.py hands the error to on_error.
    modal = ReasonModal(987654)
    modal.reason._value = "wrong"
    submit = interaction(bot, VOTER)
    with pytest.raises(QuestionNotFoundError) as caught:
        await modal.on_submit(submit)
    await modal.on_error(submit, caught.value)
    assert "vote was not saved" in sent(submit)[-1]["content"]
    assert _votes(bot.services) == []


async def test_buttons_in_a_server_newsbot_does_not_serve_do_nothing(bot: NewsBot) -> None:
    _, view = await _ask(bot, QUESTION)
    fake = await _press(bot, view.children[0].custom_id, guild_id=999)
    assert "not enabled here" in sent(fake)[0]["content"]
    assert _votes(bot.services) == []


async def test_buttons_keep_working_after_a_restart(settings: Settings) -> None:
    first = build_services(settings, embedder=FakeEmbedder())
    first.ensure_samples()
    async with loaded_bot(first) as bot:
        qid, view = await _ask(bot, QUESTION)
        down = view.children[1].custom_id
    first.close()

    again = build_services(settings, embedder=FakeEmbedder())
    try:
        async with loaded_bot(again) as bot:
            fake = await _press(bot, down)
            modal = fake.response.send_modal.await_args.args[0]
            modal.reason._value = "Asked after the restart"
            await modal.on_submit(interaction(bot, VOTER))
        assert _votes(again) == [(qid, 0, "Asked after the restart")]
    finally:
        again.close()


# -- /feedback ------------------------------------------------------------------------------------


async def test_feedback_is_for_moderators_only(bot: NewsBot) -> None:
    fake = interaction(bot, member(7007))
    await invoke(command(bot, "feedback"), bot.get_cog("Feedback"), fake)
    fake.response.defer.assert_not_awaited()
    [reply] = sent(fake)
    assert reply["ephemeral"] is True and reply["content"] == str(NotModerator())


async def test_feedback_lists_thumbs_down_with_reason_date_and_cited_stories(bot: NewsBot) -> None:
    qid, view = await _ask(bot, QUESTION)
    await _press(bot, view.children[0].custom_id, member(1))  # a 👍 is not listed
    fake = await _press(bot, view.children[1].custom_id)
    modal = fake.response.send_modal.await_args.args[0]
    modal.reason._value = "It quotes the **wrong** story @everyone"
    await modal.on_submit(interaction(bot, VOTER))

    mod = interaction(bot, moderator_by_role())
    await invoke(command(bot, "feedback"), bot.get_cog("Feedback"), mod, limit=5)
    mod.response.defer.assert_awaited_once_with(ephemeral=True, thinking=True)
    [reply] = sent(mod)
    embed = reply["embed"]
    assert reply["ephemeral"] is True and "view" not in reply
    [field] = embed.fields
    assert field.name == QUESTION
    today = datetime.now(UTC)
    assert f"👎 ×1 · last {today:%b} {today.day}, {today.year}" in field.value
    assert f"answered · #{qid}" in field.value
    assert "**Cited:** Hollywood Writers AI Trainers" in field.value
    assert "\\*\\*wrong\\*\\*" in field.value and "@\u200beveryone" in field.value
    assert message_problems(None, [embed]) == []


async def test_feedback_pages_when_there_are_many(bot: NewsBot) -> None:
    for i in range(PAGE_SIZE + 2):
        qid = bot.services.registry.log_question(
            f"Question number {i}?", True, [], 0.1, guild_id=GUILD_ID
        )
        feedback.record_vote(bot.services.registry, qid, 1, helpful=False, reason="x" * 300)
    mod = interaction(bot, moderator_by_role())
    await invoke(command(bot, "feedback"), bot.get_cog("Feedback"), mod)
    [reply] = sent(mod)
    assert isinstance(reply["view"], PagedView) and reply["view"].pages == 2
    assert len(reply["embed"].fields) == PAGE_SIZE
    assert reply["embed"].fields[0].name == f"Question number {PAGE_SIZE + 1}?"  # newest first


async def test_feedback_lists_only_the_moderators_own_servers_answers(bot: NewsBot) -> None:
    other_server = 999_999_999_999_999_999
    bot.settings = bot.settings.model_copy(update={"guild_ids": [GUILD_ID, other_server]})
    qid, _ = await _ask(bot, "Will my employer Acme lay me off over AI tools?", private=True)
    feedback.record_vote(bot.services.registry, qid, 1234, helpful=False, reason="My HR case")
    from_cli = bot.services.ask(REFUSED).question_id  # asked outside any server
    assert from_cli is not None
    feedback.record_vote(bot.services.registry, from_cli, 1234, helpful=False, reason="CLI")

    admin = member(5555, manage_guild=True, name="adminB")  # Manage Server in the other server
    elsewhere = interaction(bot, admin, guild_id=other_server)
    await invoke(command(bot, "feedback"), bot.get_cog("Feedback"), elsewhere)
    [reply] = sent(elsewhere)
    assert "No answer has been marked unhelpful" in reply["embed"].description
    assert "Acme" not in str(reply["embed"].to_dict()) and "HR case" not in str(reply)

    here = interaction(bot, moderator_by_role())
    await invoke(command(bot, "feedback"), bot.get_cog("Feedback"), here)
    [field] = sent(here)[0]["embed"].fields  # its own server's answer, not the CLI's
    assert "Acme" in field.name and "My HR case" in field.value


async def test_feedback_with_nothing_to_show(bot: NewsBot) -> None:
    mod = interaction(bot, moderator_by_role())
    await invoke(command(bot, "feedback"), bot.get_cog("Feedback"), mod)
    assert "No answer has been marked unhelpful" in sent(mod)[0]["embed"].description


NASTY = st.sampled_from(["@everyone", "<@123>", "**b**", "\n", "`", "😀", "[x](https://e.x)"])
TEXT = st.one_of(
    st.lists(st.one_of(st.text(max_size=300), NASTY), max_size=8).map("".join),
    st.integers(0, 5000).map(lambda n: "y" * n),
)
MOMENT = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)).map(
    lambda d: d.replace(tzinfo=UTC)
)
NEGATIVE = st.builds(
    NegativeAnswer,
    question_id=st.integers(1, 2**62),
    question=TEXT,
    asked_at=MOMENT,
    refused=st.booleans(),
    private=st.booleans(),
    downvotes=st.integers(1, 10**6),
    last_vote_at=MOMENT,
    reasons=st.lists(TEXT, max_size=feedback.REASONS_KEPT).map(tuple),
    cited_titles=st.lists(TEXT, max_size=12).map(tuple),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(NEGATIVE, max_size=3 * PAGE_SIZE), st.integers(-2, 5))
def test_feedback_pages_respect_every_limit(items: list[NegativeAnswer], page: int) -> None:
    embed = negative_feedback_embed(items, page)
    assert message_problems(None, [embed]) == []
    assert "@everyone" not in "".join(f.value for f in embed.fields)


# -- the "what was wrong?" form, submitted now or after a restart ----------------------------------


def _submission(bot: NewsBot, custom_id: str, value: str, *, label: bool = False) -> MagicMock:
    """Return a fake form submission as Discord sends it (action rows, or the newer labels)."""
    field = {"type": 4, "custom_id": "reason", "value": value}
    wrapped = {"type": 18, "component": field} if label else {"type": 1, "components": [field]}
    fake = interaction(bot, VOTER)
    fake.type = discord.InteractionType.modal_submit
    fake.data = {"custom_id": custom_id, "components": [wrapped]}
    return fake


async def _submit(bot: NewsBot, fake: MagicMock) -> None:
    cog = bot.get_cog("Feedback")
    assert cog is not None
    await cog.on_interaction(fake)  # type: ignore[attr-defined]


async def test_the_form_carries_its_answer_and_is_recorded_by_the_listener(bot: NewsBot) -> None:
    qid, view = await _ask(bot, REFUSED)
    fake = await _press(bot, view.children[1].custom_id)
    form = fake.response.send_modal.await_args.args[0]
    assert form.custom_id == f"newsbot:fbr:{qid}"
    assert form.is_finished()  # not held in memory: the listener records it instead
    await _submit(bot, _submission(bot, form.custom_id, "  Wrong story quoted.  "))
    assert _votes(bot.services) == [(qid, 0, "Wrong story quoted.")]
    await _submit(bot, _submission(bot, form.custom_id, "", label=True))  # empty: no reason
    assert _votes(bot.services) == [(qid, 0, None)]


async def test_a_form_opened_before_a_restart_is_recorded_after_it(settings: Settings) -> None:
    first = build_services(settings, embedder=FakeEmbedder())
    first.ensure_samples()
    async with loaded_bot(first) as bot:
        qid, view = await _ask(bot, QUESTION)
        fake = await _press(bot, view.children[1].custom_id)
        form_id = fake.response.send_modal.await_args.args[0].custom_id
    first.close()

    again = build_services(settings, embedder=FakeEmbedder())
    try:
        async with loaded_bot(again) as bot:
            submit = _submission(bot, form_id, "Sent after the restart", label=True)
            await _submit(bot, submit)
            assert sent(submit)[0]["content"] == THANKS_DOWN
        assert _votes(again) == [(qid, 0, "Sent after the restart")]
    finally:
        again.close()


async def test_form_submissions_for_unknown_answers_or_other_forms(bot: NewsBot) -> None:
    unknown = _submission(bot, "newsbot:fbr:987654", "wrong")
    await _submit(bot, unknown)
    assert "vote was not saved" in sent(unknown)[-1]["content"]
    other = _submission(bot, "paste-a-story", "text")  # another form: not this listener's
    await _submit(bot, other)
    assert sent(other) == [] and _votes(bot.services) == []
    too_long = _submission(bot, "newsbot:fbr:1", "x" * (feedback.MAX_REASON_CHARS + 1))
    await _submit(bot, too_long)
    assert sent(too_long)[-1]["ephemeral"] is True and _votes(bot.services) == []
