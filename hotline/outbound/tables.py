"""Tables of the outbound-call feature.

`outbound_jobs` holds one row per citizen to call (a survey of a work order, a missed call
to return, a queue caller who asked to be called back), `outbound_attempts` one row per
call placed for a job (when, outcome, keys, Asterisk's cause). `outbound_do_not_call` is the
do-not-call list, `outbound_settings` the dialer's switches shared by every process (pause),
`outbound_survey_versions` the survey documents ops edit and publish.
`hotline.outbound.store` is the only code that writes them.

A job's `open_key` is its dedupe key while it is pending or being called, NULL otherwise: a
unique index on it keeps one open job per key even when two processes schedule at once.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.db import Base, utcnow


class OutboundJob(Base):
    __tablename__ = "outbound_jobs"
    __table_args__ = (Index("ix_outbound_jobs_claim", "state", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: survey | missed | queue_callback
    kind: Mapped[str] = mapped_column(String(16))
    number: Mapped[str] = mapped_column(String(64))
    #: the work order a survey is about (no foreign key: orders live on another branch)
    order_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    #: pending -> calling -> pending (retry) | done | gave_up | cancelled
    state: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(128), nullable=True, index=True)
    open_key: Mapped[str | None] = mapped_column(String(128), nullable=True, unique=True)
    due_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    #: tries made (an attempt cut short by the controller's own end does not count)
    tries: Mapped[int] = mapped_column(Integer, default=0)
    max_tries: Mapped[int] = mapped_column(Integer, default=3)
    #: the process calling it now, and since when
    worker: Mapped[str] = mapped_column(String(64), default="")
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: the last attempt's outcome, and what the job came to (a survey's answers)
    outcome: Mapped[str] = mapped_column(String(16), default="")
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboundAttempt(Base):
    __tablename__ = "outbound_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("outbound_jobs.id"), index=True)
    #: the originated channel's unique id (Originate ChannelId): matches the
    #: OriginateResponse and the survey's AsyncAGI session to this attempt
    call_id: Mapped[str] = mapped_column(String(64), unique=True)
    worker: Mapped[str] = mapped_column(String(64), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    #: in_progress | answered | completed | busy | no_answer | failed | interrupted
    outcome: Mapped[str] = mapped_column(String(16), default="in_progress")
    #: Asterisk's reason (OriginateResponse Reason, hang-up cause) as text
    cause: Mapped[str] = mapped_column(String(64), default="")
    keys: Mapped[str] = mapped_column(String(32), default="")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class DoNotCall(Base):
    __tablename__ = "outbound_do_not_call"

    number: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    added_by: Mapped[str] = mapped_column(String(64), default="")
    added_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class OutboundSetting(Base):
    __tablename__ = "outbound_settings"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), default="")
    changed_by: Mapped[str] = mapped_column(String(64), default="")
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class SurveyVersion(Base):
    __tablename__ = "outbound_survey_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    comment: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    #: the newest `live_since` names the live version (a roll-back sets it again)
    live_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    published_by: Mapped[str] = mapped_column(String(64), default="")
