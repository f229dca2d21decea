"""The stories service: add, list, inspect, review and remove stories, one library at a time."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from index.errors import ArticleNotFoundError
from index.ingest import Ingestor, Outcome, Progress
from index.library import SHARED, Libraries
from index.models import Article, IngestReport, RawDocument
from index.registry import Registry
from index.review import review_story
from index.schema import META_SAMPLES_DUE
from index.settings import Settings
from index.sources import iter_documents

Fetch = Callable[[str], RawDocument]


class StoryService:
    """Curates libraries: every call names the libraries it may see or change."""

    def __init__(
        self, registry: Registry, ingestor: Ingestor, settings: Settings, fetch: Fetch
    ) -> None:
        self._registry = registry
        self._ingestor = ingestor
        self._settings = settings
        self.fetch = fetch

    def add(self, doc: RawDocument, library: int, added_by: str | None) -> tuple[Outcome, Article]:
        """Index a document into a library and return what happened with the stored story."""
        outcome, article_id = self._ingestor.ingest_one(doc, added_by=added_by, library=library)
        return outcome, self.get(article_id, (library,))

    def existing(self, doc: RawDocument, library: int) -> Article | None:
        """Return the story of that library this document would replace, if any."""
        return self._registry.get_article(self._ingestor.article_id_for(doc, library), (library,))

    def get(self, article_id: str, libraries: Libraries | None) -> Article:
        """Return a story of the libraries (None: any); raise ArticleNotFoundError otherwise."""
        article = self._registry.get_article(article_id, libraries)
        if article is None:
            raise ArticleNotFoundError(article_id)
        return article

    def still_present(
        self, article_ids: Sequence[str], libraries: Libraries | None
    ) -> list[Article]:
        """Return the stories of the libraries among article_ids, in order, skipping any gone."""
        found = (self._registry.get_article(a, libraries) for a in article_ids)
        return [a for a in found if a is not None]

    def list_stories(self, libraries: Libraries | None) -> list[Article]:
        """Return the stories of the libraries (None: all), most recently added first."""
        return self._registry.list_articles(libraries)

    def count(self, libraries: Libraries | None = None) -> int:
        """Return how many stories the libraries hold (None: all)."""
        return self._registry.count_articles(libraries)

    def remove(self, article_id: str, libraries: Libraries | None) -> Article:
        """Remove a story of the libraries and return it as it was."""
        article = self.get(article_id, libraries)
        self._ingestor.remove(article_id, libraries)
        return article

    def review(
        self,
        article_id: str,
        libraries: Libraries | None,
        status: str,
        *,
        confidence: int | None = None,
        note: str | None = None,
        reviewed_by: str | None = None,
    ) -> Article:
        """Record a moderator's review of a story of the libraries; return the story with it."""
        return review_story(
            self._registry, article_id, status, confidence=confidence, note=note,
            reviewed_by=reviewed_by, libraries=libraries,
        )  # fmt: skip

    def ingest_sources(
        self,
        sources: list[str],
        *,
        library: int = SHARED,
        added_by: str | None = None,
        progress: Progress | None = None,
    ) -> IngestReport:
        """Ingest files, folders and URLs into a library."""
        docs = iter_documents(sources, self.fetch)
        return self._ingestor.ingest(docs, added_by=added_by, progress=progress, library=library)

    def ensure_samples(self) -> IngestReport | None:
        """Add the bundled samples to the shared library once, on a new data directory only.

        A moderator who empties the index means it: the samples never come back after that.
        """
        if not self._registry.get_meta(META_SAMPLES_DUE):
            return None
        report = self.ingest_sources(
            [str(self._settings.samples_dir)], added_by="newsbot (samples)"
        )
        self._registry.set_meta(META_SAMPLES_DUE, "")
        return report
