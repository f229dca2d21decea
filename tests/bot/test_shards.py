"""Several bot processes, each running a range of the gateway shards (NEWSBOT_SHARD_IDS)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.client import ShardedNewsBot, make_bot
from index.services import Services
from index.settings import Settings


def test_a_process_runs_only_the_shards_it_is_given(services: Services) -> None:
    services.settings = Settings(_env_file=None, shard_count=4, shard_ids="2,3")  # type: ignore[call-arg]
    bot = make_bot(services, warm_model=False)
    assert isinstance(bot, ShardedNewsBot)
    assert bot.shard_count == 4 and bot.shard_ids == [2, 3]


def test_one_shard_of_two_is_still_a_sharded_bot(services: Services) -> None:
    services.settings = Settings(_env_file=None, shard_count=2, shard_ids="0")  # type: ignore[call-arg]
    bot = make_bot(services, warm_model=False)
    assert isinstance(bot, ShardedNewsBot) and bot.shard_ids == [0]


@pytest.mark.parametrize(
    ("values", "says"),
    [
        ({"shard_ids": "0,1"}, "needs NEWSBOT_SHARD_COUNT"),
        ({"shard_ids": "2", "shard_count": 2}, "from 0 to 1"),
        ({"shard_ids": "1,1", "shard_count": 2}, "distinct"),
    ],
)
def test_shard_ids_outside_the_count_are_refused(values: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        Settings(_env_file=None, **values)  # type: ignore[arg-type]
