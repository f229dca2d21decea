"""Remove the boilerplate that scraped news pages carry, keeping the story's own lines verbatim.

Cleaning is a pipeline of line-level passes. A kept line is kept byte-for-byte (bar trailing
whitespace), because every excerpt quoted later must be a substring of the cleaned text; the
only pass that edits inside a line removes whole junk sentences ("If you spot an issue, ...").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

# Control characters (category Cc) but \t and \n, and lone surrogates, which SQLite and Discord
# cannot encode as UTF-8.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
SENTENCE_END = (".", "!", "?", '"', "”", "'", "’")
ELLIPSES = ("…", "...")

# Whole lines (compared via line_key) that are share, comment, sign-up or shop widgets.
_WIDGET_LINES = frozenset(
    (
        "share", "share this", "share this story", "share this article", "share on x",
        "share on facebook", "share on linkedin", "tweet", "copy link", "email", "print",
        "comments", "comment", "leave a comment", "log in with", "log in to comment",
        "loading comments...", "view comments", "show comments", "join the conversation",
        "sign up for our newsletter", "subscribe to our newsletter", "subscribe", "follow us",
        "advertisement", "sponsored", "skip to content", "skip to main content",
        "buy on amazon", "check price", "check price on amazon", "view on amazon", "shop now",
    )
)  # fmt: skip
_COMMENT_COUNT = re.compile(r"\d{1,6} comments?")

# Affiliate disclaimers ("As an affiliate, we earn on qualifying purchases." and kin).
_DISCLAIMER = re.compile(
    r"\bas an (?:amazon )?(?:associate|affiliate)\b|\bqualifying purchases\b"
    r"|\bwe (?:may )?(?:earn|receive|get) (?:an? )?(?:small )?(?:affiliate )?(?:commission|fee)"
    r"|\b(?:contains|includes|uses|may contain) affiliate links\b",
    re.IGNORECASE,
)
_MAX_DISCLAIMER = 300  # longer lines are prose that mentions affiliates, not a disclaimer
_MAX_AD_LINES = 3  # ad copy lines removed before a disclaimer

# Sentences that are page chrome even inside a prose line; "[email protected]" is Cloudflare's
# e-mail obfuscation left behind by scraping.
_JUNK_SENTENCE = re.compile(
    r"\[email\s*protected\]|\bif you spot an? (?:issue|error|mistake|typo)\b"
    r"|\bread our editorial (?:standards|policy)\b",
    re.IGNORECASE,
)
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])(\s+)")

# Page furniture: a video player's ad-feedback form and captions, newsletter and subscription
# pitches, puzzle and forecast plugs and author contact lines, each repeated over many stories of
# the CNN, USA Today and The Week pages of the eval corpora; never story text. A page that holds
# only the player's form (14 CNN video pages) is left with no text and refused at ingestion.
_FURNITURE = re.compile(
    r"\bhow relevant is this ad to you\b|\bvideo player was slow to load\b"
    r"|\bad froze or did not finish loading\b|\bvideo content never loaded\b"
    r"|\bvideo ad feedback\b|\b\d{1,2}:\d\d - source: [a-z]"
    r"|\bsign(?:ing)? up\b.{0,80}\bnewsletters?\b|\bnewsletters?\b.{0,80}\bsign(?:ing)? up\b"
    r"|\bsign up (?:here|now|right here)\b"
    r"|\b(?:subscribe|sign up) (?:to|for) (?:the|our) .{0,40}newsletter"
    r"|\bsupport (?:it|journalism like this|local journalism) with a subscription\b"
    r"|\bbecome a subscriber\b|\bdaily crossword puzzle\b|\bprep for the polls\b"
    r"|\bcheck your local forecast here\b|\btop products and sales curated by our editors\b"
    r"|\breach (?:him|her|them) at \S+@|\bshoot (?:him|her|them) an email\b",
    re.IGNORECASE,
)
_FURNITURE_LINE_MAX = 300  # a line this short holding furniture is all furniture ("with Dr. ...")

# "More in Business", "Related stories", "Read more": a list of other stories' teasers.
_LIST_HEADING = re.compile(
    r"more (?:in|from|on|about) .{1,60}|more stories|read more|read next|related"
    r"(?: stories| articles| posts| news| reading| coverage)?|recommended(?: for you| stories)?"
    r"|you (?:may|might) also like|trending(?: now)?|most (?:popular|read)|latest (?:news|stories)"
)
_PROSE_MIN = 80  # a line this long ending a sentence is story text, not a teaser

# A link to another story glued to its label, as USA Today pages inline them between paragraphs:
# "More:Camden homicides fall sharply", "Student loans:Payments are set to restart in 2023." Prose
# puts a space after a colon, and a time or a verse ("10:30", "3:16") has a digit before it.
_LINK_TEASER = re.compile(r"[A-Z][\w'’&.,-]*(?: [\w'’&.,-]+){0,7}(?<=[A-Za-z)]):[A-Z\"“‘'].*")
_LINK_TEASER_MAX = 200  # a longer line runs on into story text: kept

# Section headings news stories use; never treated as ad copy or teasers, and used by parse.py.
SECTION_HEADINGS = frozenset(
    (
        "tl;dr", "tldr", "tl dr", "summary", "in brief", "key questions", "key takeaways", "faq",
        "faqs", "frequently asked questions", "why it matters", "background", "what happened",
        "what's next", "what remains unclear", "what we know", "what we don't know",
        "context and caveats", "what to watch next", "what to watch", "the big picture",
        "context", "analysis", "conclusion", "overview", "details", "reactions", "timeline",
    )
)  # fmt: skip

_DEDUPE_MIN = 40  # shorter repeated lines are often legitimate headings ("Why it matters")

PROVENANCE_LABELS = ("sources reviewed", "official sources", "review status", "confidence")
_WIDGET_VALUE_MAX = 60  # value lines of the provenance widget are short
_WIDGET_MAX_VALUES = 2  # e.g. "Human reviewed" + "AI-assisted draft, editor-approved publish."


@dataclass(frozen=True, slots=True)
class ProvenanceWidget:
    """A page's "Sources reviewed / Review status / Confidence" block and where it sits."""

    start: int  # first line index
    end: int  # line index after the block
    fields: Mapping[str, tuple[str, ...]]  # label -> value lines


