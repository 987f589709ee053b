"""Request body limits, one per route.

The process that serves the API also drives every live call, so no request may make it buffer
or parse more than its route needs. `BodyLimits` is a pure ASGI middleware that runs before
routing, authentication and body parsing:

- it finds the request's route in a table built when the app is made: a route declares a
  larger limit with `openapi_extra=body_limit("<setting>")`; any other request (a JSON body,
  a path that matches no route) gets `api_max_body_bytes`;
- a Content-Length over the limit is answered 413 at once: the app is not called and not a
  byte of the body is read (the response closes the connection);
- otherwise the app reads through a `receive` that counts: the chunk that would take the body
  past the limit is never handed over; the app gets `BodyTooLarge` (an HTTP 413) instead, so a
  chunked body without Content-Length is held to the same limit.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["BodyLimits", "BodyTooLarge", "RouteLimit", "body_limit", "route_limits"]

#: The OpenAPI extension a route declares its limit with.
LIMIT_KEY = "x-body-limit"
#: Room for a multipart form's boundaries and part headers around the file itself.
MULTIPART_SLACK = 64 * 1024


def body_limit(setting: str, *, multipart: bool = False) -> dict[str, Any]:
    """`openapi_extra` for a route whose body may be larger than `api_max_body_bytes`: its
    limit is the named setting (in bytes), with room for the form around the file when the
    body is a `multipart` upload."""
    return {LIMIT_KEY: {"setting": setting, "multipart": multipart}}


class BodyTooLarge(HTTPException):
    """A request body over its route's limit (413, with an error id and the limit)."""

    def __init__(self, limit: int) -> None:
        super().__init__(
            413,  # Content Too Large (its constant's name differs between Starlette versions)
            {
                "error": "body-too-large",
                "message": f"the request body is too large: at most {limit:,} bytes here",
            },
            headers={"Connection": "close"},
        )
        self.limit = limit


@dataclass(frozen=True)
class RouteLimit:
    path: re.Pattern[str]
    methods: frozenset[str]
    limit: int

    def applies(self, method: str, path: str) -> bool:
        return method in self.methods and self.path.match(path) is not None


def route_limits(routes: Iterable[BaseRoute], settings: object) -> list[RouteLimit]:
    """The routes that declare a limit, each with it in bytes read from `settings`. Raises
    ValueError naming the route when the setting it names is not a byte count."""
    table = []
    for route in routes:
        if not isinstance(route, APIRoute) or not route.openapi_extra:
            continue
        declared = route.openapi_extra.get(LIMIT_KEY)
        if declared is None:
            continue
        value = getattr(settings, declared["setting"], None)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise ValueError(
                f"{route.path}: body limit setting {declared['setting']!r} is not a byte count"
            )
        limit = value + (MULTIPART_SLACK if declared["multipart"] else 0)
        table.append(RouteLimit(route.path_regex, frozenset(route.methods or ()), limit))
    return table


class BodyLimits:
    """Refuses request bodies over their route's limit with 413 (see the module's header)."""

    def __init__(self, app: ASGIApp, default: int, routes: list[RouteLimit]) -> None:
        self.app = app
        self.default = default
        self.routes = routes

    def limit_for(self, scope: Scope) -> int:
        path: str = scope["path"]
        root: str = scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :]
        for entry in self.routes:
            if entry.applies(scope["method"], path):
                return entry.limit
        return self.default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_for(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(send, BodyTooLarge(limit))
            return

        received = 0
        responded = False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def sending(message: Message) -> None:
            nonlocal responded
            responded = responded or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, sending)
        except BodyTooLarge as exc:
            # The app's own handler answers it; this is for code that reads the body
            # outside it.
            if responded:
                raise
            await _refuse(send, exc)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server refuses it; the count still applies
    return None


async def _refuse(send: Send, error: BodyTooLarge) -> None:
    body = json.dumps({"detail": error.detail}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status_code,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
