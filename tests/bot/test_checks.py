"""The moderator rule, the server allow-list and the per-member cooldown."""

from __future__ import annotations

import pytest

from bot.checks import UserCooldowns, guild_served, is_moderator, member_is_moderator
from tests.bot.support import MOD_ROLE, OTHER_ROLE, member


@pytest.mark.parametrize(
    ("manage_guild", "roles", "expected"),
    [
        (True, [], True),
        (False, [MOD_ROLE], True),
        (False, [OTHER_ROLE, MOD_ROLE], True),
        (False, [OTHER_ROLE], False),
        (False, [], False),
    ],
)
def test_is_moderator(manage_guild: bool, roles: list[int], expected: bool) -> None:
    assert is_moderator(manage_guild, roles, [MOD_ROLE]) is expected


def test_member_is_moderator_needs_a_server_member() -> None:
    assert member_is_moderator(member(roles=(MOD_ROLE,)), [MOD_ROLE])
    assert member_is_moderator(member(manage_guild=True), [])
    assert not member_is_moderator(member(roles=(OTHER_ROLE,)), [MOD_ROLE])
    assert not member_is_moderator(object(), [MOD_ROLE])  # type: ignore[arg-type]


def test_guild_served() -> None:
    assert guild_served(1, [])
    assert guild_served(1, [1, 2])
    assert not guild_served(3, [1, 2])
    assert not guild_served(None, [])  # direct messages


def test_user_cooldowns_follow_settings_per_member() -> None:
    now = [1000.0]
    cooldowns = UserCooldowns(rate=2, per=30.0, clock=lambda: now[0])
    assert cooldowns.hit(1) is None and cooldowns.hit(1) is None
    assert cooldowns.hit(1) is not None
    assert 0 < cooldowns.retry_after(1) <= 30
    assert cooldowns.hit(2) is None  # another member
    now[0] += 31
    assert cooldowns.hit(1) is None
    assert len(cooldowns._buckets) == 1  # idle members are forgotten


def test_zero_period_disables_the_cooldown() -> None:
    cooldowns = UserCooldowns(rate=1, per=0)
    assert all(cooldowns.hit(1) is None for _ in range(10))
