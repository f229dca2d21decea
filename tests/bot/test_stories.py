"""/story commands: permissions, adding (URL, file, paste), duplicates, removal, list, info."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import AsyncMock, MagicMock

import discord
import pytest
from discord import app_commands

from bot.checks import NotModerator
from bot.client import NewsBot
from bot.views import ConfirmView, PagedView, StoryModal
from index.models import RawDocument
from index.sources import title_from_filename
from tests.bot.support import (
    GUILD_ID,
    command,
    interaction,
    invoke,
    last_embed,
    member,
    moderator_by_permission,
    moderator_by_role,
    sent,
)

MODERATOR_COMMANDS = [
    "story add", "story paste", "story remove", "story list", "story info", "story review",
    "digest preview", "digest post",
]  # fmt: skip
STORY_TEXT = (
    "Open-weight models closed the gap with frontier labs this spring, according to a new "
    "benchmark report. The report compared forty models on reasoning and coding tasks and "
    "found the best open models within three points of the leaders."
)
STORY_URL = "https://news.example.com/open-weights-gap"


def _doc(text: str = STORY_TEXT) -> RawDocument:
    """Return what a fetch of STORY_URL would return."""
    return RawDocument(
        text=text, origin=STORY_URL, url=STORY_URL, title="Open weights close the gap",
        source="Example News", published="2026-05-04",
    )  # fmt: skip


def _cog(bot: NewsBot) -> Any:
    return bot.get_cog("Stories")


@pytest.fixture
def fetched(empty_bot: NewsBot, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make services.fetch return a fixed document (no network); return the URLs fetched."""
    urls: list[str] = []

    def fake_fetch(url: str) -> RawDocument:
        urls.append(url)
        return _doc()

    monkeypatch.setattr(empty_bot.services, "fetch", fake_fetch)
    return urls


def _attachment(filename: str, data: bytes) -> MagicMock:
    """Return a fake uploaded file."""
    file = MagicMock(spec=discord.Attachment)
    file.filename = filename
    file.size = len(data)
    file.read = AsyncMock(return_value=data)
    return file


# -- permissions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", MODERATOR_COMMANDS)
async def test_every_moderator_command_refuses_a_member(empty_bot: NewsBot, path: str) -> None:
    bot = empty_bot
    # A member with an unrelated role, as if default_permissions had been overridden to allow them.
    plain = member(7007, roles=(123,))
    fake = interaction(bot, plain)
    cmd = command(bot, path)
    await invoke(cmd, cmd.binding, fake, **_options(path))
    reply = sent(fake)[-1]
    assert reply["ephemeral"] is True and "Only moderators" in reply["content"]
    fake.response.defer.assert_not_awaited()
    fake.response.send_modal.assert_not_awaited()


def _options(path: str) -> dict[str, Any]:
    """Return valid options for a command."""
    if path in ("story remove", "story info"):
        return {"story": "anything"}
    if path == "story review":
        return {"story": "anything", "status": "retracted"}
    if path == "story add":
        return {"url": STORY_URL}
    return {}


@pytest.mark.parametrize("who", [moderator_by_role, moderator_by_permission])
async def test_moderators_by_role_or_permission_may_add(
    empty_bot: NewsBot, fetched: list[str], who: Any
) -> None:
    bot = empty_bot
    fake = interaction(bot, who())
    await invoke(command(bot, "story add"), _cog(bot), fake, url=STORY_URL)
    assert fetched == [STORY_URL]
    embed = last_embed(fake)
    assert embed.title == "Open weights close the gap"
    assert embed.footer.text.startswith("Added")
    fields = {f.name: f.value for f in embed.fields}
    assert fields["Publisher"] == "Example News"
    assert fields["Date"] == "May 4, 2026"
    assert int(fields["Chunks indexed"]) >= 1
    assert "Open-weight models closed the gap" in embed.description


def test_refusal_is_a_check_failure() -> None:
    assert isinstance(NotModerator(), app_commands.CheckFailure)


# -- adding ---------------------------------------------------------------------------------------


