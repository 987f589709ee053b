"""The audit log: who read or changed what of a caller's data, with role, time and the
client's address.

One table for every feature (it began as the recordings' own and was generalised): an entry
names its `subject` (`call`, `recording`, `decision`), the call's unique id when it is about
one call, an `action` (`list`, `open`, `search`, `ticket`, `stream`, `download`, `hold`,
`release`, `purge`, ... and `*_refused` for what was refused) and a `detail` object. Entries
are only ever added. The client's address is the connection's: `X-Forwarded-For` counts only
from the proxies named in `HOTLINE_TRUSTED_PROXIES` (`hotline.service.api_server`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import JSON, DateTime, Integer, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from hotline.core.db import Base, utcnow


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_name: Mapped[str] = mapped_column(String(64), index=True)
    role: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(16), index=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    unique_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    client: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class _Address(Protocol):
    @property
    def host(self) -> str: ...


class _Request(Protocol):
    @property
    def client(self) -> _Address | None: ...


def client_address(request: _Request) -> str:
    """The address of the client that sent `request` (the proxy's, unless it is trusted)."""
    return request.client.host if request.client else ""


def audit(
    session: Session,
    *,
    user: str,
    role: str,
    subject: str,
    action: str,
    unique_id: str | None = None,
    client: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """Add one entry to the audit log, in `session`'s transaction (the caller commits)."""
    session.add(
        AuditEntry(
            user_name=user,
            role=str(role),
            subject=subject,
            action=action,
            unique_id=unique_id,
            client=client[:64],
            detail=detail or {},
        )
    )
