"""An independent look at an embedded Chroma: can every vector be read and found by itself?"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_BATCH = 200
_SAME = 1e-5  # distances below this are the same vector


def unreadable_and_unfound(
    chroma_dir: Path, collection: str = "newsbot", k: int = 10
) -> tuple[int, list[str], list[str]]:
    """Return (vectors stored, ids whose vector cannot be read, ids not in their own top k)."""
    import chromadb
    from chromadb.api.client import SharedSystemClient
    from chromadb.config import Settings as ChromaSettings

    SharedSystemClient.clear_system_cache()  # read what is on disk now, not a cached client
    client = chromadb.PersistentClient(
        path=str(chroma_dir), settings=ChromaSettings(anonymized_telemetry=False)
    )
    col = client.get_collection(collection)
    ids = col.get(include=[])["ids"]
    unreadable: list[str] = []
    unfound: list[str] = []
    for start in range(0, len(ids), _BATCH):
        part = ids[start : start + _BATCH]
        try:
            got = col.get(ids=part, include=["embeddings"])
        except Exception:  # chromadb's InternalError "Error finding id": look one by one
            got = {"ids": [], "embeddings": []}
            for cid in part:
                try:
                    one = col.get(ids=[cid], include=["embeddings"])
                except Exception:
                    unreadable.append(cid)
                    continue
                got["ids"].extend(one["ids"])
                got["embeddings"].extend(list(one["embeddings"]))
        if not got["ids"]:
            continue
        vectors = np.asarray(got["embeddings"], dtype=np.float32)
        found = col.query(query_embeddings=vectors, n_results=k, include=["distances"])
        for cid, hits, dists in zip(got["ids"], found["ids"], found["distances"], strict=True):
            # k exact copies of the vector (a text stored k times) fill the k places: found.
            if cid not in hits and sum(d < _SAME for d in dists) < k:
                unfound.append(cid)
    SharedSystemClient.clear_system_cache()
    return len(ids), unreadable, unfound
