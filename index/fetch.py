"""Fetch moderator-supplied URLs without letting them reach the host's own network (SSRF guard)."""

from __future__ import annotations

import codecs
import ipaddress
import logging
import re
import socket
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from index.deadline import DeadlinePassed, call_within, deadline_transport, remaining
from index.errors import FetchError

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_CONTENT_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain"})
# What a feed may be served as: servers label RSS and Atom all of these ways.
FEED_CONTENT_TYPES = frozenset({
    "application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/xml",
    "text/xml", "text/html", "text/plain",
})  # fmt: skip
USER_AGENT = "newsbot/0.1 (+self-hosted Discord news bot)"

_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
_CONDITIONAL_HEADERS = frozenset({"If-None-Match", "If-Modified-Since"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# inet_aton() and so getaddrinfo() read these as IPv4 addresses: 2130706433, 0x7f000001,
# 0177.0.0.1, 127.1 all mean 127.0.0.1. Nobody writes a real link that way, so refuse them.
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+)){0,3}\.?$", re.IGNORECASE)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# Only loopback and private ranges may be opened up for tests; metadata (link-local),
# multicast, unspecified and reserved addresses stay refused whatever the policy says.
_RELAXABLE = frozenset({"loopback", "private", "not globally routable"})


@dataclass(frozen=True)
class FetchPolicy:
    """Limits and permissions for one fetch; the defaults are safe for untrusted links."""

    timeout_s: float = 10.0  # one deadline for the whole fetch (DNS, connect, reads, redirects)
    max_bytes: int = 5_000_000
    max_redirects: int = 3
    allowed_content_types: frozenset[str] = DEFAULT_CONTENT_TYPES
    # Escape hatch for tests and the e2e setting NEWSBOT_FETCH_ALLOW_PRIVATE: lets the fetcher
    # reach loopback and private addresses (never link-local, e.g. 169.254.169.254).
    allow_private: bool = False
    # Narrower escape hatch: "ip:port" ("[ip]:port" for IPv6) of single private servers to allow.
    allow_private_hosts: frozenset[str] = frozenset()
    user_agent: str = USER_AGENT


@dataclass(frozen=True)
class FetchedPage:
    """A successfully downloaded page."""

    final_url: str
    status: int
    content_type: str
    charset: str | None
    body: bytes
    text: str
    # Validators for a later conditional request (feeds); status 304 has an empty body.
    etag: str | None = None
    last_modified: str | None = None
    not_modified: bool = field(default=False)


@dataclass(frozen=True)
class _Target:
    """One checked hop: the URL as written and the one address it may connect to."""

    url: httpx.URL
    host: str  # ASCII (IDNA) host name, for SNI
    address: IPAddress

    def connect_url(self) -> httpx.URL:
        """Return the URL with the checked address in place of the host name."""
        return self.url.copy_with(host=str(self.address))


def fetch_url(
    url: str, policy: FetchPolicy, conditional: Mapping[str, str] | None = None
) -> FetchedPage:
    """Download a public web page, following and re-checking at most max_redirects redirects.

    `conditional` holds If-None-Match / If-Modified-Since; a 304 then returns not_modified.
    """
    deadline = time.monotonic() + policy.timeout_s
    current = url
    secure = False
    try:
        for _hop in range(policy.max_redirects + 1):
            target = _check_url(current, policy, deadline, origin=url)
            if secure and target.url.scheme != "https":
                raise FetchError(url, "refused: the page redirects from https to plain http")
            secure = target.url.scheme == "https"
            result = _get(target, policy, deadline, url, conditional or {})
            if isinstance(result, FetchedPage):
                return result
            log.debug("redirect from %s to %s", current, result)
            current = result
    except DeadlinePassed as exc:
        raise FetchError(url, f"timed out after {policy.timeout_s:g} s") from exc
    raise FetchError(url, f"too many redirects (more than {policy.max_redirects})")


def _check_url(url: str, policy: FetchPolicy, deadline: float, *, origin: str) -> _Target:
    """Parse url once and refuse anything but http(s) to a public address."""
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise FetchError(origin, "refused: this is not a valid web link") from exc
    if parsed.scheme not in _DEFAULT_PORTS:
        raise FetchError(origin, "refused: only http and https links can be added")
    if parsed.userinfo:
        raise FetchError(origin, "refused: links with a user name or password are not allowed")
    host = parsed.raw_host.decode("ascii").rstrip(".")
    if not host:
        raise FetchError(origin, "refused: the link has no host name")
    port = parsed.port or _DEFAULT_PORTS[parsed.scheme]
    if not 0 < port < 65536:
        raise FetchError(origin, f"refused: {port} is not a valid port")
    addresses = _resolve(host, port, deadline, origin)
    for address in addresses:
        _check_address(address, port, policy, origin)
    # Prefer IPv4: many hosts publish AAAA records but this machine may have no IPv6 route.
    chosen = next((a for a in addresses if a.version == 4), addresses[0])
    return _Target(url=parsed, host=host, address=chosen)


