"""Buttons and modals; every component checks who presses it and reports its errors."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from bot import limits
from bot.checks import GuildNotServed, NotModerator, guild_served, member_is_moderator
from bot.errors import report_error, send_ephemeral
from index import feedback
from index.models import RawDocument

if TYPE_CHECKING:
    from bot.client import NewsBot

log = logging.getLogger(__name__)

VIEW_TIMEOUT = 600.0  # seconds; below the 15 minutes an interaction token can edit its message

Inter = discord.Interaction[Any]
Button = discord.ui.Button[Any]
Handler = Callable[[Inter], Awaitable[None]]


class OwnedView(discord.ui.View):
    """A view only the moderator who opened it may use; it disables itself when it times out."""

    def __init__(self, owner_id: int, moderator_role_ids: list[int]) -> None:
        super().__init__(timeout=VIEW_TIMEOUT)
        self.owner_id = owner_id
        self.moderator_role_ids = moderator_role_ids
        self.message: discord.InteractionMessage | discord.WebhookMessage | None = None

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Let only the owner, still a moderator, press the buttons."""
        if interaction.user.id != self.owner_id:
            await send_ephemeral(
                interaction, "These buttons belong to the moderator who ran the command."
            )
            return False
        if not member_is_moderator(interaction.user, self.moderator_role_ids):
            await report_error(interaction, NotModerator())
            return False
        return True

    async def on_error(
        self, interaction: discord.Interaction[Any], error: Exception, item: discord.ui.Item[Any]
    ) -> None:
        """Report a failed button like a failed command."""
        await report_error(interaction, error)

    async def on_timeout(self) -> None:
        """Remove the buttons once they can no longer be used."""
        if self.message is not None:
            try:
                await self.message.edit(view=None)
            except discord.HTTPException:
                log.debug("could not remove expired buttons")


class ConfirmView(OwnedView):
    """Confirm or cancel one action (replace a story, remove a story)."""

    def __init__(
        self, owner_id: int, moderator_role_ids: list[int], label: str, on_confirm: Handler
    ) -> None:
        super().__init__(owner_id, moderator_role_ids)
        self._on_confirm = on_confirm
        self.confirm.label = label[: limits.BUTTON_LABEL]

    @discord.ui.button(label="Confirm", style=discord.ButtonStyle.danger)
    async def confirm(self, interaction: Inter, button: Button) -> None:
        """Run the action; the buttons go away at once so it cannot run twice."""
        self.stop()
        await interaction.response.edit_message(view=None)
        await self._on_confirm(interaction)

    @discord.ui.button(label="Cancel", style=discord.ButtonStyle.secondary)
    async def cancel(self, interaction: Inter, button: Button) -> None:
        """Leave everything as it was."""
        self.stop()
        await interaction.response.edit_message(content="Cancelled; nothing changed.", view=None)


