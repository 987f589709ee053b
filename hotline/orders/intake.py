"""From a routed call to its work order: a new draft, or a follow-up of an existing order.

Theory of operation: routing reads the caller's orders (`caller_orders`: the open ones, and
the one the call names by number, keyed in or read out) and decides; `take` then acts on
the decision, in a worker thread of the calls' pool:

- an emergency hand-off gets no order (the emergency service takes it);
- a decision linked to an existing order (`Decision.order`: the number the caller gave, the
  caller's only open order on a progress enquiry, an open order about the same matter)
  makes no new order: the order counts the follow-up (`follow_ups` + 1) and gets a history
  row `follow_up` naming the call, in one transaction;
- any other call routed to a queue becomes a `draft` with the caller, the call's unique id,
  the transcript, the classification as it was, and the queue.

`take` answers the tags the call carries on to the operator (`order=<number>`, and for a
follow-up its status and due time). Making an order for the same call twice gives the
first one back (the call's unique id is unique among orders).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError

from hotline.core.db import utcnow
from hotline.orders.store import NewOrder, OrderStore
from hotline.orders.tables import WorkOrder
from routing.decision import CallerHistory, Decision, OpenCase
from routing.followup import is_order_number, named_order_number
from routing.router import CallToRoute

#: the history's actor for what calls do to orders
ACTOR = "controller"
#: how the operator reads a due time on the phone (local time, no spaces or separators a
#: tag header cannot carry)
DUE_FORMAT = "%Y-%m-%dT%H:%M"


def as_open_case(order: WorkOrder, tz: ZoneInfo) -> OpenCase:
    """An order as routing sees it (its due time in the hotline's local time)."""
    due = order.due_at.astimezone(tz).strftime(DUE_FORMAT) if order.due_at else ""
    return OpenCase(order.number, order.department, order.status, due)


@dataclass(frozen=True)
class Taken:
    """What became of a routed call: the order it made or follows up."""

    number: str
    #: "created" or "follow_up"
    action: str
    status: str
    due: str = ""

    def tags(self) -> dict[str, str]:
        tags = {"order": self.number}
        if self.action == "follow_up":
            tags["order_status"] = self.status
            if self.due:
                tags["order_due"] = self.due
        return tags


class OrderIntake:
    def __init__(self, store: OrderStore) -> None:
        self.store = store

    # ---- what routing reads --------------------------------------------------------------
    def caller_orders(self, call: CallToRoute) -> CallerHistory:
        """The caller's history as far as orders tell it: their open orders, newest first,
        and the number the call names with its order (the roster's side adds the calls)."""
        tz = self.store.tz
        cases = tuple(as_open_case(o, tz) for o in self.store.open_for_caller(call.caller_number))
        named = named_order_number(call.tags, call.transcript) or ""
        order = self.store.by_number(named) if is_order_number(named) else None
        return CallerHistory(
            open_cases=cases,
            named_number=named,
            named_order=as_open_case(order, tz) if order else None,
        )

    # ---- what a decision makes -----------------------------------------------------------
    def take(
        self,
        call: CallToRoute,
        decision: Decision,
        classification: Mapping[str, Any] | None,
        at: datetime | None = None,
    ) -> Taken | None:
        """Make the call's order or count it as a follow-up (see the module header). None
        for an emergency hand-off."""
        if decision.queue == "handoff":
            return None
        now = at or utcnow()
        if decision.order:
            linked = self.link_follow_up(decision.order, call.unique_id, now)
            if linked is not None:
                return linked
            # The order went away between the decision and now: the call makes its own.
        order = self.create_for_call(call, decision, classification, now)
        return Taken(order.number, "created", order.status)

    def create_for_call(
        self,
        call: CallToRoute,
        decision: Decision,
        classification: Mapping[str, Any] | None,
        at: datetime | None = None,
    ) -> WorkOrder:
        """A draft for the call, or the order already made for it."""
        new = NewOrder(
            channel="phone",
            caller_number=call.caller_number,
            caller_name=str(getattr(call, "caller_name", "") or ""),
            call_unique_id=call.unique_id,
            transcript=call.transcript or "",
            classification=classification,
            queue=decision.queue,
        )
        try:
            return self.store.create(new, at)
        except IntegrityError:
            existing = self.store.by_call(call.unique_id)
            if existing is None:
                raise
            return existing

    def link_follow_up(self, number: str, unique_id: str, at: datetime) -> Taken | None:
        """Count the call `unique_id` as a follow-up of order `number` (the store's
        `follow_up`). Returns None when there is no such order."""
        order = self.store.follow_up(number, unique_id, at, actor=ACTOR)
        if order is None:
            return None
        case = as_open_case(order, self.store.tz)
        return Taken(case.reference, "follow_up", case.status, case.due)
