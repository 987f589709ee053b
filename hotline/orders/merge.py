"""Merging duplicate requests (并单): a parent order and the children that follow it."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hotline.orders.tables import WorkOrder, WorkOrderEvent


def follow_parent(session: Session, parent: WorkOrder, event: WorkOrderEvent) -> None:
    """Carry a change of `parent` (its reply, its move to callback or closed) over to its
    merged children, in the caller's transaction. The store calls it after each change."""
    return None
