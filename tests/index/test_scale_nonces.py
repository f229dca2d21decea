"""Follow notifications carry a Discord nonce that every process computes alike, so one re-sent
after a crash (posted, not yet recorded) is dropped by Discord instead of posted twice."""

from __future__ import annotations

from dataclasses import replace

from index.services import Services
from tests.follow_stories import EU_FINE, EU_QUESTION, PAY_QUESTION, TRAINER_PAY, add_story

ANN, BEN = 1001, 1002


def test_an_update_found_again_after_a_crash_has_the_same_nonce(seeded: Services) -> None:
    follows = seeded.follows
    follows.follow(ANN, EU_QUESTION, channel_id=8)
    follows.follow(BEN, EU_QUESTION, channel_id=8)
    add_story(seeded, EU_FINE)
    found = follows.check()
    assert found is not None and len(found.updates) == 2
    # Sent, then the process died before record(): the next check (here or in the process
    # that takes the lease over) finds the same updates, with the same nonces.
    again = follows.check()
    assert again is not None
    nonces = [u.nonce for u in found.updates]
    assert nonces == [u.nonce for u in again.updates]
    assert len(set(nonces)) == 2  # one per follow: two members' messages are two messages
    assert all(n.startswith("f") and len(n) <= 25 for n in nonces)  # Discord's limit


def test_news_of_another_story_has_another_nonce(seeded: Services) -> None:
    follows = seeded.follows
    follows.follow(ANN, PAY_QUESTION)
    add_story(seeded, EU_FINE)  # a story that does not change this answer
    follows.mark_checked(seeded.registry.generation())
    add_story(seeded, TRAINER_PAY)
    found = follows.check()
    assert found is not None
    [update] = found.updates
    follow = update.follow
    # The same follow told of other stories (here: none new) is another message.
    told = replace(
        update, follow=replace(follow, cited=follow.cited | {update.answer.citations[0].article_id})
    )
    assert told.nonce != update.nonce
    assert replace(update, follow=replace(follow, id=follow.id + 1)).nonce != update.nonce
