"""HTTP plumbing of the REST emulator: reading request bodies, answering in Discord's JSON."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tests.e2e.emulator import validation
from tests.e2e.emulator.interactions import Refusal


@dataclass(frozen=True)
class Reply:
    """What a handler answers: a status and a JSON body (None sends 204 No Content)."""

    status: int = 200
    body: Any = None
    note: str = ""

    @classmethod
    def refuse(cls, refusal: Refusal, note: str = "") -> Reply:
        """Return a Discord error reply."""
        return cls(refusal.status, refusal.body, note or refusal.body["message"])

    @classmethod
    def invalid(cls, problems: list[validation.Problem]) -> Reply:
        """Return Discord's 400 Invalid Form Body for the given problems."""
        note = "; ".join(f"{'.'.join(map(str, p.path))}: {p.message}" for p in problems)
        return cls(400, validation.form_error(problems), note)


async def read_body(request: web.Request) -> tuple[Any, bool]:
    """Return the JSON body (or multipart payload_json) and whether it was malformed."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if getattr(part, "name", None) == "payload_json":
                text = await part.text()  # type: ignore[union-attr]
                return parse(text)
        return None, False
    raw = await request.read()
    return parse(raw.decode("utf-8")) if raw else (None, False)


def parse(text: str) -> tuple[Any, bool]:
    """Return parsed JSON and False, or None and True when it is not JSON."""
    try:
        return json.loads(text), False
    except json.JSONDecodeError:
        return None, True


def response(reply: Reply) -> web.Response:
    """Build the HTTP response; discord.py parses JSON only for exactly `application/json`."""
    if reply.body is None:
        return web.Response(status=reply.status if reply.status != 200 else 204)
    data = json.dumps(reply.body).encode()
    return web.Response(
        status=reply.status, body=data, headers={"Content-Type": "application/json"}
    )
