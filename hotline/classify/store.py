"""Model versions: kept in the database, one live.

Version 0 is the model shipped with the package; versions 1, 2, ... are the ones a city
trained, numbered in the order they were stored. `use(n)` puts one live (and `use(0)` goes
back to the shipped one); it never deletes anything, so switching back is one command. A
version is checked when it is put live: its bytes must match their recorded SHA-256 and load
as a model of this release, else it is refused and the live version stays as it was.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from hotline.calls.store import fit
from hotline.classify.tables import LiveModelRow, ModelVersionRow
from hotline.core.audit import audit
from hotline.core.db import utcnow
from routing.model import LinearModel, ModelError

SHIPPED: Final = 0
#: a model file larger than this is refused (the shipped one is about 3 MB)
MAX_MODEL_BYTES: Final = 128 * 1024 * 1024
_LIVE_ROW: Final = 1


class VersionError(Exception):
    """A version cannot be used or stored; `error_id` says why."""

    def __init__(self, error_id: str, message: str) -> None:
        super().__init__(message)
        self.error_id = error_id


@dataclass(frozen=True)
class VersionInfo:
    """A model version as `hotline classify versions` lists it (no bytes)."""

    version: int
    created_at: datetime | None
    created_by: str
    note: str
    sha256: str
    size: int
    base_rows: int
    city_rows: int
    evaluation: str
    figures: dict[str, Any]
    train_seconds: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "created_by": self.created_by,
            "note": self.note,
            "sha256": self.sha256,
            "size": self.size,
            "base_rows": self.base_rows,
            "city_rows": self.city_rows,
            "evaluation": self.evaluation,
            "figures": self.figures,
            "train_seconds": self.train_seconds,
        }


@dataclass(frozen=True)
class Live:
    version: int
    changed_at: datetime | None
    changed_by: str


@dataclass(frozen=True)
class NewVersion:
    model: bytes
    created_by: str
    note: str
    base_rows: int
    city_rows: int
    data_sha256: str
    evaluation: str
    figures: dict[str, Any]
    train_seconds: float


def model_bytes(model: LinearModel) -> bytes:
    """The model's file, as `LinearModel.save` writes it."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.npz"
        model.save(path)
        return path.read_bytes()


def load_model(data: bytes) -> LinearModel:
    """A model from its file's bytes; raises ModelError (e.g. written by another release)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.npz"
        path.write_bytes(data)
        return LinearModel.load(path)


def _info(row: ModelVersionRow) -> VersionInfo:
    return VersionInfo(
        row.version,
        row.created_at,
        row.created_by,
        row.note,
        row.sha256,
        row.size,
        row.base_rows,
        row.city_rows,
        row.evaluation,
        dict(row.figures or {}),
        row.train_seconds,
    )


class ModelStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def add(self, new: NewVersion) -> int:
        """Store a trained model; returns its version number. It is not put live."""
        if len(new.model) > MAX_MODEL_BYTES:
            raise VersionError(
                "model_too_large",
                f"the model has {len(new.model)} bytes, at most {MAX_MODEL_BYTES}",
            )
        with self._sessions() as s, s.begin():
            row = ModelVersionRow(
                created_at=utcnow(),
                created_by=fit(new.created_by, 64),
                note=new.note,
                sha256=hashlib.sha256(new.model).hexdigest(),
                size=len(new.model),
                model=new.model,
                base_rows=new.base_rows,
                city_rows=new.city_rows,
                data_sha256=new.data_sha256,
                evaluation=new.evaluation,
                figures=new.figures,
                train_seconds=round(new.train_seconds, 1),
            )
            s.add(row)
            s.flush()
            audit(
                s,
                user=fit(new.created_by, 64),
                role="cli",
                subject="classifier",
                action="train",
                unique_id=str(row.version),
                detail={"city_rows": new.city_rows, "data_sha256": new.data_sha256},
            )
            return row.version

    def versions(self) -> list[VersionInfo]:
        """Every stored version, oldest first (without their bytes)."""
        columns = [c for c in ModelVersionRow.__table__.columns if c.name != "model"]
        with self._sessions() as s:
            rows = s.execute(select(*columns).order_by(ModelVersionRow.version)).all()
        return [
            VersionInfo(
                r.version,
                r.created_at,
                r.created_by,
                r.note,
                r.sha256,
                r.size,
                r.base_rows,
                r.city_rows,
                r.evaluation,
                dict(r.figures or {}),
                r.train_seconds,
            )
            for r in rows
        ]

    def info(self, version: int) -> VersionInfo:
        with self._sessions() as s:
            row = s.get(ModelVersionRow, version)
            if row is None:
                raise self._unknown(s, version)
            return _info(row)

    def live(self) -> Live:
        """The live version (0, the shipped model, until one is put live)."""
        with self._sessions() as s:
            row = s.get(LiveModelRow, _LIVE_ROW)
            if row is None:
                return Live(SHIPPED, None, "")
            return Live(row.version, row.changed_at, row.changed_by)

    def model(self, version: int) -> LinearModel:
        """A stored version's model, its bytes checked against their SHA-256.

        Raises VersionError (unknown version, bytes changed, not loadable by this release)."""
        with self._sessions() as s:
            row = s.get(ModelVersionRow, version)
            if row is None:
                raise self._unknown(s, version)
            data, sha256 = bytes(row.model), row.sha256
        if hashlib.sha256(data).hexdigest() != sha256:
            raise VersionError(
                "model_damaged", f"model version {version}: its bytes no longer match their hash"
            )
        try:
            return load_model(data)
        except ModelError as exc:
            raise VersionError("model_unloadable", f"model version {version}: {exc}") from None

    def use(self, version: int, by: str) -> Live:
        """Put `version` live (0: the shipped model), after checking that it loads."""
        if version != SHIPPED:
            self.model(version)  # refuses a version that cannot run before anything changes
        for attempt in range(2):  # the first `use` ever may race another for the one row
            try:
                with self._sessions() as s, s.begin():
                    row = s.get(LiveModelRow, _LIVE_ROW, with_for_update=True)
                    previous = row.version if row is not None else SHIPPED
                    now = utcnow()
                    if row is None:
                        s.add(
                            LiveModelRow(
                                id=_LIVE_ROW,
                                version=version,
                                changed_at=now,
                                changed_by=fit(by, 64),
                            )
                        )
                    else:
                        row.version, row.changed_at, row.changed_by = version, now, fit(by, 64)
                    audit(
                        s,
                        user=fit(by, 64),
                        role="cli",
                        subject="classifier",
                        action="use",
                        unique_id=str(version),
                        detail={"previous": previous},
                    )
                return Live(version, now, by)
            except IntegrityError:
                if attempt:
                    raise
        raise AssertionError("unreachable")

    @staticmethod
    def _unknown(s: Session, version: int) -> VersionError:
        newest = s.scalar(select(func.max(ModelVersionRow.version)))
        known = f"versions 1..{newest} and 0 (shipped)" if newest else "only 0 (shipped)"
        return VersionError("unknown_version", f"no model version {version}; there are {known}")


def sha256_of(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
