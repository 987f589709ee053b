"""The work order's lifecycle as data: which action takes an order from which status to which.

Theory of operation: `TRANSITIONS` is the whole state machine, `{status: {action: next}}`;
`next_status` looks a pair up and raises `OrderError("illegal_transition")` naming the order,
its status and the actions it allows for any other pair. No I/O: the store applies the
result in a transaction with its history row.

    draft ──answer──> answered ──close──> closed
      │                  ▲  └──reopen──> reopened
      └─dispatch─> dispatched ──reply──> replied ──to_callback──> callback ──close──> closed
                     │  ▲ (extend: once, no change of status)          └──reopen──> reopened
                  return│dispatch (to the same or another department: 异议审核 rejected)
                     ▼  │
                   returned ──accept_return──> answered
    reopened ──dispatch──> dispatched;  reopened ──answer──> answered;  closed ──reopen──> reopened

Decisions:
- `accept_return` (异议审核, the objection accepted and no other department takes the matter)
  leads to `answered`: the hotline itself gives the citizen the reason, as for an
  out-of-scope request. Accepting a return *and* sending the order elsewhere is a `dispatch`.
- `answered` (直接办结) is finished; `close` from it records a callback's result when the
  centre calls back a consultation too (一次一评), `reopen` takes it up again.
- `extend` keeps the status: it moves the due time once (hotline.orders.deadlines).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final


class OrderError(ValueError):
    """An order cannot be made or changed as asked; `code` names the problem for the API,
    `status` is the HTTP status it answers with, the message says what and where."""

    def __init__(self, code: str, message: str, *, status: int = 422) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


STATUSES: Final = (
    "draft",
    "answered",
    "dispatched",
    "replied",
    "callback",
    "closed",
    "returned",
    "reopened",
)
ACTIONS: Final = (
    "answer",
    "dispatch",
    "reply",
    "return",
    "accept_return",
    "to_callback",
    "close",
    "reopen",
    "extend",
)

#: status -> action -> the status after it
TRANSITIONS: Final[Mapping[str, Mapping[str, str]]] = {
    "draft": {"answer": "answered", "dispatch": "dispatched"},
    "answered": {"close": "closed", "reopen": "reopened"},
    "dispatched": {"reply": "replied", "return": "returned", "extend": "dispatched"},
    "replied": {"to_callback": "callback"},
    "callback": {"close": "closed", "reopen": "reopened"},
    "closed": {"reopen": "reopened"},
    "returned": {"dispatch": "dispatched", "accept_return": "answered"},
    "reopened": {"dispatch": "dispatched", "answer": "answered"},
}

#: statuses in which the hotline holds the order (no department is working on it): every
#: editable field may change, the department included
HELD: Final = ("draft", "returned", "reopened")


def allowed_actions(status: str) -> tuple[str, ...]:
    """The actions an order in `status` allows, in the order of `ACTIONS`."""
    table = TRANSITIONS.get(status, {})
    return tuple(a for a in ACTIONS if a in table)


def next_status(number: str, status: str, action: str) -> str:
    """The status order `number` moves to when `action` is applied in `status`.

    Raises OrderError: `unknown_action` (422) for an action that does not exist,
    `illegal_transition` (409) for one its status does not allow."""
    if action not in ACTIONS:
        raise OrderError(
            "unknown_action", f"unknown action {action!r}: one of {', '.join(ACTIONS)}"
        )
    target = TRANSITIONS.get(status, {}).get(action)
    if target is None:
        allowed = allowed_actions(status)
        raise OrderError(
            "illegal_transition",
            f"work order {number} is {status}: {action} is not allowed "
            f"(allowed: {', '.join(allowed) if allowed else 'none'})",
            status=409,
        )
    return target
