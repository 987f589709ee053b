"""Authentication and role checks shared by every API router.

from hotline.web.deps import CurrentUser, Role, require, service_of

@router.get("/things")
async def things(user: Annotated[User, require(Role.admin, Role.ops)]) -> ...

A refused token is logged (why, whose, from which address; never the token) and counted per
client address: past `auth_failures_per_minute` the address gets 429 with Retry-After, before
its token is even looked at.
"""

import asyncio
import logging
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hotline.core.auth import FailureLimiter, Role, TokenRejected, User, authenticate

__all__ = ["CurrentUser", "Role", "authenticated", "require", "service_of"]

log = logging.getLogger("hotline.auth")

_bearer = HTTPBearer(auto_error=False)


def service_of(request: Request) -> Any:
    """The running `hotline.service.Service` (typed Any to keep this module import-light)."""
    return request.app.state.service


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


async def authenticated(request: Request, token: str) -> User:
    """The user of `token`, or HTTPException: 429 while the client's address has too many
    recent failures, 401 for a refused token (logged and counted)."""
    service = service_of(request)
    limiter: FailureLimiter = service.auth_failures
    address = client_address(request)
    wait = limiter.retry_after(address)
    if wait:
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"too many refused tokens from {address}; try again in {wait} s",
            headers={"Retry-After": str(wait)},
        )
    try:
        return await asyncio.to_thread(authenticate, service.sessions, token)
    except TokenRejected as exc:
        limiter.failed(address)
        log.warning(
            "authentication failed from %s: %s%s",
            address,
            exc.reason,
            f" (user {exc.user})" if exc.user else "",
        )
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, exc.reason, headers={"WWW-Authenticate": "Bearer"}
        ) from None


async def current_user(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token (create one with `hotline users create NAME --role ROLE`)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return await authenticated(request, credentials.credentials)


CurrentUser = Annotated[User, Depends(current_user)]


def require(*roles: Role) -> Any:
    """A dependency that lets only `roles` through (403 for any other signed-in user)."""

    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "your role may not do this")
        return user

    return Depends(check)
