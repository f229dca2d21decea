"""/ask and @mention questions: quoted, numbered, cited answers from the indexed stories."""

from __future__ import annotations

import logging
import re
from functools import partial
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import limits
from bot.checks import UserCooldowns, ask_cooldown, guild_served
from bot.client import NewsBot
from bot.embeds import answer_embed
from bot.errors import APOLOGY, user_message
from bot.share import ShareButton, private_answer_view
from bot.text import member_text
from bot.threads import Placement, place, thread_name
from bot.views import feedback_view
from index.answer import clean_question
from index.errors import InvalidQuestionError, NewsbotError
from index.models import Answer

log = logging.getLogger(__name__)

NONE = discord.AllowedMentions.none()
MENU_NAME = "Ask newsbot"
NO_TEXT = "That message has no text to ask about."
MENTION_HINT = "Ask me a question after the mention, e.g. `@newsbot Are writers training AI?`"


def strip_mention(content: str, bot_id: int) -> str | None:
    """Return the question in a message that mentions the bot, or None if it does not."""
    pattern = re.compile(rf"<@!?{bot_id}>")
    if not pattern.search(content):
        return None
    return " ".join(pattern.sub(" ", content).split())


def channel_of(channel: object) -> int | None:
    """Return the channel a message or command is in; for a thread, the channel it belongs to."""
    if isinstance(channel, discord.Thread):
        return channel.parent_id
    return getattr(channel, "id", None)


def answer_payload(answer: Answer, *, private: bool = False) -> dict[str, Any]:
    """Return the keyword arguments that send an answer (or a refusal) with its vote buttons,
    and for a private one the button that posts it in the channel."""
    payload: dict[str, Any] = {"embed": answer_embed(answer), "allowed_mentions": NONE}
    qid = answer.question_id
    view = private_answer_view(qid) if private else feedback_view(qid)
    if view is not None:
        payload["view"] = view
    return payload


