"""The REST API under /api/v10: login, commands, interaction responses, webhooks, channel and DM
messages.

Every request is recorded with the emulator's answer. Payloads are checked the way Discord checks
them (validation.py) and refused with Discord's status codes and error bodies.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from tests.e2e.emulator import ui, validation
from tests.e2e.emulator.interactions import (
    UNKNOWN_INTERACTION,
    CommandBook,
    Ledger,
    Refusal,
    Tracked,
)
from tests.e2e.emulator.messages import MessageStore
from tests.e2e.emulator.nonces import NonceMemory
from tests.e2e.emulator.recorder import Call, Recorder
from tests.e2e.emulator.replies import Reply, read_body, response
from tests.e2e.emulator.threads import Threads
from tests.e2e.emulator.validation import EPHEMERAL, MessageKind
from tests.e2e.emulator.world import APP_ID, World, known_person

API = "/api/v10"
UNAUTHORIZED = Refusal(401, {"message": "401: Unauthorized", "code": 0})
MISSING_ACCESS = Refusal(403, {"message": "Missing Access", "code": 50001})
UNKNOWN_CHANNEL = Refusal(404, {"message": "Unknown Channel", "code": 10003})
UNKNOWN_MESSAGE = Refusal(404, {"message": "Unknown Message", "code": 10008})
EMPTY_MESSAGE = Refusal(400, {"message": "Cannot send an empty message", "code": 50006})
INVALID_JSON = Refusal(400, {"message": "The request body contains invalid JSON.", "code": 50109})
NOT_EMULATED = Refusal(404, {"message": "404: Not Found", "code": 0})
INVALID_RECIPIENT = Refusal(400, {"message": "Invalid Recipient(s)", "code": 50033})
CANNOT_MESSAGE_USER = Refusal(403, {"message": "Cannot send messages to this user", "code": 50007})


Handler = Callable[[web.Request, Any], Awaitable[Reply]]


class Rest:
    """The emulated REST endpoints, sharing state with the gateway."""

    def __init__(
        self,
        world: World,
        recorder: Recorder,
        ledger: Ledger,
        book: CommandBook,
        messages: MessageStore,
        threads: Threads,
    ) -> None:
        self.world = world
        self.recorder = recorder
        self.ledger = ledger
        self.book = book
        self.messages = messages
        self.threads = threads
        self.gateway_url = ""  # set by the server once its port is known
        self.message_delay = 0.0  # seconds each channel message takes (to kill a bot mid-post)
        # Seconds between creating a channel message and replying: a bot killed then has posted
        # it without knowing (the window a message nonce closes).
        self.reply_delay = 0.0
        self.nonces = NonceMemory()  # enforce_nonce's memory

    def routes(self) -> list[web.RouteDef]:
        """Return the route table (a catch-all records calls the emulator does not know)."""
        table: list[tuple[str, str, Handler]] = [
            ("GET", "/users/@me", self.get_me),
            ("GET", "/oauth2/applications/@me", self.get_application),
            ("POST", "/users/@me/channels", self.create_dm),
            ("GET", "/gateway", self.get_gateway),
            ("GET", "/gateway/bot", self.get_gateway),
            ("GET", "/applications/{app}/commands", self.get_commands),
            ("PUT", "/applications/{app}/commands", self.put_commands),
            ("GET", "/applications/{app}/guilds/{guild}/commands", self.get_commands),
            ("PUT", "/applications/{app}/guilds/{guild}/commands", self.put_commands),
            ("POST", "/interactions/{id}/{token}/callback", self.callback),
            ("POST", "/webhooks/{app}/{token}", self.followup),
            ("GET", "/webhooks/{app}/{token}/messages/{message}", self.get_webhook_message),
            ("PATCH", "/webhooks/{app}/{token}/messages/{message}", self.edit_webhook_message),
            ("DELETE", "/webhooks/{app}/{token}/messages/{message}", self.delete_webhook_message),
            ("GET", "/channels/{channel}", self.get_channel),
            ("POST", "/channels/{channel}/messages", self.create_message),
            ("GET", "/channels/{channel}/messages/{message}", self.get_message),
            ("PATCH", "/channels/{channel}/messages/{message}", self.edit_message),
            ("POST", "/channels/{channel}/typing", self.typing),
            ("POST", "/channels/{channel}/threads", self.start_thread),
            ("POST", "/channels/{channel}/messages/{message}/threads", self.start_thread),
            ("PUT", "/channels/{channel}/messages/{message}/reactions/{emoji}/@me", self.react),
            ("DELETE", "/channels/{channel}/messages/{message}/reactions/{emoji}/@me", self.react),
        ]
        defs = [web.route(m, API + path, self._recorded(h)) for m, path, h in table]
        defs.append(web.route("*", "/{tail:.*}", self._recorded(self.not_emulated)))
        return defs

    # -- plumbing -------------------------------------------------------------------------------

    def _recorded(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        """Wrap a handler: parse the body, record the call and answer with exact JSON headers."""

        async def serve(request: web.Request) -> web.Response:
            arrived = time.monotonic()
            body, bad = await read_body(request)
            reply = Reply.refuse(INVALID_JSON) if bad else await handler(request, body)
            path = request.path.removeprefix(API)
            query = dict(request.query)
            self.recorder.add_call(
                Call(
                    arrived, request.method, path, query, body, reply.status, reply.body, reply.note
                )
            )
            return response(reply)

        return serve

    def _authorized(self, request: web.Request) -> bool:
        """Return True when the request carries the bot token."""
        return request.headers.get("Authorization") == f"Bot {self.world.token}"

    async def not_emulated(self, request: web.Request, body: Any) -> Reply:
        """Answer 404 to anything the emulator does not implement (and record it)."""
        return Reply.refuse(NOT_EMULATED, f"not emulated: {request.method} {request.path}")

    # -- login and gateway ----------------------------------------------------------------------

    async def get_me(self, request: web.Request, body: Any) -> Reply:
        """Return the bot user (discord.py's login)."""
        if not self._authorized(request):
            return Reply.refuse(UNAUTHORIZED)
        return Reply(body=self.world.bot_user())

    async def get_application(self, request: web.Request, body: Any) -> Reply:
        """Return the application (discord.py reads the application id from it)."""
        if not self._authorized(request):
            return Reply.refuse(UNAUTHORIZED)
        return Reply(body=self.world.application())

    async def get_gateway(self, request: web.Request, body: Any) -> Reply:
        """Return the gateway URL (and, for /gateway/bot, one shard)."""
        if request.path.endswith("/bot") and not self._authorized(request):
            return Reply.refuse(UNAUTHORIZED)
        limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
        return Reply(body={"url": self.gateway_url, "shards": 1, "session_start_limit": limit})

    # -- application commands -------------------------------------------------------------------

    def _command_scope(self, request: web.Request) -> Refusal | int | None:
        """Return the scope a commands URL names (None = global), or why it is refused."""
        if not self._authorized(request):
            return UNAUTHORIZED
        if request.match_info["app"] != str(APP_ID):
            return MISSING_ACCESS
        guild = request.match_info.get("guild")
        if guild is None:
            return None
        known = {str(g): g for g in self.world.guild_ids()}
        return known.get(guild, MISSING_ACCESS)

    async def get_commands(self, request: web.Request, body: Any) -> Reply:
        """List the published commands of a scope."""
        scope = self._command_scope(request)
        if isinstance(scope, Refusal):
            return Reply.refuse(scope)
        return Reply(body=self.book.listed(scope))

    async def put_commands(self, request: web.Request, body: Any) -> Reply:
        """Replace a scope's commands (`newsbot sync`), refusing what Discord would refuse."""
        scope = self._command_scope(request)
        if isinstance(scope, Refusal):
            return Reply.refuse(scope)
        problems = validation.command_problems(body)
        if problems:
            return Reply.invalid(problems)
        return Reply(body=self.book.overwrite(scope, body))

    # -- interaction responses and follow-ups ---------------------------------------------------

    async def callback(self, request: web.Request, body: Any) -> Reply:
        """Take the first response to an interaction: within 3 s, once, well formed, a type the
        interaction can take (no modal for a modal submit, updates only for components)."""
        problems = validation.callback_problems(body)
        if problems:
            return Reply.invalid(problems)
        interaction_id = int(request.match_info["id"])
        tracked = self.ledger.get(interaction_id)
        if tracked is not None:
            problems = ui.response_type_problems(tracked.payload, body["type"])
            if problems:
                return Reply.invalid(problems)
        if self._would_be_empty(tracked, body):
            return Reply.refuse(EMPTY_MESSAGE)
        refusal = self.ledger.acknowledge(
            interaction_id, request.match_info["token"], body, time.monotonic()
        )
        tracked = self.ledger.get(interaction_id)
        if refusal is not None or tracked is None:
            return Reply.refuse(refusal or UNKNOWN_INTERACTION)
        message = self._response_message(tracked, body)
        if request.query.get("with_response") not in ("1", "true", "True"):
            return Reply(204)
        return Reply(body=_callback_body(tracked, body, message))

    def _would_be_empty(self, tracked: Tracked | None, body: dict[str, Any]) -> bool:
        """Return True when a response would show an empty message (Discord's 50006)."""
        data = body.get("data") or {}
        if body["type"] == 4:
            return validation.is_empty_message(data)
        if body["type"] == 7 and tracked is not None:  # the message as it would be after the update
            source = self.messages.get(int(tracked.payload["message"]["id"])) or {}
            return validation.is_empty_message(source | data)
        return False

    def _response_message(self, tracked: Tracked, body: dict[str, Any]) -> dict[str, Any] | None:
        """Create the message a response shows (the reply, or the 'thinking' placeholder), or
        update the message a component is on (6 later, 7 now): it becomes @original."""
        data = body.get("data") or {}
        if body["type"] in (6, 7):
            source_id = int(tracked.payload["message"]["id"])
            tracked.original_id = source_id
            return self.messages.edit(source_id, data) if body["type"] == 7 else None
        if body["type"] not in (4, 5):
            return None
        channel_id = int(tracked.payload["channel_id"])
        message = self.messages.create(
            channel_id, data, interaction_id=tracked.id, loading=body["type"] == 5
        )
        tracked.original_id = int(message["id"])
        return message

    async def followup(self, request: web.Request, body: Any) -> Reply:
        """Send a follow-up; the first after a deferral fills the 'thinking' message instead."""
        tracked = self._webhook(request)
        if isinstance(tracked, Reply):
            return tracked
        problems = validation.message_problems(body, "webhook")
        if problems:
            return Reply.invalid(problems)
        if validation.is_empty_message(body):
            return Reply.refuse(EMPTY_MESSAGE)
        original = self.messages.get(tracked.original_id or 0)
        if original is not None and original["flags"] & (1 << 7):
            # Discord keeps the deferral's ephemerality: the follow-up's own flag is ignored.
            message = self.messages.edit(int(original["id"]), body)
        else:
            channel_id = int(tracked.payload["channel_id"])
            message = self.messages.create(channel_id, body, interaction_id=tracked.id)
        if request.query.get("wait") not in ("1", "true", "True"):
            return Reply(204)
        return Reply(body=message)

    def _webhook(self, request: web.Request) -> Tracked | Reply:
        """Return the interaction a webhook URL belongs to, or Discord's refusal."""
        found = self.ledger.webhook(
            int(request.match_info["app"]), request.match_info["token"], time.monotonic()
        )
        return Reply.refuse(found) if isinstance(found, Refusal) else found

    def _webhook_message_id(self, request: web.Request, tracked: Tracked) -> int:
        """Return the message id a webhook URL names (@original: the first response's)."""
        named = request.match_info["message"]
        return (tracked.original_id or 0) if named == "@original" else int(named)

    async def get_webhook_message(self, request: web.Request, body: Any) -> Reply:
        """Return a message an interaction created."""
        tracked = self._webhook(request)
        if isinstance(tracked, Reply):
            return tracked
        message = self.messages.get(self._webhook_message_id(request, tracked))
        return Reply(body=message) if message else Reply.refuse(UNKNOWN_MESSAGE)

    async def edit_webhook_message(self, request: web.Request, body: Any) -> Reply:
        """Edit the original response or a follow-up."""
        tracked = self._webhook(request)
        if isinstance(tracked, Reply):
            return tracked
        return self._edit(self._webhook_message_id(request, tracked), body)

    async def delete_webhook_message(self, request: web.Request, body: Any) -> Reply:
        """Delete the original response or a follow-up."""
        tracked = self._webhook(request)
        if isinstance(tracked, Reply):
            return tracked
        deleted = self.messages.delete(self._webhook_message_id(request, tracked))
        return Reply(204) if deleted else Reply.refuse(UNKNOWN_MESSAGE)

    def _edit(self, message_id: int, body: Any, kind: MessageKind = "edit") -> Reply:
        """Validate and apply an edit to a stored message."""
        problems = validation.message_problems(body, kind)
        if problems:
            return Reply.invalid(problems)
        message = self.messages.edit(message_id, body)
        return Reply(body=message) if message else Reply.refuse(UNKNOWN_MESSAGE)

    # -- channels and DMs -----------------------------------------------------------------------

    async def create_dm(self, request: web.Request, body: Any) -> Reply:
        """Open (or return) the bot's DM channel with a member; closed DMs fail only on send."""
        if not self._authorized(request):
            return Reply.refuse(UNAUTHORIZED)
        problems = ui.create_dm_problems(body)
        if problems:
            return Reply.invalid(problems)
        person = known_person(int(body["recipient_id"]))
        if person is None:
            return Reply.refuse(INVALID_RECIPIENT)
        return Reply(body=self.world.open_dm(person))

    def _channel(self, request: web.Request) -> Reply | int:
        """Return the channel id (server or DM) a bot-authorized URL names, or the refusal."""
        if not self._authorized(request):
            return Reply.refuse(UNAUTHORIZED)
        channel_id = int(request.match_info["channel"])
        if self.world.channel(channel_id) is None:
            return Reply.refuse(UNKNOWN_CHANNEL)
        return channel_id

    async def get_channel(self, request: web.Request, body: Any) -> Reply:
        """Return a channel object."""
        channel_id = self._channel(request)
        if isinstance(channel_id, Reply):
            return channel_id
        return Reply(body=self.world.channel(channel_id))

    async def create_message(self, request: web.Request, body: Any) -> Reply:
        """Post a message to a channel (the digest, replies to mentions)."""
        channel_id = self._channel(request)
        if isinstance(channel_id, Reply):
            return channel_id
        problems = validation.message_problems(body, "channel")
        if problems:
            return Reply.invalid(problems)
        if validation.is_empty_message(body):
            return Reply.refuse(EMPTY_MESSAGE)
        recipient = self.world.dm_recipient(channel_id)
        if recipient is not None and self.world.dms_closed(recipient):
            return Reply.refuse(CANNOT_MESSAGE_USER)
        reference = body.get("message_reference")
        if reference and self.messages.get(int(reference.get("message_id", 0))) is None:
            unknown = ("message_reference",), "REPLIES_UNKNOWN_MESSAGE", "Unknown message"
            return Reply.invalid([validation.Problem(*unknown)])
        if self.message_delay:
            await asyncio.sleep(self.message_delay)
        author = str(APP_ID)  # every message here is the bot's
        nonce = str(body["nonce"]) if body.get("enforce_nonce") and "nonce" in body else None
        earlier = None if nonce is None else self.nonces.earlier(author, nonce)
        if earlier is not None:  # Discord returns the first message and posts nothing
            return Reply(body=earlier)
        created = self.messages.create(channel_id, body)
        if nonce is not None:
            self.nonces.remember(author, nonce, created)
        if self.reply_delay:
            await asyncio.sleep(self.reply_delay)
        return Reply(body=created)

    async def get_message(self, request: web.Request, body: Any) -> Reply:
        """Return a stored message."""
        channel_id = self._channel(request)
        if isinstance(channel_id, Reply):
            return channel_id
        message = self.messages.get(int(request.match_info["message"]))
        return Reply(body=message) if message else Reply.refuse(UNKNOWN_MESSAGE)

    async def edit_message(self, request: web.Request, body: Any) -> Reply:
        """Edit a message the bot posted."""
        channel_id = self._channel(request)
        if isinstance(channel_id, Reply):
            return channel_id
        return self._edit(int(request.match_info["message"]), body)

    async def start_thread(self, request: web.Request, body: Any) -> Reply:
        """Start a thread in a text channel, from one of its messages or without one."""
        channel_id = self._channel(request)
        if isinstance(channel_id, Reply):
            return channel_id
        return await self.threads.serve(channel_id, request.match_info.get("message"), body)

    async def typing(self, request: web.Request, body: Any) -> Reply:
        """Accept a typing indicator."""
        channel_id = self._channel(request)
        return channel_id if isinstance(channel_id, Reply) else Reply(204)

    async def react(self, request: web.Request, body: Any) -> Reply:
        """Add or remove the bot's reaction on a known message."""
        channel_id = self._channel(request)
        if isinstance(channel_id, Reply):
            return channel_id
        if self.messages.get(int(request.match_info["message"])) is None:
            return Reply.refuse(UNKNOWN_MESSAGE)
        return Reply(204)


def _callback_body(
    tracked: Tracked, body: dict[str, Any], message: dict[str, Any] | None
) -> dict[str, Any]:
    """Return the `with_response` answer to an interaction callback."""
    flags = (body.get("data") or {}).get("flags") or 0
    interaction = {
        "id": str(tracked.id),
        "type": tracked.payload["type"],
        "activity_instance_id": None,
        "response_message_id": message["id"] if message else None,
        "response_message_loading": body["type"] == 5,
        "response_message_ephemeral": bool(flags & EPHEMERAL),
    }
    answer: dict[str, Any] = {"interaction": interaction}
    if message is not None:
        answer["resource"] = {"type": body["type"], "message": message}
    return answer
