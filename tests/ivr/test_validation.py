"""Validation: every problem class, reported all at once with its node path and message."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ivr.document import default_menu_text, parse_text
from ivr.validation import validate


def base() -> dict[str, Any]:
    return {
        "name": "t",
        "languages": ["mandarin"],
        "start": "main",
        "prompts": {
            "menu": {"mandarin": "请按键"},
            "bye": {"mandarin": "再见"},
            "wait": {"mandarin": "请稍候"},
        },
        "nodes": {
            "main": {
                "type": "menu",
                "prompt": "menu",
                "options": {"1": "human", "2": "bye"},
                "on_failure": "human",
            },
            "human": {"type": "route", "prompt": "wait"},
            "bye": {"type": "hangup", "prompt": "bye"},
        },
    }


def problems(
    data: dict[str, Any], recorded: set[tuple[str, str]] | None = None
) -> list[tuple[str, str, str]]:
    _, found = validate(data, recorded or set())
    return [(p.code, p.path, p.message) for p in found]


def test_the_shipped_default_menu_is_valid() -> None:
    document, found = validate(parse_text(default_menu_text()))
    assert found == []
    assert document is not None and document.start == "greeting"


def test_a_valid_menu_has_no_problems() -> None:
    assert problems(base()) == []


def test_unknown_target_names_the_field_and_the_target() -> None:
    data = base()
    data["nodes"]["main"]["options"]["3"] = "nowhere"
    assert problems(data) == [
        (
            "unknown_target",
            "nodes.main.options.3",
            "options.3 goes to 'nowhere', which is not a node",
        )
    ]


def test_unknown_start_node() -> None:
    data = base()
    data["start"] = "begin"
    assert ("unknown_target", "start", "start node 'begin' does not exist") in problems(data)


def test_unreachable_node() -> None:
    data = base()
    data["nodes"]["orphan"] = {"type": "route"}
    assert problems(data) == [
        ("unreachable", "nodes.orphan", "no path from the start node 'main' reaches this node")
    ]


def test_path_that_ends_without_route_transfer_or_hangup() -> None:
    data = base()
    data["nodes"]["main"]["options"]["3"] = "notice"
    data["nodes"]["notice"] = {"type": "play", "prompt": "wait"}  # no next
    assert problems(data) == [
        (
            "dead_end",
            "nodes.notice.next",
            "next is empty: the path ends here without route, transfer or hangup",
        )
    ]


def test_loop_with_no_exit() -> None:
    data = base()
    data["nodes"]["main"]["options"]["3"] = "a"
    data["nodes"]["a"] = {"type": "play", "prompt": "wait", "next": "b"}
    data["nodes"]["b"] = {"type": "goto", "target": "a"}
    assert problems(data) == [
        ("loop_without_exit", "nodes.a", "these nodes form a loop with no way out: a -> b")
    ]


def test_a_loop_through_a_menu_with_a_way_out_is_fine() -> None:
    data = base()
    data["nodes"]["main"]["options"]["9"] = "again"
    data["nodes"]["again"] = {"type": "goto", "target": "main"}
    assert problems(data) == []


def test_menu_failure_back_to_itself_or_to_a_hangup() -> None:
    data = base()
    data["nodes"]["main"]["on_failure"] = "main"
    assert (
        "loop_without_exit",
        "nodes.main.on_failure",
        "on_failure goes back to the same menu: a caller who presses nothing would never reach "
        "a human",
    ) in problems(data)
    data["nodes"]["main"]["on_failure"] = "bye"
    assert problems(data) == [
        (
            "hangup_on_no_input",
            "nodes.main.on_failure",
            "on_failure leads to a hang-up: a caller whose input failed must reach a human "
            "(route or transfer)",
        )
    ]


def test_missing_prompt_for_a_language_the_menu_offers() -> None:
    data = base()
    data["languages"] = ["mandarin", "mongolian"]
    data["nodes"]["main"]["options"]["2"] = "mongolian"
    data["nodes"]["mongolian"] = {"type": "set", "language": "mongolian", "next": "human"}
    data["nodes"]["bye2"] = copy.deepcopy(data["nodes"]["bye"])
    del data["nodes"]["bye2"]
    del data["nodes"]["bye"]
    expected = (
        "missing_prompt",
        "nodes.human.prompt",
        "prompt 'wait' has no recording and no text in mongolian (callers reach this route "
        "node in mongolian)",
    )
    assert problems(data) == [expected]
    # A recording uploaded for that language, or a text to synthesise, clears it.
    assert problems(data, {("wait", "mongolian")}) == []
    data["prompts"]["wait"]["mongolian"] = "түр хүлээнэ үү"
    assert problems(data) == []


def test_a_prompt_nobody_wrote() -> None:
    data = base()
    data["nodes"]["bye"]["prompt"] = "farewell"
    assert problems(data) == [
        (
            "missing_prompt",
            "nodes.bye.prompt",
            "prompt 'farewell' has no recording and no text in mandarin (callers reach this "
            "hangup node in mandarin)",
        )
    ]


@pytest.mark.parametrize(
    ("node", "field", "value", "message"),
    [
        ("main", "timeout", 0.5, "timeout is 0.5 seconds; it must be between 1 and 30"),
        ("main", "timeout", 45, "timeout is 45 seconds; it must be between 1 and 30"),
        ("main", "retries", 9, "retries is 9 retries; it must be between 0 and 5"),
    ],
)
def test_out_of_range_values(node: str, field: str, value: float, message: str) -> None:
    data = base()
    data["nodes"][node][field] = value
    assert problems(data) == [("out_of_range", f"nodes.{node}.{field}", message)]


def test_speech_limits_out_of_range() -> None:
    data = base()
    data["nodes"]["main"]["options"]["5"] = "speak"
    data["nodes"]["speak"] = {
        "type": "collect_speech",
        "prompt": "wait",
        "max_seconds": 600,
        "silence_ms": 50,
        "next": "human",
        "fallback": "human",
        "confirm_emergency": {"prompts": dict.fromkeys(("110", "119", "120", "122"), "wait")},
    }
    assert problems(data) == [
        (
            "out_of_range",
            "nodes.speak.max_seconds",
            "max_seconds is 600 seconds; it must be between 2 and 60",
        ),
        (
            "out_of_range",
            "nodes.speak.silence_ms",
            "silence_ms is 50 ms; it must be between 200 and 5000",
        ),
    ]


def test_hangup_needs_a_goodbye_and_a_transfer_needs_a_number() -> None:
    data = base()
    data["nodes"]["bye"]["prompt"] = None
    data["nodes"]["main"]["options"]["9"] = "police"
    data["nodes"]["police"] = {"type": "transfer", "prompt": "wait", "number": "1 1 0\r\n"}
    found = problems(data)
    assert (
        "dead_end",
        "nodes.bye.prompt",
        "prompt is missing: a call is only hung up after a goodbye prompt",
    ) in found
    assert (
        "invalid_value",
        "nodes.police.number",
        "'1 1 0\\r\\n' is not a phone number (3 to 20 digits)",
    ) in found


def test_tags_that_would_reach_asterisk_are_checked() -> None:
    data = base()
    data["nodes"]["main"]["options"]["3"] = "tag"
    data["nodes"]["tag"] = {"type": "set", "tags": {"kind": "a\r\nAction: Hangup"}, "next": "human"}
    assert [p[:2] for p in problems(data)] == [("invalid_value", "nodes.tag.tags.kind")]


def test_every_problem_is_reported_at_once() -> None:
    data = base()
    data["nodes"]["main"]["timeout"] = 99
    data["nodes"]["main"]["options"]["3"] = "nowhere"
    data["nodes"]["main"]["options"]["x"] = "human"
    data["nodes"]["orphan"] = {"type": "route"}
    data["nodes"]["bye"]["prompt"] = "farewell"
    codes = sorted(p[0] for p in problems(data))
    assert codes == [
        "invalid_value",
        "missing_prompt",
        "out_of_range",
        "unknown_target",
        "unreachable",
    ]


def test_wrong_shape_is_a_schema_problem_with_a_path() -> None:
    data = base()
    data["nodes"]["main"]["type"] = "menuu"
    data["nodes"]["human"]["tags"] = "queue=intake"
    found = problems(data)
    assert [p[0] for p in found] == ["schema", "schema"]
    assert found[0][1].startswith("nodes.main")
    assert "menuu" in found[0][2] or "tag" in found[0][2]
    assert found[1][1] == "nodes.human.route.tags"


def test_time_switch_needs_a_known_calendar_with_valid_entries() -> None:
    data = base()
    data["nodes"]["main"]["options"]["3"] = "hours"
    data["nodes"]["hours"] = {
        "type": "time_switch",
        "calendar": "office",
        "open": "human",
        "closed": "bye",
    }
    assert problems(data) == [
        (
            "unknown_target",
            "nodes.hours.calendar",
            "calendar 'office' does not exist (defined: none)",
        )
    ]
    data["calendars"] = {"office": {"hours": {"mon": ["18:00-08:00"]}, "holidays": ["2026-13-01"]}}
    assert problems(data) == [
        ("invalid_value", "calendars.office.hours.mon.0", "'18:00-08:00' ends before it starts"),
        (
            "invalid_value",
            "calendars.office.holidays.0",
            "'2026-13-01' is not a date like 2026-10-01",
        ),
    ]
