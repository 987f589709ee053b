"""Tables of the knowledge base (一问一答).

`kb_entries` holds each entry as it stands now; `kb_entry_versions` one row per version of an
entry (its full content, who made it and when), written in the transaction of the change, so
every earlier version stays readable. `search_text` is the entry's text in the form of the
full-text index (an FTS5 table `kb_fts` on SQLite, a GIN index over
``to_tsvector('simple', search_text)`` on PostgreSQL). `hotline.kb.store` is the only code that
writes them.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.db import Base, utcnow


class KbEntry(Base):
    __tablename__ = "kb_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    #: the current version's number (1 for a new entry); a PATCH names the one it changes
    version: Mapped[int] = mapped_column(Integer, default=1)
    question: Mapped[str] = mapped_column(Text)
    #: the question in canonical form (routing.text.normalize), to refuse a second copy
    question_key: Mapped[str] = mapped_column(String(400), index=True)
    answer: Mapped[str] = mapped_column(Text)
    #: matter names of the dispatch catalogue the entry answers
    matters: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: a routing.taxonomy department code, or none
    department: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    #: first and last day (inclusive, the hotline's local dates) the answer holds; none: open
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: who says so: a regulation, a notice, an office
    source: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, index=True)
    #: the stable key of an entry that came from the shipped starter set (else none): loading
    #: the starter set again adds only the keys not present, so edits are never overwritten
    starter_key: Mapped[str | None] = mapped_column(String(16), nullable=True, unique=True)
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(64))


class KbEntryVersion(Base):
    __tablename__ = "kb_entry_versions"
    __table_args__ = (UniqueConstraint("entry_id", "version", name="uq_kb_entry_versions"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    entry_id: Mapped[int] = mapped_column(Integer, ForeignKey("kb_entries.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    by: Mapped[str] = mapped_column("by_user", String(64))
    #: create, update, deactivate, activate, import, starter
    action: Mapped[str] = mapped_column(String(16))
    #: the entry's content as of this version (the fields an ops user edits)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)
