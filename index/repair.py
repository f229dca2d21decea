"""Repair at start and on request: roll back, re-align, and look for vectors search cannot find."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from index.embed import Embedder
from index.errors import IndexUnavailableError
from index.ingest import chunk_metadata
from index.locking import DAMAGED, WriteGuard, damaged
from index.registry import Registry
from index.schema import META_TAG_VECTORS
from index.self_check import check_after_write
from index.store import VectorStore

log = logging.getLogger(__name__)

REPAIR_WAIT_S = 30.0  # how long a starting process waits for another one's write to finish
# Stored vectors self-queried at each start besides those of stories a dead writer touched:
# enough to catch a torn index (a kill tears many entries at once) in ~0.1 s at 10k chunks.
START_SAMPLE = 300
REBUILD_TRIES = 3
# Up to this many missed vectors (or a tenth of those checked) are inserted afresh one by one;
# more mean a torn index: rebuild.
RELINK_MAX = 20
TORN_SHARE = 0.1
# A vector missed among its k nearest but found among this many is reachable: approximate search
# in a crowded neighbourhood (4% of a 100k index of near-duplicates, fresh or rebuilt), which a
# rebuild cannot improve. Only vectors missed even this wide count towards a rebuild.
WIDE_K = 400
# Registry key: the share of sampled vectors that search missed even WIDE_K wide when the index
# was last known sound (a writer closing cleanly, or just rebuilt). Crowded data (syndicated
# copies, near-duplicates) keeps some vectors out of reach of any beam, and a rebuild builds the
# same graph again (152 of 300 on a 100k index of near-duplicates, fresh, never killed). Only
# misses beyond that share by TORN_SHARE count as a torn index.
MISS_SHARE = "search_miss_share"
# A rebuild that leaves at least this share of the previous one's misses did not help.
NO_HELP = 0.8

Progress = Callable[[str], None]


@dataclass
class CheckReport:
    """What a self-query check found and did."""

    checked: int = 0
    unfound: list[str] = field(default_factory=list)
    relinked: bool = False
    approximate: list[str] = field(default_factory=list)  # found only by a wider search
    crowded: list[str] = field(default_factory=list)  # out of reach as when last sound
    rebuilt: bool = False
    reembedded: list[str] = field(default_factory=list)
    still_unfound: list[str] = field(default_factory=list)


class Repairer:
    """Makes the registry and the vector store agree, and every stored vector findable."""

    def __init__(
        self, registry: Registry, store: VectorStore, embedder: Embedder, guard: WriteGuard
    ) -> None:
        self._registry = registry
        self._store = store
        self._embedder = embedder
        self._guard = guard

    def repair(
        self, *, wait_s: float = REPAIR_WAIT_S, sample: int = START_SAMPLE,
        progress: Progress | None = None,
    ) -> list[str]:  # fmt: skip
        """Roll back interrupted ingestions and removals, re-align and self-query the store.

        Runs under the write lock, so a story another live process is writing is never taken
        for an interrupted one. When the lock stays busy or the vector store is unreachable,
        repair waits for the next start; half-written stories stay invisible meanwhile.
        Return the ids rolled back.
        """
        try:
            with self._guard.hold(timeout=wait_s):
                suspect = damaged(self._registry)
                was_damaged = bool(self._registry.get_meta(DAMAGED))
                if was_damaged:  # first, so that deleting from a torn index cannot fail
                    self._rebuild(progress)
                repaired = self._roll_back_pending()
                self._reconcile()
                self._tag_libraries()
                if was_damaged and repaired:
                    # Again: deleting from Chroma's fresh HNSW graph (rolling back) can leave a
                    # few other vectors unreachable (3 in 1,132 in the SIGKILL trials).
                    self._rebuild(progress)
                ids = self._sample(sample) | self._chunk_ids_of(suspect)
                self._check_and_fix(sorted(ids), fix=True, progress=progress)
                if was_damaged:
                    self._registry.set_meta(DAMAGED, "")
        except TimeoutError:
            log.warning("another process is writing to the index; repair postponed")
            return []
        except IndexUnavailableError as exc:
            log.warning("repair postponed: %s", exc)
            return []
        return repaired

    def _tag_libraries(self) -> None:
        """Give vectors stored before libraries existed their story's library (an upgrade)."""
        if self._registry.get_meta(META_TAG_VECTORS):
            tagged = self._store.tag_libraries(self._registry.article_libraries())
            log.warning("upgrade: gave %d stored vectors their library", tagged)
            self._registry.set_meta(META_TAG_VECTORS, "")

    def check(
        self, *, full: bool = False, fix: bool = False, sample: int = START_SAMPLE,
        progress: Progress | None = None,
    ) -> CheckReport:  # fmt: skip
        """Self-query every stored vector (full) or a sample; rebuild on a miss if `fix`."""
        with self._guard.hold():
            ids = set(self._store.chunk_ids()) if full else self._sample(sample)
            return self._check_and_fix(sorted(ids), fix=fix, progress=progress)

    def _check_and_fix(
        self, ids: list[str], *, fix: bool, progress: Progress | None
    ) -> CheckReport:
        """Self-query ids; if some are missed and `fix`, relink them, or rebuild when the index
        is torn, then re-embed what still is missed."""
        report = CheckReport(checked=len(ids), unfound=self._store.unfound(ids))
        if not report.unfound or not fix:
            return report
        torn = self._wide(report.unfound)
        if len(torn) <= self._relink_max(len(ids)):  # a few badly linked vectors, not torn
            _say(progress, f"{len(report.unfound)} of {len(ids)} checked vectors are not found "
                 "by search: inserting them afresh")  # fmt: skip
            left = check_after_write(self._store, report.unfound)
            still_torn = self._wide(left)
            if not still_torn:
                report.relinked, report.approximate = True, left
                return report
            if len(still_torn) <= self._relink_max(len(ids)):  # a rebuild re-adds them the same
                report.still_unfound = still_torn
                log.error("%d vectors are not found even by a wide search: %s",
                          len(still_torn), still_torn[:10])  # fmt: skip
                return report
        elif self._as_when_sound(len(torn), len(ids)):
            report.crowded = torn
            log.warning("%d of %d sampled vectors are out of reach of search even %d wide, as "
                        "when the index was last left sound: crowded near-duplicates, not damage; "
                        "no rebuild", len(torn), len(ids), WIDE_K)  # fmt: skip
            return report
        if self._store.embedded:  # a Chroma server keeps its own index: none to rebuild here
            _say(progress, f"{len(report.unfound)} of {len(ids)} checked vectors are not found "
                 "by search: rebuilding the search index from the stored vectors")  # fmt: skip
            self._rebuild(progress)
            report.rebuilt = True
        self._reconcile()  # vectors that could not be read are re-embedded from the registry
        left = self._missed_wide(report.unfound)
        if self._as_when_sound(len(left), len(ids)) and len(left) > self._relink_max(len(ids)):
            report.crowded, left = left, []  # the fresh graph misses them too: the data's own
        if left:
            stories = sorted({cid.rsplit(":", 1)[0] for cid in left})
            _say(progress, f"{len(left)} still missed: re-embedding {len(stories)} stories")
            for article_id in stories:
                self._reembed(article_id)
            report.reembedded = stories
            left = self._missed_wide(left)
        report.still_unfound = left
        if left:
            log.error("%d vectors are still not found by search: %s", len(left), left[:10])
        return report

    def _rebuild(self, progress: Progress | None) -> None:
        """Rebuild the search index from the stored vectors, then check it as a restart sees it.

        Embedded Chroma saves its index every thousand or so writes and replays the rest from
        its log when it opens; that replay can leave a few vectors unreachable (seen in the
        SIGKILL trials). So the rebuilt index is reopened and self-queried in full, and built
        again if needed.
        """
        total = self._store.count()
        before: int | None = None
        for attempt in range(1, REBUILD_TRIES + 1):
            _say(progress, f"rebuilding the search index from {total} stored vectors…")
            self._store.recover_after_crash()
            self._store.refresh()
            missed = self._store.unfound(self._store.chunk_ids())
            torn = self._wide(missed)
            self._learn(len(torn), total)  # a fresh graph: what search misses on this data
            if len(torn) <= self._relink_max(total):  # approximate search, or a few to relink
                check_after_write(self._store, missed)
                return
            if before is not None and len(torn) >= NO_HELP * before:
                log.warning("%d of %d vectors are out of reach of search after %d rebuilds "
                            "alike: crowded near-duplicates, not damage", len(torn), total,
                            attempt)  # fmt: skip
                return
            before = len(torn)
            log.warning("after rebuild %d, %d vectors are not found on reopening", attempt,
                        len(missed))  # fmt: skip

    def _missed_wide(self, ids: list[str]) -> list[str]:
        """Return the ids that search misses among their k nearest and even among WIDE_K."""
        return self._wide(self._store.unfound(ids))

    def _wide(self, missed: list[str]) -> list[str]:
        """Return those of `missed` that search misses even among the WIDE_K nearest."""
        return self._store.unfound(missed, k=WIDE_K) if missed else []

    def note_sound(self, sample: int = START_SAMPLE) -> None:
        """Record what search misses on the index as this writer leaves it (a clean close).

        The next start compares its own sample with it: crowded data is not taken for damage.
        """
        try:
            self._guard.catch_up()
            ids = sorted(self._sample(sample))
            self._learn(len(self._missed_wide(ids)), len(ids))
        except Exception as exc:  # closing must not fail: the next start checks as before
            log.warning("could not sample the search index at close: %s", exc)

    def _learn(self, missed: int, checked: int) -> None:
        """Store the share of checked vectors search missed even WIDE_K wide."""
        if checked:
            self._registry.set_meta(MISS_SHARE, f"{missed / checked:.4f}")

    def _as_when_sound(self, missed: int, checked: int) -> bool:
        """Whether this many misses are no more than the index had when last known sound."""
        noted = self._registry.get_meta(MISS_SHARE)
        try:
            share = float(noted) if noted else None
        except ValueError:
            share = None
        return share is not None and missed <= (share + TORN_SHARE) * checked

    @staticmethod
    def _relink_max(checked: int) -> int:
        """Return how many vectors search may miss before the index counts as torn."""
        return max(RELINK_MAX, int(checked * TORN_SHARE))

    def _sample(self, n: int) -> set[str]:
        """Return up to n stored chunk ids at random."""
        if n <= 0:
            return set()
        ids = self._store.chunk_ids()
        return set(ids) if len(ids) <= n else set(random.sample(ids, n))

    def _chunk_ids_of(self, article_ids: set[str]) -> set[str]:
        """Return the chunk ids the registry holds for the given stories."""
        return {c.id for a in article_ids for c in self._registry.chunks_of(a)}

    def _roll_back_pending(self) -> list[str]:
        """Delete every pending story (its writer is gone: we hold the write lock)."""
        repaired = []
        for article_id in self._registry.pending_article_ids():
            self._store.delete_article(article_id)
            # Keep its review: an interrupted new version must not lift a retraction.
            self._registry.delete_article(article_id, keep_review=True)
            repaired.append(article_id)
            log.warning("rolled back interrupted ingestion of %s", article_id)
        return repaired

    def _reconcile(self) -> None:
        """Drop vectors of unknown stories and re-embed ready stories missing vectors."""
        if self._store.count() == self._registry.count_chunks():
            return  # the usual case, checked cheaply
        stored = self._store.chunk_counts()
        ready = self._registry.ready_chunk_counts()
        for article_id in sorted(stored.keys() - ready.keys()):
            log.warning("deleting %d orphan vectors of %s", stored[article_id], article_id)
            self._store.delete_article(article_id)
        for article_id, count in sorted(ready.items()):
            if stored.get(article_id, 0) != count:
                log.warning("re-embedding the %d chunks of %s (vectors missing)", count, article_id)
                self._reembed(article_id)

    def _reembed(self, article_id: str) -> None:
        """Rewrite a ready story's chunk vectors from the registry's copy of its chunks."""
        article = self._registry.get_article(article_id)
        chunks = self._registry.chunks_of(article_id)
        if article is None or not chunks:
            return
        vectors = self._embedder.encode([f"{article.title}\n{c.text}" for c in chunks])
        self._store.delete_article(article_id)
        self._store.upsert(chunks, vectors, [chunk_metadata(article, c) for c in chunks])


def _say(progress: Progress | None, line: str) -> None:
    """Report a repair step to the progress callback, or log it as a warning."""
    if progress is None:
        log.warning("%s", line)
    else:
        progress(line)
