"""Tables of the IVR: menu versions, which version is live (and since when, by whom), and
the prompt recordings. Created by the Alembic migration 0002_ivr, never by create_all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.db import Base, utcnow


class MenuVersion(Base):
    """One version of the menu. A draft may change; once published it never does."""

    __tablename__ = "ivr_menu_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: "draft" or "published"
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    based_on: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class MenuActivation(Base):
    """Each time a version went live (publish or roll-back); the newest row is live."""

    __tablename__ = "ivr_activations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("ivr_menu_versions.id"))
    #: "publish" or "rollback"
    action: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class PromptRecording(Base):
    """A prompt file Asterisk can play: an uploaded recording, or a placeholder synthesised
    from the prompt's text (`synthetic`)."""

    __tablename__ = "ivr_prompts"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    #: True for an espeak-ng placeholder, False for an uploaded recording
    synthetic: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    #: for a placeholder, the text it says; for a recording, the uploaded file's name
    source: Mapped[str] = mapped_column(Text, default="")
    #: file name in the prompts directory (relative, without extension)
    file: Mapped[str] = mapped_column(String(200))
    duration_ms: Mapped[int] = mapped_column(Integer)
    size: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
