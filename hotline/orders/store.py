"""The work orders' store: numbering, creation, look-ups, lifecycle actions, edits and lists.
The only writer of the tables.

Numbers are the local day (the hotline's time zone) and a five-digit sequence of that day,
`2026120100123`: a caller can read one out, they sort by day, and they are unique across
processes because each is issued by one atomic upsert of the day's counter row
(`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, on SQLite and PostgreSQL alike), in the
transaction that inserts the order.
"""

from __future__ import annotations

import contextlib
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from hotline.calls.store import fit
from hotline.core.db import utcnow
from hotline.kb.store import entry_exists
from hotline.orders import merge
from hotline.orders.deadlines import (
    CLOCK_STATUSES,
    DEFAULT_TABLE,
    Calendar,
    DeadlineTable,
    WeekCalendar,
    local_day_bounds,
)
from hotline.orders.lifecycle import HELD, next_status
from hotline.orders.lifecycle import OrderError as OrderError  # where callers have found it
from hotline.orders.search import index_order
from hotline.orders.tables import OrderCounter, WorkOrder, WorkOrderEvent
from routing.place import place_of
from routing.taxonomy import DEPARTMENTS, KINDS, OUT_OF_SCOPE_REASONS

#: statuses in which an order is still being worked on (a follow-up call finds it)
OPEN_STATUSES = ("draft", "dispatched", "replied", "callback", "returned", "reopened")
CHANNELS = ("phone", "web", "wechat", "email", "app", "letter")
#: a work-order number: eight digits of the day, five of the sequence
NUMBER = re.compile(r"^\d{13}$")
SEQUENCE_DIGITS = 5


@dataclass
class NewOrder:
    """What an order starts from: a routed call or a written message."""

    channel: str
    caller_number: str = ""
    caller_name: str = ""
    call_unique_id: str | None = None
    transcript: str = ""
    classification: Mapping[str, Any] | None = None
    created_by: str = ""
    queue: str = ""
    operator: str = ""
    status: str = "draft"
    extra: dict[str, Any] = field(default_factory=dict)


class VersionConflict(OrderError):
    """The order changed since the version the change was made on; `current` is the order as
    it is now (the API answers 409 with it)."""

    def __init__(self, current: WorkOrder, version: int) -> None:
        self.asked = version
        super().__init__(
            "stale_version",
            f"work order {current.number} is at version {current.version}, not {version}: "
            "it changed meanwhile; start again from the current order",
            status=409,
        )
        self.current = current


#: fields an operator edits (PATCH): the decisions taken from the classification, corrected
EDITABLE = (
    "kind",
    "department",
    "matter",
    "in_scope",
    "out_of_scope_reason",
    "summary",
    "place",
    "needs_callback",
    "caller_name",
)
#: fields that change only while the hotline holds the order (`lifecycle.HELD`): a
#: department's order moves to another department by a return and a new dispatch
HELD_ONLY = ("department", "in_scope", "out_of_scope_reason")
#: longest text of a reply, a reason or an answer, and of a summary, in characters
MAX_TEXT = 5000
MAX_SUMMARY = 2000
#: most orders one page lists
MAX_PAGE = 200
SATISFACTION = ("satisfied", "basically_satisfied", "unsatisfied")
#: actions whose text is required, and what the text is called in an error
TEXT_REQUIRED = {
    "reply": "the reply",
    "return": "the reason for returning",
    "accept_return": "the answer given to the citizen",
    "reopen": "the reason for reopening",
    "extend": "the reason for the extension",
}


@dataclass
class Act:
    """A lifecycle action as asked: by whom, with what (see `OrderStore.act`)."""

    action: str
    actor: str
    #: the reply, the reason (return, reopen, extend), the answer or a note
    text: str = ""
    department: str | None = None
    deadline_class: str | None = None
    kb_entry_id: int | None = None
    #: the callback's answers: {"solved": bool, "satisfaction": one of SATISFACTION}
    callback_result: Mapping[str, Any] | None = None
    #: the version the actor saw (None: whatever it is now)
    version: int | None = None


