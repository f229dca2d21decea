"""Escaping untrusted text: nothing pings, links or formats; links and dates shown safely."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.text import ELLIPSIS, escape_text, fit_lines, link, safe, safe_url, truncate, when

ZWSP = "\u200b"


@pytest.mark.parametrize(
    ("raw", "must_not_contain"),
    [
        ("Hi @everyone and @here", ["@everyone", "@here"]),
        ("user <@123456789012345678> and <@!123456789012345678>", ["<@1", "<@!"]),
        ("role <@&123456789012345678>", ["<@&"]),
        ("channel <#123456789012345678>", ["<#"]),
        ("emoji <:wave:123> time <t:1700000000:F> cmd </ask:1>", ["<:", "<t:", "</"]),
        ("[click here](https://evil.example)", ["](https"]),
        ("[multi\nline](https://evil.example)", ["](https"]),
    ],
)
def test_mentions_tags_and_masked_links_are_inert(raw: str, must_not_contain: list[str]) -> None:
    out = escape_text(raw)
    for fragment in must_not_contain:
        assert fragment not in out


def test_markdown_is_escaped_but_text_reads_the_same() -> None:
    out = escape_text("**bold** _it_ ~~s~~ ||spoiler|| `code` # heading\n> quote\n-# small")
    assert "\\*\\*bold\\*\\*" in out and "\\|\\|spoiler\\|\\|" in out and "\\`code\\`" in out
    assert "\\> quote" in out and "\\-# small" in out
    assert out.replace("\\", "").replace(ZWSP, "") == (
        "**bold** _it_ ~~s~~ ||spoiler|| `code` # heading\n> quote\n-# small"
    )


@given(st.text())
def test_escaping_only_adds_escapes(raw: str) -> None:
    out = escape_text(raw)
    assert "@everyone" not in out and "@here" not in out
    assert "<@" not in out and "<#" not in out and "](" not in out


def test_links_are_wrapped_and_unsafe_ones_hidden() -> None:
    assert link("https://example.com/a_b") == "<https://example.com/a_b>"
    assert link(None) == "no link"
    for bad in ["javascript:alert(1)", "https://x.com/a b", "https://x.com/>@everyone", "ftp://x",
                "https://" + "a" * 600, "https:///nohost"]:  # fmt: skip
        assert safe_url(bad) is None
        assert link(bad) == "link not shown"


def test_truncate_safe_when_and_fit_lines() -> None:
    assert truncate("abcdef", 4) == "abc" + ELLIPSIS
    assert truncate("abc", 3) == "abc"
    assert safe("  multi\n line  ", 100) == "multi line"
    assert safe(None, 10, "none") == "none"
    assert when(date(2026, 5, 1)) == "May 1, 2026" and when(None) == "undated"
    lines = [f"line {i}" for i in range(100)]
    out = fit_lines(lines, 60)
    assert len(out) <= 60 and out.endswith("more")
    assert fit_lines(["a", "b"], 60) == "a\nb"


def test_member_text_never_posts_a_live_link() -> None:
    from bot.text import member_text

    asked = "Is https://free-nitro.example/claim or <HTTP://x.y> or discord.gg/abc legit?"
    shown = member_text(asked, 300)
    assert "://" not in shown and "discord.gg/" not in shown
    assert shown.replace("\u200b", "") == asked  # reads the same
    assert member_text("   ", 50, "—") == "—"


@given(st.text(max_size=300))
def test_member_text_has_no_scheme_link_for_any_input(text: str) -> None:
    from bot.text import member_text

    shown = member_text(text + " a://b " + text, 200)
    assert "://" not in shown and len(shown) <= 200


def test_direction_overrides_are_removed_from_shown_text() -> None:
    title = "Refund policy \u202egnp.exe\u202c update"
    assert escape_text(title) == "Refund policy gnp.exe update"
    assert "\u2066" not in safe("a \u2066b\u2069 c", 50)
