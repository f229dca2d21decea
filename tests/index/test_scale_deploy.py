"""deploy/compose.yaml cannot be run here (no container runtime), so it is read: every NEWSBOT_
variable it sets is a real setting with a valid value, every name it refers to exists, and its
bots cover the shards exactly once."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import chromadb
import pytest
import yaml

from index.settings import Settings
from newsbot.cli import _COMMANDS

COMPOSE = Path(__file__).resolve().parents[2] / "deploy" / "compose.yaml"


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """Return the compose file with its anchors and `<<` merges resolved."""
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict) and loaded.get("services")
    return loaded


def _newsbot_services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: service for name, service in compose["services"].items()
        if any(k.startswith("NEWSBOT_") for k in service.get("environment") or {})
    }  # fmt: skip


def test_every_newsbot_variable_is_a_setting_with_a_valid_value(
    compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    known = {f"NEWSBOT_{name.upper()}" for name in Settings.model_fields}
    services = _newsbot_services(compose)
    assert {"bot-0", "bot-1", "ingest"} <= services.keys()
    for name, service in services.items():
        environment = {k: str(v) for k, v in service["environment"].items()}
        unknown = sorted(k for k in environment if k.startswith("NEWSBOT_") and k not in known)
        assert not unknown, f"{name} sets variables newsbot does not read: {unknown}"
        with monkeypatch.context() as env:
            for key in [k for k in known if k in __import__("os").environ]:
                env.delenv(key)
            for key, value in environment.items():
                env.setenv(key, value)
            Settings(_env_file=None)  # type: ignore[call-arg]  # raises on a bad value


def test_every_name_it_refers_to_exists(compose: dict[str, Any]) -> None:
    services, volumes = compose["services"], compose.get("volumes") or {}
    for name, service in services.items():
        for needed in service.get("depends_on") or []:
            assert needed in services, f"{name} depends on a missing service {needed}"
        for mount in service.get("volumes") or []:
            source = mount.split(":", 1)[0]
            if not source.startswith((".", "/")):  # a named volume, not a folder
                assert source in volumes, f"{name} mounts an undeclared volume {source}"
    for name, service in _newsbot_services(compose).items():
        env = service["environment"]
        assert env["NEWSBOT_CHROMA_HOST"] in services, f"{name}: no Chroma service by that name"
        url = urlsplit(env["NEWSBOT_DATABASE_URL"])
        assert url.hostname in services, f"{name}: no PostgreSQL service by that name"
        postgres = services[url.hostname]["environment"]
        assert (url.username, url.password, url.path.lstrip("/")) == (
            postgres["POSTGRES_USER"],
            postgres["POSTGRES_PASSWORD"],
            postgres["POSTGRES_DB"],
        ), f"{name}: the database url does not match the PostgreSQL service's account"


def test_the_bots_cover_every_shard_once_and_run_real_commands(compose: dict[str, Any]) -> None:
    shards: list[int] = []
    for name, service in _newsbot_services(compose).items():
        env = service["environment"]
        line = service.get("command") or service.get("entrypoint")
        words = (
            shlex.split(line)
            if isinstance(line, str)
            else [w for x in line for w in shlex.split(x)]
        )
        commands = re.findall(r"\bnewsbot (\w+)", " ".join(words))
        assert commands and all(c in _COMMANDS for c in commands), f"{name}: {commands}"
        if "run" in commands:
            shards += [int(s) for s in str(env["NEWSBOT_SHARD_IDS"]).split(",")]
            count = int(env["NEWSBOT_SHARD_COUNT"])
    assert sorted(shards) == list(range(count)), f"shards {shards} of {count}"


def test_the_chroma_image_matches_the_client_newsbot_installs(compose: dict[str, Any]) -> None:
    [chroma] = [s for s in compose["services"].values() if "chroma" in s.get("image", "")]
    tag = chroma["image"].rsplit(":", 1)[1]
    # Chroma's client and server speak one API per release line: keep them on the same one.
    assert tag.split(".")[:2] == chromadb.__version__.split(".")[:2], (tag, chromadb.__version__)