class Ask(commands.Cog):
    """Answers members' questions from the indexed stories."""

    def __init__(self, bot: NewsBot) -> None:
        self.bot = bot
        # Context menus cannot be declared in a cog's body: built here, added on load.
        self.ask_menu = app_commands.ContextMenu(name=MENU_NAME, callback=self.ask_message)

    async def cog_load(self) -> None:
        """Add the message menu, and listen for share buttons from before a restart too."""
        self.bot.tree.add_command(self.ask_menu)
        self.bot.add_dynamic_items(ShareButton)

    async def cog_unload(self) -> None:
        """Remove the message menu and stop listening for share buttons."""
        self.bot.tree.remove_command(self.ask_menu.name, type=self.ask_menu.type)
        self.bot.remove_dynamic_items(ShareButton)

    @app_commands.command(name="ask")
    @app_commands.guild_only()
    @app_commands.describe(
        question="What you want to know about the indexed news stories",
        private="Show the answer only to you",
        thread="Answer in a new thread, where follow-up questions keep the context",
    )
    @ask_cooldown()
    async def ask(
        self,
        interaction: discord.Interaction[NewsBot],
        question: str,
        private: bool = False,
        thread: bool | None = None,
    ) -> None:
        """Ask about the indexed news stories; the answer quotes them with numbered sources."""
        # Before deferring: the reason for a bad question then reaches only the asker, whereas
        # a public defer makes the follow-up public too.
        clean_question(question, self.bot.settings.max_question_chars)
        where = self._placement(interaction, private, thread)
        await interaction.response.defer(ephemeral=where.private, thinking=True)
        if where.new_thread:
            await self._answer_in_new_thread(interaction, question)
            return
        # Logged under its server (only its own moderators and digest see it); private ones
        # stay out of digests. Asked in a thread, the thread's earlier questions are its context.
        ask = partial(
            self.bot.services.ask, private=where.private, guild_id=interaction.guild_id,
            thread_id=where.thread_id,
        )  # fmt: skip
        answer = await self.bot.run_core(ask, question)
        await interaction.followup.send(**answer_payload(answer, private=where.private))

    @app_commands.guild_only()
    @ask_cooldown()
    async def ask_message(
        self, interaction: discord.Interaction[NewsBot], message: discord.Message
    ) -> None:
        """Answer a message's text as a question, privately, with a button to post it."""
        me = self.bot.user
        text = strip_mention(message.content, me.id) if me else None
        question = message.content if text is None else text
        if not question.strip():
            raise InvalidQuestionError(NO_TEXT)
        clean_question(question, self.bot.settings.max_question_chars)
        await interaction.response.defer(ephemeral=True, thinking=True)
        in_thread = isinstance(message.channel, discord.Thread)
        ask = partial(
            self.bot.services.ask, private=True, guild_id=interaction.guild_id,
            thread_id=message.channel.id if in_thread else None,
        )  # fmt: skip
        answer = await self.bot.run_core(ask, question)
        await interaction.followup.send(**answer_payload(answer, private=True))

    def _placement(
        self, interaction: discord.Interaction[NewsBot], private: bool, thread: bool | None
    ) -> Placement:
        """Decide whether an /ask is answered privately, in public or in a new thread."""
        channel = interaction.channel
        server = self.bot.services.servers.for_guild(interaction.guild_id)
        return place(
            channel_id=channel_of(channel) or interaction.channel_id,
            thread_id=channel.id if isinstance(channel, discord.Thread) else None,
            private=private,
            # Only a text channel's messages can start a thread (not a forum's or a voice chat's).
            thread=thread if isinstance(channel, discord.TextChannel) else False,
            speaks_in=server.mention_channel_ids,
            threads_in=server.thread_channel_ids,
        )

    async def _answer_in_new_thread(
        self, interaction: discord.Interaction[NewsBot], question: str
    ) -> None:
        """Start a public thread named after the question and answer inside it."""
        shown = member_text(question, limits.MESSAGE_CONTENT - 10)
        starter = await interaction.followup.send(f"🧵 {shown}", wait=True, allowed_mentions=NONE)
        channel = interaction.channel
        assert isinstance(channel, discord.TextChannel)  # _placement starts threads only there
        try:
            thread: discord.Thread | None = await channel.create_thread(
                name=thread_name(question), message=starter
            )
        except discord.HTTPException as exc:  # e.g. no Create Public Threads permission here
            log.warning("could not start a thread in %s (%s): answering in it", channel.id, exc)
            thread = None
        ask = partial(
            self.bot.services.ask, guild_id=interaction.guild_id,
            thread_id=thread.id if thread else None,
        )  # fmt: skip
        answer = await self.bot.run_core(ask, question)
        if thread is None:
            await interaction.followup.send(**answer_payload(answer))
        else:
            await thread.send(**answer_payload(answer))

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """Answer a member who mentions the bot with a question."""
        me = self.bot.user
        if message.author.bot or me is None or message.guild is None:
            return
        if not guild_served(message.guild.id, self.bot.settings.guild_ids):
            return
        question = strip_mention(message.content, me.id)
        if question is None:
            return
        channels = self.bot.services.servers.for_guild(message.guild.id).mention_channel_ids
        if channels and channel_of(message.channel) not in channels:
            return  # this server answers mentions only in the channels it chose
        await self._answer_mention(message, question)

    async def _answer_mention(self, message: discord.Message, question: str) -> None:
        """Reply to a mention: a hint when empty, a ⏳ reaction when too fast, else the answer."""
        if not question:
            await message.reply(MENTION_HINT, mention_author=False, allowed_mentions=NONE)
        elif self._cooldowns(message).hit(message.author.id) is not None:
            await message.add_reaction("⏳")
        else:
            await self._reply_with_answer(message, question)

    def _cooldowns(self, message: discord.Message) -> UserCooldowns:
        """Return the cooldowns of the message's server."""
        return self.bot.ask_cooldowns(message.guild.id if message.guild else None)

    async def _reply_with_answer(self, message: discord.Message, question: str) -> None:
        """Answer in a reply; errors get the same short messages as slash commands."""
        try:
            async with message.channel.typing():
                guild_id = message.guild.id if message.guild else None
                # In a thread, its earlier questions are the follow-up's context.
                thread_id = (
                    message.channel.id if isinstance(message.channel, discord.Thread) else None
                )
                ask = partial(self.bot.services.ask, guild_id=guild_id, thread_id=thread_id)
                answer = await self.bot.run_core(ask, question)
        except NewsbotError as exc:
            reason = user_message(exc) or APOLOGY
            await message.reply(reason, mention_author=False, allowed_mentions=NONE)
            return
        except Exception:  # the slash-command contract: log it, apologise, stay up
            log.exception("unexpected error answering a mention")
            await message.reply(APOLOGY, mention_author=False, allowed_mentions=NONE)
            return
        await message.reply(mention_author=False, **answer_payload(answer))


async def setup(bot: NewsBot) -> None:
    """Add the Ask cog."""
    await bot.add_cog(Ask(bot))
