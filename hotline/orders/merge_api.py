"""Merging duplicate work orders (并单) over the API: proposals, merge, unmerge.

For the dispatch desk (operators), supervisors and admins; departments never merge. What
callers said (the places and summaries compared) is shown as the other work-order endpoints
show it: operators see an order's words (they write and dispatch it), other roles what
`hotline.core.privacy` lets through (a role without words sees which parts matched, not
their values). Every answer that shows them is in the audit log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Path, Query, Request
from pydantic import BaseModel, Field

from hotline.core.audit import audit, client_address
from hotline.core.auth import User
from hotline.core.privacy import Personal, View
from hotline.orders.merge import (
    MAX_CANDIDATES,
    MAX_CHILDREN,
    Candidate,
    Merged,
    MergeError,
    Merger,
    Proposal,
    place_of_order,
)
from hotline.orders.tables import WorkOrder
from hotline.web.deps import Role, require, service_of
from hotline.web.params import MAX_INTEGER

router = APIRouter(prefix="/api/work-orders", tags=["work orders"])
Merging = Annotated[User, require(Role.operator, Role.supervisor, Role.admin)]
Number = Annotated[str, Path(pattern=r"^\d{13}$", description="a work-order number")]
T = TypeVar("T")


class ChildrenIn(BaseModel):
    children: list[Annotated[str, Field(pattern=r"^\d{13}$")]] = Field(
        min_length=1, max_length=MAX_CHILDREN, description="numbers of the child orders"
    )
    version: int = Field(ge=1, le=MAX_INTEGER, description="the parent's version")


def _merger(request: Request) -> Merger:
    return Merger(service_of(request).sessions)


async def _run(fn: Callable[..., T], *args: Any) -> T:
    try:
        return await asyncio.to_thread(fn, *args)
    except MergeError as exc:
        detail: dict[str, Any] = {"error": exc.code, "message": str(exc)}
        if exc.current is not None:
            detail["current"] = exc.current
        raise HTTPException(exc.status, detail) from None


def _when(value: datetime) -> str:
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _order(order: WorkOrder, view: View) -> dict[str, Any]:
    return {
        "number": order.number,
        "status": order.status,
        "version": order.version,
        "created_at": _when(order.created_at),
        "department": order.department,
        "matter": order.matter,
        "place": view.words(order.place),
        "summary": view.words(order.summary),
    }


def _candidate(candidate: Candidate, mine: WorkOrder, theirs: WorkOrder, view: View) -> Any:
    alike = candidate.likeness
    a, b = place_of_order(mine).parts(), place_of_order(theirs).parts()
    return {
        **_order(theirs, view),
        "place": view.words(place_of_order(theirs).text),
        "score": alike.score,
        "matched": {
            "place": [{"part": p, "value": view.words(a[p])} for p in alike.place.matched],
            "place_differs": [
                {"part": p, "value": view.words(b[p])} for p in alike.place.differing
            ],
            "place_score": alike.place.score,
            "matter": alike.matter or None,
            "words": alike.words,
            "hours_apart": alike.hours_apart,
        },
    }


def _view(role: str) -> View:
    # as hotline.orders.views: the privacy rule gives operators nothing because they use no
    # call-log endpoint, but they write and dispatch orders from what the caller said
    if role == Role.operator:
        return View(frozenset({Personal.number, Personal.name, Personal.words}))
    return View.for_role(role)


async def _audit(
    request: Request, user: User, action: str, number: str, detail: dict[str, Any]
) -> None:
    def write() -> None:
        with service_of(request).sessions() as s, s.begin():
            audit(
                s,
                user=user.name,
                role=user.role,
                subject="order",
                action=action,
                unique_id=number,
                client=client_address(request),
                detail=detail,
            )

    await asyncio.to_thread(write)


@router.get("/{number}/merge-candidates")
async def merge_candidates(
    number: Number,
    request: Request,
    user: Merging,
    window_hours: Annotated[int, Query(ge=1, le=720, description="hours either side")] = 24,
    limit: Annotated[int, Query(ge=1, le=MAX_CANDIDATES)] = 20,
) -> dict[str, Any]:
    """Open orders that look like the same request at the same place (best first), with what
    matched, and the order's children already merged."""
    proposal: Proposal = await _run(
        _merger(request).candidates, number, timedelta(hours=window_hours), limit
    )
    view = _view(user.role)
    if view.shows(Personal.words):
        await _audit(
            request,
            user,
            "merge_candidates",
            number,
            {"candidates": [c.order.number for c in proposal.candidates]},
        )
    order = proposal.order
    return {
        "order": {**_order(order, view), "children": [c.number for c in proposal.children]},
        "window_hours": window_hours,
        "candidates": [_candidate(c, order, c.order, view) for c in proposal.candidates],
    }


def _merged(result: Merged, view: View) -> dict[str, Any]:
    return {
        "order": _order(result.parent, view),
        "changed": result.changed,
        "children": [_order(c, view) for c in result.children],
    }


@router.post("/{number}/merge")
async def merge(number: Number, body: ChildrenIn, request: Request, user: Merging) -> Any:
    """Merge `children` into order `number` (at `version`): one transaction, a history row on
    every order. 409 for a stale version (with the order's state), an order not open, a child
    already merged or with children of its own; nothing changes then."""
    result: Merged = await _run(
        _merger(request).merge, number, body.children, body.version, user.name
    )
    await _audit(request, user, "merge", number, {"children": result.changed})
    return _merged(result, _view(user.role))


@router.post("/{number}/unmerge")
async def unmerge(number: Number, body: ChildrenIn, request: Request, user: Merging) -> Any:
    """Take open `children` out of order `number` (at `version`), all or nothing."""
    result: Merged = await _run(
        _merger(request).unmerge, number, body.children, body.version, user.name
    )
    await _audit(request, user, "unmerge", number, {"children": result.changed})
    return _merged(result, _view(user.role))
