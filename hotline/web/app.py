"""The web application: health, metrics and who-am-I, plus the routers the features bring.

This module knows no feature: the wiring (`hotline.service.Service.api_routers`) lists the
feature routers. HTTP errors exist only in the web layer; roles are checked per route.

What anyone who reaches the port gets (docs/security.md): `/healthz`, only ok or degraded per
part; `/metrics` only from the networks and with the token the settings name (default:
loopback clients); `/docs` and `/openapi.json` only when the settings enable them (not in the
prod profile by default). Every request body is bounded by its route's limit (`limits`).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Sequence
from ipaddress import ip_address
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CollectorRegistry, generate_latest
from sqlalchemy.exc import DataError

from hotline.core.settings import Settings
from hotline.web.deps import CurrentUser
from hotline.web.limits import BodyLimits, route_limits

log = logging.getLogger("hotline.web")
_bearer = HTTPBearer(auto_error=False)


class _Metrics(Protocol):
    registry: CollectorRegistry


class Host(Protocol):
    """What the web layer needs of the running service."""

    settings: Settings

    @property
    def metrics(self) -> _Metrics: ...

    def health(self) -> dict[str, bool]: ...

    def api_routers(self) -> Sequence[APIRouter]: ...


def metrics_reader(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let through a client in `metrics_networks` that sends `metrics_token` (when set).

    With neither set, only loopback clients, and not a request that came through a proxy: a
    proxy on this host whose X-Forwarded-For is not trusted makes everyone look local."""
    settings: Settings = request.app.state.service.settings
    try:
        address = ip_address(request.client.host) if request.client is not None else None
    except ValueError:
        address = None
    proxied = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    by_default = settings.metrics_allow is None and not settings.metrics_token
    if (
        address is None
        or not any(address in net for net in settings.metrics_networks)
        or (by_default and proxied)
    ):
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "metrics are not served to this address (see HOTLINE_METRICS_ALLOW)",
        )
    token = settings.metrics_token
    if token and (
        credentials is None
        or not secrets.compare_digest(credentials.credentials.encode(), token.encode())
    ):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "metrics need the bearer token of HOTLINE_METRICS_TOKEN",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def unstorable_value(request: Request, exc: Exception) -> JSONResponse:
    """A value the database refuses (PostgreSQL: a NUL character in text, text longer than
    its column, a number out of range) came from the request: 422, not 500."""
    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
    log.warning("%s %s: the database refused a value: %s", request.method, request.url.path, reason)
    return JSONResponse(
        {
            "detail": {
                "error": "unstorable-value",
                "message": f"a value in the request cannot be stored: {reason}",
            }
        },
        status_code=422,
    )


def create_app(service: Host) -> FastAPI:
    settings = service.settings
    docs = settings.docs_enabled
    app = FastAPI(
        title="hotline12345",
        version="0.1.0",
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.service = service
    app.add_exception_handler(DataError, unstorable_value)

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        health = await asyncio.to_thread(service.health)
        parts = {name: bool(ok) for name, ok in health.items()}
        ok = all(parts.values())
        return JSONResponse(
            {"status": "ok" if ok else "degraded", **parts},
            status_code=200 if ok else 503,
        )

    @app.get("/metrics", dependencies=[Depends(metrics_reader)])
    async def metrics() -> PlainTextResponse:
        # In a worker thread: some collectors count rows in the database (work orders).
        text = await asyncio.to_thread(generate_latest, service.metrics.registry)
        return PlainTextResponse(
            text.decode(),
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
        default=settings.api_max_body_bytes,
        routes=route_limits([r for router in routers for r in router.routes], settings),
    )
    return app
