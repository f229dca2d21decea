"""Turn ingest arguments (files, folders, JSONL, URLs) into raw documents or typed failures."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from index.errors import IngestError, SkippedFile
from index.models import RawDocument

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
JSONL_SUFFIXES = frozenset({".jsonl"})
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES
MAX_FILE_BYTES = 20_000_000

Fetcher = Callable[[str], RawDocument]


def is_url(source: str) -> bool:
    """Return True when source looks like a web address rather than a path."""
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", source))


def iter_documents(sources: list[str], fetch: Fetcher) -> Iterator[RawDocument | IngestError]:
    """Yield a document, or the reason it failed, for every story the sources hold."""
    for source in sources:
        if is_url(source):
            try:
                yield fetch(source)
            except IngestError as exc:
                yield exc
            continue
        path = Path(source)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file())
            for file in files:
                if file.suffix.lower() in SUPPORTED_SUFFIXES:
                    yield from _from_file(file)
                else:  # named, so a story saved as .rtf or .docx is not silently missing
                    kind = file.suffix.lower() or "(no extension)"
                    reason = f"skipped: {kind} is not a story file type (.txt, .md, .html, .jsonl)"
                    yield SkippedFile(shown(str(file)), reason)
        elif path.is_file():
            yield from _from_file(path)
        else:
            yield IngestError(shown(source), "no such file or folder")


def _from_file(path: Path) -> Iterator[RawDocument | IngestError]:
    """Yield the documents of one file, by its suffix."""
    origin = shown(str(path))
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        yield IngestError(origin, f"unsupported file type {suffix or '(none)'}; use .txt, .md, "
                                  ".html or .jsonl")  # fmt: skip
        return
    try:
        text = read_text_file(path)
    except IngestError as exc:
        yield exc
        return
    if not text.strip():  # said plainly, not "too short" nor (for JSONL) silently nothing
        yield IngestError(origin, "the file is empty" + ("" if not text else " (only blank lines)"))
        return
    if suffix in JSONL_SUFFIXES:
        yield from parse_jsonl(text, origin)
    elif suffix in HTML_SUFFIXES:
        from index.html import extract_html

        try:
            yield extract_html(text, origin=origin)
        except IngestError as exc:
            yield exc
    else:
        yield RawDocument(
            text=text, origin=origin, fallback_title=title_from_filename(path),
            identity=file_identity(path),
        )  # fmt: skip


def file_identity(path: Path) -> str:
    """Return what identifies a local file's story: its resolved path, never its bare name."""
    return "file:" + shown(str(path.resolve()))


def shown(name: str) -> str:
    """Return a path or argument as printable text (undecodable bytes become U+FFFD)."""
    return name.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def read_text_file(path: Path) -> str:
    """Read a UTF-8 text file, refusing binary, oversized and non-UTF-8 files."""
    origin = shown(str(path))
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise IngestError(origin, "file is larger than 20 MB")
        data = path.read_bytes()
    except OSError as exc:
        raise IngestError(origin, f"cannot read file ({exc.strerror or exc})") from exc
    return decode_text(data, origin)


def decode_text(data: bytes, origin: str) -> str:
    """Decode a file's bytes as UTF-8 text, refusing binary and non-UTF-8 data."""
    if b"\x00" in data[:8192]:
        raise IngestError(origin, "looks like a binary file, not text")
    try:
        return data.decode("utf-8-sig")  # strict: a wrong byte is an error, not a replacement
    except UnicodeDecodeError as exc:
        raise IngestError(origin, f"not UTF-8 text (bad byte at offset {exc.start})") from exc


_ACRONYMS = frozenset({"ai", "api", "ceo", "eu", "gpu", "llm", "uk", "un", "us", "usa"})
_SMALL_WORDS = frozenset({"a", "an", "and", "as", "at", "by", "for", "in", "of", "on", "or", "the",
                          "to", "vs"})  # fmt: skip


def title_from_filename(path: Path) -> str:
    """Return a readable title from a file name: 'ai-news_of-today.txt' -> 'AI News of Today'."""
    words = re.sub(r"[-_]+", " ", path.stem).split()
    if not words:
        return path.name
    titled = [
        w.upper() if w.lower() in _ACRONYMS
        else w.lower() if i and w.lower() in _SMALL_WORDS
        else w[:1].upper() + w[1:]
        for i, w in enumerate(words)
    ]  # fmt: skip
    return " ".join(titled)


def parse_jsonl(text: str, origin: str) -> Iterator[RawDocument | IngestError]:
    """Yield one document per valid line; a bad line yields an error naming its line number."""
    seen: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{origin}:{lineno}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield IngestError(where, f"invalid JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            yield IngestError(where, "each line must be a JSON object")
            continue
        body = record.get("text")
        if not isinstance(body, str) or not body.strip():
            yield IngestError(where, "missing or empty 'text'")
            continue
        rid = _opt_str(record.get("id"))
        if rid is not None:
            if rid in seen:
                yield IngestError(where, f"duplicate id {rid!r} in this file")
                continue
            seen.add(rid)
        yield RawDocument(
            text=body,
            origin=where,
            id=rid,
            title=_opt_str(record.get("title")),
            url=_opt_str(record.get("url")),
            source=_opt_str(record.get("source")),
            published=_opt_str(record.get("published")),
        )


def _opt_str(value: object) -> str | None:
    """Return a non-empty string value, or None."""
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def web_url(url: str) -> bool:
    """Return True for an absolute http(s) URL that parses (host, port) cleanly."""
    try:
        parts = urlsplit(url.strip())
        port_ok = parts.port is None or parts.port > 0  # .port raises on a bad port
    except ValueError:  # e.g. "http://[::1" or a port out of range
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname) and port_ok


# Lone surrogates (undecodable bytes in file names or JSON "\ud800" escapes) cannot be stored in
# SQLite or printed; metadata is one line of text without control characters.
_SURROGATES = re.compile(r"[\ud800-\udfff]")
_META_JUNK = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def scrubbed(doc: RawDocument) -> RawDocument:
    """Return doc without lone surrogates, and its metadata on one line without controls."""

    def line(value: str | None) -> str | None:
        return " ".join(_META_JUNK.sub(" ", value).split()) or None if value else None

    return replace(
        doc, text=_SURROGATES.sub("", doc.text), origin=line(doc.origin) or "(unnamed source)",
        id=line(doc.id), title=line(doc.title), url=line(doc.url), source=line(doc.source),
        published=line(doc.published), fallback_title=line(doc.fallback_title),
    )  # fmt: skip


_TRACKING_PARAMS = re.compile(r"^(utm_.*|fbclid|gclid|mc_cid|mc_eid|ref|cmpid)$", re.I)


def canonical_url(url: str) -> str:
    """Return a URL without fragment, tracking parameters, default port or case noise."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    port = parts.port
    if port and not (
        (parts.scheme == "http" and port == 80) or (parts.scheme == "https" and port == 443)
    ):
        host = f"{host}:{port}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query) if not _TRACKING_PARAMS.match(k)])
    path = parts.path or "/"
    return urlunsplit((parts.scheme.lower(), host, path, query, ""))
