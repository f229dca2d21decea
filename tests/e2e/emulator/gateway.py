"""The gateway websocket: HELLO, IDENTIFY/READY, heartbeats, dispatches, RESUME with replay."""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.e2e.emulator.interactions import Ledger
from tests.e2e.emulator.recorder import Frame, Recorder
from tests.e2e.emulator.world import PRIVILEGED_INTENTS, World

log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, RESUME, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 0, 1, 2, 6, 9, 10, 11
# Close codes Discord uses (https://discord.com/developers/docs/topics/opcodes-and-status-codes).
UNKNOWN_ERROR = 4000
DECODE_ERROR = 4002
NOT_AUTHENTICATED = 4003
AUTHENTICATION_FAILED = 4004
ALREADY_AUTHENTICATED = 4005
INVALID_INTENTS = 4013
DISALLOWED_INTENTS = 4014


@dataclass
class Session:
    """A gateway session: its sequence counter and every event, kept for replay on RESUME."""

    id: str
    seq: int = 0
    events: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Connection:
    """One websocket connection from the bot."""

    number: int
    path: str
    query: dict[str, str]
    ws: web.WebSocketResponse
    opened_at: float
    session: Session | None = None  # set once IDENTIFY or RESUME succeeded
    closed_at: float | None = None
    close_code: int | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # frames leave in sequence order


class Gateway:
    """Plays Discord's gateway for one bot: one session, at most one live connection."""

    def __init__(
        self, world: World, recorder: Recorder, ledger: Ledger, heartbeat_ms: int = 1000
    ) -> None:
        self.world = world
        self.recorder = recorder
        self.ledger = ledger
        self.heartbeat_ms = heartbeat_ms
        self.resume_url = ""  # set by the server once its port is known
        self.connections: list[Connection] = []
        self.session: Session | None = None
        self.current: Connection | None = None
        self.intents = 0  # what the bot asked for in IDENTIFY

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        """Serve one websocket connection until either side closes it."""
        ws = web.WebSocketResponse(autoping=True, max_msg_size=4096 * 1024)
        await ws.prepare(request)
        conn = Connection(
            len(self.connections) + 1, request.path, dict(request.query), ws, time.monotonic()
        )
        self.connections.append(conn)
        await self._send(conn, {"op": HELLO, "d": {"heartbeat_interval": self.heartbeat_ms}})
        try:
            while not ws.closed:
                message = await ws.receive()
                if message.type is WSMsgType.TEXT:
                    await self._receive(conn, json.loads(message.data))
                elif message.type is WSMsgType.CLOSE:
                    if conn.close_code is None:  # the bot's code (the emulator notes its own)
                        conn.close_code = message.data
                elif message.type is WSMsgType.BINARY:
                    await ws.close(code=DECODE_ERROR, message=b"Error while decoding payload.")
        finally:
            conn.closed_at = time.monotonic()
            if self.current is conn:
                self.current = None
        return ws

    async def _receive(self, conn: Connection, payload: dict[str, Any]) -> None:
        """Record a frame from the bot and answer it."""
        op = payload.get("op")
        self.recorder.add_frame(
            Frame(time.monotonic(), conn.number, "received", op, d=payload.get("d"))
        )
        if op == HEARTBEAT:
            await self._send(conn, {"op": HEARTBEAT_ACK})
        elif op == IDENTIFY:
            await self._identify(conn, payload.get("d") or {})
        elif op == RESUME:
            await self._resume(conn, payload.get("d") or {})
        elif conn.session is None:
            await conn.ws.close(code=NOT_AUTHENTICATED, message=b"Not authenticated.")

    async def _identify(self, conn: Connection, data: dict[str, Any]) -> None:
        """Check the token and intents, then start a session: READY, then GUILD_CREATE."""
        if conn.session is not None:
            await conn.ws.close(code=ALREADY_AUTHENTICATED, message=b"Already authenticated.")
            return
        if data.get("token") != self.world.token:
            await conn.ws.close(code=AUTHENTICATION_FAILED, message=b"Authentication failed.")
            return
        intents = data.get("intents")
        if not isinstance(intents, int):
            await conn.ws.close(code=INVALID_INTENTS, message=b"Invalid intent(s).")
            return
        if intents & PRIVILEGED_INTENTS:  # the application has no privileged intent enabled
            await conn.ws.close(code=DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
            return
        self.intents = intents
        self.session = Session(secrets.token_hex(16))
        conn.session = self.session
        self.current = conn
        ready = self.world.ready(self.session.id, self.resume_url)
        await self.dispatch("READY", ready)
        for guild_id in self.world.guild_ids():
            await self.dispatch("GUILD_CREATE", self.world.guild_create(guild_id))

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        """Replay what the bot missed since its last sequence number, then RESUMED."""
        session = self.session
        if (
            session is None
            or data.get("session_id") != session.id
            or data.get("token") != self.world.token
            or not isinstance(data.get("seq"), int)
        ):
            await self._send(conn, {"op": INVALID_SESSION, "d": False})
            return
        conn.session = session
        async with conn.lock:
            # Live from here: new dispatches queue on the lock, so they follow the replay.
            self.current = conn
            for event in list(session.events):
                if event["s"] > data["seq"]:
                    await self._write(conn, event)
            session.seq += 1
            await self._write(conn, {"op": DISPATCH, "t": "RESUMED", "s": session.seq, "d": {}})

    async def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send an event to the bot, or keep it for replay while it is disconnected."""
        session = self.session
        if session is None:
            raise RuntimeError("the bot has not identified yet")
        conn = self.current
        if conn is None:
            session.seq += 1
            session.events.append({"op": DISPATCH, "t": event, "s": session.seq, "d": data})
            return session.seq
        async with conn.lock:  # number and send under one lock so sequence numbers stay ordered
            session.seq += 1
            frame = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
            session.events.append(frame)
            await self._write(conn, frame)
        return session.seq

    async def drop(self, code: int = UNKNOWN_ERROR) -> None:
        """Close the live connection the way Discord does when it has a problem."""
        conn = self.current
        if conn is None:
            raise RuntimeError("no live gateway connection to drop")
        self.current = None  # events from here on wait for the bot to resume
        conn.close_code = code
        await conn.ws.close(code=code, message=b"emulated connection drop")

    async def _send(self, conn: Connection, frame: dict[str, Any]) -> None:
        """Send a control frame (HELLO, ACK, INVALID_SESSION)."""
        async with conn.lock:
            await self._write(conn, frame)

    async def _write(self, conn: Connection, frame: dict[str, Any]) -> None:
        """Write one frame as text (no zlib: discord.py inflates binary frames only)."""
        if conn.ws.closed:
            return  # a dispatch stays in the session's events and is replayed on RESUME
        now = time.monotonic()
        try:
            await conn.ws.send_str(json.dumps(frame))
        except ConnectionError:
            log.info("gateway connection %d closed while sending", conn.number)
            return
        if frame.get("t") == "INTERACTION_CREATE":
            self.ledger.mark_sent(int(frame["d"]["id"]), now)
        t, s, d = frame.get("t"), frame.get("s"), frame.get("d")
        self.recorder.add_frame(Frame(now, conn.number, "sent", frame["op"], t, s, d))
