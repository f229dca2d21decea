"""Plain renderings of core results: the JSON contract and a text form for terminals."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from index.models import Answer, Article, Citation, Disagreement, Outlet, Provenance


def _iso(d: date | None) -> str | None:
    """Return a date as YYYY-MM-DD, or None."""
    return d.isoformat() if d else None


# Shown before a review status wherever a story is cited or listed.
STATUS_MARKS = {"verified": "✅", "disputed": "⚠️", "retracted": "⛔"}
NOTE_CHARS = 120  # of a moderator's note beside a disputed citation


def provenance_to_dict(p: Provenance) -> dict[str, Any]:
    """Return the provenance fields a citation carries."""
    return {
        "review_status": p.review_status,
        "review_label": p.review_label,
        "confidence": p.confidence,
        "sources_reviewed": p.sources_reviewed,
        "review_note": p.note,
    }


def review_to_dict(p: Provenance) -> dict[str, Any]:
    """Return who reviewed a story and when (None for what the page says of itself)."""
    return {
        "reviewed_by": p.reviewed_by,
        "reviewed_at": p.reviewed_at.isoformat() if p.reviewed_at else None,
    }


def citation_to_dict(c: Citation) -> dict[str, Any]:
    """Return one citation of the `ask --json` contract."""
    return {
        "n": c.n,
        "article_id": c.article_id,
        "title": c.title,
        "url": c.url,
        "source": c.source,
        "published": _iso(c.published),
        "excerpt": c.excerpt,
        "excerpts": list(c.excerpts),
        **provenance_to_dict(c.provenance),
        "also_reported": [
            {"source": o.source, "title": o.title, "url": o.url, "article_id": o.article_id}
            for o in c.also_reported
        ],
    }


def also_reported_line(
    outlets: Sequence[Outlet],
    name: Callable[[str], str] = str,
    link: Callable[[str | None], str] = lambda url: f"<{url}>" if url else "no link",
) -> str | None:
    """Return "also reported by The Verge <link>, Reuters <link>", or None without outlets;
    `name` and `link` escape for the medium (terminal, Discord)."""
    if not outlets:
        return None
    return "also reported by " + ", ".join(f"{name(o.source)} {link(o.url)}" for o in outlets)


def answer_to_dict(a: Answer) -> dict[str, Any]:
    """Return the `ask --json` object."""
    return {
        "question": a.question,
        "refused": a.refused,
        "answer": a.text,
        "citations": [citation_to_dict(c) for c in a.citations],
        "as_of": _iso(a.as_of),
        "suggestions": [
            {
                "article_id": s.article_id,
                "title": s.title,
                "url": s.url,
                "published": _iso(s.published),
            }
            for s in a.suggestions
        ],
        "confidence": round(a.confidence, 4),
        "disagreements": [disagreement_to_dict(d) for d in a.disagreements],
        "stale_days": a.stale_days,
        "question_id": a.question_id,
    }


def disagreement_to_dict(d: Disagreement) -> dict[str, Any]:
    """Return one disagreement: its kind, shared subject words, and each side's claim."""
    return {
        "kind": d.kind,
        "subject": list(d.subject),
        "claims": [{"n": c.n, "value": c.value, "published": _iso(c.published)} for c in d.claims],
    }


def disagreement_line(d: Disagreement) -> str:
    """Return 'Sources differ: [1] says X (Mar 1, 2026); [2] says Y (Apr 10, 2026).'"""
    sides = [f"[{c.n}] says {c.value} ({_when(c.published)})" for c in d.claims]
    return "Sources differ: " + "; ".join(sides) + "."


def article_to_dict(a: Article) -> dict[str, Any]:
    """Return a story's metadata (not its text) for `articles --json`."""
    return {
        "id": a.id,
        "title": a.title,
        "url": a.url,
        "source": a.source,
        "published": _iso(a.published),
        "updated": _iso(a.updated),
        "summary": a.summary,
        "key_questions": [{"question": k.question, "answer": k.answer} for k in a.key_questions],
        **provenance_to_dict(a.provenance),
        **review_to_dict(a.provenance),
        "chunks": a.chunk_count,
        "added_at": a.added_at.isoformat() if a.added_at else None,
        "added_by": a.added_by,
        "origin": a.origin,
    }


