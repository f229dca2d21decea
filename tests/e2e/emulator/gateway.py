"""The gateway websocket: HELLO, IDENTIFY/READY, heartbeats, dispatches, RESUME with replay.

Shards as Discord has them: IDENTIFY names `shard: [id, count]`, each shard has its own session,
and a server's events go to shard `(guild_id >> 22) % count` only (without `shard`: shard 0 of 1).
"""

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
INVALID_SHARD = 4010
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
    shard: int = 0  # the shard this connection identified (or resumed) as
    closed_at: float | None = None
    close_code: int | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # frames leave in sequence order


def shard_of(guild_id: int, count: int) -> int:
    """Return the shard that carries a server's events (Discord's formula)."""
    return (guild_id >> 22) % count


class Gateway:
    """Plays Discord's gateway for one bot: a session per shard, one live connection each."""

    def __init__(
        self, world: World, recorder: Recorder, ledger: Ledger, heartbeat_ms: int = 1000
    ) -> None:
        self.world = world
        self.recorder = recorder
        self.ledger = ledger
        self.heartbeat_ms = heartbeat_ms
        self.resume_url = ""  # set by the server once its port is known
        self.connections: list[Connection] = []
        self.sessions: dict[int, Session] = {}  # by shard id
        self.currents: dict[int, Connection] = {}  # each shard's live connection
        self.shard_count = 1  # as the last IDENTIFY said
        self.intents = 0  # what the bot asked for in IDENTIFY

    @property
    def session(self) -> Session | None:
        """Return shard 0's session (the only one of an unsharded bot)."""
        return self.sessions.get(0)

    @property
    def current(self) -> Connection | None:
        """Return shard 0's live connection."""
        return self.currents.get(0)

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
            if self.currents.get(conn.shard) is conn:
                del self.currents[conn.shard]
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
        shard, count = data.get("shard") or (0, 1)
        if not 0 <= shard < count:
            await conn.ws.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return
        self.intents = intents
        self.shard_count = count
        session = self.sessions[shard] = Session(secrets.token_hex(16))
        conn.session, conn.shard = session, shard
        self.currents[shard] = conn
        guilds = [g for g in self.world.guild_ids() if shard_of(g, count) == shard]
        ready = self.world.ready(session.id, self.resume_url)
        ready["guilds"] = [{"id": str(g), "unavailable": True} for g in guilds]
        ready["shard"] = [shard, count]
        await self.dispatch("READY", ready, shard=shard)
        for guild_id in guilds:
            await self.dispatch("GUILD_CREATE", self.world.guild_create(guild_id), shard=shard)

    async def _resume(self, conn: Connection, data: dict[str, Any]) -> None:
        """Replay what the bot missed since its last sequence number, then RESUMED."""
        shard = next((n for n, s in self.sessions.items() if s.id == data.get("session_id")), 0)
        session = self.sessions.get(shard)
        if (
            session is None
            or data.get("session_id") != session.id
            or data.get("token") != self.world.token
            or not isinstance(data.get("seq"), int)
        ):
            await self._send(conn, {"op": INVALID_SESSION, "d": False})
            return
        conn.session, conn.shard = session, shard
        async with conn.lock:
            # Live from here: new dispatches queue on the lock, so they follow the replay.
            self.currents[shard] = conn
            for event in list(session.events):
                if event["s"] > data["seq"]:
                    await self._write(conn, event)
            session.seq += 1
            await self._write(conn, {"op": DISPATCH, "t": "RESUMED", "s": session.seq, "d": {}})

    async def dispatch(self, event: str, data: dict[str, Any], shard: int | None = None) -> int:
        """Send an event to the shard of its server, or keep it for replay while that shard is
        disconnected."""
        if shard is None:
            guild = data.get("guild_id") or (data.get("id") if event == "GUILD_CREATE" else None)
            shard = shard_of(int(guild), self.shard_count) if guild else 0
        session = self.sessions.get(shard)
        if session is None:
            raise RuntimeError(f"the bot has not identified shard {shard} yet")
        conn = self.currents.get(shard)
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
        del self.currents[0]  # events from here on wait for the bot to resume
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
