"""The output object against the taxonomy contract: keys, order, label names, JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from routing import Classification, Classifier
from routing import taxonomy as tx

# The contract document, kept in the repository (docs/taxonomy.md).
SPEC = Path(__file__).resolve().parents[2] / "docs" / "taxonomy.md"
SAMPLES = [
    "我家暖气不热",
    "楼道着火了快来人",
    "法院已经判了你们让他执行",
    "我上次反映的工单到现在没人管",
    "我们公司想办营业执照",
    "hello",
]


def _spec_labels(section: str) -> set[str]:
    text = SPEC.read_text(encoding="utf-8")
    body = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"`([a-z_0-9]+)`", body)) | set(re.findall(r'`"(\d+)"`', body))


def test_label_sets_match_the_spec_document() -> None:
    assert _spec_labels("1. intent") == set(tx.INTENTS)
    assert _spec_labels("2. emergency") - {"emergency", "intent"} == set(tx.EMERGENCY_NUMBERS)
    assert _spec_labels("3. in_scope") - {"in_scope", "out_of_scope_reason"} == set(
        tx.OUT_OF_SCOPE_REASONS
    )
    assert _spec_labels("4. kind") == set(tx.KINDS)
    assert _spec_labels("5. domain") == set(tx.DOMAINS)
    assert _spec_labels("6. department") == set(tx.DEPARTMENTS)


@pytest.mark.parametrize("text", SAMPLES)
def test_json_object_has_exactly_the_contract_keys(classifier: Classifier, text: str) -> None:
    obj = json.loads(classifier.classify(text).to_json())
    assert tuple(obj) == tx.OUTPUT_KEYS
    assert tuple(obj["route"]) == tx.ROUTE_KEYS
    assert obj["intent"] in tx.INTENTS
    assert obj["emergency"] is None or obj["emergency"] in tx.EMERGENCY_NUMBERS
    assert isinstance(obj["in_scope"], bool) and isinstance(obj["enterprise"], bool)
    assert (
        obj["out_of_scope_reason"] is None or obj["out_of_scope_reason"] in tx.OUT_OF_SCOPE_REASONS
    )
    assert obj["kind"] is None or obj["kind"] in tx.KINDS
    assert obj["domain"] is None or obj["domain"] in tx.DOMAINS
    assert obj["department"] is None or obj["department"] in tx.DEPARTMENTS
    assert 0.0 <= obj["confidence"] <= 1.0
    assert obj["route"]["group"] in tx.GROUPS
    assert "mandarin" in obj["route"]["skills"]
    # The invariants the contract states.
    assert (obj["emergency"] is not None) == (obj["intent"] == "emergency")
    assert (obj["out_of_scope_reason"] is None) == obj["in_scope"]
    if obj["intent"] == "emergency":
        assert obj["kind"] is None and obj["domain"] is None
    else:
        assert obj["kind"] is not None and obj["domain"] is not None


def test_round_trip(classifier: Classifier) -> None:
    result = classifier.classify("我家暖气不热")
    assert Classification.model_validate_json(result.to_json()) == result


def test_unknown_labels_are_refused() -> None:
    good = {
        "intent": "new_request",
        "emergency": None,
        "in_scope": True,
        "out_of_scope_reason": None,
        "kind": "complaint",
        "domain": "public_services",
        "department": "heating",
        "enterprise": False,
        "confidence": 0.87,
        "route": {"group": "intake", "skills": ["mandarin"], "priority": 5},
    }
    Classification.model_validate(good)
    for key, bad in (("department", "fire_brigade"), ("kind", "rant"), ("intent", "chat")):
        with pytest.raises(ValidationError):
            Classification.model_validate({**good, key: bad})
    with pytest.raises(ValidationError):
        Classification.model_validate({**good, "extra": 1})