def clean_text(raw: str) -> str:
    """Return the story text of a scraped page with boilerplate removed and lines kept verbatim."""
    lines = [line.rstrip() for line in normalize(raw).split("\n")]
    for step in _PASSES:
        lines = step(lines)
    return "\n".join(lines)


def normalize(raw: str) -> str:
    """Return raw with \\n line endings, NFC unicode and no control characters but \\n and \\t."""
    text = raw.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    text = unicodedata.normalize("NFC", text.replace("\u2028", "\n").replace("\u2029", "\n"))
    return _CONTROL.sub("", text)


def line_key(line: str) -> str:
    """Return line lower-cased, space-collapsed, without a trailing colon, for comparisons."""
    text = " ".join(line.split()).lower().replace("…", "...").replace("’", "'")
    return text.rstrip(":").rstrip()


def is_section_heading(line: str) -> bool:
    """Return True when line is a common news section heading such as "Why it matters"."""
    return line_key(line) in SECTION_HEADINGS


def find_provenance_widget(lines: Sequence[str]) -> ProvenanceWidget | None:
    """Return the first provenance widget in lines, if the page has one."""
    return next(_provenance_widgets(lines), None)


# -- helpers ----------------------------------------------------------------------------------


def _ends_sentence(line: str) -> bool:
    """Return True when line ends a sentence (an ellipsis does not)."""
    text = line.rstrip()
    return text.endswith(SENTENCE_END) and not text.endswith(ELLIPSES)


def _is_prose(line: str) -> bool:
    """Return True when line looks like a paragraph of the story."""
    return len(line.strip()) >= _PROSE_MIN and _ends_sentence(line)


def _label_of(line: str) -> tuple[str | None, str]:
    """Return (provenance label, inline value) for "Label" or "Label: value" lines."""
    key = line_key(line)
    for label in PROVENANCE_LABELS:
        if key == label:
            return label, ""
        if key.startswith(label + ":"):
            return label, line.split(":", 1)[1].strip()
    return None, ""


def _provenance_widgets(lines: Sequence[str]) -> Iterator[ProvenanceWidget]:
    """Yield every run of at least two provenance labels with their value lines."""
    i = 0
    while i < len(lines):
        if _label_of(lines[i])[0] is None:
            i += 1
            continue
        end, fields = _read_widget(lines, i)
        if len(fields) >= 2:
            yield ProvenanceWidget(i, end, fields)
        i = max(end, i + 1)


def _read_widget(lines: Sequence[str], start: int) -> tuple[int, dict[str, tuple[str, ...]]]:
    """Read label/value groups from start; return the index after them and the fields."""
    fields: dict[str, tuple[str, ...]] = {}
    i = end = start
    while i < len(lines):
        label, inline = _label_of(lines[i])
        if label is None:
            if lines[i].strip():
                break
            i += 1  # blank lines may separate groups; only a later label extends the widget
            continue
        if label in fields:
            break
        values = [inline] if inline else []
        i += 1
        while not inline and i < len(lines) and len(values) < _WIDGET_MAX_VALUES:
            value = lines[i].strip()
            if not value or len(value) > _WIDGET_VALUE_MAX or _label_of(value)[0]:
                break
            values.append(value)
            i += 1
        fields[label] = tuple(values)
        end = i
    return end, fields


# -- passes -----------------------------------------------------------------------------------


