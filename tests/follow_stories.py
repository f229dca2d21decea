"""Small stories for followed-question tests: one the seeds do not cover, a newer figure, noise."""

from __future__ import annotations

from index.models import RawDocument
from index.services import Services

# Not covered by the two seed stories (Hollywood writers training AI); EU_FINE answers it.
EU_QUESTION = "How much did the European Commission fine Meta under the Digital Markets Act?"
# Covered by a seed story (writers earning "up to $150 per hour"); TRAINER_PAY has a newer figure.
PAY_QUESTION = "How much do AI trainers earn per hour?"


def _doc(slug: str, title: str, published: str, *sentences: str) -> RawDocument:
    url = f"https://news.example.com/{slug}"
    return RawDocument(
        text=" ".join(sentences), origin=url, url=url, title=title,
        source="Example News", published=published,
    )  # fmt: skip


EU_FINE = _doc(
    "eu-meta-dma-fine",
    "EU fines Meta under the Digital Markets Act",
    "2026-05-20",
    "The European Commission fined Meta 200 million euros under the Digital Markets Act on "
    "Wednesday.",
    "Regulators said the company's pay-or-consent advertising model broke the law's rules on "
    "combining personal data.",
    "Meta said it would appeal the decision and called the fine unfair to European users.",
)
TRAINER_PAY = _doc(
    "ai-trainer-pay",
    "AI trainers now earn up to $200 per hour",
    "2026-05-22",
    "Data annotation firms now pay experienced AI trainers up to $200 per hour, a report found "
    "in May 2026.",
    "The rate is up from the $150 per hour that Hollywood writers reported earning last year.",
    "Demand for expert trainers in law, medicine and screenwriting keeps rising as labs race to "
    "improve their models.",
)
FITBIT = _doc(
    "fitbit-air",
    "Google launches the screenless Fitbit Air",
    "2026-05-21",
    "Google introduced the screenless Fitbit Air, a fitness band priced at 100 dollars, on "
    "Tuesday.",
    "The band pairs with a new Google Health app that replaces the older Fitbit app on phones.",
    "Reviewers praised the battery life but noted the band has no display at all.",
)


def add_story(services: Services, doc: RawDocument) -> str:
    """Index one story as /story add or `newsbot ingest` would; return its id."""
    outcome, article_id = services.ingestor.ingest_one(doc, added_by="test")
    assert outcome == "added", outcome
    return article_id
