"""An httpx transport whose every socket operation shares one absolute deadline."""

from __future__ import annotations

import concurrent.futures
import functools
import ssl
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import certifi
import httpcore
import httpx

T = TypeVar("T")
# httpcore's own alias for a setsockopt() triple (level, option, value).
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class DeadlinePassed(Exception):
    """The fetch's whole-time budget ran out (raised before a socket call would start)."""


def remaining(deadline: float) -> float:
    """Return the seconds left until deadline (time.monotonic), raising once none are left."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise DeadlinePassed
    return left


def call_within(deadline: float, func: Callable[..., T], *args: Any) -> T:
    """Run a blocking call (a DNS lookup) in a thread and stop waiting for it at deadline."""
    # getaddrinfo has no timeout argument; a hung resolver leaves only this thread behind,
    # and it ends when the system resolver gives up on its own.
    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="newsbot-dns")
    try:
        return pool.submit(func, *args).result(timeout=remaining(deadline))
    except concurrent.futures.TimeoutError as exc:
        raise DeadlinePassed from exc
    finally:
        pool.shutdown(wait=False)


def _ssl_context() -> ssl.SSLContext:
    """Return the TLS context of every fetch: the CA store is loaded once, not per request."""
    # Loading the CA store costs ~20 ms of CPU: twice per fetch, it was most of a feed poll.
    # Keyed by the store's path, so a CA file swapped in (as the TLS tests do) is honoured.
    return _context_for(certifi.where())


@functools.lru_cache(maxsize=4)
def _context_for(ca_file: str) -> ssl.SSLContext:
    """Return a TLS context verifying against ca_file (httpx's default context)."""
    return httpx.create_ssl_context(trust_env=False)


def deadline_transport(deadline: float) -> httpx.HTTPTransport:
    """Return a transport (no proxies, system CA store) that cannot outlive deadline."""
    transport = httpx.HTTPTransport(verify=_ssl_context(), trust_env=False)
    # httpx's own timeouts are per operation: a server sending one header line a second never
    # trips a read timeout. httpx has no public way to pass a network backend, so the pool it
    # built is replaced by an identical one over a backend that clamps every timeout.
    transport._pool = httpcore.ConnectionPool(
        ssl_context=_ssl_context(),
        max_connections=1,
        network_backend=_DeadlineBackend(deadline),
    )
    return transport


def _clamp(timeout: float | None, deadline: float, error: type[Exception]) -> float:
    """Return the smaller of timeout and the time left, raising error when none is left."""
    try:
        left = remaining(deadline)
    except DeadlinePassed as exc:
        raise error("the fetch deadline passed") from exc
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    """A network stream whose reads, writes and TLS handshake end by the deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read once, waiting no later than the deadline."""
        return self._inner.read(max_bytes, _clamp(timeout, self._deadline, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write all of buffer, waiting no later than the deadline."""
        self._inner.write(buffer, _clamp(timeout, self._deadline, httpcore.WriteTimeout))

    def close(self) -> None:
        """Close the underlying socket."""
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        """Do the TLS handshake (CPython bounds the whole handshake by one timeout)."""
        left = _clamp(timeout, self._deadline, httpcore.ConnectTimeout)
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, left), self._deadline
        )

    def get_extra_info(self, info: str) -> Any:
        """Pass through socket details (httpcore asks for the ssl object and the socket)."""
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """httpcore's blocking socket backend, with every timeout clamped to one deadline."""

    def __init__(self, deadline: float) -> None:
        self._inner = httpcore.SyncBackend()
        self._deadline = deadline

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        """Connect, waiting no later than the deadline."""
        left = _clamp(timeout, self._deadline, httpcore.ConnectTimeout)
        stream = self._inner.connect_tcp(host, port, left, local_address, socket_options)
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.NetworkStream:
        """Refuse: fetching never uses Unix sockets."""
        raise httpcore.ConnectError(f"unix sockets are not used for fetching ({path})")

    def sleep(self, seconds: float) -> None:
        """Sleep, but not past the deadline."""
        time.sleep(max(0.0, min(seconds, self._deadline - time.monotonic())))
