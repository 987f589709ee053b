"""The second fresh evaluation set (routing/data/fresh2) is well-formed and as large as promised.

The set is read once, at the end of a round of classifier changes, so these tests look only at
its shape: labels valid against the taxonomy, the styles formatted as its README says, the
minimum counts met. They never run the classifier on it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from routing.labelled import read_labelled
from routing.taxonomy import (
    CLASSIFIER_OOS_REASONS,
    DEPARTMENTS,
    DOMAINS,
    EMERGENCY_NUMBERS,
    INTENTS,
    KINDS,
)

FOLDER = Path(__file__).resolve().parents[2] / "routing" / "data" / "fresh2"
KEYS = (
    "id",
    "group",
    "style",
    "text",
    "intent",
    "emergency",
    "in_scope",
    "out_of_scope_reason",
    "kind",
    "domain",
    "department",
    "enterprise",
    "hard_negative",
)
STYLES = ("spoken", "written", "asr", "terse")


@pytest.fixture(scope="module")
def rows() -> list[dict[str, Any]]:
    lines = (FOLDER / "requests.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


def _bare(text: str) -> str:
    """The text without spaces and punctuation, to spot the same request written twice."""
    return "".join(c for c in text if unicodedata.category(c)[0] in "LN")


def test_every_row_has_the_keys_and_valid_labels(rows: list[dict[str, Any]]) -> None:
    wrong = []
    for row in rows:
        if tuple(row) != KEYS:
            wrong.append(f"{row.get('id')}: keys {list(row)}")
            continue
        ok = (
            row["style"] in STYLES
            and row["intent"] in INTENTS
            and isinstance(row["in_scope"], bool)
            and isinstance(row["enterprise"], bool)
            and isinstance(row["hard_negative"], bool)
            and row["kind"] in (*KINDS, None)
            and row["domain"] in (*DOMAINS, None)
            and row["department"] in (*DEPARTMENTS, None)
        )
        if row["intent"] == "emergency":
            ok = ok and (
                row["emergency"] in EMERGENCY_NUMBERS
                and row["in_scope"] is False
                and row["out_of_scope_reason"] == "emergency"
                and row["kind"] is None
                and row["domain"] is None
                and row["department"] is None
                and row["enterprise"] is False
            )
        else:
            ok = ok and (
                row["emergency"] is None
                and row["kind"] is not None
                and (row["domain"] is None) == (row["department"] is None)
                and (
                    row["out_of_scope_reason"] is None
                    if row["in_scope"]
                    else row["out_of_scope_reason"] in CLASSIFIER_OOS_REASONS
                )
            )
        if not ok:
            wrong.append(str(row["id"]))
    assert not wrong, f"rows with bad labels: {wrong}"
    # the scorer takes the file as it is
    assert len(read_labelled((FOLDER / "requests.jsonl").read_bytes())) == len(rows)


def test_each_department_has_one_domain(rows: list[dict[str, Any]]) -> None:
    domains: dict[str, set[str]] = {}
    for row in rows:
        if row["department"] is not None:
            domains.setdefault(row["department"], set()).add(row["domain"])
    assert {d: s for d, s in domains.items() if len(s) > 1} == {}
    readme = (FOLDER / "README.txt").read_text(encoding="utf-8")
    for department, (domain,) in domains.items():
        assert re.search(rf"{department}\s+->\s+{domain}\b", readme), department


def test_ids_unique_and_texts_not_repeated(rows: list[dict[str, Any]]) -> None:
    ids = Counter(row["id"] for row in rows)
    assert [i for i, n in ids.items() if n > 1] == []
    texts = Counter(_bare(row["text"]) for row in rows)
    assert [t for t, n in texts.items() if n > 1] == []


def test_minimum_counts(rows: list[dict[str, Any]]) -> None:
    assert len(rows) >= 420
    departments = Counter(row["department"] for row in rows)
    assert {d: departments[d] for d in DEPARTMENTS if departments[d] < 10} == {}
    kinds = Counter(row["kind"] for row in rows)
    assert {k for k in KINDS if kinds[k] == 0} == set()
    styles = Counter(row["style"] for row in rows)
    assert all(styles[s] >= 40 for s in STYLES), styles
    for number in EMERGENCY_NUMBERS:
        told = [row for row in rows if row["emergency"] == number]
        assert len(told) >= 15, number
        assert sum(row["style"] == "asr" for row in told) >= 5, number
    assert sum(row["hard_negative"] for row in rows) >= 90
    reasons = Counter(row["out_of_scope_reason"] for row in rows)
    assert all(reasons[r] >= 18 for r in CLASSIFIER_OOS_REASONS), reasons
    assert sum(row["intent"] == "follow_up" for row in rows) >= 45
    assert sum(row["enterprise"] for row in rows) >= 45


def test_recogniser_rows_look_like_recogniser_output(rows: list[dict[str, Any]]) -> None:
    wrong = [
        row["id"]
        for row in rows
        if row["style"] == "asr"
        and not (
            all(len(token) == 1 for token in row["text"].split(" "))
            and all(unicodedata.category(c) == "Lo" for c in row["text"].replace(" ", ""))
        )
    ]
    assert wrong == []


def test_written_rows_are_messages_of_200_to_1500_characters(rows: list[dict[str, Any]]) -> None:
    wrong = [
        (row["id"], len(row["text"]))
        for row in rows
        if row["style"] == "written" and not 200 <= len(row["text"]) <= 1500
    ]
    assert wrong == []


def test_hard_negatives_are_ordinary_requests(rows: list[dict[str, Any]]) -> None:
    negatives = [row for row in rows if row["hard_negative"]]
    assert all(
        row["intent"] == "new_request" and row["emergency"] is None and row["in_scope"]
        for row in negatives
    )


def test_order_numbers_read_in_digits_are_thirteen_long(rows: list[dict[str, Any]]) -> None:
    numbers = [n for row in rows for n in re.findall(r"\d{6,}", row["text"])]
    assert numbers, "some follow-ups give an order number in digits"
    assert [n for n in numbers if not re.fullmatch(r"2026(0[1-9]|1[0-2])\d{7}", n)] == []
