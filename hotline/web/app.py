"""The web application: health, metrics and who-am-I, plus the routers the features bring.

This module knows no feature: the wiring (`hotline.service.Service.api_routers`) lists the
feature routers. HTTP errors exist only in the web layer; roles are checked per route.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, generate_latest

from hotline.web.deps import CurrentUser


class _Metrics(Protocol):
    registry: CollectorRegistry


class Host(Protocol):
    """What the web layer needs of the running service."""

    @property
    def metrics(self) -> _Metrics: ...

    def health(self) -> dict[str, bool]: ...

    def api_routers(self) -> Sequence[APIRouter]: ...


def create_app(service: Host) -> FastAPI:
    app = FastAPI(title="hotline12345", version="0.1.0")
    app.state.service = service

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

    for router in service.api_routers():
        app.include_router(router)
    return app