def _drop_provenance_widgets(lines: list[str]) -> list[str]:
    """Remove provenance widgets; parse.py reads them from the raw text."""
    drop = {i for w in _provenance_widgets(lines) for i in range(w.start, w.end)}
    return [line for i, line in enumerate(lines) if i not in drop]


def _without_sentences(line: str, pattern: re.Pattern[str]) -> str:
    """Return line without its sentences that pattern matches, separators kept verbatim."""
    parts = _SENTENCE_SPLIT.split(line)  # [sentence, separator, sentence, ...]
    kept: list[str] = []
    for n in range(0, len(parts), 2):
        if not pattern.search(parts[n]):
            kept.extend([parts[n - 1], parts[n]] if kept else [parts[n]])
    return "".join(kept).rstrip()


def _drop_junk_sentences(lines: list[str]) -> list[str]:
    """Remove chrome sentences ("If you spot an issue, email ...") from inside lines."""
    out = []
    for line in lines:
        if not _JUNK_SENTENCE.search(line):
            out.append(line)
        elif (kept := _without_sentences(line, _JUNK_SENTENCE)).strip():
            out.append(kept)
    return out


def _drop_furniture(lines: list[str]) -> list[str]:
    """Remove ad-feedback, newsletter and contact furniture: short lines whole, else the
    sentence."""
    out = []
    for line in lines:
        if not _FURNITURE.search(line):
            out.append(line)
        elif len(line.strip()) <= _FURNITURE_LINE_MAX:
            continue
        elif (kept := _without_sentences(line, _FURNITURE)).strip():
            out.append(kept)
    return out


def _drop_widgets(lines: list[str]) -> list[str]:
    """Remove share, comment and sign-up widget lines."""
    return [
        line
        for line in lines
        if line_key(line) not in _WIDGET_LINES and not _COMMENT_COUNT.fullmatch(line_key(line))
    ]


def _is_disclaimer(line: str) -> bool:
    """Return True when line is an affiliate disclaimer."""
    return len(line) <= _MAX_DISCLAIMER and _DISCLAIMER.search(line) is not None


def _is_ad_copy(line: str) -> bool:
    """Return True when line looks like a product title or blurb rather than story prose."""
    text = line.strip()
    return bool(text) and not is_section_heading(text) and not _ends_sentence(text)


def _drop_ad_blocks(lines: list[str]) -> list[str]:
    """Remove affiliate disclaimers and the few ad-copy lines just before them."""
    drop: set[int] = set()
    for i, line in enumerate(lines):
        if not _is_disclaimer(line) or i in drop:
            continue
        j = i
        while j < len(lines) and _is_disclaimer(lines[j]):  # a run of repeated disclaimers
            drop.add(j)
            j += 1
        k = i - 1
        while k >= 0 and i - k <= _MAX_AD_LINES and _is_ad_copy(lines[k]):
            drop.add(k)
            k -= 1
    return [line for i, line in enumerate(lines) if i not in drop]


def _is_teaser(line: str) -> bool:
    """Return True when line belongs to a list of other stories (titles, blurbs, "8h ago")."""
    text = line.strip()
    return not text or not (_is_prose(text) or is_section_heading(text))


def _drop_related_lists(lines: list[str]) -> list[str]:
    """Remove "More in <Section>" / "Related stories" headings and the teasers after them."""
    out = []
    i = 0
    while i < len(lines):
        if _LIST_HEADING.fullmatch(line_key(lines[i])):
            i += 1
            while i < len(lines) and _is_teaser(lines[i]):
                i += 1
            continue
        out.append(lines[i])
        i += 1
    return out


def _drop_link_teasers(lines: list[str]) -> list[str]:
    """Remove lines that are a label glued to another story's headline ("More:...")."""
    return [
        line
        for line in lines
        if len(text := line.strip()) > _LINK_TEASER_MAX or not _LINK_TEASER.fullmatch(text)
    ]


def _drop_repeats(lines: list[str]) -> list[str]:
    """Drop later copies of long lines that end a sentence or repeat the line just before."""
    seen: set[str] = set()
    out: list[str] = []
    previous = ""
    for line in lines:
        text = line.strip()
        if len(text) > _DEDUPE_MIN and text in seen and (_ends_sentence(text) or text == previous):
            continue
        seen.add(text)
        out.append(line)
        previous = text or previous
    return out


def _collapse_blank_lines(lines: list[str]) -> list[str]:
    """Collapse runs of blank lines to one and drop blank lines at both ends."""
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    while out and not out[-1]:
        out.pop()
    return out


_PASSES: tuple[Callable[[list[str]], list[str]], ...] = (
    _drop_widgets,
    _drop_provenance_widgets,
    _drop_junk_sentences,
    _drop_furniture,
    _drop_ad_blocks,
    _drop_related_lists,
    _drop_link_teasers,
    _drop_repeats,
    _collapse_blank_lines,
)
