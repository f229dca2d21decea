"""Parse a raw story into cleaned text plus the metadata the page states about itself."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator, Mapping
from datetime import date

from index import clean
from index.models import KeyQuestion, ParsedStory, Provenance, ReviewStatus

_FRONT_MATTER = re.compile(
    r"\A\ufeff?(?:[ \t]*\r?\n)*[ \t]*---[ \t]*\r?\n(.*?)^[ \t]*---[ \t]*(?:\r?\n|\Z)",
    re.DOTALL | re.MULTILINE,
)
_FRONT_MATTER_LINE = re.compile(r"([A-Za-z_][\w -]{0,40}):(.*)")
_FRONT_MATTER_MAX = 5_000  # a longer block is not metadata
_KEY_ALIASES = {
    "title": ("title", "headline"),
    "source": ("source", "publisher", "site_name", "site"),
    "published": ("published", "date", "published_at", "pubdate", "published_date"),
    "updated": ("updated", "modified", "updated_at", "last_updated"),
}

_KNOWN_KEYS = frozenset({"url", *(k for keys in _KEY_ALIASES.values() for k in keys)})

_MONTH_NAMES = (
    "january february march april may june july august september october november december"
)
# Full names, three-letter abbreviations and "Sept" -> month number.
_MONTHS = {
    **{name: n for n, name in enumerate(_MONTH_NAMES.split(), start=1)},
    **{name[:3]: n for n, name in enumerate(_MONTH_NAMES.split(), start=1)},
    "sept": 9,
}
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?!\d)")
_MONTH_FIRST = re.compile(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b")
_DAY_FIRST = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?([A-Za-z]{3,9})\.?,?\s+(\d{4})\b")
_DATE_MAX = 120  # longer strings are prose, not a date

_TOP_LINES = 12  # "Updated ..." lines and "This X brief" phrases sit near the top
# "Updated May 11, 2026", "Published: 2026-05-01 | Updated ...": the kind and the date text.
_STAMP = re.compile(
    r"\b(published|posted|updated)\b(?:\s+on)?\s*:?\s*"
    r"(.+?)\s*(?=$|[|·•;]|\b(?:published|posted|updated)\b)",
    re.IGNORECASE,
)
_STAMP_MAX = 160
_BRIEF = re.compile(
    r"\bThis\s+((?:[A-Z][\w&'’.-]*\s+){1,5}?)(?:brief|newsletter|report|digest|bulletin)\b"
)
_NOT_A_PUBLISHER = frozenset({"week", "week's", "weekly", "daily", "monthly", "special", "new"})

_HEADLINE_MAX = 200
_SUMMARY_MAX = 300
_TLDR_HEADINGS = frozenset({"tl;dr", "tldr", "tl dr", "summary", "in brief"})
_TLDR_INLINE = re.compile(r"(?:tl;\s?dr|tldr|tl dr)\s*[:\-–—]\s*(?=\S)", re.IGNORECASE)
_SENTENCE_STOP = re.compile(r"""[.!?]+["”’')\]]*(?=\s+["“‘(]?[A-Z0-9]|\s*$)""")
_PROSE_MIN = 60

_KQ_HEADINGS = frozenset({"key questions", "faq", "faqs", "frequently asked questions"})
_QUESTION_MAX = 300
_HEADING_MAX = 80

# Ordered: "not reviewed" must win over "reviewed".
_REVIEW_STATUS: tuple[tuple[re.Pattern[str], ReviewStatus], ...] = (
    (re.compile(r"\bunreviewed\b|\bnot (?:been )?reviewed\b"), "unreviewed"),
    (re.compile(r"\bretracted\b"), "retracted"),
    (re.compile(r"\bdisputed\b"), "disputed"),
    (re.compile(r"\b(?:human|editor|editorially) reviewed\b|\bverified\b|\bfact[- ]checked\b"),
     "verified"),
)  # fmt: skip
_SCORE = re.compile(r"(?<!\d)(\d{1,3})\s*(?:/\s*100\b|%)")


def split_front_matter(raw: str) -> tuple[dict[str, str], str]:
    """Return the "key: value" front matter at the top of raw (lower-case keys) and the rest."""
    match = _FRONT_MATTER.match(raw[: _FRONT_MATTER_MAX + 100])
    if not match or len(match.group(1)) > _FRONT_MATTER_MAX:
        return {}, raw
    meta: dict[str, str] = {}
    for line in match.group(1).splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        pair = _FRONT_MATTER_LINE.fullmatch(line.strip())
        if pair is None:
            return {}, raw  # not a front matter block after all
        key = re.sub(r"[\s-]+", "_", pair.group(1).strip().lower())
        meta[key] = _unquote(pair.group(2).strip())
    if not _KNOWN_KEYS & meta.keys():
        return {}, raw  # "Note: ..." lines between two rules are story text, not metadata
    return meta, raw[match.end() :]


def parse_date(s: str) -> date | None:
    """Return the date in s ("2026-05-11", "May 11, 2026", "11 May 2026", ...), or None."""
    text = s.strip()
    if not text or len(text) > _DATE_MAX:
        return None
    if m := _ISO_DATE.search(text):
        return _date(m.group(1), m.group(2), m.group(3))
    for m in _MONTH_FIRST.finditer(text):
        if month := _MONTHS.get(m.group(1).lower()):
            return _date(m.group(3), month, m.group(2))
    for m in _DAY_FIRST.finditer(text):
        if month := _MONTHS.get(m.group(2).lower()):
            return _date(m.group(3), month, m.group(1))
    return None


def parse_story(
    raw: str,
    *,
    title: str | None = None,
    source: str | None = None,
    published: str | None = None,
    fallback_title: str | None = None,
) -> ParsedStory:
    """Clean raw and read its title, dates, source, summary, key questions and provenance."""
    meta, body = split_front_matter(raw)
    widget = clean.find_provenance_widget(clean.normalize(body).split("\n"))
    text = clean.clean_text(body)
    lines = text.split("\n")
    stamps = _stamps(lines)
    headline = _headline(lines)
    return ParsedStory(
        title=_first(title, _meta(meta, "title"), headline, fallback_title),
        text=text,
        source=_first(source, _meta(meta, "source"), _publisher(lines)),
        published=_first_date(published, _meta(meta, "published"), stamps.get("published")),
        updated=_first_date(_meta(meta, "updated"), stamps.get("updated")),
        summary=_summary(lines, headline),
        key_questions=tuple(_key_questions(text)),
        provenance=_provenance(widget),
    )


# -- metadata ---------------------------------------------------------------------------------


def _unquote(value: str) -> str:
    """Return value without one pair of surrounding quotes."""
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1].strip()
    return value


def _meta(meta: Mapping[str, str], name: str) -> str | None:
    """Return the first non-empty front matter value under any alias of name."""
    return next((meta[k] for k in _KEY_ALIASES[name] if meta.get(k, "").strip()), None)


def _first(*candidates: str | None) -> str | None:
    """Return the first candidate with text in it, stripped."""
    return next((c.strip() for c in candidates if c and c.strip()), None)


def _first_date(*candidates: str | None) -> date | None:
    """Return the first candidate that parses as a date."""
    return next((d for c in candidates if c and (d := parse_date(c))), None)


def _date(year: str, month: str | int, day: str) -> date | None:
    """Return a date from parts, or None when they do not make one."""
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _top(lines: list[str]) -> list[str]:
    """Return the first non-blank lines, where pages put their bylines and stamps."""
    return [line for line in lines if line.strip()][:_TOP_LINES]


def _stamps(lines: list[str]) -> dict[str, str]:
    """Return {"published" | "updated": date text} from "Updated May 11, 2026"-style lines."""
    found: dict[str, str] = {}
    for line in _top(lines):
        if len(line) > _STAMP_MAX:
            continue
        for m in _STAMP.finditer(line):
            kind = "updated" if m.group(1).lower() == "updated" else "published"
            if parse_date(m.group(2)):
                found.setdefault(kind, m.group(2))
    return found


def _publisher(lines: list[str]) -> str | None:
    """Return "AI Signal" from "This AI Signal brief is meant ..." near the top, if present."""
    for line in _top(lines):
        match = _BRIEF.search(line[:1_000])
        if match and match.group(1).split()[0].lower() not in _NOT_A_PUBLISHER:
            return match.group(1).strip()
    return None


def _headline(lines: list[str]) -> str | None:
    """Return the first non-blank line when it looks like a headline."""
    line = next((line.strip() for line in lines if line.strip()), "")
    if (
        len(line) >= _HEADLINE_MAX
        or len(line.split()) < 2
        or line.endswith((".", ":", ";", ","))
        or line.startswith(("-", "*", "•", "#"))
        or clean.is_section_heading(line)
        or _TLDR_INLINE.match(line)
        or _STAMP.match(line)
        or not any(c.isalpha() for c in line)
    ):
        return None
    return line


def _provenance(widget: clean.ProvenanceWidget | None) -> Provenance:
    """Return what the page's provenance widget states."""
    if widget is None:
        return Provenance()
    fields = widget.fields
    label = next(iter(fields.get("review status", ())), None)
    status = (s for pattern, s in _REVIEW_STATUS if label and pattern.search(label.lower()))
    return Provenance(
        review_status=next(status, None),
        review_label=label,
        confidence=_score(fields.get("confidence", ())),
        sources_reviewed=_count(fields.get("sources reviewed", ())),
        official_sources=_count(fields.get("official sources", ())),
    )


