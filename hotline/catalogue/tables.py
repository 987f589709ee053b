"""Tables of the dispatch catalogue (派单目录): its versions and which one is live (and since
when, by whom). Created by the Alembic migration 0004_catalogue, never by create_all."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.db import Base, utcnow


class CatalogueVersion(Base):
    """One version of the whole catalogue document. At most one is a draft (it may change);
    a published version never changes."""

    __tablename__ = "catalogue_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: the document as parsed (a draft may have problems; a published one has none)
    document: Mapped[Any] = mapped_column(JSON)
    #: "draft" or "published"
    status: Mapped[str] = mapped_column(String(16), index=True)
    #: 1 on the draft, NULL on published versions: unique, so two editors starting a draft at
    #: the same moment cannot make two
    draft_slot: Mapped[int | None] = mapped_column(Integer, nullable=True, unique=True)
    #: the catalogue's edit counter when this row was last saved: unique over every row, so an
    #: edit made on what an editor read is refused once anything newer was saved (409)
    revision: Mapped[int] = mapped_column(Integer, unique=True)
    #: kept so a list of versions need not load and validate every document
    matters: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[int] = mapped_column(Integer, default=0)
    comment: Mapped[str] = mapped_column(Text, default="")
    based_on: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    published_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class CatalogueActivation(Base):
    """Each time a version went live (shipped, publish or roll-back); the newest row is live."""

    __tablename__ = "catalogue_activations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("catalogue_versions.id"))
    #: "shipped", "publish" or "rollback"
    action: Mapped[str] = mapped_column(String(16))
    by: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
