"""The fresh evaluation set (routing/data/fresh/): well-formed, labelled by the taxonomy, and
covering what it promises.

The set is read once, at the end of a round of model changes, by someone who did not tune the
model on it (README.txt beside it). These tests only check the file itself; none of them runs
the classifier on it, and no score on it is printed here.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

import routing
from routing.taxonomy import (
    CLASSIFIER_OOS_REASONS,
    DEPARTMENTS,
    DOMAINS,
    EMERGENCY_NUMBERS,
    INTENTS,
    KINDS,
)

FRESH = Path(routing.__file__).resolve().parent / "data" / "fresh" / "requests.jsonl"
LABEL_KEYS = (
    "intent",
    "emergency",
    "in_scope",
    "out_of_scope_reason",
    "kind",
    "domain",
    "department",
    "enterprise",
)
KEYS = frozenset(("id", "style", "text", *LABEL_KEYS))
STYLES = ("spoken", "written", "asr", "terse")
# Long written messages (title and body) are this long, in characters.
WRITTEN_CHARS = (200, 1500)
# Punctuation a recogniser never emits.
_PUNCT = re.compile(r"[，。！？、：；“”‘’（）《》…—,.!?:;\"'()\[\]]")
# Texts compare equal when they differ only in spaces and punctuation.
_NOT_WORD = re.compile(r"[\W_]+")

# What the set promises (issue 14): minimum rows per label.
MIN_ROWS = 400
MIN_PER_DEPARTMENT = 10
MIN_PER_EMERGENCY = 15
MIN_ASR_PER_EMERGENCY = 3
MIN_HARD_NEGATIVES = 80
MIN_PER_REASON = 15
MIN_FOLLOW_UPS = 40
MIN_ENTERPRISE = 30
MIN_PER_KIND = 10
MIN_PER_STYLE = 40


class FreshRowError(ValueError):
    """A row of the fresh set breaks the taxonomy's contract."""


def check_row(row: dict[str, Any]) -> None:
    """Raise FreshRowError naming the row and the rule it breaks."""
    where = f"fresh row {row.get('id')!r}"

    def fail(why: str) -> None:
        raise FreshRowError(f"{where}: {why}")

    if set(row) != KEYS:
        fail(f"keys {sorted(row)} are not {sorted(KEYS)}")
    if not isinstance(row["id"], str) or not row["id"]:
        fail("id must be a non-empty string")
    if row["style"] not in STYLES:
        fail(f"style {row['style']!r} is not one of {STYLES}")
    text = row["text"]
    if not isinstance(text, str) or not text.strip():
        fail("text must be a non-empty string")
    if row["intent"] not in INTENTS:
        fail(f"intent {row['intent']!r} is not one of {INTENTS}")
    if not isinstance(row["in_scope"], bool) or not isinstance(row["enterprise"], bool):
        fail("in_scope and enterprise must be booleans")
    if row["intent"] == "emergency":
        if row["emergency"] not in EMERGENCY_NUMBERS:
            fail(f"an emergency needs a number of {EMERGENCY_NUMBERS}, not {row['emergency']!r}")
        expected = {
            "in_scope": False,
            "out_of_scope_reason": "emergency",
            "kind": None,
            "domain": None,
            "department": None,
            "enterprise": False,
        }
        wrong = {k: row[k] for k, v in expected.items() if row[k] != v}
        if wrong:
            fail(f"an emergency is labelled {expected}, these differ: {wrong}")
        return
    if row["emergency"] is not None:
        fail("emergency must be null unless intent is emergency")
    if row["kind"] not in KINDS:
        fail(f"kind {row['kind']!r} is not one of {KINDS}")
    if row["domain"] not in DOMAINS:
        fail(f"domain {row['domain']!r} is not one of {DOMAINS}")
    if row["department"] is not None and row["department"] not in DEPARTMENTS:
        fail(f"department {row['department']!r} is not in the taxonomy")
    if row["in_scope"]:
        if row["out_of_scope_reason"] is not None:
            fail("an in-scope request has no out-of-scope reason")
        if row["intent"] == "new_request" and row["department"] is None:
            fail("an in-scope new request names the department it goes to")
    else:
        if row["out_of_scope_reason"] not in CLASSIFIER_OOS_REASONS:
            fail(f"out-of-scope reason must be one of {CLASSIFIER_OOS_REASONS}")
        if row["intent"] != "new_request" or row["department"] is not None:
            fail("an out-of-scope request is a new request dispatched to no department")
    if row["style"] == "written" and not WRITTEN_CHARS[0] <= len(text) <= WRITTEN_CHARS[1]:
        fail(f"a written message has {WRITTEN_CHARS} characters, this one {len(text)}")


