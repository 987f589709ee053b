"""A city's history CSV and labelled files: checks, splits, exact scores."""

from __future__ import annotations

from typing import Any

import pytest

from routing.labelled import LabelledError, format_scores, read_labelled, score
from routing.training import HistoryError, folds, part_of, read_history

HEADER = "text,kind,department,out_of_scope_reason,emergency"


def test_good_rows_become_training_examples() -> None:
    examples = read_history(
        "\ufeff" + HEADER + ",intent,enterprise,id\n"
        "我家暖气不热,complaint,heating,,,,,\n"
        "仓库着火了,,,,119,,,\n"
        "我前夫住哪,consult,,privacy,,,,\n"
        "我上周反映的暖气处理到哪了,consult,,,,follow_up,,\n"
        "\n"
        "公司社保怎么开户,consult,human_resources_social_security,,,,yes,2026120100007\n"
    )
    assert [e.intent for e in examples] == [
        "new_request",
        "emergency",
        "new_request",
        "follow_up",
        "new_request",
    ]
    fire = examples[1]
    assert (fire.emergency, fire.in_scope, fire.out_of_scope_reason, fire.kind) == (
        "119",
        False,
        "emergency",
        None,
    )
    assert (examples[2].in_scope, examples[2].out_of_scope_reason) == (False, "privacy")
    assert examples[4].enterprise and examples[4].id == "city:2026120100007"
    # each row is its own template; the split is "train"
    assert len({e.template for e in examples}) == 5 and {e.split for e in examples} == {"train"}


def test_every_bad_row_is_listed_with_its_line() -> None:
    with pytest.raises(HistoryError) as caught:
        read_history(
            HEADER + "\n"
            "好的,complaint,heating,,\n"
            "路灯坏了,complain,heating,,\n"
            "路灯坏了,complaint,heating\n"
            "打架了,,,,911\n"
            "公司社保,consult,heating,,,\n"
        )
    assert [str(p) for p in caught.value.problems] == [
        "line 3: kind: 'complain' is not one of consult, help, complaint, report, suggestion, "
        "praise",
        "line 4: 3 cells, the header has 5",
        "line 5: emergency: '911' is not one of 110, 119, 120, 122",
        "line 6: 6 cells, the header has 5",
    ]


def test_a_bad_header_is_reported_before_any_row() -> None:
    with pytest.raises(HistoryError) as caught:
        read_history("text,kind,dept,emergency\n暖气不热,complaint,heating,\n")
    assert [str(p) for p in caught.value.problems] == [
        "line 1: missing column(s): department, out_of_scope_reason",
        "line 1: unknown column(s): 'dept'; the columns are text, kind, department, "
        "out_of_scope_reason, emergency, intent, domain, enterprise, id",
    ]
    with pytest.raises(HistoryError, match="no rows after the header"):
        read_history(HEADER + "\n")
    with pytest.raises(HistoryError, match="more than 2 rows"):
        read_history(HEADER + "\n" + "暖气不热,complaint,heating,,\n" * 3, max_rows=2)


def test_parts_are_stable_when_rows_are_added() -> None:
    rows = read_history(
        HEADER + "\n" + "".join(f"第{n}号楼暖气不热,complaint,heating,,\n" for n in range(40))
    )
    before = {e.text: part_of(e, 5) for e in rows}
    more = read_history(
        HEADER + "\n" + "".join(f"第{n}号楼暖气不热,complaint,heating,,\n" for n in range(60))
    )
    assert all(part_of(e, 5) == before[e.text] for e in more if e.text in before)
    split = folds(more, 5)
    assert sorted(e.text for _, s in split for e in s) == sorted(e.text for e in more)
    for fit, scored in split:
        assert not {e.text for e in fit} & {e.text for e in scored}


def answers(table: dict[str, dict[str, Any] | None]) -> Any:
    return lambda text: table[text]


def test_scores_are_exact() -> None:
    rows = read_labelled(
        '{"id": "e1", "text": "着火了", "emergency": "119"}\n'
        '{"id": "e2", "text": "有人落水", "emergency": "110"}\n'
        '{"id": "e3", "text": "撞车了", "emergency": "122"}\n'
        '{"text": "暖气不热", "emergency": null, "department": "heating", "kind": "complaint"}\n'
        '{"text": "水管爆了", "emergency": null, "department": "water_supply", "kind": "help"}\n'
        '{"text": "问社保", "department": null, "kind": "consult", "in_scope": true}\n'
    )
    got = {
        "着火了": {"emergency": "119"},
        "有人落水": {"emergency": "120"},  # caught, wrong number
        "撞车了": None,  # refused: missed
        "暖气不热": {"emergency": None, "department": "heating", "kind": "help"},
        "水管爆了": {"emergency": "119", "department": "heating", "kind": "help"},
        "问社保": {"department": "heating", "kind": "consult", "in_scope": False},
    }
    scores = score(rows, answers(got))
    assert (scores.rows, scores.unclassified) == (6, 1)
    assert (scores.emergencies, scores.caught, scores.right_number) == (3, 2, 1)
    assert scores.emergency_recall == pytest.approx(2 / 3)
    assert (scores.non_emergencies, scores.false_alarms, scores.false_alarm_rate) == (2, 1, 0.5)
    assert [m["id"] for m in scores.missed] == ["e3"]
    department = scores.heads["department"]  # the null label is not scored
    assert (department.n, department.correct) == (2, 1)
    assert department.precision("heating") == 0.5 and department.recall("heating") == 1.0
    assert department.recall("water_supply") == 0.0
    kind = scores.heads["kind"]
    assert (kind.n, kind.correct) == (3, 2)
    assert kind.precision("help") == 0.5 and kind.recall("complaint") == 0.0
    assert scores.heads["in_scope"].accuracy == 0.0
    assert scores.heads["emergency"].confusion[("110", "120")] == 1
    text = format_scores(scores)
    assert "recall 66.7% (2/3), right number 1/3" in text
    assert "e3 (expected 122, got none): 撞车了" in text
    assert "  water_supply" in text and "-> heating 1" in text
    summary = scores.summary()
    assert summary["accuracy"]["department"] == 0.5 and "撞车了" not in str(summary)


def test_a_bad_labelled_file_lists_every_bad_line() -> None:
    with pytest.raises(LabelledError) as caught:
        read_labelled(
            '{"text": "暖气", "kind": "complaint"}\n'
            '{"text": "", "kind": "complaint"}\n'
            '{"text": "暖气", "in_scope": "yes"}\n'
            '{"text": "暖气"}\n'
            "[1]\n"
        )
    assert caught.value.problems == [
        "line 2: needs a non-empty string `text`",
        "line 3: in_scope must be true or false, not 'yes'",
        "line 4: carries none of the labels intent, emergency, in_scope, out_of_scope_reason, "
        "kind, domain, department, enterprise",
        "line 5: not a JSON object",
    ]
