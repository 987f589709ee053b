"""Users, roles and API tokens. Tokens are shown once at creation and stored hashed."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, String, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from hotline.core.db import Base, utcnow


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Role(StrEnum):
    admin = "admin"
    ops = "ops"
    supervisor = "supervisor"
    operator = "operator"


class UserError(ValueError):
    """A user cannot be created as asked; the message says why."""


_NAME = re.compile(r"^[\w.\-@]{1,64}$")


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_user(sessions: sessionmaker[Session], name: str, role: str) -> str:
    """Create a user and return their new API token (shown once, stored hashed)."""
    if not _NAME.match(name):
        raise UserError(f"user name {name!r}: use 1-64 letters, digits, '.', '-', '_' or '@'")
    try:
        role_value = Role(role)
    except ValueError:
        raise UserError(
            f"role {role!r} is not one of: {', '.join(r.value for r in Role)}"
        ) from None
    token = secrets.token_urlsafe(32)
    with sessions() as session:
        session.add(User(name=name, role=role_value.value, token_hash=hash_token(token)))
        try:
            session.commit()
        except IntegrityError:
            raise UserError(f"a user called {name!r} already exists") from None
    return token


def user_for_token(sessions: sessionmaker[Session], token: str) -> User | None:
    with sessions() as session:
        return session.scalar(select(User).where(User.token_hash == hash_token(token)))


def mask_number(number: str) -> str:
    """138****0000: enough to tell calls apart, not enough to call the citizen back."""
    if len(number) >= 11:
        return number[:3] + "*" * (len(number) - 7) + number[-4:]
    if len(number) >= 5:
        return "*" * (len(number) - 2) + number[-2:]
    return "*" * len(number)
