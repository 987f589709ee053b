"""The end of a work order's retention: its personal data goes, its figures stay.

A work order is the hotline's record of a request and outlives the call's recording (the
recording's purge leaves the order alone). Once an order has been finished (answered or
closed) for `HOTLINE_ORDER_RETENTION_DAYS`, everything in it that names or quotes the citizen
is taken out (so is the same of an order left untouched that long, e.g. a draft nobody
finished), in one transaction per order: the caller's number and name, what they said or
wrote, the place, the operator's summary, the department's reply and return reason, the
classification but its labels, and the notes and changed values of its history. What reports
count stays: the number, status, times, channel, queue, kind, department, matter, scope,
deadline, callback answers. The text index loses the order's words; on SQLite the index
is merged and the WAL truncated so no deleted word stays in the files (as the recordings'
purge does).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.privacy import View
from hotline.orders.search import index_order
from hotline.orders.tables import WorkOrder, WorkOrderEvent

log = logging.getLogger("hotline.orders")

FINISHED = ("answered", "closed")
#: fields that name or quote the citizen, and what they become
PERSONAL_FIELDS = {
    "caller_number": "",
    "caller_name": "",
    "transcript": "",
    "place": "",
    "summary": "",
    "reply": "",
    "return_reason": "",
}
#: orders purged per transaction batch
BATCH = 200


def expired(now: datetime, days: int) -> datetime:
    """Orders finished before this moment have reached the end of their retention."""
    return now - timedelta(days=days)


def _has_personal_data() -> object:
    return or_(*(getattr(WorkOrder, name) != "" for name in PERSONAL_FIELDS))


def purge_expired(sessions: sessionmaker[Session], before: datetime) -> list[str]:
    """Take the personal data out of every order finished before `before`. Returns the
    numbers of the orders purged (an order already purged is not counted again)."""
    finished_at = func.coalesce(WorkOrder.closed_at, WorkOrder.updated_at)
    purged: list[str] = []
    with sessions() as session:
        while True:
            _overwrite_deleted(session)
            orders = session.scalars(
                select(WorkOrder)
                .where(
                    or_(
                        WorkOrder.status.in_(FINISHED) & (finished_at < before),
                        WorkOrder.updated_at < before,
                    ),
                    _has_personal_data(),  # type: ignore[arg-type]
                )
                .order_by(WorkOrder.id)
                .limit(BATCH)
            ).all()
            if not orders:
                break
            for order in orders:
                _forget(session, order)
                purged.append(order.number)
            session.commit()
        if purged and session.get_bind().dialect.name == "sqlite":
            _scrub_sqlite(session)
    if purged:
        log.info("retention: personal data taken out of %d finished work orders", len(purged))
    return purged


def _forget(session: Session, order: WorkOrder) -> None:
    for name, empty in PERSONAL_FIELDS.items():
        setattr(order, name, empty)
    order.classification = View.without_words().classification(order.classification)
    events = session.scalars(select(WorkOrderEvent).where(WorkOrderEvent.order_id == order.id))
    for event in events:
        event.note = ""
        event.changes = {
            field: (["", ""] if field in PERSONAL_FIELDS else values)
            for field, values in (event.changes or {}).items()
        }
    session.flush()
    index_order(session, order)


def _overwrite_deleted(session: Session) -> None:
    # Each transaction may get another pooled connection: the pragma is set for each.
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete = ON"))


def _scrub_sqlite(session: Session) -> None:
    _overwrite_deleted(session)
    session.execute(text("INSERT INTO work_orders_fts(work_orders_fts) VALUES('optimize')"))
    session.commit()
    busy = session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).first()
    session.commit()
    if busy is not None and busy[0]:
        log.warning("retention: the SQLite WAL file is in use and was not truncated")
