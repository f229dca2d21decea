"""Main-text extraction from HTML, and fetching articles from a local server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from index.errors import FetchError, IngestError
from index.fetch import FetchPolicy
from index.html import NO_TEXT, extract_html, fetch_article
from tests.index.httpserver import ARTICLE_HTML, Route, Server, serve

STORY = (
    "Anthropic said on Tuesday that its new model family scores higher on coding benchmarks, "
    "and that the largest version will be offered to enterprise customers first.\n"
    "The company did not say when the smaller models would reach the free tier."
)
NAV_ONLY = (
    "<html><head><title>Home</title></head><body><nav><a href='/'>Home</a></nav></body></html>"
)


@pytest.fixture
def server() -> Iterator[Server]:
    """Serve an article, a plain-text story and pages without a story on 127.0.0.1."""
    html = {"Content-Type": "text/html; charset=utf-8"}
    plain = {"Content-Type": "text/plain; charset=utf-8"}
    routes = {
        "/article": Route(ARTICLE_HTML.encode(), headers=html),
        "/story.txt": Route(STORY.encode(), headers=plain),
        "/short.txt": Route(b"Too short.", headers=plain),
        "/empty": Route(NAV_ONLY.encode(), headers=html),
        "/gone": Route(b"", status=404, headers=html),
    }
    with serve(routes) as running:
        yield running


@pytest.fixture
def policy(server: Server) -> FetchPolicy:
    """Allow only the test server's own ip:port."""
    return FetchPolicy(timeout_s=2, allow_private_hosts=frozenset({server.hostport}))


def test_extracts_text_and_metadata() -> None:
    doc = extract_html(ARTICLE_HTML, origin="page.html")
    assert doc.kind == "html" and doc.origin == "page.html"
    assert doc.title == "OpenAI ships a faster model"
    assert doc.published == "2024-05-13"
    assert doc.source == "AI Wire"
    assert doc.url == "https://aiwire.example/openai-faster-model"  # canonical link
    lines = doc.text.split("\n")
    assert any(line.startswith("OpenAI released a new multimodal model") for line in lines)
    assert any(line.startswith("Analysts said") for line in lines)
    assert "Jobs" not in doc.text and "All rights reserved" not in doc.text


def test_reads_bytes_with_a_meta_charset() -> None:
    page = ARTICLE_HTML.replace('charset="utf-8"', 'charset="windows-1252"')
    page = page.replace("Analysts said", "Analysts\u2019 view said")
    doc = extract_html(page.encode("cp1252"), origin="page.html")
    assert "Analysts\u2019 view said" in doc.text


def test_never_invents_a_publisher_from_the_host_name() -> None:
    page = ARTICLE_HTML.replace('<meta property="og:site_name" content="AI Wire">', "")
    page = page.replace(" | AI Wire", "").replace(
        "https://aiwire.example/", "https://www.aiwire.example/"
    )
    doc = extract_html(page, origin="page.html")
    assert doc.source is None


def test_does_not_guess_a_date_from_the_copyright_line() -> None:
    page = ARTICLE_HTML.replace(
        '<meta property="article:published_time" content="2024-05-13T10:00:00Z">', ""
    )
    assert extract_html(page, origin="page.html").published is None


def test_falls_back_to_the_given_url_without_a_canonical_link() -> None:
    page = ARTICLE_HTML.replace(
        '<link rel="canonical" href="https://aiwire.example/openai-faster-model">', ""
    )
    doc = extract_html(page, origin="x", url="https://news.example/a")
    assert doc.url == "https://news.example/a"


@pytest.mark.parametrize(
    "html",
    [
        "",
        NAV_ONLY,
        "<html><body><article><p>OpenAI shipped a model.</p></article></body></html>",
        b"\x00\x01\x02 binary",
    ],
)
def test_refuses_pages_without_article_text(html: str | bytes) -> None:
    with pytest.raises(IngestError) as info:
        extract_html(html, origin="page.html")
    assert info.value.reason == NO_TEXT


def test_fetch_article_extracts_a_served_page(server: Server, policy: FetchPolicy) -> None:
    doc = fetch_article(f"{server.base}/article", policy)
    assert doc.kind == "html" and doc.origin == f"{server.base}/article"
    assert doc.title == "OpenAI ships a faster model"
    assert doc.published == "2024-05-13"
    assert "320 milliseconds" in doc.text


def test_fetch_article_keeps_plain_text(server: Server, policy: FetchPolicy) -> None:
    doc = fetch_article(f"{server.base}/story.txt", policy)
    assert (doc.kind, doc.text, doc.url) == ("text", STORY, f"{server.base}/story.txt")


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/short.txt", "the text file is too short to be a story"),
        ("/empty", NO_TEXT),
        ("/gone", "HTTP 404 from the server"),
    ],
)
def test_fetch_article_failures_are_ingest_errors(
    path: str, reason: str, server: Server, policy: FetchPolicy
) -> None:
    with pytest.raises(IngestError) as info:
        fetch_article(f"{server.base}{path}", policy)
    assert info.value.reason == reason
    assert info.value.source == f"{server.base}{path}"


def test_fetch_article_applies_the_guard(server: Server) -> None:
    with pytest.raises(FetchError) as info:
        fetch_article(f"{server.base}/article", FetchPolicy(timeout_s=1))
    assert info.value.reason.startswith("refused: the address 127.0.0.1 is loopback")
    assert server.seen == []
