"""Connecting to Chroma: the embedded client under the data directory, or a server's."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from index.errors import IndexUnavailableError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

    from index.settings import Settings

log = logging.getLogger(__name__)
T = TypeVar("T")

HTTP_CONNECT_TIMEOUT = 5.0
HTTP_TIMEOUT = 30.0


def persistent_client(settings: Settings) -> ClientAPI:
    """Open the embedded Chroma under data_dir, with its own fresh state read from disk."""
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient
    from chromadb.config import Settings as ChromaSettings

    # Workaround: chromadb shares one in-memory state per path within a process and offers no
    # way to reload it; forgetting the shared entry makes the next client read the disk afresh.
    # Not stopped: clients still in use by other threads or stores keep working.
    with SharedSystemClient._refcount_lock:
        SharedSystemClient._identifier_to_system.pop(str(settings.chroma_path), None)
        SharedSystemClient._identifier_to_refcount.pop(str(settings.chroma_path), None)
    client = chromadb.PersistentClient(
        path=str(settings.chroma_path), settings=ChromaSettings(anonymized_telemetry=False)
    )
    client._system_at_open = client._system  # type: ignore[attr-defined]  # see release()
    return client


def release(client: ClientAPI, *, embedded: bool) -> None:
    """Close a client for good: its files, threads and sockets go with it."""
    if not embedded:
        client.close()  # type: ignore[attr-defined]  # one shared system per address, counted
        return
    from chromadb.api.shared_system_client import SharedSystemClient

    # persistent_client() forgot the shared entry, so chromadb's own close() would stop the
    # system of whichever client opened the folder next: stop exactly this one instead.
    system = getattr(client, "_system_at_open", None)
    with SharedSystemClient._refcount_lock:
        ident = getattr(client, "_identifier", None)
        if ident is not None and SharedSystemClient._identifier_to_system.get(ident) is system:
            SharedSystemClient._identifier_to_system.pop(ident, None)
            SharedSystemClient._identifier_to_refcount.pop(ident, None)
    client._closed = True  # type: ignore[attr-defined]  # a later close() is a no-op
    if system is not None:
        system.stop()


def http_client(settings: Settings) -> ClientAPI:
    """Connect to the Chroma server, with timeouts; raise IndexUnavailableError if it is down."""
    import chromadb
    import httpx
    from chromadb.config import Settings as ChromaSettings

    timeout = httpx.Timeout(HTTP_TIMEOUT, connect=HTTP_CONNECT_TIMEOUT)
    scheme = "https" if settings.chroma_ssl else "http"
    # HttpClient() makes its first requests with no timeout: probe the server with one first.
    url = f"{scheme}://{settings.chroma_host}:{settings.chroma_port}/api/v2/heartbeat"
    status = guard(lambda: httpx.get(url, timeout=timeout).status_code)
    if status != 200:
        raise IndexUnavailableError(f"vector store unreachable: HTTP {status} from {url}")
    try:
        client = chromadb.HttpClient(
            host=settings.chroma_host or "",
            port=settings.chroma_port,
            ssl=settings.chroma_ssl,
            settings=ChromaSettings(anonymized_telemetry=False),
        )
    except ValueError as exc:  # chromadb's "Could not connect to a Chroma server" and kin
        raise IndexUnavailableError(f"vector store unreachable: {exc}") from exc
    # Workaround: chromadb exposes no timeout setting; its FastAPI client keeps an httpx.Client.
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = timeout
    else:
        log.warning("cannot set timeouts on the Chroma client; a hung server may block")
    return client


def guard(call: Callable[[], T]) -> T:
    """Run a Chroma call, turning connection failures into IndexUnavailableError."""
    try:
        return call()
    except (ConnectionError, OSError) as exc:
        raise IndexUnavailableError(f"vector store unreachable: {exc}") from exc
    except Exception as exc:
        # chromadb's HTTP client raises its own and httpx's errors; match them by name
        # rather than importing transport internals.
        if type(exc).__name__ in _UNAVAILABLE_ERRORS:
            raise IndexUnavailableError(f"vector store unreachable: {exc}") from exc
        raise


_UNAVAILABLE_ERRORS = frozenset(
    {
        "ConnectError", "ConnectTimeout", "ReadTimeout", "WriteTimeout", "PoolTimeout",
        "RemoteProtocolError", "ReadError", "WriteError",
    }
)  # fmt: skip
