"""Tables of the work-order feature (工单).

`work_orders` holds one row per request (a call routed to a queue, or a written message of
the multimedia desk); `work_order_history` one row per change (who, when, what), written in
the same transaction as the change; `work_order_counters` the last number issued per day, so
numbers are unique across controllers and API workers. `hotline.orders.store` is the only
code that writes them.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.db import Base, utcnow


class WorkOrder(Base):
    __tablename__ = "work_orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: what a caller reads out: the local day and its sequence, e.g. 2026120100123
    number: Mapped[str] = mapped_column(String(16), unique=True)
    #: optimistic locking: a PATCH names the version it changes (stale: 409)
    version: Mapped[int] = mapped_column(Integer, default=1)
    status: Mapped[str] = mapped_column(String(16))
    #: phone, web, wechat, email, app
    channel: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: the user who created it ("" for the controller, which creates orders for calls)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    #: the queue the call was routed to (its group: intake, enterprise, dispatch...), and the
    #: operator who took it (extension or user name; "" until someone does)
    queue: Mapped[str] = mapped_column(String(32), default="")
    operator: Mapped[str] = mapped_column(String(64), default="")
    caller_number: Mapped[str] = mapped_column(String(64), default="")
    caller_name: Mapped[str] = mapped_column(String(64), default="")
    #: the call it came from (None for a written request)
    call_unique_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    #: what the caller said (a call's transcript) or wrote (title and body of a message)
    transcript: Mapped[str] = mapped_column(Text, default="")
    #: the pre-classification as it was when the order was made (taxonomy JSON)
    classification: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: the operator's decisions (start from the classification, corrected by hand)
    kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    department: Mapped[str | None] = mapped_column(String(64), nullable=True)
    matter: Mapped[str | None] = mapped_column(String(64), nullable=True)
    in_scope: Mapped[bool] = mapped_column(Boolean, default=True)
    out_of_scope_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    #: the place the request is about, normalised (street, community, building): merging
    place: Mapped[str] = mapped_column(String(128), default="")
    #: the deadline class (see hotline.orders.deadlines) and when the order is due
    deadline_class: Mapped[str] = mapped_column(String(16), default="general")
    due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the department's last reply and the last reason a department gave back the order
    reply: Mapped[str] = mapped_column(Text, default="")
    return_reason: Mapped[str] = mapped_column(Text, default="")
    #: the knowledge-base entry a consultation was answered from
    kb_entry_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: the citizen wants to hear back (departments then see the full number)
    needs_callback: Mapped[bool] = mapped_column(Boolean, default=True)
    #: the callback's answers, e.g. {"solved": true, "satisfaction": "satisfied"}
    callback_result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    #: a merged order (并单) follows its parent's replies
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_orders.id"), nullable=True, index=True
    )
    #: a follow-up call or message linked to this order (the call's unique id is in history)
    follow_ups: Mapped[int] = mapped_column(Integer, default=0)
    dispatched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    __table_args__ = (
        Index("ix_work_orders_status_due", "status", "due_at"),
        Index("ix_work_orders_department_status", "department", "status"),
        Index("ix_work_orders_caller_status", "caller_number", "status"),
        Index("ix_work_orders_created_at", "created_at"),
    )


class WorkOrderEvent(Base):
    """One change of an order: who, when, which action, the status before and after, and
    the fields changed ({"field": [old, new]})."""

    __tablename__ = "work_order_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("work_orders.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    from_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(16), nullable=True)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")


class OrderCounter(Base):
    """The last sequence number issued on a local day."""

    __tablename__ = "work_order_counters"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
