"""Typed errors raised by the core; the CLI and the bot turn them into short messages."""

from __future__ import annotations


class NewsbotError(Exception):
    """Base class of every error the core raises on purpose."""

    def user_message(self) -> str:
        """Return a short sentence fit to show a user."""
        return str(self)


class IngestError(NewsbotError):
    """A source could not be turned into an indexed story."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason

    def user_message(self) -> str:
        """Return the reason with the source it concerns."""
        return f"Could not add {self.source}: {self.reason}"


class SkippedFile(IngestError):
    """A file inside an ingested folder that is not a story file; reported, not a failure."""


class FetchError(IngestError):
    """A URL could not be fetched, or was refused by the fetch guard."""


class InvalidQuestionError(NewsbotError):
    """A question is empty, too long or otherwise unusable."""


class ArticleNotFoundError(NewsbotError):
    """No indexed story has the given id."""

    def __init__(self, article_id: str) -> None:
        super().__init__(f"No story with id {article_id!r} is indexed.")
        self.article_id = article_id


class IndexUnavailableError(NewsbotError):
    """The vector store (e.g. a Chroma server) cannot be reached."""

    def user_message(self) -> str:
        """Return a message that says the index is down, not that the question failed."""
        return "The story index is unavailable right now; please try again in a moment."


class InvalidReviewError(NewsbotError):
    """A moderator review has a bad status, confidence or note; nothing was changed."""


class QuestionNotFoundError(NewsbotError):
    """No logged question has the given id (feedback on an unknown answer)."""

    def __init__(self, question_id: int) -> None:
        super().__init__(f"No answer with id {question_id} is on record.")
        self.question_id = question_id

    def user_message(self) -> str:
        """Return a message that says the vote was not saved and why."""
        return "I have no record of that answer any more, so your vote was not saved."


class InvalidFeedbackError(NewsbotError):
    """A vote's reason is too long or otherwise unusable."""


class InvalidSettingError(NewsbotError):
    """A server setting is unknown or its value breaks the setting's rules; nothing changed."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"Cannot set {key}: {reason}")
        self.key = key
        self.reason = reason


class FollowLimitError(NewsbotError):
    """A member already follows as many questions as allowed."""

    def __init__(self, limit: int) -> None:
        noun = "question" if limit == 1 else "questions"
        super().__init__(
            f"You already follow {limit} {noun}, the most allowed: unfollow one first."
        )
        self.limit = limit


class FollowNotFoundError(NewsbotError):
    """A member does not follow the question they named."""

    def __init__(self, given: str) -> None:
        super().__init__("You don't follow that question.")
        self.given = given


class StoreDamagedError(NewsbotError):
    """A file of the data directory (registry or vector index) cannot be read as it should."""

    def __init__(self, path: object, detail: str, fix: str) -> None:
        super().__init__(f"{path} is damaged ({detail}). {fix}")
        self.path = path
        self.detail = detail
        self.fix = fix


class FeedError(NewsbotError):
    """A feed cannot be subscribed to, read or changed as asked; nothing was changed."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason

    def user_message(self) -> str:
        """Return the reason with the feed it concerns."""
        return f"Feed {self.url}: {self.reason}"


class FeedNotFoundError(NewsbotError):
    """No feed of the given libraries has the given id."""

    def __init__(self, feed_id: int) -> None:
        super().__init__(f"No feed with id {feed_id} is subscribed here.")
        self.feed_id = feed_id


class LeaseBusyError(NewsbotError):
    """Another bot process holds the lease on this work (e.g. it is posting this digest)."""

    def __init__(self, work: str) -> None:
        super().__init__(f"Another bot process is doing this right now ({work}); try again soon.")
        self.work = work


class LeaseLostError(NewsbotError):
    """This process stopped renewing a lease in time and another took the work over."""


class DatabaseUnavailableError(NewsbotError):
    """The PostgreSQL registry (NEWSBOT_DATABASE_URL) cannot be reached."""

    def __init__(self, where: str) -> None:
        super().__init__(f"the database at {where} is unavailable (not running or unreachable)")
        self.where = where

    def user_message(self) -> str:
        """Return a message that says the shared state is down, not that the request failed."""
        return "The bot's database is unavailable right now; please try again in a moment."