async def test_duplicate_says_by_whom_and_when_and_offers_replace(
    empty_bot: NewsBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = empty_bot
    cog = _cog(bot)
    monkeypatch.setattr(bot.services, "fetch", lambda url: _doc())
    first = interaction(bot, moderator_by_role())
    await invoke(command(bot, "story add"), cog, first, url=STORY_URL)
    assert bot.services.registry.count_articles() == 1

    # The page changed since: the same URL is detected as indexed before anything is written.
    corrected = STORY_TEXT + " A correction was added later."
    monkeypatch.setattr(bot.services, "fetch", lambda url: _doc(corrected))
    fake = interaction(bot, moderator_by_permission())
    await invoke(command(bot, "story add"), cog, fake, url=STORY_URL)
    kwargs = fake.followup.send.await_args.kwargs
    assert "already indexed: added" in kwargs["embed"].description
    assert "by mod." in kwargs["embed"].description  # who added it (and the date before it)
    view = kwargs["view"]
    assert isinstance(view, ConfirmView) and kwargs["ephemeral"] is True
    [article] = bot.services.registry.list_articles()
    assert "correction" not in article.text

    # Pressing Replace re-ingests the version just given.
    press = interaction(bot, moderator_by_permission())
    await view.confirm.callback(press)
    press.response.edit_message.assert_awaited_once_with(view=None)
    embed = press.edit_original_response.await_args.kwargs["embed"]
    assert embed.footer.text.startswith("Replaced")
    [article] = bot.services.registry.list_articles()
    assert "correction" in article.text


async def test_replace_button_only_works_for_its_owner(
    empty_bot: NewsBot, fetched: list[str]
) -> None:
    bot = empty_bot
    view = ConfirmView(moderator_by_role().id, [], "Replace", AsyncMock())
    stranger = interaction(bot, moderator_by_permission())
    assert await view.interaction_check(stranger) is False
    assert sent(stranger)[-1]["ephemeral"] is True
    owner = interaction(bot, moderator_by_role())
    view.moderator_role_ids = bot.settings.moderator_role_ids
    assert await view.interaction_check(owner) is True


async def test_add_text_attachment(empty_bot: NewsBot) -> None:
    bot = empty_bot
    fake = interaction(bot, moderator_by_role())
    file = _attachment("open-weights_gap.md", STORY_TEXT.encode())
    await invoke(command(bot, "story add"), _cog(bot), fake, file=file)
    embed = last_embed(fake)
    assert embed.title == title_from_filename(Path("open-weights_gap.md"))
    assert bot.services.registry.count_articles() == 1


async def test_add_html_attachment(empty_bot: NewsBot) -> None:
    bot = empty_bot
    pytest.importorskip("index.html")
    page = (
        "<html><head><title>Chips and models</title></head><body><article><h1>Chips and models</h1>"
        f"<p>{STORY_TEXT}</p><p>{STORY_TEXT}</p></article></body></html>"
    )
    fake = interaction(bot, moderator_by_role())
    await invoke(
        command(bot, "story add"), _cog(bot), fake, file=_attachment("c.html", page.encode())
    )
    assert "Chips and models" in last_embed(fake).title


@pytest.mark.parametrize(
    ("filename", "data", "reason"),
    [
        ("story.txt", b"\xff\xfe bad bytes " * 20, "not UTF-8"),
        ("story.txt", b"\x00\x01\x02" * 50, "binary"),
        ("story.pdf", b"%PDF-1.7", "unsupported file type .pdf"),
    ],
)
async def test_bad_attachments_are_refused_clearly(
    empty_bot: NewsBot, filename: str, data: bytes, reason: str
) -> None:
    bot = empty_bot
    fake = interaction(bot, moderator_by_role())
    await invoke(command(bot, "story add"), _cog(bot), fake, file=_attachment(filename, data))
    reply = sent(fake)[-1]
    assert reply["ephemeral"] is True and reason in reply["content"]
    assert bot.services.registry.count_articles() == 0


async def test_add_needs_exactly_one_source(empty_bot: NewsBot) -> None:
    bot = empty_bot
    fake = interaction(bot, moderator_by_role())
    await invoke(command(bot, "story add"), _cog(bot), fake)
    assert "either a url or a file" in sent(fake)[-1]["content"]


async def test_paste_opens_the_modal_and_submitting_indexes(empty_bot: NewsBot) -> None:
    bot = empty_bot
    fake = interaction(bot, moderator_by_role())
    await invoke(command(bot, "story paste"), _cog(bot), fake)
    modal = fake.response.send_modal.await_args.args[0]
    assert isinstance(modal, StoryModal)
    values = {
        "story_title": "Pasted story about chips",
        "link": "https://chips.example.org/a",
        "publisher": "Chip Weekly",
        "published": "2026-05-01",
        "text": STORY_TEXT,
    }
    for name, value in values.items():
        getattr(modal, name)._value = value
    submit = interaction(bot, moderator_by_role())
    await modal.on_submit(submit)
    embed = last_embed(submit)
    assert embed.title == "Pasted story about chips"
    assert embed.url == "https://chips.example.org/a"


# -- removing, listing, inspecting ---------------------------------------------------------------


async def test_autocomplete_serves_titles_from_memory(bot: NewsBot) -> None:
    cog = _cog(bot)
    choices = await cog.story_choices(interaction(bot, moderator_by_role()), "hollywood pro")
    assert [c.name for c in choices] == [
        "Hollywood Professionals Transition to AI Training Roles (May 11, 2026)"
    ]
    assert len(await cog.story_choices(interaction(bot, moderator_by_role()), "")) == 2
    assert await cog.story_choices(interaction(bot), "") == []  # members see no titles
    cog.titles[GUILD_ID] = cog.titles[GUILD_ID] * 20
    assert len(await cog.story_choices(interaction(bot, moderator_by_role()), "")) == 25


async def test_remove_asks_to_confirm_then_removes(bot: NewsBot) -> None:
    cog = _cog(bot)
    [choice] = await cog.story_choices(interaction(bot, moderator_by_role()), "writers ai trainers")
    fake = interaction(bot, moderator_by_role())
    await invoke(command(bot, "story remove"), cog, fake, story=choice.value)
    kwargs = fake.followup.send.await_args.kwargs
    assert "Remove this story" in kwargs["embed"].description
    assert bot.services.registry.count_articles() == 2

    press = interaction(bot, moderator_by_role())
    await kwargs["view"].confirm.callback(press)
    assert bot.services.registry.count_articles() == 1
    assert (
        "no longer indexed" in press.edit_original_response.await_args.kwargs["embed"].description
    )
    assert (
        await cog.story_choices(interaction(bot, moderator_by_role()), "writers ai trainers") == []
    )


async def test_remove_by_exact_title_and_unknown_story(bot: NewsBot) -> None:
    cog = _cog(bot)
    fake = interaction(bot, moderator_by_role())
    await invoke(command(bot, "story remove"), cog, fake, story="hollywood writers ai trainers")
    assert isinstance(fake.followup.send.await_args.kwargs["view"], ConfirmView)
    fake = interaction(bot, moderator_by_role())
    await invoke(command(bot, "story remove"), cog, fake, story="no such story")
    assert "No indexed story matches" in sent(fake)[-1]["content"]


async def test_list_is_paged_newest_first(empty_bot: NewsBot) -> None:
    bot = empty_bot
    for i in range(12):
        text = f"Story number {i} reports on model release {i}. " + STORY_TEXT
        doc = RawDocument(
            text=text, origin=f"s{i}", title=f"Release {i:02d}", url=f"https://e.org/{i}"
        )
        bot.services.stories.add(doc, GUILD_ID, "seed")
    fake = interaction(bot, moderator_by_role())
    await invoke(command(bot, "story list"), _cog(bot), fake)
    kwargs = fake.followup.send.await_args.kwargs
    assert kwargs["embed"].title == "Indexed stories (12)"
    assert kwargs["embed"].footer.text.startswith("Page 1/2")
    view: PagedView = kwargs["view"]
    assert view.previous.disabled and not view.next.disabled
    press = interaction(bot, moderator_by_role())
    await view.next.callback(press)
    page2 = press.response.edit_message.await_args.kwargs["embed"]
    assert page2.footer.text.startswith("Page 2/2")
    assert page2.description.count("**1") == 2  # items 11 and 12


async def test_info_shows_metadata_provenance_and_key_questions(bot: NewsBot) -> None:
    cog = _cog(bot)
    fake = interaction(bot, moderator_by_role())
    [choice] = await cog.story_choices(interaction(bot, moderator_by_role()), "professionals")
    await invoke(command(bot, "story info"), cog, fake, story=choice.value)
    fields = {f.name: f.value for f in last_embed(fake).fields}
    assert fields["Publisher"] == "AI Signal"
    assert fields["Review"] == "Human reviewed"
    assert fields["Confidence"] == "85/100"
    assert int(fields["Chunks"]) >= 1

    fake = interaction(bot, moderator_by_role())
    [choice] = await cog.story_choices(interaction(bot, moderator_by_role()), "writers ai trainers")
    await invoke(command(bot, "story info"), cog, fake, story=choice.value)
    names = [f.name for f in last_embed(fake).fields]
    assert "Q: Are Hollywood writers being replaced by AI?" in names
