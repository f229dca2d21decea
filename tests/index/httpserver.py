"""A tiny local HTTP server for fetch tests: canned routes on 127.0.0.1, in a background thread."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class Route:
    """What the server answers on one path."""

    body: bytes = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    send_length: bool = True  # False: no Content-Length, the body ends when the socket closes
    drip_s: float = 0.0  # pause before each byte, for slow-server tests
    delay_s: float = 0.0  # pause before the status line
    endless: bool = False  # repeat the body until the client hangs up
    # Validators: sent with the body, and a request carrying a matching one gets a bare 304.
    etag: str | None = None
    last_modified: str | None = None


@dataclass
class Server:
    """A running test server: its base URL, its routes and the requests it saw."""

    host: str
    port: int
    routes: dict[str, Route]
    scheme: str = "http"
    seen: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    @property
    def base(self) -> str:
        """Return the server's base URL, without a trailing slash."""
        return f"{self.scheme}://{self.host}:{self.port}"

    @property
    def hostport(self) -> str:
        """Return "ip:port", the form FetchPolicy.allow_private_hosts expects."""
        return f"{self.host}:{self.port}"


def _handler(server: Server) -> type[BaseHTTPRequestHandler]:
    """Build a request handler class bound to one Server's routes."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.seen.append((self.path, dict(self.headers.items())))
            route = server.routes.get(self.path, Route(b"not found", status=404))
            time.sleep(route.delay_s)
            try:
                if self._unchanged(route):
                    self.send_response(304)
                    self.end_headers()
                    return
                self._answer(route)
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up, which is what several tests want

        def _unchanged(self, route: Route) -> bool:
            etag, since = self.headers.get("If-None-Match"), self.headers.get("If-Modified-Since")
            return bool(
                (route.etag and etag == route.etag)
                or (route.last_modified and since == route.last_modified)
            )

        def _answer(self, route: Route) -> None:
            self.send_response(route.status)
            if route.etag:
                self.send_header("ETag", route.etag)
            if route.last_modified:
                self.send_header("Last-Modified", route.last_modified)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if route.send_length:
                self.send_header("Content-Length", str(len(route.body)))
            self.end_headers()
            while route.endless:
                self.wfile.write(route.body)
            if not route.drip_s:
                self.wfile.write(route.body)
                return
            for byte in route.body:
                time.sleep(route.drip_s)
                self.wfile.write(bytes([byte]))
                self.wfile.flush()

        def log_message(self, format: str, *args: object) -> None:
            return  # keep pytest output quiet

    return Handler


@contextmanager
def serve(routes: dict[str, Route], tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    """Run a server on 127.0.0.1 with the given routes (HTTPS when tls is given)."""
    server = Server(host="127.0.0.1", port=0, routes=routes, scheme="https" if tls else "http")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(server))
    if tls is not None:
        httpd.socket = tls.wrap_socket(httpd.socket, server_side=True)
    httpd.daemon_threads = True
    httpd.block_on_close = False  # dripping handlers must not hold up the test run
    server.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield server
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


# A small news page both fetch and extraction tests serve.
ARTICLE_HTML = """<!doctype html>
<html><head><meta charset="utf-8"><title>OpenAI ships a faster model | AI Wire</title>
<meta property="og:site_name" content="AI Wire">
<meta property="article:published_time" content="2024-05-13T10:00:00Z">
<link rel="canonical" href="https://aiwire.example/openai-faster-model">
</head><body><nav><a href="/">Home</a> <a href="/about">About</a> <a href="/jobs">Jobs</a></nav>
<article><h1>OpenAI ships a faster model</h1>
<p>OpenAI released a new multimodal model on Monday, saying it answers spoken questions in about
320 milliseconds on average, close to human reaction time in conversation.</p>
<p>The company said the model would be available to free users of ChatGPT, with higher
message limits for paying subscribers, and that developers could use it through the API at half
the price.</p>
<p>Analysts said the launch puts pressure on rivals ahead of their own developer conferences.</p>
</article><footer>Copyright 2024 AI Wire. All rights reserved.</footer></body></html>
"""


def guard_connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record every outgoing TCP connection and refuse all but those to 127.0.0.1."""
    attempts: list[tuple[str, int]] = []
    real = socket.create_connection

    def guarded(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
        attempts.append((address[0], address[1]))
        if address[0] != "127.0.0.1":
            raise ConnectionRefusedError(f"test guard: no traffic to {address[0]}")
        return real(address, *args, **kwargs)

    monkeypatch.setattr(socket, "create_connection", guarded)
    return attempts
