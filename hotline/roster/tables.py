"""Tables of the roster and routing feature: operators, shifts, dated assignments, the holiday
calendar, open cases per caller number, and the routing decision stored with each call."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.db import Base


class OperatorRow(Base):
    __tablename__ = "roster_operators"

    extension: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    group: Mapped[str] = mapped_column("grp", String(16))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class ShiftRow(Base):
    __tablename__ = "roster_shifts"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    start: Mapped[time] = mapped_column(Time)
    end: Mapped[time] = mapped_column(Time)
    days: Mapped[str] = mapped_column(String(10), default="all")


class AssignmentRow(Base):
    __tablename__ = "roster_assignments"
    __table_args__ = (UniqueConstraint("day", "shift", "extension", name="uq_roster_assignment"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    shift: Mapped[str] = mapped_column(
        String(32), ForeignKey("roster_shifts.name", ondelete="CASCADE")
    )
    extension: Mapped[str] = mapped_column(
        String(8), ForeignKey("roster_operators.extension", ondelete="CASCADE")
    )


class CalendarDayRow(Base):
    __tablename__ = "roster_calendar"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    note: Mapped[str] = mapped_column(String(64), default="")


class CallRouteRow(Base):
    """The routing decision of a call: which rule fired and why, and the full classification."""

    __tablename__ = "call_routes"

    unique_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    decided_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    caller_number: Mapped[str] = mapped_column(String(64), default="")
    queue: Mapped[str] = mapped_column(String(32))
    wanted: Mapped[str] = mapped_column(String(32))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    rule: Mapped[str] = mapped_column(String(32))
    explanation: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    classification: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    transcript: Mapped[str | None] = mapped_column(Text, nullable=True)
    decision_ms: Mapped[float] = mapped_column(Float, default=0.0)