def _when(d: date | None) -> str:
    """Return a date as 'May 11, 2026', or 'undated'."""
    return d.strftime("%b %-d, %Y") if d else "undated"


def source_line(title: str, source: str | None, published: date | None, url: str | None) -> str:
    """Return 'title — publisher, date — link' with honest placeholders for what is unknown."""
    when = published.strftime("%b %-d, %Y") if published else "undated"
    link = url or "no link"
    return f"{title} — {source or 'publisher not stated'}, {when} — {link}"


def status_label(p: Provenance) -> str:
    """Return the review status with its mark, e.g. '⚠️ disputed' (empty when not stated)."""
    if not p.review_status:
        return ""
    mark = STATUS_MARKS.get(p.review_status)
    return f"{mark} {p.review_status}" if mark else p.review_status


def provenance_note(p: Provenance) -> str:
    """Return a compact note such as '✅ verified · 85/100 · 1 source' (a dispute's reason too)."""
    parts = [status_label(p)] if p.review_status else []
    if p.confidence is not None:
        parts.append(f"{p.confidence}/100")
    if p.sources_reviewed is not None:
        parts.append(f"{p.sources_reviewed} source{'s' if p.sources_reviewed != 1 else ''}")
    note = " · ".join(parts)
    if p.disputed and p.note and p.note.strip():
        reason = " ".join(p.note.split())
        reason = reason if len(reason) <= NOTE_CHARS else reason[: NOTE_CHARS - 1].rstrip() + "…"
        note += f" — {reason}"
    return note


def disputed_mark(p: Provenance) -> str:
    """Return the mark put after an excerpt quoted from a disputed story, else ''."""
    return f" ({status_label(p)})" if p.disputed else ""


def answer_to_text(a: Answer) -> str:
    """Return the answer as plain text: excerpts with [n] markers, then the sources."""
    if a.refused:
        lines = [a.text]
        if a.suggestions:
            lines += ["", "Nearest stories:"]
            lines += [f"- {source_line(s.title, None, s.published, s.url)}" for s in a.suggestions]
        return "\n".join(lines)
    dates = {c.n: c.published for c in a.citations}
    marks = {c.n: disputed_mark(c.provenance) for c in a.citations}
    lines = [
        f"\u201c{quote_body(e.text, e.bold)}\u201d [{e.n}]"
        + (f" ({_when(dates[e.n])})" if a.spans_months else "")
        + marks[e.n]
        for e in a.excerpts
    ] + ["", "Sources:"]
    for c in a.citations:
        lines.append(f"[{c.n}] {source_line(c.title, c.source, c.published, c.url)}")
        note = provenance_note(c.provenance)
        if note:
            lines.append(f"    {note}")
        others = also_reported_line(c.also_reported)
        if others:
            lines.append(f"    {others}")
    if a.disagreements:
        lines += [""] + [disagreement_line(d) for d in a.disagreements]
    if a.as_of:
        lines += ["", f"As of {_when(a.as_of)}."]
    if a.stale_days:
        lines.append(f"Note: the newest story cited is {a.stale_days} days old.")
    return "\n".join(lines)


def embolden(
    text: str, spans: Sequence[tuple[int, int]], escape: Callable[[str], str] = str
) -> str:
    """Return text with each [start, end) span wrapped in ** and every piece escaped."""
    out, at = [], 0
    for start, end in spans:
        if start < at or end > len(text):
            continue
        out += [escape(text[at:start]), "**", escape(text[start:end]), "**"]
        at = end
    out.append(escape(text[at:]))
    return "".join(out)


# A line break inside a quoted excerpt, with the blank space around it: a window of sentences
# (index/rank/_window.py) may span paragraphs, and a quote is laid out on one line.
_BREAK = re.compile(r"[ \t]*\n\s*")


def on_one_line(text: str) -> str:
    """Return text with each line break (and the blank space around it) as one space."""
    return _BREAK.sub(" ", text)


def quote_body(
    text: str, spans: Sequence[tuple[int, int]], escape: Callable[[str], str] = str
) -> str:
    """Return an excerpt as every layout shows it: on one line (a paragraph break reads as a
    space), its answer spans bold, each piece escaped; the excerpt itself stays verbatim."""
    return embolden(text, spans, lambda piece: escape(on_one_line(piece)))
