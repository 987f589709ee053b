"""Each validation rule on a small document that breaks that rule and no other.

`document_rule_finds` and `node_rule_finds` run one rule and also check that its problems are
all that `check` reports for the document: a rule that finds nothing, or that is missing from
`RULES`, fails its test.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

import pytest

from ivr import validation
from ivr.document import TERMINAL_TYPES, load
from ivr.validation import Context, NodeRule, Rule, check, each_node

Found = list[tuple[str, str, str]]

PROMPTS = {"hello": {"mandarin": "您好"}, "bye": {"mandarin": "再见"}}
HUMAN = {"type": "route"}
MENU = {"type": "menu", "prompt": "hello", "options": {"1": "human"}, "on_failure": "human"}


def document(nodes: dict[str, Any], **fields: Any) -> dict[str, Any]:
    """A Mandarin document with two prompts; `start` is the first of `nodes`."""
    return {"start": next(iter(nodes), "main"), "prompts": PROMPTS, "nodes": nodes, **fields}


def document_rule_finds(
    rule: Rule, data: dict[str, Any], recorded: Set[tuple[str, str]] = frozenset()
) -> Found:
    menu = load(data)
    found = list(rule(Context(menu, recorded)))
    assert found == check(menu, recorded), "check() must report exactly the problems of this rule"
    return [(p.code, p.path, p.message) for p in found]


def node_rule_finds(
    rule: NodeRule, data: dict[str, Any], recorded: Set[tuple[str, str]] = frozenset()
) -> Found:
    return document_rule_finds(each_node(rule), data, recorded)


def test_the_helper_documents_break_no_rule() -> None:
    assert check(load(document({"main": MENU, "human": HUMAN})), set()) == []


# -- the document as a whole ------------------------------------------------------------


def test_languages_are_known() -> None:
    data = document({"main": HUMAN}, languages=["mandarin", "klingon"])
    assert document_rule_finds(validation.languages_are_known, data) == [
        (
            "invalid_value",
            "languages.1",
            "unknown language 'klingon' (known: mandarin, mongolian)",
        )
    ]


def test_default_language_is_offered() -> None:
    data = document({"main": HUMAN}, languages=["mandarin"], default_language="mongolian")
    assert document_rule_finds(validation.default_language_is_offered, data) == [
        (
            "invalid_value",
            "default_language",
            "'mongolian' is not one of the menu's languages ['mandarin']",
        )
    ]


def test_start_is_a_node_of_a_menu_with_nodes() -> None:
    assert document_rule_finds(validation.start_is_a_node, document({})) == [
        ("dead_end", "nodes", "the menu has no nodes")
    ]


def test_start_is_a_node() -> None:
    data = document({"main": HUMAN}, start="begin")
    assert document_rule_finds(validation.start_is_a_node, data) == [
        ("unknown_target", "start", "start node 'begin' does not exist")
    ]


def test_prompt_table_names_must_name_files() -> None:
    data = document({"main": HUMAN}, prompts={"Good Bye": {"mandarin": "再见"}})
    assert document_rule_finds(validation.prompt_table_is_well_formed, data) == [
        (
            "invalid_value",
            "prompts.Good Bye",
            "prompt names use lower-case letters, digits, '-' and '_' (they name files)",
        )
    ]


def test_prompt_table_texts_are_in_known_languages() -> None:
    data = document({"main": HUMAN}, prompts={"bye": {"mandarin": "再见", "english": "bye"}})
    assert document_rule_finds(validation.prompt_table_is_well_formed, data) == [
        ("invalid_value", "prompts.bye.english", "unknown language 'english'")
    ]


def test_prompt_texts_are_speakable() -> None:
    texts = {
        "hello": {"mandarin": "您好\x00", "mongolian": "Сайн\x1b[2J байна уу"},
        "bye": {"mandarin": "再见" * 501},
        "fine": {"mandarin": "-f/etc/passwd\n再见\t"},  # read aloud as written
    }
    data = document({"main": HUMAN}, prompts=texts)
    assert document_rule_finds(validation.prompt_texts_are_speakable, data) == [
        (
            "invalid_value",
            "prompts.hello.mandarin",
            "the text of prompt 'hello' holds a control character (U+0000 at character 3); "
            "write plain text",
        ),
        (
            "invalid_value",
            "prompts.hello.mongolian",
            "the text of prompt 'hello' holds a control character (U+001B at character 5); "
            "write plain text",
        ),
        (
            "out_of_range",
            "prompts.bye.mandarin",
            "the text of prompt 'bye' is 1,002 characters long; a prompt text is at most 1,000",
        ),
    ]


def test_calendars_are_well_formed() -> None:
    office = {"hours": {"mon": ["08:30-12:00"], "sun": ["18:00-08:00"]}, "holidays": ["10-01"]}
    data = document({"main": HUMAN}, calendars={"office": office})
    assert document_rule_finds(validation.calendars_are_well_formed, data) == [
        ("invalid_value", "calendars.office.hours.sun.0", "'18:00-08:00' ends before it starts"),
        ("invalid_value", "calendars.office.holidays.0", "'10-01' is not a date like 2026-10-01"),
    ]


# -- each node ----------------------------------------------------------------------------


def test_node_id_is_well_formed() -> None:
    data = document({"main desk": HUMAN})
    assert node_rule_finds(validation.node_id_is_well_formed, data) == [
        ("invalid_value", "nodes.main desk", "node ids use letters, digits, '-' and '_'")
    ]


SERVICES = ("110", "119", "120", "122")
SPEAK = {
    "type": "collect_speech",
    "prompt": "hello",
    "next": "human",
    "fallback": "human",
    "confirm_emergency": {"prompts": dict.fromkeys(SERVICES, "hello")},
}
DIGITS = {"type": "collect_digits", "prompt": "hello", "tag": "order_number", "next": "human"}


@pytest.mark.parametrize(
    ("node", "field", "value", "message"),
    [
        (MENU, "timeout", 0.5, "timeout is 0.5 seconds; it must be between 1 and 30"),
        (MENU, "retries", 6, "retries is 6 retries; it must be between 0 and 5"),
        (SPEAK, "max_seconds", 61, "max_seconds is 61 seconds; it must be between 2 and 60"),
        (SPEAK, "silence_ms", 100, "silence_ms is 100 ms; it must be between 200 and 5000"),
        (DIGITS, "max_digits", 0, "max_digits is 0 digits; it must be between 1 and 32"),
        (DIGITS, "max_digits", 33, "max_digits is 33 digits; it must be between 1 and 32"),
        (DIGITS, "timeout", 31, "timeout is 31 seconds; it must be between 1 and 30"),
    ],
)
def test_values_are_in_range(node: dict[str, Any], field: str, value: float, message: str) -> None:
    data = document({"main": {**node, field: value}, "human": HUMAN})
    assert node_rule_finds(validation.values_are_in_range, data) == [
        ("out_of_range", f"nodes.main.{field}", message)
    ]


@pytest.mark.parametrize(
    ("node", "why"),
    [
        ({"type": "hangup"}, "a call is only hung up after a goodbye prompt"),
        ({"type": "transfer", "number": "110"}, "the caller is told before being transferred"),
        ({"type": "play", "next": "human"}, "this node plays a prompt"),
        ({**MENU, "prompt": None}, "this node plays a prompt"),
        ({**SPEAK, "prompt": None}, "this node plays a prompt"),
        ({**DIGITS, "prompt": None}, "this node plays a prompt"),
    ],
)
def test_prompt_is_present(node: dict[str, Any], why: str) -> None:
    ends_here = node["type"] in TERMINAL_TYPES
    data = document({"main": node} if ends_here else {"main": node, "human": HUMAN})
    assert node_rule_finds(validation.prompt_is_present, data) == [
        ("dead_end", "nodes.main.prompt", f"prompt is missing: {why}")
    ]


@pytest.mark.parametrize(
    ("confirm", "found"),
    [
        (
            {"prompts": {"119": "hello"}},
            [
                (
                    "invalid_value",
                    "nodes.main.confirm_emergency.prompts",
                    f"no prompt for {service}: a possible {service} emergency could not be "
                    "confirmed (it would go to an operator without asking)",
                )
                for service in ("110", "120", "122")
            ],
        ),
        (
            {"prompts": {**dict.fromkeys(SERVICES, "hello"), "999": "hello"}, "timeout": 30},
            [
                (
                    "invalid_value",
                    "nodes.main.confirm_emergency.prompts.999",
                    "'999' is not an emergency service (110, 119, 120, 122)",
                ),
                (
                    "out_of_range",
                    "nodes.main.confirm_emergency.timeout",
                    "timeout is 30 seconds; it must be between 1 and 15",
                ),
            ],
        ),
    ],
)
def test_emergency_confirmation_is_complete(confirm: dict[str, Any], found: Found) -> None:
    data = document({"main": {**SPEAK, "confirm_emergency": confirm}, "human": HUMAN})
    assert node_rule_finds(validation.emergency_confirmation_is_complete, data) == found


def test_a_speech_step_without_confirmation_needs_no_confirmation_prompts() -> None:
    data = document({"main": {**SPEAK, "confirm_emergency": None}, "human": HUMAN})
    assert check(load(data), set()) == []


def test_the_confirmation_prompts_must_be_heard() -> None:
    speak = {**SPEAK, "confirm_emergency": {"prompts": dict.fromkeys(SERVICES, "ask")}}
    data = document({"main": speak, "human": HUMAN})
    assert [p[1] for p in document_rule_finds(validation.prompts_can_be_heard, data)] == [
        f"nodes.main.confirm_emergency.prompts.{service}" for service in SERVICES
    ]


def test_keys_a_speech_step_takes_are_phone_keys() -> None:
    data = document({"main": {**SPEAK, "options": {"0": "human", "x": "human"}}, "human": HUMAN})
    assert node_rule_finds(validation.menu_keys_are_phone_keys, data) == [
        ("invalid_value", "nodes.main.options.x", "'x' is not a phone key (one of 0-9, * and #)")
    ]


@pytest.mark.parametrize("field", ["prompt", "no_input_prompt", "invalid_prompt"])
def test_prompt_names_are_well_formed(field: str) -> None:
    data = document({"main": {**MENU, field: "Please Wait"}, "human": HUMAN})
    recorded = {("Please Wait", "mandarin")}  # so that only the name is wrong
    assert node_rule_finds(validation.prompt_names_are_well_formed, data, recorded) == [
        (
            "invalid_value",
            f"nodes.main.{field}",
            "'Please Wait' is not a prompt name (lower-case letters, digits, '-', '_')",
        )
    ]


def test_menu_has_keys() -> None:
    data = document({"main": {**MENU, "options": {}}, "human": HUMAN})
    assert node_rule_finds(validation.menu_has_keys, data) == [
        ("dead_end", "nodes.main.options", "a menu needs at least one key")
    ]


def test_menu_keys_are_phone_keys() -> None:
    data = document({"main": {**MENU, "options": {"1": "human", "10": "human"}}, "human": HUMAN})
    assert node_rule_finds(validation.menu_keys_are_phone_keys, data) == [
        ("invalid_value", "nodes.main.options.10", "'10' is not a phone key (one of 0-9, * and #)")
    ]


def test_transfer_has_a_number() -> None:
    data = document({"main": {"type": "transfer", "prompt": "hello"}})
    assert node_rule_finds(validation.transfer_has_a_number, data) == [
        ("dead_end", "nodes.main.number", "transfer needs a number to dial")
    ]


def test_transfer_number_is_digits() -> None:
    data = document({"main": {"type": "transfer", "prompt": "hello", "number": "110&SIP/x"}})
    assert node_rule_finds(validation.transfer_number_is_digits, data) == [
        ("invalid_value", "nodes.main.number", "'110&SIP/x' is not a phone number (3 to 20 digits)")
    ]


def test_tag_names_are_safe() -> None:
    data = document({"main": {"type": "route", "tags": {"Queue": "intake"}}})
    assert node_rule_finds(validation.tags_are_safe, data) == [
        (
            "invalid_value",
            "nodes.main.tags.Queue",
            "tag names use lower-case letters, digits and '_'",
        )
    ]


def test_tag_values_are_safe() -> None:
    data = document(
        {
            "main": {"type": "set", "tags": {"kind": "a\r\nAction: Hangup"}, "next": "human"},
            "human": HUMAN,
        }
    )
    assert node_rule_finds(validation.tags_are_safe, data) == [
        (
            "invalid_value",
            "nodes.main.tags.kind",
            "tag value 'a\\r\\nAction: Hangup' must be 1 to 64 characters without line breaks, "
            "'|', ';' or ','",
        )
    ]


def test_the_helper_collect_digits_node_breaks_no_rule() -> None:
    assert check(load(document({"main": DIGITS, "human": HUMAN})), set()) == []


@pytest.mark.parametrize(
    ("tag", "message"),
    [
        (None, "collect_digits needs a tag to keep the digits in"),
        ("", "collect_digits needs a tag to keep the digits in"),
        ("Order Number", "'Order Number': tag names use lower-case letters, digits and '_'"),
    ],
)
def test_digits_have_a_tag(tag: str | None, message: str) -> None:
    data = document({"main": {**DIGITS, "tag": tag}, "human": HUMAN})
    assert node_rule_finds(validation.digits_have_a_tag, data) == [
        ("invalid_value", "nodes.main.tag", message)
    ]


def test_collect_digits_goes_on_somewhere() -> None:
    data = document({"main": {**DIGITS, "next": None}})
    assert node_rule_finds(validation.edges_lead_to_nodes, data) == [
        (
            "dead_end",
            "nodes.main.next",
            "next is empty: the path ends here without route, transfer or hangup",
        )
    ]


def test_set_language_is_offered() -> None:
    data = document(
        {"main": {"type": "set", "language": "mongolian", "next": "human"}, "human": HUMAN}
    )
    assert node_rule_finds(validation.set_language_is_offered, data) == [
        (
            "invalid_value",
            "nodes.main.language",
            "'mongolian' is not one of the menu's languages ['mandarin']",
        )
    ]


SWITCH = {"type": "time_switch", "open": "human", "closed": "human"}


def test_time_switch_has_a_calendar() -> None:
    data = document({"main": SWITCH, "human": HUMAN})
    assert node_rule_finds(validation.time_switch_has_a_calendar, data) == [
        ("dead_end", "nodes.main.calendar", "time_switch needs a calendar")
    ]


def test_time_switch_calendar_exists() -> None:
    data = document(
        {"main": {**SWITCH, "calendar": "office"}, "human": HUMAN}, calendars={"home": {}}
    )
    assert node_rule_finds(validation.time_switch_calendar_exists, data) == [
        (
            "unknown_target",
            "nodes.main.calendar",
            "calendar 'office' does not exist (defined: home)",
        )
    ]


def test_edges_lead_to_nodes_not_nowhere() -> None:
    data = document({"main": {"type": "play", "prompt": "hello"}})
    assert node_rule_finds(validation.edges_lead_to_nodes, data) == [
        (
            "dead_end",
            "nodes.main.next",
            "next is empty: the path ends here without route, transfer or hangup",
        )
    ]


def test_edges_lead_to_nodes_that_exist() -> None:
    data = document(
        {"main": {**SWITCH, "calendar": "office", "holiday": "closed"}, "human": HUMAN},
        calendars={"office": {}},
    )
    assert node_rule_finds(validation.edges_lead_to_nodes, data) == [
        ("unknown_target", "nodes.main.holiday", "holiday goes to 'closed', which is not a node")
    ]


def test_menu_failure_leaves_the_menu() -> None:
    data = document({"main": {**MENU, "on_failure": "main"}, "human": HUMAN})
    assert node_rule_finds(validation.menu_failure_leaves_the_menu, data) == [
        (
            "loop_without_exit",
            "nodes.main.on_failure",
            "on_failure goes back to the same menu: a caller who presses nothing would never "
            "reach a human",
        )
    ]


def test_menu_failure_reaches_a_human() -> None:
    nodes = {
        "main": {**MENU, "on_failure": "sorry"},
        "human": HUMAN,
        "sorry": {"type": "play", "prompt": "hello", "next": "bye"},
        "bye": {"type": "hangup", "prompt": "bye"},
    }
    assert node_rule_finds(validation.menu_failure_reaches_a_human, document(nodes)) == [
        (
            "hangup_on_no_input",
            "nodes.main.on_failure",
            "on_failure leads to a hang-up: a caller whose input failed must reach a human "
            "(route or transfer)",
        )
    ]


# -- the graph from `start` ---------------------------------------------------------------


def test_every_node_is_reachable() -> None:
    data = document({"main": HUMAN, "orphan": HUMAN})
    assert document_rule_finds(validation.every_node_is_reachable, data) == [
        ("unreachable", "nodes.orphan", "no path from the start node 'main' reaches this node")
    ]


def test_every_loop_has_an_exit() -> None:
    data = document(
        {
            "main": {"type": "play", "prompt": "hello", "next": "again"},
            "again": {"type": "goto", "target": "main"},
        }
    )
    assert document_rule_finds(validation.every_loop_has_an_exit, data) == [
        (
            "loop_without_exit",
            "nodes.again",
            "these nodes form a loop with no way out: again -> main",
        )
    ]


def test_prompts_can_be_heard() -> None:
    data = document({"main": {"type": "hangup", "prompt": "farewell"}})
    assert document_rule_finds(validation.prompts_can_be_heard, data) == [
        (
            "missing_prompt",
            "nodes.main.prompt",
            "prompt 'farewell' has no recording and no text in mandarin (callers reach this "
            "hangup node in mandarin)",
        )
    ]
    assert check(load(data), {("farewell", "mandarin")}) == []


def test_prompts_can_be_heard_in_the_language_the_caller_has_there() -> None:
    nodes = {
        "main": {**MENU, "options": {"1": "human", "2": "mongolian"}},
        "mongolian": {"type": "set", "language": "mongolian", "next": "human"},
        "human": {"type": "route", "prompt": "bye"},
    }
    data = document(nodes, languages=["mandarin", "mongolian"])
    assert document_rule_finds(validation.prompts_can_be_heard, data) == [
        (
            "missing_prompt",
            "nodes.human.prompt",
            "prompt 'bye' has no recording and no text in mongolian (callers reach this route "
            "node in mongolian)",
        )
    ]


# -- the report -----------------------------------------------------------------------------


def test_the_report_keeps_document_then_node_by_node_then_graph_order() -> None:
    data = {
        "languages": ["mandarin", "klingon"],
        "start": "main",
        "prompts": {"hello": {"mandarin": "您好"}, "Bye": {"mandarin": "再见"}},
        "calendars": {"office": {"holidays": ["2026-13-01"]}},
        "nodes": {
            "main": {
                "type": "menu",
                "prompt": "hello",
                "no_input_prompt": "sorry",
                "timeout": 45,
                "options": {"x": "desk", "2": "loop"},
                "on_failure": "main",
            },
            "desk": {"type": "transfer", "number": "110;"},
            "loop": {"type": "goto", "target": "loop"},
            "orphan": {"type": "play", "prompt": "gone", "next": "nowhere"},
        },
    }
    found = [(p.code, p.path, p.message) for p in check(load(data), set())]
    assert found == [
        ("invalid_value", "languages.1", "unknown language 'klingon' (known: mandarin, mongolian)"),
        (
            "invalid_value",
            "prompts.Bye",
            "prompt names use lower-case letters, digits, '-' and '_' (they name files)",
        ),
        (
            "invalid_value",
            "calendars.office.holidays.0",
            "'2026-13-01' is not a date like 2026-10-01",
        ),
        (
            "out_of_range",
            "nodes.main.timeout",
            "timeout is 45 seconds; it must be between 1 and 30",
        ),
        ("invalid_value", "nodes.main.options.x", "'x' is not a phone key (one of 0-9, * and #)"),
        (
            "loop_without_exit",
            "nodes.main.on_failure",
            "on_failure goes back to the same menu: a caller who presses nothing would never "
            "reach a human",
        ),
        (
            "dead_end",
            "nodes.desk.prompt",
            "prompt is missing: the caller is told before being transferred",
        ),
        ("invalid_value", "nodes.desk.number", "'110;' is not a phone number (3 to 20 digits)"),
        ("unknown_target", "nodes.orphan.next", "next goes to 'nowhere', which is not a node"),
        ("unreachable", "nodes.orphan", "no path from the start node 'main' reaches this node"),
        ("loop_without_exit", "nodes.loop", "these nodes form a loop with no way out: loop"),
        (
            "missing_prompt",
            "nodes.main.no_input_prompt",
            "prompt 'sorry' has no recording and no text in mandarin (callers reach this menu "
            "node in mandarin)",
        ),
    ]
