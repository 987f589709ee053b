"""What a reader sees of a work order: the order as JSON for one role, its personal data
shown, masked or left out by `hotline.core.privacy`'s rule, with two additions of the work
order's own:

- operators (intake, dispatch, callback) see the caller's number, name and words of an order:
  they write it, dispatch it and call the citizen back (the privacy rule gives them nothing
  because they use none of the call-log endpoints);
- a department sees the words (`ROLE_SEES`), and the number and name only when the order
  needs a call back (the department then calls the citizen itself).

Which actions each role may apply is here too, so the API and the answers it gives agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from hotline.core.privacy import Personal, View, kind_of
from hotline.orders.lifecycle import ACTIONS, allowed_actions
from hotline.orders.store import as_utc
from hotline.orders.tables import WorkOrder, WorkOrderEvent
from routing.taxonomy import DEPARTMENT_ZH

#: role -> the lifecycle actions it may apply (a department only its own answers; dispatch
#: accepts its returns and grants extensions)
ROLE_ACTIONS: Final[Mapping[str, frozenset[str]]] = {
    "admin": frozenset(ACTIONS),
    "supervisor": frozenset(ACTIONS),
    "operator": frozenset(ACTIONS) - {"reply", "return"},
    "department": frozenset({"reply", "return"}),
}
#: roles that read and write work orders; a department only those dispatched to it
READERS: Final = ("admin", "supervisor", "operator", "department")
#: roles that create and edit orders
WRITERS: Final = ("admin", "supervisor", "operator")


def order_view(role: str, order: WorkOrder) -> View:
    """What `role` sees of `order`'s caller."""
    if role == "operator":
        return View(frozenset({Personal.number, Personal.name, Personal.words}))
    view = View.for_role(role)
    if role == "department" and order.needs_callback:
        return View(view.sees | {Personal.number, Personal.name})
    return view


def _time(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


def order_json(order: WorkOrder, role: str, now: datetime) -> dict[str, Any]:
    """`order` as `role` sees it at `now` (for `overdue`)."""
    view = order_view(role, order)
    due = as_utc(order.due_at) if order.due_at is not None else None
    return {
        "number": order.number,
        "version": order.version,
        "status": order.status,
        "channel": order.channel,
        "created_at": _time(order.created_at),
        "updated_at": _time(order.updated_at),
        "created_by": order.created_by,
        "queue": order.queue,
        "operator": order.operator,
        "caller_number": view.number(order.caller_number),
        "caller_name": view.name(order.caller_name),
        "call_unique_id": order.call_unique_id,
        "transcript": view.words(order.transcript),
        "classification": view.classification(order.classification),
        "kind": order.kind,
        "department": order.department,
        "department_name": DEPARTMENT_ZH.get(order.department or "", ""),
        "matter": order.matter,
        "in_scope": order.in_scope,
        "out_of_scope_reason": order.out_of_scope_reason,
        "summary": order.summary,
        "place": order.place,
        "deadline_class": order.deadline_class,
        "due_at": _time(due),
        "overdue": due is not None and order.status == "dispatched" and due <= now,
        "extended": order.extended,
        "reply": order.reply,
        "return_reason": order.return_reason,
        "kb_entry_id": order.kb_entry_id,
        "needs_callback": order.needs_callback,
        "callback_result": order.callback_result,
        "follow_ups": order.follow_ups,
        "merged": order.parent_id is not None,
        "dispatched_at": _time(order.dispatched_at),
        "closed_at": _time(order.closed_at),
        "actions": [a for a in allowed_actions(order.status) if a in ROLE_ACTIONS.get(role, ())],
    }


def _changes(changes: Mapping[str, Any], view: View) -> dict[str, Any]:
    shown: dict[str, Any] = {}
    for key, pair in changes.items():
        kind = kind_of(key)
        if kind is None or view.shows(kind):
            shown[key] = pair
        elif kind is Personal.number and isinstance(pair, list):
            shown[key] = [view.number(str(v or "")) for v in pair]
    return shown


def history_json(events: list[WorkOrderEvent], role: str, order: WorkOrder) -> list[dict[str, Any]]:
    """The order's history as `role` sees it (personal values in changes as in the order)."""
    view = order_view(role, order)
    return [
        {
            "at": _time(e.at),
            "actor": e.actor,
            "action": e.action,
            "from_status": e.from_status,
            "to_status": e.to_status,
            "changes": _changes(e.changes or {}, view),
            "note": e.note,
        }
        for e in events
    ]


def shows_personal(role: str, order: WorkOrder) -> bool:
    """Whether `role` reads any of the caller's personal data on `order` (to be audited)."""
    return bool(order_view(role, order).sees)
