"""Disagreeing sources: different figures or names for one subject are shown side by side."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from index.disagree import Quoted, figures, find_disagreements, names
from index.present import answer_to_dict, answer_to_text
from index.services import Services

MARCH = "OpenAI raised $6.6 billion in its latest funding round, the company said on Monday."
APRIL = "OpenAI raised $10 billion in its latest funding round, according to new filings."


def test_figures_and_names_are_extracted_and_normalised() -> None:
    assert figures("It cost $1,500 and rose 13.1% in 2024, to 2 million users.") == {
        "$1500", "13.1%", "2million"}  # fmt: skip
    assert names("The prize went to Mistral AI at the summit.") == {"Mistral AI"}


def test_different_figures_on_one_subject_disagree() -> None:
    found = find_disagreements(
        [Quoted(MARCH, 1, date(2026, 3, 1)), Quoted(APRIL, 2, date(2026, 4, 10))]
    )
    assert len(found) == 1 and found[0].kind == "figure"
    assert [(c.n, c.value) for c in found[0].claims] == [(1, "$6.6billion"), (2, "$10billion")]
    assert "fund" in " ".join(found[0].subject)


def test_figures_are_compared_within_a_unit_and_days_are_not_names() -> None:
    a = "Food costs spiked 11.4% over the past year, the largest annual increase since 1979."
    b = "Over the last 12 months, food costs soared 13.1%, the largest annual increase since 1979."
    found = find_disagreements([Quoted(a, 1, None), Quoted(b, 2, None)])
    assert [(c.value) for c in found[0].claims] == ["11.4%", "13.1%"]
    c = "Apple on Monday released iOS 16 with new lock screen features for the iPhone."
    d = "Apple released iOS 16 with new lock screen features for the iPhone, like Android."
    assert find_disagreements([Quoted(c, 1, None), Quoted(d, 2, None)]) == []
    e = "The city agreed to pay $26 million to the men, lawyers for New York said on Sunday."
    f = "The city agreed to pay $26 million to the men, lawyers for York said on Sunday."
    assert find_disagreements([Quoted(e, 1, None), Quoted(f, 2, None)]) == []


def test_agreement_other_subjects_and_one_story_are_not_disagreements() -> None:
    same = "OpenAI raised $6.6 billion in its latest funding round, filings show."
    other = "Chipmakers added 3,000 jobs in Arizona factories this spring, officials said."
    assert find_disagreements([Quoted(MARCH, 1, None), Quoted(same, 2, None)]) == []
    assert find_disagreements([Quoted(MARCH, 1, None), Quoted(other, 2, None)]) == []
    assert find_disagreements([Quoted(MARCH, 1, None), Quoted(APRIL, 1, None)]) == []


def test_one_to_one_names_disagree_but_lists_do_not() -> None:
    a = "The award for best AI startup of the year went to Mistral at the Paris summit."
    b = "The award for best AI startup of the year went to Cohere at the Paris summit."
    listing = "The award for best AI startup of the year drew Cohere, Mistral and Aleph Alpha."
    assert [d.kind for d in find_disagreements([Quoted(a, 1, None), Quoted(b, 2, None)])] == [
        "name"
    ]
    assert find_disagreements([Quoted(a, 1, None), Quoted(listing, 2, None)]) == []


def _story(tmp_path: Path, name: str, published: str, body: str) -> Path:
    path = tmp_path / f"{name}.md"
    path.write_text(f"---\ntitle: {name}\nsource: Wire\npublished: {published}\n---\n{body}\n")
    return path


def test_answer_shows_both_sides_with_dates(services: Services, tmp_path: Path) -> None:
    filler = " Investors expect the money to fund new data centres over several years."
    paths = [
        _story(tmp_path, "march-round", "2026-03-01", MARCH + filler),
        _story(tmp_path, "april-round", "2026-04-10", APRIL + filler),
    ]
    assert len(services.ingest_sources([str(p) for p in paths]).added) == 2
    answer = services.ask("How much did OpenAI raise in its latest funding round?")
    assert not answer.refused and len(answer.citations) == 2
    assert answer.disagreements and answer.disagreements[0].kind == "figure"
    payload = answer_to_dict(answer)
    values = {c["value"] for c in payload["disagreements"][0]["claims"]}
    assert values == {"$6.6billion", "$10billion"}
    assert {c["published"] for c in payload["disagreements"][0]["claims"]} == {
        "2026-03-01", "2026-04-10"}  # fmt: skip
    assert "Sources differ:" in answer_to_text(answer)


def test_same_slot_figures_conflict_inside_otherwise_different_sentences() -> None:
    new = (
        "Screenwriters who train chatbots for AI labs are now earning up to $200 per hour, "
        "according to three contractors who spoke on condition of anonymity."
    )
    old = (
        "One industry insider described working for companies like Mercor and Outlier, earning "
        "up to $150 per hour, often with irregular hours and uncertain job stability."
    )
    found = find_disagreements([Quoted(new, 1, date(2026, 9, 14)), Quoted(old, 2, None)])
    assert [(d.kind, {c.value for c in d.claims}) for d in found] == [("figure", {"$200", "$150"})]
    # The same words around a figure of another unit, or a different slot, are no conflict.
    share = "The company raised up to $5 per share from investors in its latest offering round."
    other = "The contractors said they were paid up to $7 per hour for grading chatbot replies."
    assert find_disagreements([Quoted(share, 1, None), Quoted(other, 2, None)]) == []
    # Sharing only function and time words is no shared subject: revenue growth vs headcount.
    growth = "Nvidia said its data center revenue grew by 5% in the last year."
    cuts = "Intel cut its workforce, and headcount shrank by 20% in the last year."
    assert find_disagreements([Quoted(growth, 1, None), Quoted(cuts, 2, None)]) == []
    percent = "Analysts said earnings grew up to 20% per year, according to three sources."
    assert find_disagreements([Quoted(new, 1, None), Quoted(percent, 2, None)]) == []
