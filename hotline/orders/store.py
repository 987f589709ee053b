"""The work orders' store: numbering, creation, look-ups. The only writer of the tables.

Numbers are the local day (the hotline's time zone) and a five-digit sequence of that day,
`2026120100123`: a caller can read one out, they sort by day, and they are unique across
processes because each is issued by one atomic upsert of the day's counter row
(`INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, on SQLite and PostgreSQL alike), in the
transaction that inserts the order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from hotline.calls.store import fit
from hotline.core.db import utcnow
from hotline.orders.tables import OrderCounter, WorkOrder, WorkOrderEvent

#: statuses in which an order is still being worked on (a follow-up call finds it)
OPEN_STATUSES = ("draft", "dispatched", "replied", "callback", "returned", "reopened")
CHANNELS = ("phone", "web", "wechat", "email", "app", "letter")
#: a work-order number: eight digits of the day, five of the sequence
NUMBER = re.compile(r"^\d{13}$")
SEQUENCE_DIGITS = 5


class OrderError(ValueError):
    """An order cannot be made or changed as asked; `code` names the problem for the API,
    the message says what and where."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


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


class OrderStore:
    def __init__(self, sessions: sessionmaker[Session], timezone: str = "Asia/Shanghai") -> None:
        self._sessions = sessions
        self.tz = ZoneInfo(timezone)

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
        now = at or utcnow()
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
                transcript=fit(new.transcript),
                classification=c or None,
                kind=c.get("kind") or None,
                department=c.get("department") or None,
                in_scope=bool(c.get("in_scope", True)),
                out_of_scope_reason=c.get("out_of_scope_reason") or None,
                summary="",
                place="",
                deadline_class="general",
                extended=False,
                reply="",
                return_reason="",
                needs_callback=True,
                follow_ups=0,
                **new.extra,
            )
            s.add(order)
            s.flush()
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
