"""Leases: once-only work across processes, taken over when a holder stops renewing."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from index.leases import Leases
from index.registry import Registry

pytestmark = pytest.mark.both_backends  # registry tests run on SQLite and PostgreSQL


class Clock:
    """Wall-clock seconds that tests move by hand."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def registry(tmp_path: Path, database_url: str) -> Registry:
    return Registry(tmp_path / "newsbot.db", url=database_url)


def test_of_many_processes_claiming_at_once_exactly_one_holds_it(
    tmp_path: Path, database_url: str
) -> None:
    winners: list[str] = []
    # A thread that dies before the barrier must fail the test, not leave the others waiting.
    start = threading.Barrier(4, timeout=60)

    def claim(n: int) -> None:
        try:
            leases = Leases(Registry(tmp_path / "newsbot.db", url=database_url), 30, owner=f"p{n}")
        except BaseException:
            start.abort()
            raise
        start.wait()
        if leases.claim("digest:1"):
            winners.append(leases.owner)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(winners) == 1
    assert (
        Leases(Registry(tmp_path / "newsbot.db", url=database_url), 30).holder("digest:1")
        == (winners[0])
    )


def test_a_holder_that_stops_renewing_loses_the_lease_after_it_lapses(registry: Registry) -> None:
    clock = Clock()
    a = Leases(registry, 10, owner="a", now=clock)
    b = Leases(registry, 10, owner="b", now=clock)
    assert a.claim("digest:1") and not b.claim("digest:1")
    clock.t += 8
    assert a.renew("digest:1")  # renewed: good for 10 s from now
    clock.t += 8
    assert not b.claim("digest:1")
    clock.t += 3  # a died 11 s ago without renewing
    assert b.claim("digest:1")
    assert not a.renew("digest:1")  # a, back from a pause, learns it must stop
    assert a.holder("digest:1") == "b"


def test_release_frees_the_lease_at_once_and_only_for_its_holder(registry: Registry) -> None:
    a = Leases(registry, 60, owner="a")
    b = Leases(registry, 60, owner="b")
    assert a.claim("follows.check")
    b.release("follows.check")  # not b's to give up
    assert not b.claim("follows.check")
    a.release("follows.check")
    assert a.holder("follows.check") is None
    assert b.claim("follows.check")


def test_leases_are_independent_and_a_holder_may_claim_again(registry: Registry) -> None:
    a = Leases(registry, 60, owner="a")
    b = Leases(registry, 60, owner="b")
    assert a.claim("digest:1") and b.claim("digest:2")
    assert a.claim("digest:1")  # already ours: extended, still ours
    assert not a.claim("digest:2")