class PagedView(OwnedView):
    """Previous/next buttons over pages rendered on demand."""

    def __init__(
        self,
        owner_id: int,
        moderator_role_ids: list[int],
        pages: int,
        render: Callable[[int], discord.Embed],
    ) -> None:
        super().__init__(owner_id, moderator_role_ids)
        self.page = 0
        self.pages = pages
        self.render = render
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        """Disable the buttons that would leave the list."""
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    async def _show(self, interaction: discord.Interaction[Any], page: int) -> None:
        """Show a page in place."""
        self.page = min(max(page, 0), self.pages - 1)
        self._sync_buttons()
        await interaction.response.edit_message(embed=self.render(self.page), view=self)

    @discord.ui.button(label="◀ Newer", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: Inter, button: Button) -> None:
        """Show the previous (newer) page."""
        await self._show(interaction, self.page - 1)

    @discord.ui.button(label="Older ▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: Inter, button: Button) -> None:
        """Show the next (older) page."""
        await self._show(interaction, self.page + 1)


async def send_pages(interaction: discord.Interaction[Any], view: PagedView) -> None:
    """Send a list's first page privately, with the page buttons only when there are more."""
    first = view.render(0)
    none = discord.AllowedMentions.none()
    if view.pages > 1:
        view.message = await interaction.followup.send(
            embed=first, ephemeral=True, allowed_mentions=none, view=view, wait=True
        )
    else:
        await interaction.followup.send(embed=first, ephemeral=True, allowed_mentions=none)


class MemberPagedView(PagedView):
    """Pages of a member's own list (e.g. /follows): only that member may turn them."""

    def __init__(self, owner_id: int, pages: int, render: Callable[[int], discord.Embed]) -> None:
        super().__init__(owner_id, [], pages, render)
        self.previous.label = "◀ Previous"  # a member's list is not ordered newest first
        self.next.label = "Next ▶"

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        """Let only the member who ran the command press the buttons; no role is needed."""
        if interaction.user.id == self.owner_id:
            return True
        await send_ephemeral(interaction, "These buttons belong to the member who ran the command.")
        return False


DocumentHandler = Callable[[discord.Interaction[Any], RawDocument], Awaitable[None]]
DocumentFactory = Callable[["StoryModal", discord.Interaction[Any]], RawDocument]


class StoryModal(discord.ui.Modal, title="Paste a story"):
    """The form for stories that cannot be fetched: title, link, publisher, date and text."""

    story_title: discord.ui.TextInput[Any] = discord.ui.TextInput(label="Title", max_length=300)
    link: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Link", required=False, max_length=512, placeholder="https://…"
    )
    publisher: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Publisher", required=False, max_length=100
    )
    published: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Date", required=False, max_length=40, placeholder="2026-05-11"
    )
    text: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Story text",
        style=discord.TextStyle.paragraph,
        min_length=80,
        max_length=limits.TEXT_INPUT_VALUE,
    )

    def __init__(self, make_document: DocumentFactory, on_document: DocumentHandler) -> None:
        super().__init__(timeout=VIEW_TIMEOUT)
        self._make_document = make_document
        self._on_document = on_document

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Build the story from the form and hand it to the add flow."""
        doc = self._make_document(self, interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        await self._on_document(interaction, doc)

    async def on_error(  # type: ignore[override]  # Modal drops View's `item` argument
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        """Report a failed submission like a failed command."""
        await report_error(interaction, error)


# -- feedback on answers --------------------------------------------------------------------------

# The answer's question-log id and the verdict travel in the custom_id, so the buttons keep
# working after a restart (the cog registers FeedbackButton with bot.add_dynamic_items).
FEEDBACK_TEMPLATE = r"newsbot:fb:(?P<question_id>[0-9]{1,18}):(?P<verdict>up|down)"
THANKS_UP = "Thanks, glad it helped!"
THANKS_DOWN = "Thanks, noted: moderators review answers marked unhelpful."
REPLACED = " (This replaces your earlier vote on this answer.)"


# The "what was wrong?" form carries the question id the same way: its submission is handled by
# the Feedback cog's listener, so a form opened before a restart is still recorded after it.
REASON_TEMPLATE = r"newsbot:fbr:(?P<question_id>[0-9]{1,18})"


def reason_custom_id(question_id: int) -> str:
    """Return the custom_id of the "what was wrong?" form: 'newsbot:fbr:<question id>'."""
    return f"newsbot:fbr:{question_id}"


def submitted_text(data: Any) -> str:
    """Return the first text input's value in a form submission's raw data ('' when none)."""
    if isinstance(data, dict):
        if data.get("type") == discord.ComponentType.text_input.value:
            return str(data.get("value") or "")
        children = [*data.get("components", []), data.get("component")]
        return next((text for child in children if (text := submitted_text(child))), "")
    if isinstance(data, list):
        return next((text for child in data if (text := submitted_text(child))), "")
    return ""


def feedback_custom_id(question_id: int, helpful: bool) -> str:
    """Return the custom_id of a vote button: 'newsbot:fb:<question id>:<up|down>'."""
    return f"newsbot:fb:{question_id}:{'up' if helpful else 'down'}"


def thanks(vote: feedback.Vote) -> str:
    """Return the private thank-you for a recorded vote."""
    return (THANKS_UP if vote.helpful else THANKS_DOWN) + (REPLACED if vote.replaced else "")


async def submit_vote(
    interaction: discord.Interaction[Any], question_id: int, *, helpful: bool, reason: str | None
) -> None:
    """Record a member's vote (off the event loop) and thank them privately."""
    bot: NewsBot = interaction.client
    votes = getattr(bot.get_cog("Feedback"), "votes", None)  # the Feedback cog's cooldowns
    if votes is not None and (bucket := votes.hit(interaction.user.id)) is not None:
        raise app_commands.CommandOnCooldown(bucket, votes.retry_after(interaction.user.id))
    await interaction.response.defer(ephemeral=True, thinking=True)
    # Only an answer given in this server takes the vote (its question log is its own).
    vote = await bot.run_core(
        bot.services.feedback.vote, question_id, interaction.user.id, interaction.guild_id,
        helpful=helpful, reason=reason,
    )  # fmt: skip
    await interaction.followup.send(
        thanks(vote), ephemeral=True, allowed_mentions=discord.AllowedMentions.none()
    )


