"""URL ingestion through the product's own paths: services, `newsbot ingest URL`, `/story add url:`.

tests/index/test_fetch.py proves the fetch guard itself (addresses, spellings, redirects, size,
time, types, TLS). These prove every way a URL reaches it is guarded: a refused URL gives one
line of reason and indexes nothing, and only the test's own server is let in, by a setting.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.client import NewsBot
from index.services import Services, build_services
from index.settings import Settings
from newsbot import cli
from tests.bot.support import command, interaction, invoke, moderator_by_role, sent
from tests.fakes import FakeEmbedder
from tests.index.httpserver import ARTICLE_HTML, Route, Server, guard_connections, serve
from tests.reliability.test_bad_input import snapshot

HTML = {"Content-Type": "text/html; charset=utf-8"}
# Published two days ago: answers favour recent news, and the seeds are undated.
_RECENT = (datetime.now(UTC) - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
FRESH_ARTICLE = ARTICLE_HTML.replace("2024-05-13T10:00:00Z", _RECENT)
NO_STORY = b"<html><head><title>Home</title></head><body><nav><a href='/'>Home</a></nav></body>"
REFUSED_EVERYWHERE = [
    ("http://169.254.169.254/latest/meta-data/", "link-local"),
    ("http://[::ffff:169.254.169.254]/", "link-local"),
    ("http://10.0.0.7/admin", "private"),
    ("http://[fd00::1]/", "private"),
    ("http://0x7f000001/", "unusual spelling"),
    ("http://2130706433/", "unusual spelling"),
    ("http://0.0.0.0/", "unspecified"),
    ("file:///etc/passwd", "only http and https"),
    ("ftp://example.com/story.txt", "only http and https"),
    ("http://user:pass@example.com/", "user name or password"),
]


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record outgoing TCP connections; refuse every one that is not to 127.0.0.1."""
    return guard_connections(monkeypatch)


@pytest.fixture
def site() -> Iterator[Server]:
    """Serve a story and some hostile answers on 127.0.0.1."""
    routes = {
        "/article": Route(FRESH_ARTICLE.encode(), headers=HTML),
        "/to-metadata": Route(
            status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"}
        ),
        "/to-loopback": Route(status=301, headers={"Location": "http://127.0.0.1:1/admin"}),
        "/huge": Route(b"x" * 20_000, headers=HTML),
        "/pdf": Route(b"%PDF-1.7", headers={"Content-Type": "application/pdf"}),
        "/no-story": Route(NO_STORY, headers=HTML),
        "/drip": Route(b"<p>" + b"x" * 100, headers=HTML, drip_s=0.05),
    }
    with serve(routes) as server:
        yield server


@pytest.fixture
def allowed(settings: Settings, site: Server) -> Iterator[Services]:
    """Return services that may fetch from the test site only (the explicit setting)."""
    relaxed = settings.model_copy(
        update={"fetch_allow_private_hosts": [site.hostport], "fetch_timeout": 1.0,
                "fetch_max_bytes": 10_000}
    )  # fmt: skip
    services = build_services(relaxed, embedder=FakeEmbedder())
    services.ensure_samples()
    yield services
    services.close()


def _one_line_reasons(report_failed: list[tuple[str, str]]) -> dict[str, str]:
    for _origin, reason in report_failed:
        assert reason and "\n" not in reason and "Traceback" not in reason and len(reason) < 200
    return dict(report_failed)


def test_refused_urls_index_nothing_and_never_connect(
    seeded: Services, site: Server, connections: list[tuple[str, int]]
) -> None:
    before = snapshot(seeded)
    urls = [url for url, _ in REFUSED_EVERYWHERE] + [f"{site.base}/article"]
    reasons = _one_line_reasons(seeded.ingest_sources(urls).failed)
    for url, expected in REFUSED_EVERYWHERE:
        assert reasons[url].startswith("refused:") and expected in reasons[url], reasons[url]
    # The local site too: loopback is refused unless a setting names it.
    assert "127.0.0.1 is loopback" in reasons[f"{site.base}/article"]
    assert snapshot(seeded) == before
    assert connections == [] and site.seen == []


def test_only_the_allowed_server_is_fetched_and_every_hop_is_checked(
    allowed: Services, site: Server, connections: list[tuple[str, int]]
) -> None:
    before = snapshot(allowed)
    bad = {
        "/to-metadata": "refused: the address 169.254.169.254 is link-local",
        "/to-loopback": "refused: the address 127.0.0.1 is loopback",  # another port
        "/huge": "too large: the page is over 10 KB",
        "/pdf": "unsupported content type application/pdf",
        "/no-story": "no article text could be extracted from the page",
        "/drip": "timed out after 1 s",
    }
    reasons = _one_line_reasons(allowed.ingest_sources([site.base + p for p in bad]).failed)
    for path, expected in bad.items():
        assert reasons[site.base + path].startswith(expected), reasons[site.base + path]
    assert snapshot(allowed) == before
    assert set(connections) == {("127.0.0.1", site.port)}  # never another host or port

    report = allowed.ingest_sources([f"{site.base}/article"])
    assert len(report.added) == 1 and not report.failed
    answer = allowed.ask("How fast does the new OpenAI model answer spoken questions?")
    assert any("320 milliseconds" in e.text for e in answer.excerpts)


def test_cli_ingest_of_a_refused_url_fails_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    connections: list[tuple[str, int]],
) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the checkout
    monkeypatch.setenv("COLUMNS", "300")  # rich wraps at the terminal width
    monkeypatch.setattr("index.services.SentenceTransformerEmbedder", lambda *a: FakeEmbedder())
    url = "http://169.254.169.254/latest/meta-data/iam/"
    code = cli.main(["--data-dir", str(tmp_path / "data"), "ingest", url])
    out = capsys.readouterr().out
    assert code == 1
    [line] = [ln for ln in out.splitlines() if url in ln]
    assert "refused: the address 169.254.169.254 is link-local, not a public host" in line
    assert connections == []


async def test_story_add_url_refusal_is_one_private_line(bot: NewsBot, site: Server) -> None:
    before = snapshot(bot.services)
    for url, expected in [*REFUSED_EVERYWHERE[:3], (f"{site.base}/article", "loopback")]:
        fake = interaction(bot, moderator_by_role())
        await invoke(command(bot, "story add"), bot.get_cog("Stories"), fake, url=url)
        [reply] = sent(fake)
        assert reply["ephemeral"] is True and expected in reply["content"]
        assert reply["content"].count("\n") == 0 and len(reply["content"]) < 300
    assert snapshot(bot.services) == before and site.seen == []
