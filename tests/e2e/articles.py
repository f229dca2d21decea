"""Web pages the e2e tests' local news site serves to /story add url:."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

from tests.index.httpserver import ARTICLE_HTML

FRESH_PATH = "/news/openai-faster-model"
LONG_PATH = "/news/long-report"
FINE_PATH = "/news/meta-dma-fine"
FINE_TITLE = "EU fines Meta under the Digital Markets Act"
LONG_TITLE = "Inside the year of warehouse robots: a long report"
_SUBJECTS = ("Engineers at Northwind Robotics", "Warehouse managers", "The logistics union")
_SUBJECTS += ("Investors in automation", "Safety inspectors", "Regional retailers")
_VERBS = ("reported", "argued", "estimated", "warned", "found", "explained")
_CLAIMS = (
    "picking robots cut sorting time by a third",
    "night shifts now rely on autonomous carts",
)
_CLAIMS += ("maintenance costs rose faster than planned", "training staff took longer than hoped")
_CLAIMS += ("vision models misread damaged labels", "battery swaps became the main bottleneck")


def _published(days_ago: int) -> str:
    """Return an ISO time `days_ago` days before now, as news pages write it."""
    return (datetime.now(UTC) - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


def fresh_article() -> str:
    """Return the shared test article, published three days ago (answers favour recent news)."""
    published = _published(3)
    html = re.sub(r'(article:published_time" content=")[^"]+', rf"\g<1>{published}", ARTICLE_HTML)
    assert published in html, "the shared article no longer states its publication time"
    return html


def fine_article() -> str:
    """Return a short story published two days ago that answers a question about an EU fine."""
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{FINE_TITLE} | Policy Wire</title>"
        '<meta property="og:site_name" content="Policy Wire">'
        f'<meta property="article:published_time" content="{_published(2)}">'
        f"</head><body><article><h1>{FINE_TITLE}</h1>"
        "<p>The European Commission fined Meta 200 million euros under the Digital Markets Act"
        " on Wednesday, saying its pay-or-consent advertising model broke the law.</p>"
        "<p>Meta said it would appeal the decision and called the fine a tariff on American"
        " companies. The Commission gave the company sixty days to change the model.</p>"
        "<p>Consumer groups welcomed the decision and asked regulators to check whether other"
        " platforms use similar consent screens.</p>"
        "</article></body></html>"
    )


def long_article(paragraphs: int = 80) -> str:
    """Return a long report (about 100 words a paragraph): indexing it takes the bot seconds."""
    rng = random.Random(7)  # the same page on every run
    body = []
    for n in range(paragraphs):
        sentences = [
            f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} that {rng.choice(_CLAIMS)} "
            f"at site {n * 7 + i} during week {rng.randint(1, 52)}."
            for i in range(8)
        ]
        body.append(f"<p>{' '.join(sentences)}</p>")
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{LONG_TITLE} | Robot Wire</title>"
        '<meta property="og:site_name" content="Robot Wire">'
        f'<meta property="article:published_time" content="{_published(1)}">'
        f"</head><body><article><h1>{LONG_TITLE}</h1>{''.join(body)}</article></body></html>"
    )


LINKY_PATH = "/news/quokka-mail"
LINKY_SOURCE = "https://news.example/quokka-mail"  # the page's canonical link: its source
LINKY_LINKS = ("https://evil.example/phish", "discord.gg/evilinvite", "discord.com/invite/evil")


def linky_article() -> str:
    """Return a story whose title, publisher and text carry bare links and invites."""
    links = " ".join(LINKY_LINKS)
    paragraphs = "".join(
        f"<p>Quokka robots deliver mail in Perth every morning, officials said, via {link}."
        " The council said the robots handle parcels and letters on twelve routes.</p>"
        for link in LINKY_LINKS
    )
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>Quokka robots deliver mail {links} | Wire</title>"
        f'<meta property="og:site_name" content="Wire discord.gg/publisher">'
        f'<meta property="article:published_time" content="{_published(2)}">'
        f'<link rel="canonical" href="{LINKY_SOURCE}">'
        f"</head><body><article><h1>Quokka robots deliver mail {links}</h1>{paragraphs}"
        "</article></body></html>"
    )
