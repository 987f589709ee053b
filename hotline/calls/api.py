"""`/api/calls`: the call log, for admins, supervisors and ops. What a role sees of the caller
(number, name, words, keys in the path) is `hotline.core.privacy`'s rule; every listing and
opening is written to the audit log (`hotline.core.audit`)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel
from sqlalchemy import func, select

from hotline.calls.tables import Call
from hotline.core.audit import audit, client_address
from hotline.core.auth import Role, User
from hotline.core.privacy import View
from hotline.web.deps import require, service_of
from hotline.web.params import PageOffset

router = APIRouter(prefix="/api/calls", tags=["calls"])
CallReader = Annotated[User, require(Role.admin, Role.supervisor, Role.ops)]


class CallOut(BaseModel):
    unique_id: str
    caller_number: str
    caller_name: str
    called_number: str
    started_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    outcome: str
    path: list[dict[str, Any]]


class CallPage(BaseModel):
    total: int
    items: list[CallOut]


def call_out(call: Call, user: User) -> CallOut:
    view = View.for_role(user.role)
    return CallOut(
        unique_id=call.unique_id,
        caller_number=view.number(call.caller_number),
        caller_name=view.name(call.caller_name),
        called_number=call.called_number,
        started_at=call.started_at,
        answered_at=call.answered_at,
        ended_at=call.ended_at,
        outcome=call.outcome,
        path=view.path(call.path or []),
    )


@router.get("")
async def list_calls(
    request: Request,
    user: CallReader,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: PageOffset = 0,
) -> CallPage:
    sessions = service_of(request).sessions

    def query() -> CallPage:
        with sessions() as session:
            total = session.scalar(select(func.count()).select_from(Call)) or 0
            rows = session.scalars(
                select(Call).order_by(Call.started_at.desc()).limit(limit).offset(offset)
            ).all()
            page = CallPage(total=total, items=[call_out(c, user) for c in rows])
            audit(
                session,
                user=user.name,
                role=user.role,
                subject="call",
                action="list",
                client=client_address(request),
                detail={
                    "limit": limit,
                    "offset": offset,
                    "total": total,
                    "unique_ids": [c.unique_id for c in rows],
                },
            )
            session.commit()
            return page

    return await asyncio.to_thread(query)


@router.get("/{unique_id}")
async def get_call(request: Request, unique_id: str, user: CallReader) -> CallOut:
    sessions = service_of(request).sessions

    def query() -> Call | None:
        with sessions() as session:
            call: Call | None = session.get(Call, unique_id)
            if call is not None:
                audit(
                    session,
                    user=user.name,
                    role=user.role,
                    subject="call",
                    action="open",
                    unique_id=unique_id,
                    client=client_address(request),
                )
                session.commit()
            return call

    call = await asyncio.to_thread(query)
    if call is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no call with unique id {unique_id!r}")
    return call_out(call, user)
