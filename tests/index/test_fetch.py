"""The fetch guard: only public http(s) addresses, bounded size, time, redirects and types."""

from __future__ import annotations

import gzip
import shutil
import socket
import ssl
import subprocess
import time
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import certifi
import pytest

from index.errors import FetchError
from index.fetch import FetchPolicy, fetch_url
from tests.index.httpserver import ARTICLE_HTML, Route, Server, guard_connections, serve

PUBLIC_IP = "93.184.215.14"  # a global address; the connection guard below never lets it out
HTML = {"Content-Type": "text/html; charset=utf-8"}


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record every outgoing TCP connection and refuse all but those to 127.0.0.1."""
    return guard_connections(monkeypatch)


@pytest.fixture
def server() -> Iterator[Server]:
    """Serve the sample article and a few plain routes on 127.0.0.1."""
    routes = {
        "/article": Route(ARTICLE_HTML.encode(), headers=HTML),
        "/plain": Route(b"plain text story", headers={"Content-Type": "text/plain"}),
    }
    with serve(routes) as running:
        yield running


@pytest.fixture
def policy(server: Server) -> FetchPolicy:
    """Allow the test server's own ip:port, and nothing else private."""
    return FetchPolicy(timeout_s=2, allow_private_hosts=frozenset({server.hostport}))


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, list[str]], list[str]]:
    """Make getaddrinfo answer chosen names with chosen addresses, one answer per lookup."""
    answers: dict[str, list[str]] = {}
    lookups: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        if host not in answers:
            return real(host, port, *args, **kwargs)
        lookups.append(host)
        ip = answers[host][min(len(lookups), len(answers[host])) - 1]
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (ip, port))]

    def add(host: str, ips: list[str]) -> list[str]:
        answers[host] = ips
        return lookups

    monkeypatch.setattr("index.fetch.socket.getaddrinfo", getaddrinfo)
    return add


def refused(url: str, policy: FetchPolicy) -> str:
    """Fetch url, expecting a FetchError; return its one-line reason."""
    with pytest.raises(FetchError) as info:
        fetch_url(url, policy)
    reason = info.value.reason
    assert "\n" not in reason and "Traceback" not in reason
    return reason


def test_fetches_a_local_page_with_host_and_user_agent(server: Server, policy: FetchPolicy) -> None:
    page = fetch_url(f"{server.base}/article", policy)
    assert (page.status, page.content_type, page.charset) == (200, "text/html", "utf-8")
    assert "OpenAI ships a faster model" in page.text
    assert page.final_url == f"{server.base}/article"
    _path, headers = server.seen[-1]
    assert headers["Host"] == server.hostport
    assert headers["User-Agent"].startswith("newsbot/0.1")


def test_decodes_declared_charset_else_utf8_with_replacement(
    server: Server, policy: FetchPolicy
) -> None:
    latin = {"Content-Type": "text/plain; charset=iso-8859-1"}
    server.routes["/latin"] = Route("café".encode("latin-1"), headers=latin)
    server.routes["/bad"] = Route(b"caf\xe9 ok", headers={"Content-Type": "text/plain"})
    assert fetch_url(f"{server.base}/latin", policy).text == "café"
    assert fetch_url(f"{server.base}/bad", policy).text == "caf\ufffd ok"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://10.0.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[fec0::1]/", "site-local"),
        ("http://[2002:7f00:1::]/", "loopback (it embeds 127.0.0.1)"),  # 6to4
        ("http://[64:ff9b::a9fe:a9fe]/", "link-local (it embeds 169.254.169.254)"),  # NAT64
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://100.64.0.1/", "not globally routable"),
        ("http://localhost/", "loopback"),
        ("http://2130706433/", "unusual spelling"),
        ("http://0x7f000001/", "unusual spelling"),
        ("http://0x7f.0.0.1/", "unusual spelling"),
        ("http://127.1/", "unusual spelling"),
        ("http://0177.0.0.1/", "not a valid web link"),
    ],
)
def test_refuses_non_public_addresses_before_connecting(
    url: str, expected: str, connections: list[tuple[str, int]]
) -> None:
    reason = refused(url, FetchPolicy(timeout_s=1))
    assert reason.startswith("refused:") and expected in reason
    assert connections == []


