"""The one rule for callers' personal data (`hotline.core.privacy`), as plain logic."""

from __future__ import annotations

from hotline.core.privacy import Personal, View, personal_fields, split_personal


def test_roles_and_unknown_roles() -> None:
    assert personal_fields("admin") == personal_fields("supervisor") == frozenset(Personal)
    assert personal_fields("ops") == personal_fields("operator") == frozenset()
    assert personal_fields("root") == frozenset()


def test_a_path_as_ops_and_supervisors_see_it() -> None:
    path = [
        {"step": "input", "node": "main", "digits": "5", "waited": 1.2},
        {"step": "retry", "node": "main", "reason": "no_input", "attempt": 2},
        {"step": "speech", "node": "speak", "text": "我家暖气不热", "seconds": 2.0},
        {"step": "route", "queue": "dispatch", "reason": "caller has open case GD-1"},
        {"step": "transfer", "node": "t", "number": "110"},
        {"step": "digits", "value": "3"},
    ]
    assert View.for_role("ops").path(path) == [
        {"step": "input", "node": "main", "waited": 1.2},
        {"step": "retry", "node": "main", "reason": "no_input", "attempt": 2},
        {"step": "speech", "node": "speak", "seconds": 2.0},
        {"step": "route", "queue": "dispatch"},
        {"step": "transfer", "node": "t", "number": "110"},
        {"step": "digits"},
    ]
    assert View.for_role("supervisor").path(path) == path
    # What stays once a recording's retention has ended: everything but the words.
    kept = View.without_words().path(path)
    assert kept[0]["digits"] == "5" and "text" not in kept[2] and "reason" not in kept[3]


def test_numbers_names_words_and_classifications() -> None:
    ops, supervisor = View.for_role("ops"), View.for_role("supervisor")
    assert ops.number("13800138000") == "138****8000"
    assert supervisor.number("13800138000") == "13800138000"
    assert ops.name("张三") == "" and supervisor.name("张三") == "张三"
    assert ops.words("我家暖气不热") == "" and ops.word_list([{"word": "暖气"}]) == []
    classification = {"intent": "new_request", "kind": "complaint", "matched": ["暖气"]}
    assert ops.classification(classification) == {"intent": "new_request", "kind": "complaint"}
    assert supervisor.classification(classification) == classification
    assert ops.classification(None) is None


def test_personal_values_for_the_logs() -> None:
    values = {"caller_number": "13800138000", "caller_name": "张三", "text": "x", "other": "y"}
    assert View.for_logs().personal(values) == {"caller_number": "138****8000"}
    assert View.for_logs(personal_data=True).personal(values) == values
    assert View.for_logs().personal({"caller_number": ""}) == {}
    public, personal = split_personal({"node": "main", "digits": "5"}, "input")
    assert public == {"node": "main"} and personal == {"digits": "5"}
    public, personal = split_personal({"reason": "no_input"}, "retry")
    assert public == {"reason": "no_input"} and personal == {}
