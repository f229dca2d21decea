"""The emulator as a whole: an aiohttp app on 127.0.0.1 in its own thread, driven from tests."""

from __future__ import annotations

import asyncio
import copy
import socket
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

from aiohttp import web

from tests.e2e.emulator.gateway import UNKNOWN_ERROR, Gateway
from tests.e2e.emulator.interactions import (
    CommandBook,
    Ledger,
    Tracked,
    command_data,
    component_data,
    interaction_payload,
    message_command_data,
    modal_submit_data,
)
from tests.e2e.emulator.messages import MessageStore
from tests.e2e.emulator.recorder import Recorder
from tests.e2e.emulator.rest import API, Rest
from tests.e2e.emulator.threads import Threads
from tests.e2e.emulator.world import (
    APP_ID,
    GENERAL_CHANNEL_ID,
    GUILD_MESSAGES_INTENT,
    MESSAGE_CONTENT_INTENT,
    Person,
    World,
    known_person,
)

T = TypeVar("T")
HOST = "127.0.0.1"  # never anything else: the emulator and the bot talk over loopback only


class Emulator:
    """A loopback Discord: REST under /api/v10, the gateway at /gateway, everything recorded."""

    def __init__(self, heartbeat_ms: int = 1000, *, second_guild: bool = False) -> None:
        self.world = World(second_guild=second_guild)
        self.recorder = Recorder()
        self.ledger = Ledger()
        self.book = CommandBook(self.world)
        self.messages = MessageStore(self.world)
        self.gateway = Gateway(self.world, self.recorder, self.ledger, heartbeat_ms)
        self.threads = Threads(self.world, self.messages, self._tell_bot)
        self.rest = Rest(
            self.world, self.recorder, self.ledger, self.book, self.messages, self.threads
        )
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="emulator", daemon=True)
        self._runner: web.AppRunner | None = None
        self._submitted: set[int] = set()  # interactions whose modal was submitted (it closes)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Start serving on a free port of 127.0.0.1."""
        self._thread.start()
        self.call(self._start())
        return self

    async def _start(self) -> None:
        """Bind the socket first so the port is known before anything connects."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((HOST, 0))
        self.port = sock.getsockname()[1]
        self.gateway.resume_url = f"ws://{HOST}:{self.port}/gateway/resume"
        self.rest.gateway_url = self.gateway_url
        app = web.Application()
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/gateway/resume", self.gateway.handle)
        app.add_routes(self.rest.routes())
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()

    async def _tell_bot(self, event: str, data: dict[str, Any]) -> None:
        """Dispatch an event once the bot has a session (before, nobody is there to hear it)."""
        if self.gateway.session is not None:
            await self.gateway.dispatch(event, data)

    def stop(self) -> None:
        """Close every connection and stop the thread."""
        if self._runner is not None:
            self.call(self._runner.cleanup())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        """Run a coroutine on the emulator's loop from a test's thread and return its result."""
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout)

    @property
    def api_base(self) -> str:
        """Return the REST base URL (NEWSBOT_DISCORD_API_BASE)."""
        return f"http://{HOST}:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        """Return the gateway URL (NEWSBOT_DISCORD_GATEWAY)."""
        return f"ws://{HOST}:{self.port}/gateway"

    # -- what tests do --------------------------------------------------------------------------

    def prepare(
        self,
        name: str,
        person: Person,
        options: dict[str, Any] | None = None,
        *,
        sub: str | None = None,
        channel_id: int = GENERAL_CHANNEL_ID,
    ) -> Tracked:
        """Build and track /name [sub] as a member would run it, without sending it yet."""
        data = command_data(self.book, name, options or {}, sub)
        return self.ledger.add(interaction_payload(self.world, data, person, channel_id))

    def slash(
        self,
        name: str,
        person: Person,
        options: dict[str, Any] | None = None,
        *,
        sub: str | None = None,
        channel_id: int = GENERAL_CHANNEL_ID,
    ) -> Tracked:
        """Have a member run /name [sub] with options; return the tracked interaction."""
        tracked = self.prepare(name, person, options, sub=sub, channel_id=channel_id)
        self.send([tracked])
        return tracked

    def send(self, interactions: list[Tracked]) -> None:
        """Dispatch prepared interactions back to back, in one go on the emulator's loop."""

        async def send_all() -> None:
            for item in interactions:
                await self.gateway.dispatch("INTERACTION_CREATE", item.payload)

        self.call(send_all())

    def click(self, person: Person, message_id: int, custom_id: str) -> Tracked:
        """Have a member click a button on a message, as the message stands now."""
        tracked = self.prepare_click(person, message_id, custom_id)
        self.send([tracked])
        return tracked

    def prepare_click(self, person: Person, message_id: int, custom_id: str) -> Tracked:
        """Build and track a button click (MESSAGE_COMPONENT carrying the message it is on)."""
        message = self.messages.get(message_id)
        if message is None:
            raise LookupError(f"no message {message_id} to click on")
        message = copy.deepcopy(message)  # as it was when clicked, whatever edits come later
        data = component_data(message, custom_id)
        channel_id = int(message["channel_id"])
        payload = interaction_payload(self.world, data, person, channel_id, kind=3, message=message)
        return self.ledger.add(payload)

    def submit_modal(self, opened: Tracked, values: dict[str, str]) -> Tracked:
        """Have the member a modal was shown to submit it (values by input custom_id or label)."""
        modal = opened.modal
        if modal is None:
            raise LookupError(f"interaction {opened.id} was answered with {opened.ack}, no modal")
        if opened.id in self._submitted:
            raise LookupError(f"the modal of interaction {opened.id} was already submitted")
        person = known_person(int(opened.payload["member"]["user"]["id"]))
        assert person is not None, "the member who opened the modal is not in the server"
        message = opened.payload.get("message")  # a modal opened from a button: its message
        if message is not None:
            message = copy.deepcopy(self.messages.get(int(message["id"])) or message)
        channel_id = int(opened.payload["channel_id"])
        data = modal_submit_data(modal, values)
        payload = interaction_payload(self.world, data, person, channel_id, kind=5, message=message)
        tracked = self.ledger.add(payload)
        self._submitted.add(opened.id)
        self.send([tracked])
        return tracked

    def post(self, person: Person, content: str, channel_id: int = GENERAL_CHANNEL_ID) -> int:
        """Store a member's message without telling the bot (its intents withhold it); return
        its id."""
        return int(self.messages.member_message(channel_id, person, content)["id"])

    def message_command(self, name: str, person: Person, message_id: int) -> Tracked:
        """Have a member run a message menu command (right-click > Apps > name) on a message."""
        message = self.messages.get(message_id)
        if message is None:
            raise LookupError(f"no message {message_id} to run {name!r} on")
        data = message_command_data(self.book, name, copy.deepcopy(message))
        channel_id = int(message["channel_id"])
        tracked = self.ledger.add(interaction_payload(self.world, data, person, channel_id))
        self.send([tracked])
        return tracked

    def close_dms(self, user_id: int, closed: bool = True) -> None:
        """Make a member refuse DMs from the bot (403, code 50007, on every DM message)."""
        self.world.set_dms_closed(user_id, closed)

    def dm_channel_id(self, user_id: int) -> int | None:
        """Return the bot's DM channel with a member, or None if the bot never opened one."""
        return self.world.dm_channel_id(user_id)

    def say(self, person: Person, content: str, channel_id: int = GENERAL_CHANNEL_ID) -> int:
        """Have a member post a message (MESSAGE_CREATE as the intents allow); return its id."""
        message = self.messages.member_message(channel_id, person, content)
        intents = self.gateway.intents
        if intents & GUILD_MESSAGES_INTENT:
            mentioned = any(int(u["id"]) == APP_ID for u in message["mentions"])
            if not intents & MESSAGE_CONTENT_INTENT and not mentioned:
                message = message | {"content": ""}  # Discord withholds it without the intent
            self.call(self.gateway.dispatch("MESSAGE_CREATE", message))
        return int(message["id"])

    def drop_connection(self, code: int = UNKNOWN_ERROR, missed: tuple[Tracked, ...] = ()) -> None:
        """Close the bot's gateway connection, then create `missed` while it is away."""

        async def drop_then_dispatch() -> None:
            await self.gateway.drop(code)
            for item in missed:
                await self.gateway.dispatch("INTERACTION_CREATE", item.payload)

        self.call(drop_then_dispatch())