def test_refuses_the_local_server_without_an_allowance(server: Server) -> None:
    reason = refused(f"{server.base}/article", FetchPolicy(timeout_s=1))
    assert reason == "refused: the address 127.0.0.1 is loopback, not a public host"
    assert server.seen == []


@pytest.mark.parametrize("url", ["http://2130706433:{port}/", "http://127.1:{port}/"])
def test_odd_ip_spellings_are_refused_even_when_private_is_allowed(
    url: str, server: Server
) -> None:
    policy = FetchPolicy(timeout_s=1, allow_private=True)
    assert "unusual spelling" in refused(url.format(port=server.port), policy)
    assert server.seen == []


def test_allow_private_never_opens_metadata_or_unspecified(server: Server) -> None:
    policy = FetchPolicy(timeout_s=1, allow_private=True)
    assert fetch_url(f"{server.base}/plain", policy).text == "plain text story"
    assert "link-local" in refused("http://169.254.169.254/", policy)
    assert "unspecified" in refused(f"http://0.0.0.0:{server.port}/plain", policy)


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "ftp://example.com/story.txt",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/",
        "data:text/html,<p>hi</p>",
        "//example.com/story",
    ],
)
def test_refuses_other_schemes(url: str, connections: list[tuple[str, int]]) -> None:
    assert refused(url, FetchPolicy()) == "refused: only http and https links can be added"
    assert connections == []


@pytest.mark.parametrize("userinfo", ["user:pass@", "user@", ":secret@"])
def test_refuses_credentials_in_links(userinfo: str, server: Server, policy: FetchPolicy) -> None:
    url = f"http://{userinfo}{server.hostport}/article"
    assert "user name or password" in refused(url, policy)
    assert server.seen == []


def test_hostname_resolving_to_private_address_is_refused(
    fake_dns: Callable[[str, list[str]], list[str]], connections: list[tuple[str, int]]
) -> None:
    fake_dns("intranet.example", ["10.1.2.3"])
    assert "10.1.2.3 is private" in refused("http://intranet.example/", FetchPolicy())
    assert connections == []