def _score(values: tuple[str, ...]) -> int | None:
    """Return the 0-100 score in "85/100 from the draft pipeline." or "85%"."""
    for value in values:
        if (m := _SCORE.search(value)) and int(m.group(1)) <= 100:
            return int(m.group(1))
    return None


def _count(values: tuple[str, ...]) -> int | None:
    """Return the number in the first value that is a bare count."""
    return next((int(v) for v in values if v.isdecimal() and len(v) <= 6), None)


# -- summary and key questions ----------------------------------------------------------------


def _trim(sentences: str) -> str:
    """Return the leading sentences of a paragraph that fit in about _SUMMARY_MAX chars."""
    text = sentences.strip()
    if len(text) <= _SUMMARY_MAX:
        return text
    ends = [m.end() for m in _SENTENCE_STOP.finditer(text, 0, 2 * _SUMMARY_MAX)]
    fitting = [e for e in ends if e <= _SUMMARY_MAX]
    if fitting:
        return text[: fitting[-1]]
    if ends:  # one long first sentence: keep it whole (up to twice the limit) rather than cut it
        return text[: ends[0]]
    cut = text.rfind(" ", 0, _SUMMARY_MAX)
    return text[: cut if cut > 0 else _SUMMARY_MAX].rstrip()


def _summary(lines: list[str], headline: str | None) -> str | None:
    """Return the story's own TL;DR, else its lead paragraph, trimmed at a sentence end."""
    for i, line in enumerate(lines):
        if m := _TLDR_INLINE.match(line.strip()):
            return _trim(line.strip()[m.end() :]) or None
        if clean.line_key(line) in _TLDR_HEADINGS:
            following = next((n for n in itertools.islice(lines, i + 1, None) if n.strip()), "")
            if following and not clean.is_section_heading(following):
                return _trim(following)
            break  # an empty TL;DR section: fall back to the lead
    lead = next((ln for ln in lines if _is_lead(ln) and ln.strip() != headline), None)
    return _trim(lead) if lead else None


