"""Users, roles and API tokens.

A token is shown once, when it is made, and stored hashed (SHA-256 of 32 random bytes: no
need for a slow hash). It expires after a number of days (`HOTLINE_TOKEN_DAYS`, or
`--days`), can be revoked (the user stays and may get a new token), and its user can be
disabled. The role is read from the database on every request, so a role change or a
revocation applies to the very next request.

`authenticate` says why a token is refused (`TokenRejected.reason`); the web layer logs that
reason with the client's address, never the token. `FailureLimiter` counts refused tokens per
client address in memory (one process; a restart forgets).
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import Boolean, DateTime, String, false, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from hotline.core.db import Base, utcnow
from routing.taxonomy import DEPARTMENTS


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    #: the department a `department` user answers for (a taxonomy department code)
    department: Mapped[str | None] = mapped_column(String(64), nullable=True, default=None)


class Role(StrEnum):
    admin = "admin"
    ops = "ops"
    supervisor = "supervisor"
    operator = "operator"
    #: a responsible department (承办单位): sees only the work orders dispatched to it
    department = "department"


class UserError(ValueError):
    """A user cannot be created or changed as asked; the message says why."""


class TokenRejected(Exception):
    """A presented token does not sign anyone in. `reason` is safe to log and to show (it
    never contains the token); `user` is the user's name when the token was theirs."""

    def __init__(self, reason: str, user: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.user = user


_NAME = re.compile(r"^[\w.\-@]{1,64}$")
MAX_TOKEN_DAYS = 3650


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _as_utc(value: datetime) -> datetime:
    # SQLite gives back naive datetimes; every time stored here is UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _role(role: str) -> Role:
    try:
        return Role(role)
    except ValueError:
        raise UserError(
            f"role {role!r} is not one of: {', '.join(r.value for r in Role)}"
        ) from None


def _expiry(days: int) -> datetime:
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise UserError(f"a token lasts 1 to {MAX_TOKEN_DAYS} days (got {days} days)")
    return utcnow() + timedelta(days=days)


def _department(role: Role, department: str | None) -> str | None:
    # A department user answers for exactly one department of the taxonomy; no one else has one.
    if role is not Role.department:
        if department:
            raise UserError(f"only a department user has a department (role {role.value})")
        return None
    if department not in DEPARTMENTS:
        raise UserError(
            f"a department user needs --department, one of: {', '.join(DEPARTMENTS)}"
            + (f" (got {department!r})" if department else "")
        )
    return department


def create_user(
    sessions: sessionmaker[Session],
    name: str,
    role: str,
    days: int = 90,
    department: str | None = None,
) -> str:
    """Create a user and return their new API token (shown once, stored hashed), valid for
    `days` days. A `department` user names its department (a taxonomy code); others none."""
    if not _NAME.match(name):
        raise UserError(f"user name {name!r}: use 1-64 letters, digits, '.', '-', '_' or '@'")
    role_value = _role(role)
    department = _department(role_value, department)
    expires_at = _expiry(days)
    token = secrets.token_urlsafe(32)
    with sessions() as session:
        session.add(
            User(
                name=name,
                role=role_value.value,
                token_hash=hash_token(token),
                expires_at=expires_at,
                department=department,
            )
        )
        try:
            session.commit()
        except IntegrityError:
            raise UserError(f"a user called {name!r} already exists") from None
    return token


def _change(sessions: sessionmaker[Session], name: str, change: Callable[[User], None]) -> None:
    with sessions() as session:
        user = session.scalar(select(User).where(User.name == name))
        if user is None:
            raise UserError(f"there is no user called {name!r} (see `hotline users list`)")
        change(user)
        session.commit()


def new_token(sessions: sessionmaker[Session], name: str, days: int = 90) -> str:
    """Give `name` a new token valid for `days` days; the old one stops working at once."""
    expires_at = _expiry(days)
    token = secrets.token_urlsafe(32)

    def renew(user: User) -> None:
        user.token_hash = hash_token(token)
        user.expires_at = expires_at
        user.revoked_at = None

    _change(sessions, name, renew)
    return token


def revoke_token(sessions: sessionmaker[Session], name: str) -> None:
    """Stop `name`'s token from working (the user stays; `new_token` issues another)."""

    def revoke(user: User) -> None:
        user.revoked_at = utcnow()

    _change(sessions, name, revoke)


def set_disabled(sessions: sessionmaker[Session], name: str, disabled: bool) -> None:
    def apply(user: User) -> None:
        user.disabled = disabled

    _change(sessions, name, apply)


def set_role(
    sessions: sessionmaker[Session], name: str, role: str, department: str | None = None
) -> None:
    """Change `name`'s role; a `department` user names its department (as `create_user`)."""
    role_value = _role(role)
    department = _department(role_value, department)

    def apply(user: User) -> None:
        user.role = role_value.value
        user.department = department

    _change(sessions, name, apply)


def authenticate(sessions: sessionmaker[Session], token: str, now: datetime | None = None) -> User:
    """The user whose valid token this is. Raises TokenRejected (unknown, revoked, expired,
    disabled)."""
    with sessions() as session:
        user = session.scalar(select(User).where(User.token_hash == hash_token(token)))
    if user is None:
        raise TokenRejected("unknown token")
    if user.revoked_at is not None:
        raise TokenRejected("token revoked", user.name)
    if _as_utc(user.expires_at) <= (now or utcnow()):
        raise TokenRejected("token expired", user.name)
    if user.disabled:
        raise TokenRejected("user disabled", user.name)
    return user


def user_for_token(sessions: sessionmaker[Session], token: str) -> User | None:
    """The user of a valid token, or None (see `authenticate` for why)."""
    try:
        return authenticate(sessions, token)
    except TokenRejected:
        return None


class FailureLimiter:
    """At most `limit` refused tokens per client address in any `window` seconds.

    In memory and per process: it slows down guessing from one address, it is not an
    account lock-out. Behind a reverse proxy every client has the proxy's address. The
    table keeps at most `max_addresses` addresses, dropping the least recently failed."""

    def __init__(
        self,
        limit: int,
        window: float = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_addresses: int = 10_000,
    ) -> None:
        self.limit = limit
        self.window = window
        self._clock = clock
        self._max_addresses = max_addresses
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._failures)

    def _recent(self, address: str, now: float) -> deque[float] | None:
        times = self._failures.get(address)
        if times is None:
            return None
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[address]
            return None
        return times

    def retry_after(self, address: str) -> int:
        """Seconds until `address` may try again (0: it may now)."""
        now = self._clock()
        times = self._recent(address, now)
        if times is None or len(times) < self.limit:
            return 0
        return max(1, math.ceil(times[-self.limit] + self.window - now))

    def failed(self, address: str) -> None:
        now = self._clock()
        times = self._recent(address, now)
        if times is None:
            times = self._failures[address] = deque(maxlen=self.limit)
        times.append(now)
        self._failures.move_to_end(address)
        while len(self._failures) > self._max_addresses:
            self._failures.popitem(last=False)


def mask_number(number: str) -> str:
    """138****0000: enough to tell calls apart, not enough to call the citizen back."""
    if len(number) >= 11:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    if len(number) >= 5:
        return "*" * (len(number) - 2) + number[-2:]
    return "*" * len(number)
