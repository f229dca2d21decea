"""Blocking story-curation steps the story commands run in worker threads (no Discord here)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from index.errors import IngestError, NewsbotError
from index.models import RawDocument
from index.services import Services
from index.sources import HTML_SUFFIXES, TEXT_SUFFIXES, decode_text, title_from_filename

UPLOAD_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES


class UnknownStory(NewsbotError):
    """A story option that matches no indexed story."""

    def __init__(self, given: str) -> None:
        super().__init__(
            f"No indexed story matches “{given[:100]}”; pick one from the suggestions."
        )
        self.given = given


@dataclass(frozen=True, slots=True)
class StoryRef:
    """A story as menus and autocomplete need it."""

    id: str
    title: str
    date: date | None


def check_upload_name(filename: str) -> str:
    """Return the lowercased suffix of an uploaded file, refusing unsupported types."""
    suffix = Path(filename).suffix.lower()
    if suffix not in UPLOAD_SUFFIXES:
        shown = suffix or "(none)"
        raise IngestError(
            filename, f"unsupported file type {shown}; attach a .txt, .md or .html file"
        )
    return suffix


def document_from_upload(filename: str, data: bytes) -> RawDocument:
    """Return the raw document of an uploaded .txt/.md/.html file, refusing binary or non-UTF-8."""
    suffix = check_upload_name(filename)
    text = decode_text(data, filename)
    if not text.strip():
        raise IngestError(filename, "the file is empty")
    if suffix in HTML_SUFFIXES:
        from index.html import extract_html

        return extract_html(text, origin=filename)
    title = title_from_filename(Path(filename))
    # An upload has no path: its content and name identify it (two story.txt are two stories).
    identity = f"upload:{hashlib.sha256(data).hexdigest()}:{filename}"
    return RawDocument(text=text, origin=filename, fallback_title=title, identity=identity)


def pasted_document(
    text: str, title: str, url: str | None, source: str | None, published: str | None, origin: str
) -> RawDocument:
    """Return the raw document of a story pasted into the modal."""
    if url and not url.lower().startswith(("http://", "https://")):
        raise IngestError("the pasted story", "the link must start with http:// or https://")
    return RawDocument(
        text=text, origin=origin, title=title.strip() or None, url=url or None,
        source=source or None, published=published or None,
    )  # fmt: skip


def story_refs(services: Services, library: int) -> list[StoryRef]:
    """Return a library's stories, newest first, for menus and autocomplete."""
    stories = services.stories.list_stories((library,))
    return [StoryRef(a.id, a.title, a.date) for a in stories]


def resolve_story(refs: list[StoryRef], given: str) -> str:
    """Return the id of the story an option names: its id, or else its exact title."""
    given = given.strip()
    for ref in refs:
        if ref.id == given:
            return ref.id
    wanted = " ".join(given.split()).casefold()
    for ref in refs:
        if " ".join(ref.title.split()).casefold() == wanted:
            return ref.id
    raise UnknownStory(given)


def matching_stories(refs: list[StoryRef], typed: str, limit: int) -> list[StoryRef]:
    """Return up to `limit` stories whose title or id contains what was typed, newest first."""
    needle = " ".join(typed.split()).casefold()
    found = [r for r in refs if needle in r.title.casefold() or needle in r.id.casefold()]
    return found[:limit]
