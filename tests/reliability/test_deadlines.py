"""Issue 13, finding 2: a fetch ends within its timeout whatever the server does.

httpx's timeouts bound each socket operation, not the whole fetch: a server sending a header
line every half second, or a body byte just under the read timeout, kept a fetch going far past
NEWSBOT_FETCH_TIMEOUT. Redirects must also never leave https for plain http.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from index.errors import FetchError
from index.fetch import FetchPolicy, fetch_url
from newsbot import cli
from tests.fakes import FakeEmbedder
from tests.index.httpserver import ARTICLE_HTML, Route, Server, guard_connections, serve
from tests.index.test_fetch import fake_dns, tls_files, tls_server  # noqa: F401 (fixtures)
from tests.reliability.slowserver import SlowServer, slow_server

TIMEOUT = 2.0
MARGIN = 1.0  # the "timeout + 1 s"


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Refuse every outgoing connection that is not to 127.0.0.1."""
    return guard_connections(monkeypatch)


@pytest.fixture
def slow() -> Iterator[SlowServer]:
    """Serve slow headers and a slow body on 127.0.0.1."""
    with slow_server() as server:
        yield server


def _policy(*hostports: str) -> FetchPolicy:
    return FetchPolicy(timeout_s=TIMEOUT, allow_private_hosts=frozenset(hostports))


def _server_saw(slow: SlowServer, path: str) -> float:
    """Wait for the server to notice the client left; return how long the client stayed."""
    for _ in range(100):
        seen = [seconds for seen_path, seconds in slow.durations if seen_path == path]
        if seen:
            return seen[-1]
        time.sleep(0.05)
    raise AssertionError(f"the client never left {path}")


@pytest.mark.parametrize("path", ["/slow-headers", "/slow-body"])
def test_the_fetcher_ends_within_the_timeout(slow: SlowServer, path: str) -> None:
    start = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetch_url(slow.base + path, _policy(slow.hostport))
    took = time.monotonic() - start
    assert info.value.reason == f"timed out after {TIMEOUT:g} s"
    assert took < TIMEOUT + MARGIN, f"{path}: {took:.1f} s for a {TIMEOUT:g} s timeout"
    assert _server_saw(slow, path) < TIMEOUT + MARGIN


@pytest.mark.parametrize("path", ["/slow-headers", "/slow-body"])
def test_newsbot_ingest_url_ends_within_the_timeout(
    slow: SlowServer,
    path: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("COLUMNS", "300")
    monkeypatch.setenv("NEWSBOT_FETCH_TIMEOUT", str(TIMEOUT))
    monkeypatch.setenv("NEWSBOT_FETCH_ALLOW_PRIVATE_HOSTS", slow.hostport)
    monkeypatch.setattr("index.services.SentenceTransformerEmbedder", lambda *a: FakeEmbedder())
    code = cli.main(["--data-dir", str(tmp_path / "data"), "ingest", slow.base + path])
    out = capsys.readouterr().out
    assert code == 1 and f"timed out after {TIMEOUT:g} s" in out
    # The server's own clock: from accepting the connection to the CLI hanging up.
    assert _server_saw(slow, path) < TIMEOUT + MARGIN


def test_a_redirect_chain_shares_one_deadline(slow: SlowServer) -> None:
    routes = {f"/hop{n}": Route(status=302, headers={"Location": f"/hop{n + 1}"}, delay_s=0.6)
              for n in range(3)}  # fmt: skip
    routes["/hop3"] = Route(ARTICLE_HTML.encode(), headers={"Content-Type": "text/html"})
    with serve(routes) as server:
        start = time.monotonic()
        with pytest.raises(FetchError, match="timed out"):
            fetch_url(
                f"{server.base}/hop0",
                FetchPolicy(timeout_s=1.0, allow_private_hosts=frozenset({server.hostport})),
            )
        assert time.monotonic() - start < 1.0 + MARGIN


def test_https_never_redirects_to_plain_http(
    tls_server: tuple[Server, list[str | None]],  # noqa: F811
    fake_dns: Callable[[str, list[str]], list[str]],  # noqa: F811
) -> None:
    secure, _names = tls_server
    story = {"/article": Route(ARTICLE_HTML.encode(), headers={"Content-Type": "text/html"})}
    with serve(story) as plain:
        secure.routes["/down"] = Route(status=302, headers={"Location": f"{plain.base}/article"})
        fake_dns("secure.example", ["127.0.0.1"])
        policy = _policy(secure.hostport, plain.hostport)
        with pytest.raises(FetchError) as info:
            fetch_url(f"https://secure.example:{secure.port}/down", policy)
        assert info.value.reason == "refused: the page redirects from https to plain http"
        assert plain.seen == []
        # http -> http and https -> https stay fine.
        assert fetch_url(f"{plain.base}/article", policy).status == 200
        secure.routes["/same"] = Route(status=302, headers={"Location": "/article"})
        page = fetch_url(f"https://secure.example:{secure.port}/same", policy)
        assert page.final_url == f"https://secure.example:{secure.port}/article"


def test_a_message_cut_off_by_the_deadline_is_reported_as_the_timeout() -> None:
    # On a loaded machine the clamp can land mid-body, which httpx reports as a protocol error.
    from ipaddress import ip_address

    from index.fetch import _Target, _transport_failure

    target = _Target(httpx.URL("http://news.example/a"), "news.example", ip_address("192.0.2.1"))
    policy = FetchPolicy(timeout_s=TIMEOUT)
    cut = httpx.RemoteProtocolError("peer closed connection without sending complete body")
    passed, ahead = time.monotonic() - 0.01, time.monotonic() + 60
    assert _transport_failure(cut, target, policy, passed, "o").reason == "timed out after 2 s"
    assert _transport_failure(cut, target, policy, ahead, "o").reason == (
        "news.example sent an invalid response"
    )
    refused = httpx.ConnectError("refused")
    assert "could not connect" in _transport_failure(refused, target, policy, ahead, "o").reason