@dataclass(frozen=True)
class OrderFilter:
    """What a list asks for. `scope` is a department user's department: only orders
    dispatched to it. `created_from`/`created_to` are local days, both included."""

    status: tuple[str, ...] = ()
    department: str | None = None
    due: Literal["overdue", "today"] | None = None
    created_from: date | None = None
    created_to: date | None = None
    caller_number: str | None = None
    scope: str | None = None


def text_value(value: str, what: str, limit: int, *, required: bool = False) -> str:
    """`value` checked as a text an operator or a department typed: line breaks and tabs are
    kept, other control characters refused, at most `limit` characters. Raises OrderError."""
    value = value.strip()
    if required and not value:
        raise OrderError("missing_text", f"{what} is required")
    if len(value) > limit:
        raise OrderError("too_long", f"{what}: at most {limit} characters (got {len(value)})")
    if any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in "\n\r\t" for ch in value):
        raise OrderError("bad_text", f"{what}: control characters are not allowed")
    return value


def as_utc(value: datetime) -> datetime:
    """`value` in UTC: every time is stored in UTC (SQLite keeps a datetime's wall clock and
    drops its offset, and gives back naive datetimes, which are UTC)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _jsonable(value: Any) -> Any:
    return as_utc(value).isoformat() if isinstance(value, datetime) else value


def visible_to(order: WorkOrder, scope: str | None) -> bool:
    """Whether a reader limited to department `scope` (None: no limit) sees `order`."""
    return scope is None or (order.department == scope and order.dispatched_at is not None)


def format_number(day: date, sequence: int) -> str:
    if not 1 <= sequence < 10**SEQUENCE_DIGITS:
        raise OrderError("numbers_exhausted", f"no work-order numbers left for {day.isoformat()}")
    return f"{day:%Y%m%d}{sequence:0{SEQUENCE_DIGITS}d}"


def next_sequence(session: Session, day: date) -> int:
    """Take the next sequence number of `day` in `session`'s transaction (atomic upsert)."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    upsert = insert(OrderCounter).values(day=day, last=1)
    statement = upsert.on_conflict_do_update(
        index_elements=[OrderCounter.day], set_={"last": OrderCounter.last + 1}
    ).returning(OrderCounter.last)
    return int(session.execute(statement).scalar_one())


def fit_text(value: str) -> str:
    """A text a person wrote or said as a column keeps it: its line breaks stay (a written
    message has paragraphs), a tab becomes a space, other control characters go (`fit`)."""
    return "\n".join(fit(line.replace("\t", " ")) for line in value.splitlines())


