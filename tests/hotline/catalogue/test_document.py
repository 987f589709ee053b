"""The catalogue document as edited: YAML that JSON cannot hold is refused with where and why,
an alias bomb is stopped, one matter is changed without touching the rest, and a diff names
each matter's changed fields."""

from __future__ import annotations

import copy

import pytest

from hotline.catalogue.document import (
    MAX_NODES,
    diff_documents,
    read_document,
    shipped_document,
    with_matter,
)
from routing.catalogue import CatalogueError, validate


def test_a_date_in_yaml_is_named_with_its_place() -> None:
    with pytest.raises(CatalogueError) as caught:
        read_document("matters:\n  - id: a.b\n    name: 2024-01-01\n")
    problem = caught.value.problems[0]
    assert problem.where == "matters[0].name"
    assert "date" in problem.what


def test_a_field_name_that_is_not_text_is_refused() -> None:
    with pytest.raises(CatalogueError) as caught:
        read_document("matters:\n  - 1: x\n")
    assert "field name must be text" in caught.value.problems[0].what


def test_an_alias_bomb_stops_at_the_node_budget() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):  # 10**7 nodes once expanded, a few hundred bytes written
        lines.append(f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]")
    lines.append("matters: *a7")
    with pytest.raises(CatalogueError) as caught:
        read_document("\n".join(lines))
    assert f"{MAX_NODES:,}" in caught.value.problems[0].what


def test_the_shipped_document_reads_as_a_valid_catalogue() -> None:
    document = shipped_document()
    assert validate(document) == []
    assert len(document["matters"]) >= 250


def test_changing_one_matter_leaves_the_others_and_the_original_as_they_were() -> None:
    document = shipped_document()
    before = copy.deepcopy(document)
    new, done = with_matter(document, "urban.streetlight", {"name": "路灯故障", "note": None})
    assert done == "change"
    assert document == before  # the original is not touched
    changed = [m for m in new["matters"] if m["id"] == "urban.streetlight"][0]
    assert changed["name"] == "路灯故障"
    assert sum(a != b for a, b in zip(new["matters"], before["matters"], strict=True)) == 1


def test_adding_and_removing_a_matter() -> None:
    document = {"matters": [{"id": "a.one", "name": "一"}]}
    added, done = with_matter(document, "b.two", {"name": "二"})
    assert done == "add" and added["matters"][-1] == {"id": "b.two", "name": "二"}
    removed, done = with_matter(added, "a.one", None)
    assert done == "remove" and [m["id"] for m in removed["matters"]] == ["b.two"]
    with pytest.raises(KeyError):
        with_matter(document, "c.none", None)
    with pytest.raises(ValueError, match="keeps its id"):
        with_matter(document, "a.one", {"id": "a.other"})


def test_diff_names_added_removed_and_changed_fields() -> None:
    old = {
        "matters": [
            {
                "id": "a.one",
                "name": "一",
                "keywords": ["甲甲", "乙乙"],
                "department": "water_supply",
            },
            {"id": "b.two", "name": "二", "keywords": ["丙丙"]},
        ]
    }
    new = {
        "matters": [
            {"id": "a.one", "name": "一", "keywords": ["甲甲", "丁丁"], "department": "heating"},
            {"id": "c.three", "name": "三", "keywords": ["戊戊"]},
        ]
    }
    changes = diff_documents(old, new)
    assert changes["added"] == [{"id": "c.three", "name": "三"}]
    assert changes["removed"] == [{"id": "b.two", "name": "二"}]
    [changed] = changes["changed"]
    assert changed["id"] == "a.one"
    assert list(changed["fields"]) == ["department", "keywords"]
    assert changed["fields"]["department"] == {"old": "water_supply", "new": "heating"}
    assert changed["fields"]["keywords"]["added"] == ["丁丁"]
    assert changed["fields"]["keywords"]["removed"] == ["乙乙"]
    assert changes["summary"] == "1 added, 1 removed, 1 changed"


def test_diff_of_a_broken_draft_does_not_fail() -> None:
    changes = diff_documents({"matters": "nothing"}, {"matters": [3, {"name": "无id"}]})
    assert [a["id"] for a in changes["added"]] == ["matters[0]", "matters[1]"]
