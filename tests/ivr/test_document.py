"""Reading a menu document from text: hostile YAML and JSON are refused with a message, fast."""

from __future__ import annotations

import pytest

from ivr import document
from ivr.document import DocumentError, default_menu_text, parse_data, parse_text

#: 342 bytes of YAML whose aliases expand to 9**9 (387 million) strings
BILLION_LAUGHS = """\
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""

DEEP = 10_000


def refused(text: str) -> str:
    with pytest.raises(DocumentError) as caught:
        parse_text(text)
    return str(caught.value)


def test_the_billion_laughs_are_refused_at_the_first_alias() -> None:
    assert refused(BILLION_LAUGHS) == (
        "line 1: YAML anchors and aliases (&a, *a) are not accepted in a menu document; "
        "write each value out"
    )


def test_an_anchor_alone_is_refused_too() -> None:
    assert refused("name: &n menu\n").startswith("line 1: YAML anchors and aliases (&n")


def test_merge_keys_are_aliases() -> None:
    text = "base: &base {type: route}\nnodes:\n  a:\n    <<: *base\n"
    assert "YAML anchors and aliases" in refused(text)


@pytest.mark.parametrize(
    "text",
    [
        "nodes: " + "[" * DEEP + "]" * DEEP,
        "nodes:\n" + "".join("  " * i + "-\n" for i in range(400)),  # 160 kB
        '{"nodes": ' + "[" * DEEP + "]" * DEEP + "}",
        '{"nodes": ' + '{"a": ' * DEEP + "1" + "}" * DEEP + "}",
    ],
    ids=["yaml flow", "yaml block", "json list", "json object"],
)
def test_deep_nesting_is_refused_with_a_message(text: str) -> None:
    assert refused(text) == "the document is nested more than 20 levels deep"


def test_nesting_just_under_the_limit_is_read() -> None:
    assert parse_text("a: " + "[" * 19 + "]" * 19)["a"] is not None
    with pytest.raises(DocumentError, match="nested more than 20 levels"):
        parse_text("a: " + "[" * 20 + "]" * 20)


def test_a_parsed_object_is_checked_the_same_way() -> None:
    deep: list[object] = []
    for _ in range(DEEP):
        deep = [deep]
    with pytest.raises(DocumentError, match="nested more than 20 levels deep"):
        document.parse_data({"nodes": deep})


def test_numbers_too_long_to_read_are_a_document_error() -> None:
    assert refused("timeout: " + "9" * 5000).startswith("not valid YAML or JSON:")
    assert refused('{"timeout": ' + "9" * 5000 + "}").startswith("not valid YAML or JSON:")


def test_an_oversized_text_is_refused_before_it_is_read() -> None:
    text = "name: x\n" + "# padding\n" * 30_000
    assert refused(text) == "the document is 300,008 characters long; a menu is at most 200,000"


def test_the_shipped_menu_still_reads() -> None:
    assert parse_text(default_menu_text())["start"]


def test_a_document_given_as_data_is_held_to_the_same_length() -> None:
    # A JSON object sent to the API is parsed already: only its stored form can be measured.
    wide = {"name": "x", "nodes": {"n": [[[[]]]] * 95_000}}
    with pytest.raises(DocumentError, match=r"characters long as JSON; a menu is at most 200,000"):
        parse_data(wide)


def test_a_menu_from_before_the_emergency_question_still_runs_with_the_shipped_question() -> None:
    from pathlib import Path

    from ivr.validation import validate

    fixture = Path(__file__).parents[1] / "fixtures/ivr/menu-before-confirmation.yaml"
    old = parse_text(fixture.read_text(encoding="utf-8"))
    assert "confirm-119" not in old["prompts"]
    parsed, problems = validate(old)
    assert problems == [] and parsed is not None
    speak = parsed.nodes["speak"]
    assert speak.confirm_emergency is not None  # type: ignore[union-attr]
    assert "幺幺九" in parsed.prompts["confirm-119"]["mandarin"]
    # A step that names its own question keeps it: a missing prompt is still a problem.
    own = parse_text(fixture.read_text(encoding="utf-8"))
    own["nodes"]["speak"]["confirm_emergency"] = {
        "prompts": {s: f"ask-{s}" for s in ("110", "119", "120", "122")}
    }
    _, problems = validate(own)
    assert [p.path for p in problems] == [
        f"nodes.speak.confirm_emergency.prompts.{s}" for s in ("110", "119", "120", "122")
    ]
