"""Reading an embedded Chroma back vector by vector: what can be read, what finds itself."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from index.errors import IndexUnavailableError

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

log = logging.getLogger(__name__)
# The store's way to run one operation on its collection (damage and outages reported).
Call = Callable[[Callable[["Collection"], Any]], Any]

STORED_FIELDS = ("ids", "embeddings", "documents", "metadatas")
PROBE_BATCH = 500  # stored vectors read and queried per Chroma call when self-querying
# Distances below this are the same vector (a chunk whose text appears twice).
_SAME = 1e-5


def read_stored(call: Call, ids: list[str]) -> dict[str, list[Any]]:
    """Return ids, embeddings, documents and metadatas of every chunk that can be read."""
    out: dict[str, list[Any]] = {f: [] for f in STORED_FIELDS}
    for i in range(0, len(ids), PROBE_BATCH):
        part = ids[i : i + PROBE_BATCH]

        def read(col: Collection, part: list[str] = part) -> Any:
            return col.get(ids=part, include=["embeddings", "documents", "metadatas"])

        try:
            got = call(read)
        except IndexUnavailableError:
            raise
        except Exception:  # "Error finding id": keep what can be read, one half at a time
            if len(part) == 1:
                log.warning("vector of %s cannot be read; it will be re-embedded", part[0])
                continue
            half = len(part) // 2
            for piece in (part[:half], part[half:]):
                for f, values in read_stored(call, piece).items():
                    out[f].extend(values)
            continue
        for f in STORED_FIELDS:
            out[f].extend([] if got[f] is None else list(got[f]))
    return out


def unfound(call: Call, chunk_ids: Sequence[str], k: int) -> list[str]:
    """Return the chunks whose own stored vector does not find them among the k nearest."""
    missed: list[str] = []
    for i in range(0, len(chunk_ids), PROBE_BATCH):
        missed.extend(_unfound_batch(call, list(chunk_ids[i : i + PROBE_BATCH]), k))
    return missed


def _unfound_batch(call: Call, ids: list[str], k: int) -> list[str]:
    """Self-query one batch; split it when Chroma cannot read one of its vectors."""
    try:
        got = call(lambda col: col.get(ids=ids, include=["embeddings"]))
    except IndexUnavailableError:
        raise
    except Exception:  # chromadb's InternalError "Error finding id": narrow it down
        if len(ids) == 1:
            return ids
        half = len(ids) // 2
        return _unfound_batch(call, ids[:half], k) + _unfound_batch(call, ids[half:], k)
    missed = [cid for cid in ids if cid not in set(got["ids"])]
    if not got["ids"]:
        return missed
    vectors = np.asarray(got["embeddings"], dtype=np.float32)
    result = call(
        lambda col: col.query(query_embeddings=vectors, n_results=k, include=["distances"])
    )
    for cid, hits, dist in zip(got["ids"], result["ids"], result["distances"], strict=True):
        if cid not in hits and sum(d < _SAME for d in dist) < k:
            missed.append(cid)
    return missed


def relink(call: Call, chunk_ids: Sequence[str]) -> None:
    """Delete these stored vectors and add them back, as new entries of the search graph."""
    stored = read_stored(call, list(chunk_ids))
    if not stored["ids"]:
        return
    call(lambda col: col.delete(ids=stored["ids"]))
    call(
        lambda col: col.add(
            ids=stored["ids"],
            embeddings=np.asarray(stored["embeddings"], dtype=np.float32),
            documents=stored["documents"],
            metadatas=stored["metadatas"],
        )
    )
