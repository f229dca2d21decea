"""Turn web pages into raw documents: main-text extraction with trafilatura, and URL fetching."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import trafilatura
from trafilatura.settings import set_date_params

from index.errors import IngestError
from index.fetch import FetchPolicy, fetch_url
from index.models import RawDocument

# Below this many characters a page is a teaser, a paywall or a navigation page, not a story.
MIN_TEXT_CHARS = 200
NO_TEXT = "no article text could be extracted from the page"


def extract_html(html: str | bytes, *, origin: str, url: str | None = None) -> RawDocument:
    """Extract a page's main text and metadata, refusing pages without an article."""
    document = trafilatura.bare_extraction(
        html,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        # No "extensive" search: it guesses dates from copyright lines and loose text.
        date_extraction_params=set_date_params(extensive=False),
    )
    text = _paragraphs(getattr(document, "text", None) or "")
    if len(text) < MIN_TEXT_CHARS:
        raise IngestError(origin, NO_TEXT)
    canonical = _web_url(getattr(document, "url", None)) or url
    return RawDocument(
        text=text,
        origin=origin,
        kind="html",
        title=_clean(getattr(document, "title", None)),
        url=canonical,
        source=_real_sitename(getattr(document, "sitename", None), canonical),
        published=_clean(getattr(document, "date", None)),
    )


def fetch_article(url: str, policy: FetchPolicy) -> RawDocument:
    """Fetch a public URL and return its story as plain text or extracted HTML."""
    page = fetch_url(url, policy)
    if page.content_type == "text/plain":
        text = _paragraphs(page.text)
        if len(text) < MIN_TEXT_CHARS:
            raise IngestError(url, "the text file is too short to be a story")
        return RawDocument(text=text, origin=url, kind="text", url=page.final_url)
    # Without a declared charset, hand trafilatura the bytes so it can read <meta charset>.
    html: str | bytes = page.text if page.charset else page.body
    return extract_html(html, origin=url, url=page.final_url)


def _paragraphs(text: str) -> str:
    """Normalise line endings and drop blank lines, one paragraph per line."""
    lines = (line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return "\n".join(line for line in lines if line)


def _clean(value: str | None) -> str | None:
    """Return a stripped metadata value, or None when it is empty."""
    return value.strip() or None if value else None


def _web_url(value: str | None) -> str | None:
    """Return value when it is an absolute http(s) URL, else None."""
    if value and urlsplit(value).scheme in ("http", "https") and urlsplit(value).netloc:
        return value
    return None


def _real_sitename(sitename: str | None, url: str | None) -> str | None:
    """Return the page's own site name, dropping the one trafilatura derives from the URL."""
    sitename = _clean(sitename)
    if sitename is None or url is None:
        return sitename
    # trafilatura falls back to the URL's host (minus "www.") when a page names no site;
    # that is not a publisher the page stated, so do not report it as one.
    host = re.sub(r"^(?:www\.|w[0-9]+\.)", "", urlsplit(url).netloc)
    return None if sitename == host else sitename
