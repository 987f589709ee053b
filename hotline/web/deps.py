"""Authentication and role checks shared by every API router.

from hotline.web.deps import CurrentUser, Role, require, service_of

@router.get("/things")
async def things(user: Annotated[User, require(Role.admin, Role.ops)]) -> ...
"""

import asyncio
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hotline.core.auth import Role, User, user_for_token

__all__ = ["CurrentUser", "Role", "require", "service_of"]

_bearer = HTTPBearer(auto_error=False)


def service_of(request: Request) -> Any:
    """The running `hotline.service.Service` (typed Any to keep this module import-light)."""
    return request.app.state.service


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
    sessions = service_of(request).sessions
    user = await asyncio.to_thread(user_for_token, sessions, credentials.credentials)
    if user is None:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED, "unknown token", headers={"WWW-Authenticate": "Bearer"}
        )
    return user


CurrentUser = Annotated[User, Depends(current_user)]


def require(*roles: Role) -> Any:
    """A dependency that lets only `roles` through (403 for any other signed-in user)."""

    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "your role may not do this")
        return user

    return Depends(check)
