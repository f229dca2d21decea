"""Permissions: every moderator command and button refuses a member who is not a moderator.

`default_permissions(manage_guild=True)` only hides /story and /digest in Discord's client, and
a server admin can open them to everyone in Server Settings → Integrations. These tests send
the interactions Discord would then deliver, as real `discord.Interaction` objects built from
gateway payloads, through the bot's real command tree: the member has no Manage Server and no
moderator role, and every command must refuse before doing anything.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock

import discord
import pytest

from bot.client import NewsBot
from bot.views import ConfirmView, PagedView
from tests.bot.conftest import seeded as seeded  # seeds in the server's own library
from tests.bot.support import (
    GUILD_ID,
    MOD_ROLE,
    OTHER_ROLE,
    FakeResponse,
    checked,
    interaction,
    member,
    moderator_by_role,
    sent,
)
from tests.reliability.test_bad_input import snapshot

CHANNEL_ID = 555_000_555_000_555_000
MANAGE_GUILD = discord.Permissions(manage_guild=True).value
EVERYTHING_BUT_MANAGE_GUILD = discord.Permissions.all().value & ~MANAGE_GUILD & ~(1 << 3)
MODERATOR_COMMANDS: dict[str, list[dict[str, Any]]] = {
    "story add": [{"name": "url", "type": 3, "value": "https://news.example.com/a"}],
    "story paste": [],
    "story remove": [{"name": "story", "type": 3, "value": "fa2d35f59c745"}],
    "story list": [],
    "story info": [{"name": "story", "type": 3, "value": "fa2d35f59c745"}],
    "story review": [
        {"name": "story", "type": 3, "value": "fa2d35f59c745"},
        {"name": "status", "type": 3, "value": "retracted"},
    ],
    "digest preview": [],
    "digest post": [],
}


class DeliveredInteraction(discord.Interaction):  # type: ignore[type-arg]
    """A real Interaction parsed from a gateway payload, whose replies are recorded, not sent."""

    @property
    def response(self) -> FakeResponse:  # type: ignore[override]
        if not hasattr(self, "_recorded_response"):
            self._recorded_response = FakeResponse()
        return self._recorded_response

    @property
    def followup(self) -> SimpleNamespace:  # type: ignore[override]
        if not hasattr(self, "_recorded_followup"):
            self._recorded_followup = SimpleNamespace(send=checked(discord.Webhook.send))
        return self._recorded_followup


@pytest.fixture
def bot(bot: NewsBot) -> NewsBot:
    """Return the loaded bot with the user that logging in would give it."""
    me = {"id": "900000000000000002", "username": "newsbot", "discriminator": "0",
          "avatar": None, "global_name": None, "bot": True}  # fmt: skip
    bot._connection.user = discord.ClientUser(state=bot._connection, data=me)  # type: ignore[arg-type]
    return bot


def deliver(
    bot: NewsBot, path: str, options: list[dict[str, Any]], *, permissions: int, roles: list[int]
) -> DeliveredInteraction:
    """Return the interaction Discord delivers when a member runs a slash command."""
    name, *sub = path.split()
    data: dict[str, Any] = {"id": "1", "name": name, "type": 1, "options": options}
    if sub:
        data["options"] = [{"name": sub[0], "type": 1, "options": options}]
    payload = {
        "id": "900000000000000001", "application_id": "900000000000000002", "type": 2,
        "token": "interaction-token", "version": 1, "guild_id": str(GUILD_ID),
        "channel_id": str(CHANNEL_ID), "locale": "en-US", "guild_locale": "en-US",
        "app_permissions": str(discord.Permissions.all().value), "entitlements": [],
        "attachment_size_limit": 10_485_760, "authorizing_integration_owners": {"0": str(GUILD_ID)},
        "context": 0,
        "data": data,
        "member": {
            "user": {"id": "777000777000777000", "username": "eve", "discriminator": "0",
                     "avatar": None, "global_name": "Eve"},
            "roles": [str(r) for r in roles], "permissions": str(permissions),
            "joined_at": "2026-01-01T00:00:00+00:00", "deaf": False, "mute": False, "flags": 0,
        },
    }  # fmt: skip
    return DeliveredInteraction(data=payload, state=bot._connection)  # type: ignore[arg-type]


@pytest.mark.parametrize("path", list(MODERATOR_COMMANDS))
@pytest.mark.parametrize(
    ("permissions", "roles"),
    [(0, []), (EVERYTHING_BUT_MANAGE_GUILD, [OTHER_ROLE])],
    ids=["no-permissions", "every-permission-but-manage-server"],
)
async def test_moderator_commands_refuse_members_through_the_real_tree(
    bot: NewsBot, monkeypatch: pytest.MonkeyPatch, path: str, permissions: int, roles: list[int]
) -> None:
    core_calls: list[Any] = []
    monkeypatch.setattr(bot, "run_core", AsyncMock(side_effect=core_calls.append))
    before = snapshot(bot.services)
    fake = deliver(bot, path, MODERATOR_COMMANDS[path], permissions=permissions, roles=roles)
    assert isinstance(fake.user, discord.Member)
    await bot.tree._call(fake)  # what on_interaction does with every command Discord delivers

    [reply] = sent(fake)  # type: ignore[arg-type]
    assert reply["ephemeral"] is True and reply["content"].startswith("Only moderators")
    fake.response.defer.assert_not_awaited()
    fake.response.send_modal.assert_not_awaited()
    assert core_calls == [] and snapshot(bot.services) == before


async def test_manage_server_from_discord_is_enough_even_before_roles_are_cached(
    bot: NewsBot,
) -> None:
    # The server is not in the bot's cache (no gateway here): Discord's resolved permissions
    # in the interaction decide, as they do for a freshly started bot.
    fake = deliver(bot, "story list", [], permissions=MANAGE_GUILD, roles=[])
    await bot.tree._call(fake)
    [reply] = sent(fake)  # type: ignore[arg-type]
    assert reply["embed"].title == "Indexed stories (2)"
    admin = deliver(bot, "story list", [], permissions=1 << 3, roles=[])  # Administrator
    await bot.tree._call(admin)
    assert "embed" in sent(admin)[-1]  # type: ignore[arg-type]


async def test_ask_stays_open_to_every_member(bot: NewsBot) -> None:
    fake = deliver(
        bot, "ask", [{"name": "question", "type": 3, "value": "Are Hollywood writers replaced?"}],
        permissions=0, roles=[],
    )  # fmt: skip
    await bot.tree._call(fake)
    fake.response.defer.assert_awaited_once()
    assert "embed" in sent(fake)[-1]  # type: ignore[arg-type]


def _moderator_who_lost_the_role() -> Any:
    """Return the member who opened a view, after the moderator role was taken away."""
    return member(moderator_by_role().id, roles=(OTHER_ROLE,), name="mod")


@pytest.mark.parametrize("button", ["confirm", "cancel"])
async def test_confirm_buttons_refuse_strangers_and_former_moderators(
    bot: NewsBot, button: str
) -> None:
    action = AsyncMock()
    view = ConfirmView(moderator_by_role().id, [MOD_ROLE], "Remove", action)
    for presser in (member(8008, roles=(OTHER_ROLE,)), member(8009, manage_guild=False)):
        fake = interaction(bot, presser)
        assert await view.interaction_check(fake) is False
        assert sent(fake)[-1]["ephemeral"] is True
    former = interaction(bot, _moderator_who_lost_the_role())
    assert await view.interaction_check(former) is False
    assert sent(former)[-1]["content"].startswith("Only moderators")
    action.assert_not_awaited()
    assert not view.is_finished()
    owner = interaction(bot, moderator_by_role())
    assert await view.interaction_check(owner) is True
    await getattr(view, button).callback(owner)


async def test_list_page_buttons_refuse_strangers_and_former_moderators(bot: NewsBot) -> None:
    view = PagedView(moderator_by_role().id, [MOD_ROLE], 3, lambda page: discord.Embed())
    for presser in (member(8010), _moderator_who_lost_the_role()):
        fake = interaction(bot, presser)
        assert await view.interaction_check(fake) is False
        fake.response.edit_message.assert_not_awaited()
    assert view.page == 0


async def test_paste_form_submitted_after_losing_the_role_is_refused(bot: NewsBot) -> None:
    cog = bot.get_cog("Stories")
    opener = interaction(bot, moderator_by_role())
    await cog.paste.callback(cog, opener)
    modal = opener.response.send_modal.await_args.args[0]
    values = {"story_title": "Pasted", "link": "", "publisher": "", "published": "",
              "text": "A pasted story about chips and factories in Arizona. " * 3}  # fmt: skip
    for name, value in values.items():
        getattr(modal, name)._value = value
    before = snapshot(bot.services)
    submit = interaction(bot, _moderator_who_lost_the_role())
    try:
        await modal.on_submit(submit)
    except discord.app_commands.CheckFailure as error:  # what the modal's on_error receives
        await modal.on_error(submit, error)
    assert sent(submit)[-1]["content"].startswith("Only moderators")
    assert snapshot(bot.services) == before


async def test_autocomplete_shows_members_no_titles(bot: NewsBot) -> None:
    cog = bot.get_cog("Stories")
    assert await cog.story_choices(interaction(bot, member(8011)), "") == []
    assert await cog.story_choices(interaction(bot, _moderator_who_lost_the_role()), "") == []
    assert len(await cog.story_choices(interaction(bot, moderator_by_role()), "")) == 2