def _resolve(host: str, port: int, deadline: float, origin: str) -> list[IPAddress]:
    """Return every address host stands for, with a single DNS lookup."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass  # not an IP literal: look it up below
    if _NUMERIC_HOST.match(host):
        raise FetchError(origin, f"refused: {host} is an unusual spelling of an IP address")
    try:
        infos = call_within(deadline, _lookup, host, port)
    except (OSError, UnicodeError) as exc:
        raise FetchError(origin, f"could not find the host {host}") from exc
    addresses: list[IPAddress] = []
    for info in infos:
        try:
            addresses.append(ipaddress.ip_address(info[4][0]))
        except ValueError as exc:  # e.g. an IPv6 address with a scope id
            raise FetchError(origin, f"refused: {host} resolves to an unusable address") from exc
    if not addresses:
        raise FetchError(origin, f"could not find the host {host}")
    return addresses


def _lookup(host: str, port: int) -> list[Any]:
    """Ask the system resolver for host's stream addresses."""
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def _check_address(address: IPAddress, port: int, policy: FetchPolicy, origin: str) -> None:
    """Raise FetchError unless address is public or explicitly allowed by the policy."""
    problem = address_problem(address)
    if problem is None:
        return
    shown = f"[{address}]" if address.version == 6 else str(address)
    allowed = policy.allow_private or f"{shown}:{port}" in policy.allow_private_hosts
    if allowed and problem.split(" (")[0] in _RELAXABLE:
        return
    raise FetchError(origin, f"refused: the address {address} is {problem}, not a public host")


def address_problem(address: IPAddress) -> str | None:
    """Return why address is not a public internet address, or None when it is."""
    for candidate in (*_embedded_ipv4(address), address):
        problem = _category(candidate)
        if problem is not None:
            return problem if candidate is address else f"{problem} (it embeds {candidate})"
    return None