def check_asr_text(row: dict[str, Any]) -> None:
    """Recogniser output: a space between every character, no punctuation, no Latin/digits."""
    text = row["text"]
    if _PUNCT.search(text) or re.search(r"[0-9A-Za-z]", text):
        raise FreshRowError(f"fresh row {row['id']!r}: recogniser text has punctuation or Latin")
    if any(len(token) != 1 for token in text.split(" ")):
        raise FreshRowError(f"fresh row {row['id']!r}: recogniser text is not one char per token")


def load_fresh() -> list[dict[str, Any]]:
    rows = []
    with FRESH.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise FreshRowError(f"{FRESH.name} line {n}: not JSON ({exc})") from exc
    return rows


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    return load_fresh()


def test_every_row_follows_the_taxonomy(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        check_row(row)
        if row["style"] == "asr":
            check_asr_text(row)


def test_ids_and_texts_are_unique(rows: list[dict[str, Any]]) -> None:
    ids = Counter(row["id"] for row in rows)
    assert [i for i, n in ids.items() if n > 1] == []
    texts = Counter(_NOT_WORD.sub("", row["text"]) for row in rows)
    assert [t for t, n in texts.items() if n > 1] == []


def test_counts_meet_the_minimums(rows: list[dict[str, Any]]) -> None:
    assert len(rows) >= MIN_ROWS
    departments = Counter(row["department"] for row in rows)
    assert {d: departments[d] for d in DEPARTMENTS if departments[d] < MIN_PER_DEPARTMENT} == {}
    kinds = Counter(row["kind"] for row in rows)
    assert {k: kinds[k] for k in KINDS if kinds[k] < MIN_PER_KIND} == {}
    numbers = Counter(row["emergency"] for row in rows)
    assert {n: numbers[n] for n in EMERGENCY_NUMBERS if numbers[n] < MIN_PER_EMERGENCY} == {}
    asr = Counter(row["emergency"] for row in rows if row["style"] == "asr")
    assert {n: asr[n] for n in EMERGENCY_NUMBERS if asr[n] < MIN_ASR_PER_EMERGENCY} == {}
    reasons = Counter(row["out_of_scope_reason"] for row in rows)
    assert {r: reasons[r] for r in CLASSIFIER_OOS_REASONS if reasons[r] < MIN_PER_REASON} == {}
    assert sum(row["intent"] == "follow_up" for row in rows) >= MIN_FOLLOW_UPS
    assert sum(row["enterprise"] for row in rows) >= MIN_ENTERPRISE
    styles = Counter(row["style"] for row in rows)
    assert {s: styles[s] for s in STYLES if styles[s] < MIN_PER_STYLE} == {}


def test_hard_negatives_are_ordinary_in_scope_requests(rows: list[dict[str, Any]]) -> None:
    # Complaints that mention hazards, fire risks, pollution, lifts, gas, past accidents or
    # news: the rows whose id starts with "hn-". None of them may be labelled an emergency.
    hard = [row for row in rows if row["id"].startswith("hn-")]
    assert len(hard) >= MIN_HARD_NEGATIVES
    labelled = {(r["intent"], r["in_scope"], r["emergency"], r["department"] is None) for r in hard}
    assert labelled == {("new_request", True, None, False)}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "complaint"}, "an emergency is labelled"),
        ({"emergency": None}, "needs a number"),
        ({"intent": "new_request"}, "emergency must be null"),
        ({"style": "chat"}, "style"),
        ({"extra": 1}, "keys"),
    ],
)
def test_the_checker_rejects_a_broken_emergency(
    rows: list[dict[str, Any]], change: dict[str, Any], message: str
) -> None:
    emergency = next(row for row in rows if row["intent"] == "emergency")
    with pytest.raises(FreshRowError, match=message):
        check_row({**emergency, **change})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"department": "fire_brigade"}, "department"),
        ({"out_of_scope_reason": "privacy"}, "no out-of-scope reason"),
        ({"department": None}, "names the department"),
        ({"in_scope": False, "out_of_scope_reason": "contrary_to_fact"}, "reason must be"),
        ({"domain": "culture"}, "domain"),
        ({"style": "written", "text": "短"}, "written message"),
    ],
)
def test_the_checker_rejects_a_broken_request(
    rows: list[dict[str, Any]], change: dict[str, Any], message: str
) -> None:
    request = next(row for row in rows if row["intent"] == "new_request" and row["in_scope"])
    with pytest.raises(FreshRowError, match=message):
        check_row({**request, **change})


def test_the_checker_rejects_punctuated_recogniser_text(rows: list[dict[str, Any]]) -> None:
    asr = next(row for row in rows if row["style"] == "asr")
    check_asr_text(asr)
    with pytest.raises(FreshRowError, match="punctuation"):
        check_asr_text({**asr, "text": asr["text"] + " 。"})
    with pytest.raises(FreshRowError, match="one char per token"):
        check_asr_text({**asr, "text": asr["text"].replace(" ", "", 2)})