def test_any_private_address_among_several_is_refused(
    fake_dns: Callable[[str, list[str]], list[str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def two_answers(host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", (PUBLIC_IP, port)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
        ]

    monkeypatch.setattr("index.fetch.socket.getaddrinfo", two_answers)
    assert "127.0.0.1 is loopback" in refused("http://mixed.example/", FetchPolicy())


def test_connects_to_the_checked_address_without_a_second_lookup(
    server: Server,
    fake_dns: Callable[[str, list[str]], list[str]],
    connections: list[tuple[str, int]],
) -> None:
    # DNS rebinding: the first answer is public, any later one points at the local server.
    lookups = fake_dns("rebind.example", [PUBLIC_IP, "127.0.0.1"])
    reason = refused(f"http://rebind.example:{server.port}/article", FetchPolicy(timeout_s=1))
    assert reason == "could not connect to rebind.example"
    assert lookups == ["rebind.example"]
    assert connections == [(PUBLIC_IP, server.port)]
    assert server.seen == []


def test_ignores_proxy_settings_from_the_environment(
    server: Server,
    policy: FetchPolicy,
    monkeypatch: pytest.MonkeyPatch,
    connections: list[tuple[str, int]],
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "all_proxy"):
        monkeypatch.setenv(name, "http://10.9.9.9:3128")
    assert fetch_url(f"{server.base}/plain", policy).text == "plain text story"
    assert connections == [("127.0.0.1", server.port)]


def test_follows_redirects_within_the_limit(server: Server, policy: FetchPolicy) -> None:
    server.routes["/r1"] = Route(status=301, headers={"Location": f"{server.base}/r2"})
    server.routes["/r2"] = Route(status=302, headers={"Location": "/r3"})
    server.routes["/r3"] = Route(status=307, headers={"Location": "article"})
    page = fetch_url(f"{server.base}/r1", policy)
    assert page.final_url == f"{server.base}/article"
    assert [path for path, _ in server.seen] == ["/r1", "/r2", "/r3", "/article"]


def test_stops_after_max_redirects(server: Server, policy: FetchPolicy) -> None:
    server.routes["/loop"] = Route(status=302, headers={"Location": "/loop"})
    assert refused(f"{server.base}/loop", policy) == "too many redirects (more than 3)"
    assert len(server.seen) == 4  # the first request and three redirects


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254 is link-local"),
        ("http://10.0.0.1/admin", "10.0.0.1 is private"),
        ("http://[::1]:{port}/article", "::1 is loopback"),
        ("http://localhost:{other}/article", "is loopback"),
        ("http://127.0.0.1:{other}/", "127.0.0.1 is loopback"),  # allowance is per ip:port
        ("file:///etc/passwd", "only http and https"),
    ],
)
def test_redirect_to_a_blocked_target_is_refused(
    target: str,
    expected: str,
    server: Server,
    policy: FetchPolicy,
    connections: list[tuple[str, int]],
) -> None:
    location = target.format(port=server.port, other=server.port + 1)
    server.routes["/go"] = Route(status=302, headers={"Location": location})
    assert expected in refused(f"{server.base}/go", policy)
    assert [path for path, _ in server.seen] == ["/go"]
    assert set(connections) == {("127.0.0.1", server.port)}


def test_redirect_to_an_invalid_link_is_a_clear_error(server: Server, policy: FetchPolicy) -> None:
    server.routes["/bad"] = Route(status=302, headers={"Location": "http://[::1"})
    server.routes["/port"] = Route(status=302, headers={"Location": "http://x.example:99999/"})
    assert refused(f"{server.base}/bad", policy) == "127.0.0.1 sent an invalid response"
    assert refused(f"{server.base}/port", policy) == "refused: 99999 is not a valid port"


def test_refuses_a_declared_length_over_the_cap_before_reading(server: Server) -> None:
    # The server claims 10 MB but sends 10 bytes: only the header check can say "too large".
    claims = {"Content-Type": "text/plain", "Content-Length": "10000000"}
    server.routes["/huge"] = Route(b"0123456789", headers=claims, send_length=False)
    policy = FetchPolicy(timeout_s=1, allow_private_hosts=frozenset({server.hostport}))
    assert refused(f"{server.base}/huge", policy) == "too large: the page is over 5 MB"


def test_aborts_an_endless_body_without_length_at_the_cap(server: Server) -> None:
    # The server never stops sending: only a cap applied while streaming can end the fetch.
    plain = {"Content-Type": "text/plain"}
    server.routes["/endless"] = Route(b"x" * 4096, headers=plain, send_length=False, endless=True)
    policy = FetchPolicy(
        timeout_s=2, max_bytes=10_000, allow_private_hosts=frozenset({server.hostport})
    )
    assert refused(f"{server.base}/endless", policy) == "too large: the page is over 10 KB"


def test_inflates_gzip_but_never_past_the_cap(server: Server, policy: FetchPolicy) -> None:
    gz = {"Content-Type": "text/plain", "Content-Encoding": "gzip"}
    server.routes["/small.gz"] = Route(gzip.compress(b"hello gzip"), headers=gz)
    # About 50 kB on the wire, 50 MB inflated: memory must stay near the 100 kB cap.
    server.routes["/bomb.gz"] = Route(gzip.compress(bytes(50_000_000), 9), headers=gz)
    assert fetch_url(f"{server.base}/small.gz", policy).text == "hello gzip"
    small = FetchPolicy(max_bytes=100_000, allow_private_hosts=policy.allow_private_hosts)
    tracemalloc.start()
    try:
        assert refused(f"{server.base}/bomb.gz", small) == "too large: the page is over 100 KB"
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 5_000_000  # about 0.4 MB with the cap; the whole 50 MB without it


def test_a_slow_drip_body_fails_in_bounded_time(server: Server) -> None:
    # One byte every 50 ms never trips the 0.5 s read timeout; only the deadline stops it.
    plain = {"Content-Type": "text/plain"}
    server.routes["/drip"] = Route(b"x" * 200, headers=plain, drip_s=0.05)
    policy = FetchPolicy(timeout_s=0.5, allow_private_hosts=frozenset({server.hostport}))
    start = time.monotonic()
    assert refused(f"{server.base}/drip", policy) == "timed out after 0.5 s"
    assert time.monotonic() - start < 2 * 0.5 + 0.3


def test_a_server_that_never_answers_times_out(server: Server) -> None:
    server.routes["/stall"] = Route(b"late", headers=HTML, delay_s=2)
    policy = FetchPolicy(timeout_s=0.3, allow_private_hosts=frozenset({server.hostport}))
    start = time.monotonic()
    assert refused(f"{server.base}/stall", policy) == "timed out after 0.3 s"
    assert time.monotonic() - start < 1


@pytest.mark.parametrize(
    ("content_type", "shown"),
    [("application/pdf", "application/pdf"), ("image/png", "image/png"), (None, "(none given)")],
)
def test_refuses_unsupported_content_types(
    content_type: str | None, shown: str, server: Server, policy: FetchPolicy
) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    server.routes["/file"] = Route(b"%PDF-1.7 binary", headers=headers)
    assert refused(f"{server.base}/file", policy) == f"unsupported content type {shown}"


@pytest.mark.parametrize("status", [404, 500])
def test_reports_http_errors(status: int, server: Server, policy: FetchPolicy) -> None:
    server.routes["/err"] = Route(b"nope", status=status, headers=HTML)
    assert refused(f"{server.base}/err", policy) == f"HTTP {status} from the server"


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Make a self-signed certificate for secure.example with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", "/CN=secure.example", "-keyout", str(key),
         "-out", str(cert), "-addext", "subjectAltName=DNS:secure.example"],
        check=True, capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(
    tls_files: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Server, list[str | None]]]:
    """Serve HTTPS on 127.0.0.1 with the test certificate trusted; record the SNI names seen."""
    cert, key = tls_files
    monkeypatch.setattr(certifi, "where", lambda: str(cert))  # httpx builds its CA store here
    names: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name)  # type: ignore[assignment,func-returns-value]
    routes = {"/article": Route(ARTICLE_HTML.encode(), headers=HTML)}
    with serve(routes, tls=context) as running:
        yield running, names


def test_https_connects_to_the_checked_ip_but_verifies_the_hostname(
    tls_server: tuple[Server, list[str | None]],
    fake_dns: Callable[[str, list[str]], list[str]],
    connections: list[tuple[str, int]],
) -> None:
    server, names = tls_server
    fake_dns("secure.example", ["127.0.0.1"])
    policy = FetchPolicy(timeout_s=2, allow_private_hosts=frozenset({server.hostport}))
    page = fetch_url(f"https://secure.example:{server.port}/article", policy)
    assert page.final_url == f"https://secure.example:{server.port}/article"
    assert names == ["secure.example"]
    assert connections == [("127.0.0.1", server.port)]
    assert server.seen[-1][1]["Host"] == f"secure.example:{server.port}"


def test_https_refuses_a_certificate_for_another_name(
    tls_server: tuple[Server, list[str | None]],
    fake_dns: Callable[[str, list[str]], list[str]],
) -> None:
    server, _names = tls_server
    fake_dns("other.example", ["127.0.0.1"])
    policy = FetchPolicy(timeout_s=2, allow_private_hosts=frozenset({server.hostport}))
    reason = refused(f"https://other.example:{server.port}/article", policy)
    assert reason == "could not connect to other.example"
    assert server.seen == []
