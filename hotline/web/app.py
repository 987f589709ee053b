"""The web application: health, metrics and who-am-I, plus the routers the features bring.

This module knows no feature: the wiring (`hotline.service.Service.api_routers`) lists the
feature routers. HTTP errors exist only in the web layer; roles are checked per route.
Every request body is bounded by its route's limit (`hotline.web.limits`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Protocol

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, generate_latest

from hotline.core.settings import Settings
from hotline.web.deps import CurrentUser
from hotline.web.limits import BodyLimits, route_limits


class _Metrics(Protocol):
    registry: CollectorRegistry


class Host(Protocol):
    """What the web layer needs of the running service."""

    settings: Settings

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

    routers = service.api_routers()
    for router in routers:
        app.include_router(router)
    app.add_middleware(
        BodyLimits,
        default=service.settings.api_max_body_bytes,
        routes=route_limits([r for router in routers for r in router.routes], service.settings),
    )
    return app
