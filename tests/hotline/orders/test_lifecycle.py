"""The lifecycle table: every status reachable, every pair it does not name refused with a
message that names the order, its status and what it allows."""

from __future__ import annotations

import pytest

from hotline.orders.lifecycle import (
    ACTIONS,
    STATUSES,
    TRANSITIONS,
    OrderError,
    allowed_actions,
    next_status,
)


def test_the_table_names_only_known_statuses_and_actions() -> None:
    assert set(TRANSITIONS) == set(STATUSES)
    for actions in TRANSITIONS.values():
        assert set(actions) <= set(ACTIONS)
        assert set(actions.values()) <= set(STATUSES)


def test_every_status_is_reachable_from_a_draft_and_every_order_can_end_closed() -> None:
    reached, frontier = {"draft"}, ["draft"]
    while frontier:
        for target in TRANSITIONS[frontier.pop()].values():
            if target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(STATUSES)
    # closed is reachable from every status (no dead end besides closed, which reopens)
    for status in STATUSES:
        seen, todo = {status}, [status]
        while todo:
            for target in TRANSITIONS[todo.pop()].values():
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        assert "closed" in seen, status


def test_the_usual_paths() -> None:
    def walk(*actions: str) -> str:
        status = "draft"
        for action in actions:
            status = next_status("2026120100001", status, action)
        return status

    assert walk("answer") == "answered"
    assert walk("dispatch", "extend", "reply", "to_callback", "close") == "closed"
    assert walk("dispatch", "return", "dispatch", "reply") == "replied"
    assert walk("dispatch", "return", "accept_return") == "answered"
    assert walk("dispatch", "reply", "to_callback", "reopen", "dispatch") == "dispatched"


@pytest.mark.parametrize("status", STATUSES)
def test_every_pair_the_table_does_not_name_is_refused(status: str) -> None:
    for action in ACTIONS:
        if action in TRANSITIONS[status]:
            continue
        with pytest.raises(OrderError) as caught:
            next_status("2026120100042", status, action)
        assert caught.value.code == "illegal_transition"
        assert caught.value.status == 409
        message = str(caught.value)
        assert "2026120100042" in message and f"is {status}" in message and action in message
        assert ", ".join(allowed_actions(status)) in message


def test_an_unknown_action_is_named() -> None:
    with pytest.raises(OrderError, match="unknown action 'approve'") as caught:
        next_status("2026120100001", "draft", "approve")
    assert caught.value.status == 422
