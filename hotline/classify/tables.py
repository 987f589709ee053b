"""Tables of the classifier's model versions.

`classify_models` keeps every model a city trained (`hotline classify train`): the model file's
bytes (the `.npz` that `routing.model.LinearModel.save` writes) with their SHA-256, who trained
it and when, on how many rows, and its figures on the city's rows (no text of any row). The
bytes live in the database, not in a file under the state directory, so every controller
sharing the database can load any version. `classify_live` has one row: the version in use
(0 is the model shipped with the package). `hotline.classify.store` is the only code that
writes them.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.core.db import Base, utcnow


class ModelVersionRow(Base):
    __tablename__ = "classify_models"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="")
    #: the SHA-256 of `model` (checked on every load) and its size in bytes
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    model: Mapped[bytes] = mapped_column(LargeBinary)
    #: rows of the shipped corpus and of the city's file it was fitted on; the file's SHA-256
    base_rows: Mapped[int] = mapped_column(Integer)
    city_rows: Mapped[int] = mapped_column(Integer)
    data_sha256: Mapped[str] = mapped_column(String(64))
    #: how the figures were measured ("holdout", "cv5", "none") and the figures themselves:
    #: {"new": summary, "shipped": summary} over the same city rows (routing.labelled)
    evaluation: Mapped[str] = mapped_column(String(16))
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    train_seconds: Mapped[float] = mapped_column(default=0.0)


class LiveModelRow(Base):
    """The version in use; one row (id 1). Controllers poll it."""

    __tablename__ = "classify_live"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    changed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    changed_by: Mapped[str] = mapped_column(String(64), default="")
