"""Reading stored chunks and sentences (for retrieval and repair), mixed into the Registry."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

import numpy as np

from index.database import Connection, Dialect
from index.models import Chunk
from index.rows import SentenceRow

# A story is retracted when a moderator's review says so or, without one, when the page itself
# says so (a moderator's review replaces the page's status). Needs `a` articles joined with:
REVIEWS = "LEFT JOIN reviews r ON r.article_id = a.id"


class ChunkReads:
    """Chunks and their sentences as retrieval, the BM25 index and repair read them."""

    dialect: Dialect
    _retracted: str  # the SQL condition "story a is retracted" (the Registry builds it)

    def read(self) -> AbstractContextManager[Connection]:
        """Lend a connection for reads (the Registry provides it)."""
        raise NotImplementedError

    def ready_chunk_counts(self) -> dict[str, int]:
        """Return {article id: chunk count} for every ready article."""
        with self.read() as db:
            rows = db.execute(
                "SELECT id, chunk_count FROM articles WHERE status = 'ready'"
            ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def chunks_of(self, article_id: str) -> list[Chunk]:
        """Return the stored chunks of one article, in order (sentences are not loaded)."""
        with self.read() as db:
            rows = db.execute(
                "SELECT id, article_id, n, kind, text FROM chunks WHERE article_id = ? ORDER BY n",
                (article_id,),
            ).fetchall()
        return [Chunk(r[0], r[1], r[2], r[3], r[4], ()) for r in rows]

    def sentences_for(self, chunk_ids: Sequence[str]) -> list[SentenceRow]:
        """Return the stored sentences of the given chunks, in chunk then sentence order."""
        if not chunk_ids:
            return []
        marks = ",".join("?" * len(chunk_ids))
        with self.read() as db:
            rows = db.execute(
                f"SELECT chunk_id, idx, role, text, vec FROM sentences WHERE chunk_id IN ({marks})"
                " ORDER BY chunk_id, idx",
                list(chunk_ids),
            ).fetchall()
        return [
            SentenceRow(r[0], r[1], r[2], r[3], np.frombuffer(r[4], dtype=np.float16)) for r in rows
        ]

    def chunk_texts(self) -> list[tuple[str, str, int]]:
        """Return (chunk id, title + text, library) for every chunk of a ready, citable story."""
        with self.read() as db:
            rows = db.execute(
                "SELECT c.id, a.title || ? || c.text, a.library FROM chunks c"
                f" JOIN articles a ON a.id = c.article_id {REVIEWS}"
                f" WHERE a.status = 'ready' AND NOT {self._retracted}"
                f" ORDER BY {self.dialect.insertion_order('c')}",
                ("\n",),
            ).fetchall()
        return [(r[0], r[1], int(r[2])) for r in rows]

    def sentence_vectors(self) -> list[tuple[str, int, bytes]]:
        """Return (chunk id, library, float16 vector) of each sentence of ready, citable stories."""
        with self.read() as db:
            rows = db.execute(
                "SELECT s.chunk_id, a.library, s.vec FROM sentences s JOIN chunks c"
                f" ON c.id = s.chunk_id JOIN articles a ON a.id = c.article_id {REVIEWS}"
                f" WHERE a.status = 'ready' AND NOT {self._retracted}"
                f" ORDER BY {self.dialect.insertion_order('c')}, s.idx"
            ).fetchall()
        return [(r[0], int(r[1]), bytes(r[2])) for r in rows]

    def chunks_by_id(self, chunk_ids: Sequence[str]) -> dict[str, tuple[str, str, str]]:
        """Return {chunk id: (article id, kind, text)} for chunks of ready, citable stories."""
        if not chunk_ids:
            return {}
        marks = ",".join("?" * len(chunk_ids))
        with self.read() as db:
            # The reviews lookup is by primary key per row: no scan, whatever the index size.
            rows = db.execute(
                f"SELECT c.id, c.article_id, c.kind, c.text FROM chunks c JOIN articles a"
                f" ON a.id = c.article_id {REVIEWS} WHERE a.status = 'ready'"
                f" AND NOT {self._retracted} AND c.id IN ({marks})",
                list(chunk_ids),
            ).fetchall()
        return {r[0]: (r[1], r[2], r[3]) for r in rows}