def _embedded_ipv4(address: IPAddress) -> list[IPAddress]:
    """Return the IPv4 addresses an IPv6 address wraps (mapped, 6to4, Teredo, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found: list[IPAddress] = []
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


def _category(address: IPAddress) -> str | None:
    """Name the special range address belongs to; the order picks the most telling name."""
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "site-local"  # deprecated fec0::/10, which `ipaddress` still calls global
    if address.is_multicast:
        return "multicast"
    if address.is_reserved:
        return "reserved"
    if address.is_private:
        return "private"
    if not address.is_global:
        return "not globally routable"
    return None


def _get(
    target: _Target,
    policy: FetchPolicy,
    deadline: float,
    origin: str,
    conditional: Mapping[str, str],
) -> FetchedPage | str:
    """Request one hop; return the page, or the absolute URL a redirect points to."""
    left = remaining(deadline)
    # No second DNS lookup can rebind: the request goes to the checked IP literal, while the
    # Host header and the "sni_hostname" extension (httpcore's documented way to connect to an
    # explicit IP) keep the name, so TLS still sends SNI and verifies the certificate for it.
    headers = {
        "Host": target.url.netloc.decode("ascii"),
        "User-Agent": policy.user_agent,
        "Accept": ", ".join(sorted(policy.allowed_content_types)),
        "Accept-Encoding": "gzip",  # decoded below with a size cap; others are refused
        **{k: v for k, v in conditional.items() if k in _CONDITIONAL_HEADERS},
    }
    extensions = {"sni_hostname": target.host} if target.url.scheme == "https" else {}
    # trust_env=False: no proxy variables or .netrc credentials may redirect or decorate us.
    # A fresh client per hop: a pooled connection is never reused under another host name.
    # The transport clamps every connect, read and write to the deadline (see index.deadline).
    transport = deadline_transport(deadline)
    try:
        with (
            httpx.Client(
                trust_env=False, timeout=httpx.Timeout(left), transport=transport
            ) as client,
            client.stream(
                "GET", target.connect_url(), headers=headers, extensions=extensions
            ) as response,
        ):
            return _read_response(response, target, policy, deadline, origin, bool(conditional))
    except httpx.HTTPError as exc:
        raise _transport_failure(exc, target, policy, deadline, origin) from exc


_DEADLINE_SLACK_S = 0.1


def _transport_failure(
    exc: httpx.HTTPError, target: _Target, policy: FetchPolicy, deadline: float, origin: str
) -> FetchError:
    """Say why a request failed; past the deadline, whatever broke, it is the timeout."""
    # The deadline cuts sockets off mid-message, which httpx may report as a protocol error
    # (a body cut short) rather than a timeout, on a loaded machine especially.
    # The clamped socket timeout can fire a hair before the clock reaches the deadline.
    if isinstance(exc, httpx.TimeoutException) or time.monotonic() >= deadline - _DEADLINE_SLACK_S:
        return FetchError(origin, f"timed out after {policy.timeout_s:g} s")
    if isinstance(exc, httpx.ConnectError):
        return FetchError(origin, f"could not connect to {target.host}")
    if isinstance(exc, httpx.RemoteProtocolError):  # e.g. a malformed Location header
        return FetchError(origin, f"{target.host} sent an invalid response")
    return FetchError(origin, f"the download from {target.host} failed")


def _read_response(
    response: httpx.Response,
    target: _Target,
    policy: FetchPolicy,
    deadline: float,
    origin: str,
    conditional: bool = False,
) -> FetchedPage | str:
    """Check status, type and size of a response, then read its body."""
    status = response.status_code
    etag, modified = response.headers.get("etag"), response.headers.get("last-modified")
    if status == 304 and conditional:  # only a conditional request may be answered "unchanged"
        return FetchedPage(str(target.url), status, "", None, b"", "", etag, modified, True)
    if status in _REDIRECT_STATUSES:
        location = response.headers.get("location")
        if not location:
            raise FetchError(origin, f"HTTP {status} redirect without a target from the server")
        return str(target.url.join(location))
    if not 200 <= status < 300:
        raise FetchError(origin, f"HTTP {status} from the server")
    content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type not in policy.allowed_content_types:
        raise FetchError(origin, f"unsupported content type {content_type or '(none given)'}")
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > policy.max_bytes:
        raise FetchError(origin, f"too large: the page is over {_size(policy.max_bytes)}")
    body = _read_body(response, policy, deadline, origin)
    charset = _known_charset(response.charset_encoding)
    text = body.decode(charset or "utf-8-sig", errors="replace")
    return FetchedPage(str(target.url), status, content_type, charset, body, text, etag, modified)


def _read_body(
    response: httpx.Response, policy: FetchPolicy, deadline: float, origin: str
) -> bytes:
    """Stream the body, aborting past max_bytes (after decompression) or past the deadline."""
    encoding = response.headers.get("content-encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", "x-gzip"):
        raise FetchError(origin, f"unsupported content encoding {encoding}")
    # Decompress by hand with an output cap: httpx's own decoder would inflate a gzip bomb whole.
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding != "identity" else None
    too_large = FetchError(origin, f"too large: the page is over {_size(policy.max_bytes)}")
    chunks: list[bytes] = []
    size = raw_size = 0
    try:
        for raw in response.iter_raw():
            # The read timeout only bounds each read; this bounds a server that drips bytes.
            if time.monotonic() > deadline:
                raise FetchError(origin, f"timed out after {policy.timeout_s:g} s")
            raw_size += len(raw)
            piece = inflater.decompress(raw, policy.max_bytes + 1 - size) if inflater else raw
            size += len(piece)
            if raw_size > policy.max_bytes or size > policy.max_bytes:
                raise too_large
            if inflater is not None and inflater.unconsumed_tail:
                raise too_large
            chunks.append(piece)
        if inflater is not None:
            chunks.append(inflater.flush())
    except zlib.error as exc:
        raise FetchError(origin, "the server sent a damaged compressed page") from exc
    body = b"".join(chunks)
    if len(body) > policy.max_bytes:
        raise too_large
    return body


def _known_charset(charset: str | None) -> str | None:
    """Return the declared charset when Python knows it, else None (utf-8 is used)."""
    if not charset:
        return None
    try:
        return codecs.lookup(charset).name
    except LookupError:
        return None


def _size(n: int) -> str:
    """Spell a byte count the way a moderator reads it, e.g. "5 MB"."""
    if n >= 1_000_000:
        return f"{n / 1_000_000:g} MB"
    if n >= 1_000:
        return f"{n / 1_000:g} KB"
    return f"{n} bytes"
