"""A raw-socket HTTP server on 127.0.0.1 that answers too slowly, and times each connection."""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# A page long enough to be a story, for the one fast route.
STORY = (b"<html><head><title>Slow news</title></head><body><article><p>"
         + b"A story about a model that answers questions quickly. " * 8
         + b"</p></article></body></html>")  # fmt: skip


@dataclass
class SlowServer:
    """What the server does per path, and how long each connection stayed open."""

    port: int = 0
    step_s: float = 0.5  # pause between header lines (/slow-headers)
    body_step_s: float = 1.8  # pause between body bytes (/slow-body)
    lines: int = 30  # header lines /slow-headers sends before it gives up
    # (path, seconds from accept to the client hanging up), one per connection.
    durations: list[tuple[str, float]] = field(default_factory=list)

    @property
    def base(self) -> str:
        """Return the server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def hostport(self) -> str:
        """Return "127.0.0.1:port", the form the allow-private-hosts setting takes."""
        return f"127.0.0.1:{self.port}"


def _closed_within(conn: socket.socket, seconds: float) -> bool:
    """Wait up to seconds; return True as soon as the client hangs up."""
    poller = select.poll()  # not select.select: it fails on descriptors past 1024
    poller.register(conn, select.POLLIN)
    if not poller.poll(seconds * 1000):
        return False
    try:
        return conn.recv(4096) == b""
    except OSError:
        return True


def _answer(server: SlowServer, conn: socket.socket, path: str) -> None:
    """Send the slow answer for path until it is done or the client hangs up."""
    if path == "/slow-headers":
        conn.sendall(b"HTTP/1.1 200 OK\r\n")
        for n in range(server.lines):
            if _closed_within(conn, server.step_s):
                return
            conn.sendall(f"X-Drip-{n}: still here\r\n".encode())
        conn.sendall(b"Content-Type: text/html\r\nContent-Length: %d\r\n\r\n" % len(STORY) + STORY)
    elif path == "/slow-body":
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n"
                     % len(STORY))  # fmt: skip
        for byte in STORY:
            if _closed_within(conn, server.body_step_s):
                return
            conn.sendall(bytes([byte]))
    else:
        conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")
    _closed_within(conn, 30)


def _handle(server: SlowServer, conn: socket.socket) -> None:
    """Read one request, answer it slowly, and record how long the client stayed."""
    start = time.monotonic()
    path = "?"
    try:
        request = conn.recv(65536).decode("latin-1")
        path = request.split(" ")[1] if " " in request else "?"
        _answer(server, conn, path)
    except OSError:
        pass  # the client reset the connection: it gave up, which is what is measured
    finally:
        server.durations.append((path, time.monotonic() - start))
        conn.close()


@contextmanager
def slow_server(**options: float) -> Iterator[SlowServer]:
    """Run a SlowServer on 127.0.0.1 in background threads."""
    server = SlowServer(**options)  # type: ignore[arg-type]
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    server.port = listener.getsockname()[1]
    stop = threading.Event()

    def accept_loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=_handle, args=(server, conn), daemon=True).start()

    thread = threading.Thread(target=accept_loop, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stop.set()
        thread.join(timeout=2)
        listener.close()