def _is_lead(line: str) -> bool:
    """Return True when line is a paragraph of prose rather than a heading, stamp or list."""
    text = line.strip()
    return (
        len(text) >= _PROSE_MIN
        and text.endswith(clean.SENTENCE_END)
        and not text.startswith(("-", "*", "•", "—"))
        and _STAMP.match(text) is None
    )


def _is_question(line: str) -> bool:
    """Return True when line is a question of a Key Questions section."""
    text = line.strip()
    return text.endswith("?") and len(text) <= _QUESTION_MAX


def _ends_section(lines: list[str], i: int) -> bool:
    """Return True when the Key Questions section ends at line i."""
    text = lines[i].strip()
    if clean.is_section_heading(text):
        return True
    if text or i + 1 >= len(lines):
        return False
    following = lines[i + 1].strip()  # after a blank line, a heading-like line ends it
    return 0 < len(following) <= _HEADING_MAX and not following.endswith((*clean.SENTENCE_END, "…"))


def _key_questions(text: str) -> Iterator[KeyQuestion]:
    """Yield question/answer pairs from a "Key Questions" or "FAQ" section."""
    lines = text.split("\n")
    offsets = [0, *itertools.accumulate(len(line) + 1 for line in lines)]
    pairs: list[tuple[str, list[int]]] = []  # question, line indexes of its answer
    for i in _section(lines):
        if _is_question(lines[i]):
            pairs.append((lines[i].strip(), []))
        elif pairs and lines[i].strip():
            pairs[-1][1].append(i)
    for question, rows in pairs:
        if rows:  # slice the text itself so the answer stays verbatim, blank lines included
            end = offsets[rows[-1]] + len(lines[rows[-1]])
            yield KeyQuestion(question, text[offsets[rows[0]] : end].strip())


def _section(lines: list[str]) -> range:
    """Return the line indexes of the Key Questions section's body, if there is one."""
    start = next((i for i, ln in enumerate(lines) if clean.line_key(ln) in _KQ_HEADINGS), None)
    if start is None:
        return range(0)
    end = next((i for i in range(start + 1, len(lines)) if _ends_section(lines, i)), len(lines))
    return range(start + 1, end)
