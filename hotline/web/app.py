"""The web API. HTTP errors exist only here; roles are checked per route."""

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import FastAPI, HTTPException, Query, status
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import generate_latest
from pydantic import BaseModel
from sqlalchemy import func, select

from hotline.calls.tables import Call
from hotline.core.auth import Role, User, mask_number
from hotline.recordings import api as api_recordings
from hotline.service import Service
from hotline.web.deps import CurrentUser, require


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


def create_app(service: Service) -> FastAPI:
    app = FastAPI(title="hotline12345", version="0.1.0")
    app.state.service = service
    CallReader = Annotated[User, require(Role.admin, Role.supervisor, Role.ops)]

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        health = await asyncio.to_thread(service.health)
        ok = all(health.values())
        return JSONResponse(
            {"status": "ok" if ok else "degraded", **health},
            status_code=200 if ok else 503,
        )

    @app.get("/metrics")
    async def metrics() -> PlainTextResponse:
        return PlainTextResponse(
            generate_latest(service.metrics.registry).decode(),
            media_type="text/plain; version=0.0.4",
        )

    @app.get("/api/me")
    async def me(user: CurrentUser) -> dict[str, str]:
        return {"name": user.name, "role": user.role}

    def _out(call: Call, user: User) -> CallOut:
        sees_numbers = user.role in (Role.admin, Role.supervisor)
        return CallOut(
            unique_id=call.unique_id,
            caller_number=call.caller_number if sees_numbers else mask_number(call.caller_number),
            caller_name=call.caller_name if sees_numbers else "",
            called_number=call.called_number,
            started_at=call.started_at,
            answered_at=call.answered_at,
            ended_at=call.ended_at,
            outcome=call.outcome,
            path=call.path,
        )

    @app.get("/api/calls")
    async def list_calls(
        user: CallReader,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> CallPage:
        def query() -> CallPage:
            with service.sessions() as session:
                total = session.scalar(select(func.count()).select_from(Call)) or 0
                rows = session.scalars(
                    select(Call).order_by(Call.started_at.desc()).limit(limit).offset(offset)
                ).all()
                return CallPage(total=total, items=[_out(c, user) for c in rows])

        return await asyncio.to_thread(query)

    @app.get("/api/calls/{unique_id}")
    async def get_call(unique_id: str, user: CallReader) -> CallOut:
        def query() -> Call | None:
            with service.sessions() as session:
                call: Call | None = session.get(Call, unique_id)
                return call

        call = await asyncio.to_thread(query)
        if call is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"no call with unique id {unique_id!r}")
        return _out(call, user)

    app.include_router(api_recordings.router())
    from hotline.ivr import api as api_ivr

    app.include_router(api_ivr.router())
    from hotline.roster import api as api_roster

    app.include_router(api_roster.router())
    return app