async def served(interaction: Inter) -> bool:
    """Return True in a server newsbot serves; elsewhere say so privately (for components,
    which skip the command tree's check)."""
    bot: NewsBot = interaction.client
    if guild_served(interaction.guild_id, bot.settings.guild_ids):
        return True
    await report_error(interaction, GuildNotServed())
    return False


class FeedbackButton(discord.ui.DynamicItem[Button], template=FEEDBACK_TEMPLATE):
    """👍 records at once; 👎 asks what was wrong first. Anyone in the server may vote."""

    def __init__(self, question_id: int, helpful: bool) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.secondary,
                emoji="👍" if helpful else "👎",
                custom_id=feedback_custom_id(question_id, helpful),
            )
        )
        self.question_id = question_id
        self.helpful = helpful

    @classmethod
    async def from_custom_id(
        cls, interaction: Inter, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> FeedbackButton:
        """Rebuild the button a member pressed from its custom_id."""
        return cls(int(match["question_id"]), match["verdict"] == "up")

    async def interaction_check(self, interaction: Inter, /) -> bool:
        """Refuse servers newsbot does not serve (components skip the command tree's check)."""
        return await served(interaction)

    async def callback(self, interaction: Inter) -> None:
        """Record a 👍, or open the "what was wrong?" form for a 👎."""
        try:
            if self.helpful:
                await submit_vote(interaction, self.question_id, helpful=True, reason=None)
            else:
                form = ReasonModal(self.question_id)
                await interaction.response.send_modal(form)
                # Not kept in memory: the cog's listener records the submission by its id,
                # whether it arrives now or after a restart.
                form.stop()
        except Exception as exc:  # discord.py only logs what a dynamic item raises
            await report_error(interaction, exc)


def feedback_view(question_id: int | None) -> discord.ui.View | None:
    """Return the 👍 / 👎 buttons for a logged answer (None when it was not logged)."""
    if question_id is None:
        return None
    view = discord.ui.View(timeout=None)  # nothing expires: every press is handled by its id
    view.add_item(FeedbackButton(question_id, helpful=True))
    view.add_item(FeedbackButton(question_id, helpful=False))
    return view


REASON_TIMEOUT = 3600.0  # only for a form held in memory; the listener has no time limit


class ReasonModal(discord.ui.Modal, title="What was wrong?"):
    """The optional reason behind a 👎; the Feedback cog records the submission (on_submit does
    the same for a form still held in memory)."""

    reason: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="What was wrong? (optional)",
        style=discord.TextStyle.paragraph,
        required=False,
        max_length=feedback.MAX_REASON_CHARS,
        placeholder="e.g. it quoted the wrong story, or a story we have does answer it",
    )

    def __init__(self, question_id: int) -> None:
        super().__init__(timeout=REASON_TIMEOUT, custom_id=reason_custom_id(question_id))
        self.question_id = question_id

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        """Record the 👎 with its reason."""
        await submit_vote(
            interaction, self.question_id, helpful=False, reason=self.reason.value or None
        )

    async def on_error(  # type: ignore[override]  # Modal drops View's `item` argument
        self, interaction: discord.Interaction[Any], error: Exception, /
    ) -> None:
        """Report a failed submission like a failed command."""
        await report_error(interaction, error)