class OrderStore:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        timezone: str = "Asia/Shanghai",
        *,
        deadlines: DeadlineTable = DEFAULT_TABLE,
        calendar: Callable[[], Calendar] = WeekCalendar,
    ) -> None:
        self._sessions = sessions
        self.tz = ZoneInfo(timezone)
        self.deadlines = deadlines
        #: the holiday calendar as it is now (the roster's, read again for every deadline)
        self.calendar = calendar

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self._sessions

    def local_day(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()

    def create(self, new: NewOrder, at: datetime | None = None) -> WorkOrder:
        """Insert an order with a fresh number and its first history row, in one
        transaction. Raises OrderError for an unknown channel."""
        if new.channel not in CHANNELS:
            raise OrderError(
                "bad_channel", f"channel {new.channel!r}: one of {', '.join(CHANNELS)}"
            )
        now = as_utc(at or utcnow())
        c = dict(new.classification or {})
        with self._sessions() as s, s.begin():
            number = format_number(self.local_day(now), next_sequence(s, self.local_day(now)))
            order = WorkOrder(
                number=number,
                version=1,
                status=new.status,
                channel=new.channel,
                created_at=now,
                updated_at=now,
                created_by=fit(new.created_by, 64),
                queue=fit(new.queue, 32),
                operator=fit(new.operator, 64),
                caller_number=fit(new.caller_number, 64),
                caller_name=fit(new.caller_name, 64),
                call_unique_id=new.call_unique_id,
                transcript=fit_text(new.transcript),
                classification=c or None,
                kind=c.get("kind") or None,
                department=c.get("department") or None,
                in_scope=bool(c.get("in_scope", True)),
                out_of_scope_reason=c.get("out_of_scope_reason") or None,
                **{
                    "summary": "",
                    # what merging compares (routing.place): the place the words name
                    "place": place_of(new.transcript)[:128],
                    "deadline_class": "general",
                    "extended": False,
                    "reply": "",
                    "return_reason": "",
                    "needs_callback": True,
                    "follow_ups": 0,
                    **new.extra,  # e.g. needs_callback of a written request
                },
            )
            s.add(order)
            s.flush()
            index_order(s, order)
            s.add(
                WorkOrderEvent(
                    order_id=order.id,
                    at=now,
                    actor=order.created_by or "controller",
                    action="create",
                    from_status=None,
                    to_status=order.status,
                    changes={},
                    note="",
                )
            )
        return order

    def by_number(self, number: str) -> WorkOrder | None:
        if not NUMBER.match(number):
            return None
        with self._sessions() as s:
            return s.scalar(select(WorkOrder).where(WorkOrder.number == number))

    def by_call(self, unique_id: str) -> WorkOrder | None:
        with self._sessions() as s:
            return s.scalar(select(WorkOrder).where(WorkOrder.call_unique_id == unique_id))

    def open_for_caller(self, caller_number: str, limit: int = 20) -> list[WorkOrder]:
        """The caller's orders still being worked on, newest first."""
        if not caller_number:
            return []
        with self._sessions() as s:
            return list(
                s.scalars(
                    select(WorkOrder)
                    .where(
                        WorkOrder.caller_number == caller_number,
                        WorkOrder.status.in_(OPEN_STATUSES),
                    )
                    .order_by(WorkOrder.created_at.desc())
                    .limit(limit)
                )
            )

    # ---- reading ---------------------------------------------------------------------------
    def get(self, number: str, scope: str | None = None) -> WorkOrder:
        """The order called `number`, if `scope` lets its reader see it. Raises OrderError
        (404) otherwise: a department cannot tell another department's order from none."""
        order = self.by_number(number)
        if order is None or not visible_to(order, scope):
            raise OrderError("not_found", f"no work order {number}", status=404)
        return order

    def history(self, order_id: int) -> list[WorkOrderEvent]:
        """The order's changes, oldest first."""
        with self._sessions() as s:
            return list(
                s.scalars(
                    select(WorkOrderEvent)
                    .where(WorkOrderEvent.order_id == order_id)
                    .order_by(WorkOrderEvent.id)
                )
            )

    def _due_clause(self, due: str, now: datetime) -> ColumnElement[bool]:
        clock = WorkOrder.status.in_(CLOCK_STATUSES)
        if due == "overdue":
            return clock & (WorkOrder.due_at <= now)
        _, end_of_today = local_day_bounds(now, self.tz)
        end_of_today = as_utc(end_of_today)
        return clock & (WorkOrder.due_at > now) & (WorkOrder.due_at <= end_of_today)

    def list_orders(
        self,
        wanted: OrderFilter,
        *,
        limit: int = 50,
        offset: int = 0,
        now: datetime | None = None,
    ) -> list[WorkOrder]:
        """Orders that match `wanted`: newest first, or soonest due first when `due` is
        asked. Raises OrderError for a page over MAX_PAGE or a bad filter value."""
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise OrderError("bad_page", f"limit is 1 to {MAX_PAGE}, offset 0 or more")
        query = select(WorkOrder)
        if wanted.status:
            query = query.where(WorkOrder.status.in_(wanted.status))
        if wanted.department:
            query = query.where(WorkOrder.department == wanted.department)
        if wanted.scope is not None:
            query = query.where(
                WorkOrder.department == wanted.scope, WorkOrder.dispatched_at.is_not(None)
            )
        if wanted.caller_number:
            query = query.where(WorkOrder.caller_number == wanted.caller_number)
        if wanted.created_from is not None:
            start = as_utc(datetime.combine(wanted.created_from, time(0), tzinfo=self.tz))
            query = query.where(WorkOrder.created_at >= start)
        if wanted.created_to is not None:
            end = as_utc(
                datetime.combine(wanted.created_to + timedelta(days=1), time(0), tzinfo=self.tz)
            )
            query = query.where(WorkOrder.created_at < end)
        if wanted.due is not None:
            query = query.where(self._due_clause(wanted.due, as_utc(now or utcnow())))
            query = query.order_by(WorkOrder.due_at, WorkOrder.id)
        else:
            query = query.order_by(WorkOrder.created_at.desc(), WorkOrder.id.desc())
        with self._sessions() as s:
            return list(s.scalars(query.limit(limit).offset(offset)))

    def due_counts(self, now: datetime | None = None) -> dict[str, int]:
        """How many orders are overdue and how many are due by the end of today (local), for
        `/metrics` and the supervisor's shell: two counts over the (status, due_at) index."""
        moment = as_utc(now or utcnow())
        with self._sessions() as s:
            return {
                due: int(
                    s.scalar(
                        select(func.count())
                        .select_from(WorkOrder)
                        .where(self._due_clause(due, moment))
                    )
                    or 0
                )
                for due in ("overdue", "today")
            }

    # ---- changing --------------------------------------------------------------------------
    def act(
        self, number: str, act: Act, *, scope: str | None = None, at: datetime | None = None
    ) -> WorkOrder:
        """Apply a lifecycle action to order `number` as `act.actor` (a department user: with
        `scope` set to its department), in one transaction with its history row. Returns the
        order as changed. Raises OrderError: not_found (404), illegal_transition (409),
        VersionConflict (409), or a 422 naming the value that is wrong."""
        now = as_utc(at or utcnow())
        with self._fresh_conflict(number), self._sessions() as s, s.begin():
            order = self._locked(s, number, scope)
            if act.version is not None and act.version != order.version:
                raise VersionConflict(order, act.version)
            target = next_status(order.number, order.status, act.action)
            text = text_value(
                act.text,
                TEXT_REQUIRED.get(act.action, "the note"),
                MAX_TEXT,
                required=act.action in TEXT_REQUIRED,
            )
            if act.kb_entry_id is not None and not entry_exists(s, act.kb_entry_id):
                raise OrderError(
                    "unknown_kb_entry",
                    f"kb_entry_id {act.kb_entry_id}: no such knowledge-base entry",
                )
            values = self._action_values(order, act, text, now)
            values["status"] = target
            event = self._write(s, order, act.action, act.actor, values, text, now)
            merge.follow_parent(s, order, event)
        return order

    def patch(
        self,
        number: str,
        version: int,
        changes: Mapping[str, Any],
        actor: str,
        *,
        scope: str | None = None,
        at: datetime | None = None,
    ) -> WorkOrder:
        """Change the operator's fields (`EDITABLE`) of order `number` from `version`, in one
        transaction with its history row; the version goes up by one. Nothing changes (and no
        history row is written) when every value is already as asked. Raises OrderError:
        VersionConflict (409) for a stale version, a 422 naming the field that is wrong."""
        now = as_utc(at or utcnow())
        unknown = sorted(set(changes) - set(EDITABLE))
        if unknown:
            raise OrderError(
                "not_editable",
                f"{', '.join(unknown)}: not editable (editable: {', '.join(EDITABLE)})",
            )
        with self._fresh_conflict(number), self._sessions() as s, s.begin():
            order = self._locked(s, number, scope)
            if version != order.version:
                raise VersionConflict(order, version)
            values = self._edited_values(order, changes)
            if values:
                event = self._write(s, order, "edit", actor, values, "", now)
                if {"summary", "place"} & set(values):
                    index_order(s, order)
                merge.follow_parent(s, order, event)
        return order

    def follow_up(
        self, number: str, unique_id: str, at: datetime, actor: str = "controller"
    ) -> WorkOrder | None:
        """Count the call `unique_id` as a follow-up of order `number`: `follow_ups` + 1 and a
        history row `follow_up` (note: the call's unique id), in one transaction; a call
        already counted is not counted again. Returns the order, or None when there is no
        such order.

        The order's version stays: a follow-up changes nothing an operator edits, so a
        draft open on a screen is not made stale by it."""
        at = as_utc(at)
        with self._sessions() as s, s.begin():
            order = s.scalar(select(WorkOrder).where(WorkOrder.number == number).with_for_update())
            if order is None:
                return None
            counted = s.scalar(
                select(WorkOrderEvent.id).where(
                    WorkOrderEvent.order_id == order.id,
                    WorkOrderEvent.action == "follow_up",
                    WorkOrderEvent.note == unique_id,
                )
            )
            if counted is None:
                before = order.follow_ups
                s.execute(
                    update(WorkOrder)
                    .where(WorkOrder.id == order.id)
                    .values(follow_ups=WorkOrder.follow_ups + 1, updated_at=at)
                    .execution_options(synchronize_session=False)
                )
                set_committed_value(order, "follow_ups", before + 1)
                s.add(
                    WorkOrderEvent(
                        order_id=order.id,
                        at=at,
                        actor=actor,
                        action="follow_up",
                        from_status=order.status,
                        to_status=order.status,
                        changes={"follow_ups": [before, before + 1]},
                        note=unique_id,
                    )
                )
        return order

    @contextlib.contextmanager
    def _fresh_conflict(self, number: str) -> Iterator[None]:
        # A conflict found in a transaction carries an order the rollback expires: give the
        # caller the order as committed now instead.
        try:
            yield
        except VersionConflict as exc:
            current = self.by_number(number)
            if current is None:
                raise
            raise VersionConflict(current, exc.asked) from None

    def _locked(self, s: Session, number: str, scope: str | None) -> WorkOrder:
        # FOR UPDATE on PostgreSQL: a second change of the same order waits for this one and
        # then meets the new version; SQLite ignores it (one writer at a time anyway).
        order = (
            s.scalar(select(WorkOrder).where(WorkOrder.number == number).with_for_update())
            if NUMBER.match(number)
            else None
        )
        if order is None or not visible_to(order, scope):
            raise OrderError("not_found", f"no work order {number}", status=404)
        return order

    def _write(
        self,
        s: Session,
        order: WorkOrder,
        action: str,
        actor: str,
        values: dict[str, Any],
        note: str,
        now: datetime,
    ) -> WorkOrderEvent:
        """Write `values` to `order` if it is still at the version read, and its history row."""
        before = order.status
        changed = {
            k: [_jsonable(getattr(order, k)), _jsonable(v)]
            for k, v in values.items()
            if getattr(order, k) != v and k != "status"
        }
        values = {**values, "version": order.version + 1, "updated_at": now}
        result = s.execute(
            update(WorkOrder)
            .where(WorkOrder.id == order.id, WorkOrder.version == order.version)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 1) != 1:
            raise VersionConflict(order, order.version)
        # The row is written: the object takes its values without another UPDATE at flush.
        for key, value in values.items():
            set_committed_value(order, key, value)
        event = WorkOrderEvent(
            order_id=order.id,
            at=now,
            actor=fit(actor, 64) or "system",
            action=action,
            from_status=before,
            to_status=order.status,
            changes=changed,
            note=note,
        )
        s.add(event)
        s.flush()
        return event

    def _action_values(
        self, order: WorkOrder, act: Act, text: str, now: datetime
    ) -> dict[str, Any]:
        """The fields `act` changes besides the status (each action's rule)."""
        match act.action:
            case "answer":
                return {"kb_entry_id": act.kb_entry_id} if act.kb_entry_id is not None else {}
            case "dispatch":
                return self._dispatch_values(order, act, now)
            case "reply":
                return {"reply": text}
            case "return":
                return {"return_reason": text}
            case "close":
                result = _callback_result(act.callback_result, required=order.status == "callback")
                return {"closed_at": now, **({"callback_result": result} if result else {})}
            case "reopen":
                result = _callback_result(act.callback_result, required=False)
                return {"closed_at": None, **({"callback_result": result} if result else {})}
            case "extend":
                return self._extend_values(order)
            case _:  # to_callback, accept_return: the status (and the note) say it all
                return {}

    def _dispatch_values(self, order: WorkOrder, act: Act, now: datetime) -> dict[str, Any]:
        department = act.department or order.department
        if not department:
            raise OrderError(
                "missing_department", f"work order {order.number}: dispatch to which department?"
            )
        if department not in DEPARTMENTS:
            raise OrderError(
                "bad_department", f"department {department!r}: one of {', '.join(DEPARTMENTS)}"
            )
        if not order.in_scope:
            raise OrderError(
                "out_of_scope",
                f"work order {order.number} is out of the hotline's scope "
                f"({order.out_of_scope_reason}): answer it, or mark it in scope first",
            )
        name = act.deadline_class or self.deadlines.class_for(department, order.matter)
        due = as_utc(self.deadlines.due(name, now, self.calendar(), self.tz))
        return {
            "department": department,
            "deadline_class": name,
            "due_at": due,
            "dispatched_at": now,
            "extended": False,
        }

    def _extend_values(self, order: WorkOrder) -> dict[str, Any]:
        if order.extended:
            raise OrderError(
                "already_extended",
                f"work order {order.number} was extended once already (due {order.due_at})",
                status=409,
            )
        if order.due_at is None:
            raise OrderError("no_deadline", f"work order {order.number} has no due time to extend")
        due = self.deadlines.extend(
            order.deadline_class, as_utc(order.due_at), self.calendar(), self.tz
        )
        due = as_utc(due)
        return {"due_at": due, "extended": True}

    def _edited_values(self, order: WorkOrder, changes: Mapping[str, Any]) -> dict[str, Any]:
        if order.status not in OPEN_STATUSES:
            raise OrderError(
                "not_editable",
                f"work order {order.number} is {order.status}: reopen it to change it",
                status=409,
            )
        wanted = {k: _edited(k, v) for k, v in changes.items()}
        values = {k: v for k, v in wanted.items() if getattr(order, k) != v}
        matter, listed = values.get("matter"), self.deadlines.catalogue
        if matter and listed is not None and listed(matter) is None:
            raise OrderError(
                "bad_value", f"matter {matter!r}: not in the dispatch catalogue (派单目录)"
            )
        held_only = sorted(set(values) & set(HELD_ONLY))
        if held_only and order.status not in HELD:
            raise OrderError(
                "not_editable",
                f"work order {order.number} is {order.status}: {', '.join(held_only)} change "
                "only while the hotline holds it (return it first)",
                status=409,
            )
        in_scope = values.get("in_scope", order.in_scope)
        reason = values.get("out_of_scope_reason", order.out_of_scope_reason)
        if in_scope and reason is not None:
            if "out_of_scope_reason" in changes:
                raise OrderError(
                    "bad_value", "out_of_scope_reason: only for an order that is not in scope"
                )
            values["out_of_scope_reason"] = None
        if not in_scope and reason is None:
            raise OrderError("bad_value", "out_of_scope_reason: required when in_scope is false")
        return values


def _edited(key: str, value: Any) -> Any:
    """A PATCH value checked against its field's rule. Raises OrderError naming the field."""
    choices = {
        "kind": KINDS,
        "department": DEPARTMENTS,
        "out_of_scope_reason": OUT_OF_SCOPE_REASONS,
    }
    if key in choices:
        if value is not None and value not in choices[key]:
            raise OrderError("bad_value", f"{key} {value!r}: one of {', '.join(choices[key])}")
        return value
    if key in ("in_scope", "needs_callback"):
        if not isinstance(value, bool):
            raise OrderError("bad_value", f"{key}: true or false")
        return value
    limits = {"matter": 64, "summary": MAX_SUMMARY, "place": 128, "caller_name": 64}
    if key == "matter" and value is None:
        return None
    if not isinstance(value, str):
        raise OrderError("bad_value", f"{key}: a text")
    text = text_value(value, key, limits[key])
    if key != "summary" and any(ch in text for ch in "\r\n\t"):
        raise OrderError("bad_value", f"{key}: one line")
    return text or None if key == "matter" else text


def _callback_result(result: Mapping[str, Any] | None, *, required: bool) -> dict[str, Any] | None:
    """The callback's answers checked: solved (true/false) and satisfaction."""
    if result is None:
        if required:
            raise OrderError(
                "missing_callback_result",
                "closing after a callback needs its result: "
                f"{{'solved': true|false, 'satisfaction': {'|'.join(SATISFACTION)}}}",
            )
        return None
    unknown = set(result) - {"solved", "satisfaction"}
    if unknown:
        raise OrderError("bad_value", f"callback_result: unknown keys {sorted(unknown)}")
    if not isinstance(result.get("solved"), bool):
        raise OrderError("bad_value", "callback_result.solved: true or false")
    if result.get("satisfaction") not in SATISFACTION:
        raise OrderError(
            "bad_value", f"callback_result.satisfaction: one of {', '.join(SATISFACTION)}"
        )
    return {"solved": result["solved"], "satisfaction": result["satisfaction"]}
