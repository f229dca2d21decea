"""Share a private answer: its "Post in channel" button posts a copy naming who shared it."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.errors import report_error, send_ephemeral
from bot.views import feedback_view, served

if TYPE_CHECKING:
    from bot.client import NewsBot

Inter = discord.Interaction[Any]
Button = discord.ui.Button[Any]

# The answer's question-log id travels in the custom_id, so the button works after a restart
# (the Ask cog registers ShareButton with bot.add_dynamic_items).
SHARE_TEMPLATE = r"newsbot:share:(?P<question_id>[0-9]{1,18})"
SHARE_LABEL = "Post in channel"
GONE = "That answer can no longer be posted: please ask again."
NOT_HERE = "Answers are posted only in this server's newsbot channels: share it from one of those."


def share_custom_id(question_id: int) -> str:
    """Return the custom_id of a share button: 'newsbot:share:<question id>'."""
    return f"newsbot:share:{question_id}"


def shared_by(user: discord.abc.User) -> str:
    """Return the line naming who shared an answer (a mention, sent with no pings allowed)."""
    return f"Shared by {user.mention}"


def private_answer_view(question_id: int | None) -> discord.ui.View | None:
    """Return the 👍 / 👎 buttons and "Post in channel" for a private answer (None: not logged)."""
    view = feedback_view(question_id)
    if view is not None and question_id is not None:
        view.add_item(ShareButton(question_id))
    return view


def speaks_in(bot: NewsBot, interaction: Inter) -> bool:
    """Return True when the bot posts answers in public in the interaction's channel."""
    channels = bot.services.servers.for_guild(interaction.guild_id).mention_channel_ids
    channel = interaction.channel
    here = channel.parent_id if isinstance(channel, discord.Thread) else interaction.channel_id
    return not channels or here in channels


class ShareButton(discord.ui.DynamicItem[Button], template=SHARE_TEMPLATE):
    """Posts the private answer it sits under in the channel, with its vote buttons."""

    def __init__(self, question_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                style=discord.ButtonStyle.primary,
                label=SHARE_LABEL,
                custom_id=share_custom_id(question_id),
            )
        )
        self.question_id = question_id

    @classmethod
    async def from_custom_id(
        cls, interaction: Inter, item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ShareButton:
        """Rebuild the button a member pressed from its custom_id."""
        return cls(int(match["question_id"]))

    async def interaction_check(self, interaction: Inter, /) -> bool:
        """Refuse servers newsbot does not serve (components skip the command tree's check)."""
        return await served(interaction)

    async def callback(self, interaction: Inter) -> None:
        """Post a copy of the answer in the channel and take the button off the private one."""
        try:
            embeds = interaction.message.embeds if interaction.message else []
            if not embeds:
                await send_ephemeral(interaction, GONE)
            elif not speaks_in(interaction.client, interaction):
                await send_ephemeral(interaction, NOT_HERE)
            else:
                await self._post(interaction, embeds[0])
        except Exception as exc:  # discord.py only logs what a dynamic item raises
            await report_error(interaction, exc)

    async def _post(self, interaction: Inter, embed: discord.Embed) -> None:
        """Answer within 3 s by editing the private message, then post the public copy."""
        # Only once: a second press cannot post it again.
        await interaction.response.edit_message(view=feedback_view(self.question_id))
        await interaction.followup.send(
            shared_by(interaction.user),
            embed=embed,
            view=feedback_view(self.question_id) or discord.utils.MISSING,
            ephemeral=False,
            allowed_mentions=discord.AllowedMentions.none(),
        )
