"""Tables of the recordings feature.

`recording_jobs` is the durable ingest queue (one row per call), `recordings` the search
index (rebuildable from the store's sidecars). `hotline.recordings.store` is the only code
that writes them. Who did what with which recording goes to the audit log of every feature
(`hotline.core.audit`, subject "recording").
"""

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.db import Base, utcnow


def as_utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


class RecordingJob(Base):
    __tablename__ = "recording_jobs"

    unique_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    capture_name: Mapped[str] = mapped_column(String(80))
    # recording (call in progress) -> pending -> running -> done | failed
    state: Mapped[str] = mapped_column(String(16), index=True)
    step: Mapped[str] = mapped_column(String(16), default="")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    worker: Mapped[str] = mapped_column(String(64), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Recording(Base):
    __tablename__ = "recordings"

    unique_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    duration: Mapped[float] = mapped_column(Float, default=0.0)
    caller_number: Mapped[str] = mapped_column(String(64), default="", index=True)
    caller_name: Mapped[str] = mapped_column(String(128), default="")
    called_number: Mapped[str] = mapped_column(String(64), default="")
    operator: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    group: Mapped[str | None] = mapped_column("group_name", String(32), nullable=True, index=True)
    kind: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    department: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    out_of_scope_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    category: Mapped[str] = mapped_column(String(32), default="default")
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    hold_reason: Mapped[str] = mapped_column(Text, default="")
    hold_by: Mapped[str] = mapped_column(String(64), default="")
    audio_path: Mapped[str] = mapped_column(String(255))
    audio_format: Mapped[str] = mapped_column(String(16))
    audio_sha256: Mapped[str] = mapped_column(String(64))
    audio_bytes: Mapped[int] = mapped_column(Integer, default=0)
    transcribed: Mapped[bool] = mapped_column(Boolean, default=False)
    transcript: Mapped[str] = mapped_column(Text, default="")
    search_text: Mapped[str] = mapped_column(Text, default="")
    words: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    indexed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ---- the job queue -----------------------------------------------------------------------
