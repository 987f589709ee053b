"""The database side of ingest, search and retention: the only code that writes the
recordings feature's tables (`hotline.recordings.tables`).

Full-text search is dialect-specific and kept in `_fulltext`: an FTS5 table on SQLite, a GIN
index over ``to_tsvector('simple', search_text)`` on PostgreSQL.
"""

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    delete,
    func,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.audit import audit as core_audit
from hotline.core.db import utcnow
from hotline.recordings.tables import Recording, RecordingJob, as_utc
from recordings.ingest import IngestJob
from recordings.metadata import classification_of
from recordings.retention import RetentionPolicy
from recordings.search import fts5_match, pg_tsquery, search_text
from recordings.store import RecordingStore

log = logging.getLogger(__name__)


class SqlJobStore:
    """The durable ingest queue (recordings.ingest.JobStore) on the `recording_jobs` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def create(self, unique_id: str, capture_name: str, started_at: datetime) -> None:
        with self._sessions() as session:
            if session.get(RecordingJob, unique_id) is None:
                session.add(
                    RecordingJob(
                        unique_id=unique_id,
                        capture_name=capture_name,
                        state="recording",
                        due_at=started_at,
                        started_at=started_at,
                    )
                )
                session.commit()

    def call_ended(self, unique_id: str, ended_at: datetime) -> None:
        with self._sessions() as session:
            session.execute(
                update(RecordingJob)
                .where(RecordingJob.unique_id == unique_id, RecordingJob.state == "recording")
                .values(state="pending", ended_at=ended_at, due_at=ended_at, updated_at=utcnow())
            )
            session.commit()

    def recover(self) -> int:
        """At start-up: jobs a previous process was running, or whose call it was still
        recording, are pending again (their finished steps are kept). Returns how many."""
        now = utcnow()
        with self._sessions() as session:
            result = session.execute(
                update(RecordingJob)
                .where(RecordingJob.state.in_(("running", "recording")))
                .values(
                    state="pending",
                    worker="",
                    due_at=now,
                    ended_at=func.coalesce(RecordingJob.ended_at, now),
                    updated_at=now,
                )
            )
            session.commit()
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def claim(self, worker: str, now: datetime) -> IngestJob | None:
        with self._sessions() as session:
            for _ in range(5):
                candidate = session.scalar(
                    select(RecordingJob)
                    .where(RecordingJob.state == "pending", RecordingJob.due_at <= now)
                    .order_by(RecordingJob.due_at)
                    .limit(1)
                )
                if candidate is None:
                    return None
                # Only one worker's conditional update can succeed.
                taken = session.execute(
                    update(RecordingJob)
                    .where(
                        RecordingJob.unique_id == candidate.unique_id,
                        RecordingJob.state == "pending",
                    )
                    .values(state="running", worker=worker, updated_at=utcnow())
                )
                session.commit()
                if taken.rowcount == 1:  # type: ignore[attr-defined]
                    return IngestJob(
                        unique_id=candidate.unique_id,
                        capture_name=candidate.capture_name,
                        started_at=as_utc(candidate.started_at) or now,
                        ended_at=as_utc(candidate.ended_at),
                        step=candidate.step,
                        attempts=candidate.attempts,
                    )
                session.expire_all()
        return None

    def _set(self, unique_id: str, **values: Any) -> None:
        with self._sessions() as session:
            session.execute(
                update(RecordingJob)
                .where(RecordingJob.unique_id == unique_id)
                .values(updated_at=utcnow(), **values)
            )
            session.commit()

    def finished_step(self, unique_id: str, step: str) -> None:
        values: dict[str, Any] = {"step": step}
        if step == "indexed":
            values.update(state="done", worker="", error="")
        self._set(unique_id, **values)

    def postpone(self, unique_id: str, until: datetime, reason: str, attempt: bool) -> None:
        attempts = RecordingJob.attempts + (1 if attempt else 0)
        self._set(
            unique_id, state="pending", worker="", due_at=until, error=reason, attempts=attempts
        )

    def fail(self, unique_id: str, error: str) -> None:
        self._set(unique_id, state="failed", worker="", error=error)

    def counts(self) -> dict[str, int]:
        with self._sessions() as session:
            rows = session.execute(
                select(RecordingJob.state, func.count()).group_by(RecordingJob.state)
            ).all()
            return {state: int(n) for state, n in rows}


# ---- the index -------------------------------------------------------------------------
def _fulltext_replace(session: Session, unique_id: str, text_value: str | None) -> None:
    """Keep SQLite's FTS5 table in step with the row (PostgreSQL indexes the column)."""
    if session.get_bind().dialect.name != "sqlite":
        return
    session.execute(text("DELETE FROM recordings_fts WHERE unique_id = :u"), {"u": unique_id})
    if text_value:
        session.execute(
            text("INSERT INTO recordings_fts (search_text, unique_id) VALUES (:t, :u)"),
            {"t": text_value, "u": unique_id},
        )


def _fulltext(dialect: str, query: str) -> ColumnElement[bool] | None:
    if dialect == "sqlite":
        match = fts5_match(query)
        if not match:
            return None
        return Recording.unique_id.in_(
            text("SELECT unique_id FROM recordings_fts WHERE recordings_fts MATCH :m")
            .bindparams(m=match)
            .columns(unique_id=String)
        )
    tsquery = pg_tsquery(query)
    if not tsquery:
        return None
    return text(
        "to_tsvector('simple', recordings.search_text) @@ to_tsquery('simple', :q)"
    ).bindparams(q=tsquery)  # type: ignore[return-value]


class SqlCatalogue:
    """The search index (recordings.ingest.Catalogue): a row per recording, filled from
    the store's sidecar and the call's row in `calls`."""

    def __init__(
        self, sessions: sessionmaker[Session], store: RecordingStore, retention: RetentionPolicy
    ) -> None:
        self._sessions = sessions
        self.store = store
        self.retention = retention

    def index(self, sidecar: dict[str, Any]) -> None:
        with self._sessions() as session:
            self.index_in(session, sidecar)
            session.commit()

    def index_in(self, session: Session, sidecar: Mapping[str, Any]) -> Recording:
        unique_id = str(sidecar["unique_id"])
        started_at = as_utc(datetime.fromisoformat(str(sidecar["started_at"])))
        assert started_at is not None
        row = (
            session.execute(text("SELECT * FROM calls WHERE unique_id = :u"), {"u": unique_id})
            .mappings()
            .first()
        )
        call: dict[str, Any] = dict(row) if row is not None else {}
        if isinstance(call.get("path"), str):
            import json

            call["path"] = json.loads(call["path"])
        facts = classification_of(call)
        category = self.retention.category(facts["kind"], facts["out_of_scope_reason"])
        transcript = sidecar.get("transcript") or None
        hold = sidecar.get("legal_hold") or None
        existing = session.get(Recording, unique_id)
        audio = self.store.path(unique_id, started_at, "." + str(sidecar["audio"]).rsplit(".")[-1])
        recording = existing or Recording(unique_id=unique_id)
        recording.started_at = started_at
        recording.ended_at = as_utc(
            datetime.fromisoformat(sidecar["ended_at"]) if sidecar.get("ended_at") else None
        )
        recording.duration = float(sidecar.get("duration") or 0.0)
        recording.caller_number = str(call.get("caller_number") or "")
        recording.caller_name = str(call.get("caller_name") or "")
        recording.called_number = str(call.get("called_number") or "")
        recording.operator = facts["operator"]
        recording.group = facts["group"]
        recording.kind = facts["kind"]
        recording.department = facts["department"]
        recording.out_of_scope_reason = facts["out_of_scope_reason"]
        recording.category = category
        recording.expires_at = self.retention.expires_at(started_at, category)
        if hold:
            recording.on_hold = True
            recording.hold_reason = str(hold.get("reason", ""))
            recording.hold_by = str(hold.get("by", ""))
        elif existing is None:
            recording.on_hold = False
        recording.audio_path = self.store.relative(audio)
        recording.audio_format = str(sidecar.get("audio_format") or "")
        recording.audio_sha256 = str(sidecar.get("audio_sha256") or "")
        recording.audio_bytes = int(sidecar.get("audio_bytes") or 0)
        recording.transcribed = transcript is not None
        recording.transcript = str(transcript.get("display", "")) if transcript else ""
        recording.search_text = search_text(str(transcript.get("text", ""))) if transcript else ""
        recording.words = list(transcript.get("words", [])) if transcript else []
        recording.indexed_at = utcnow()
        if existing is None:
            session.add(recording)
        session.flush()
        _fulltext_replace(session, unique_id, recording.search_text)
        return recording


@dataclass(frozen=True)
class SearchFilters:
    date_from: datetime | None = None
    date_to: datetime | None = None
    caller_number: str | None = None
    operator: str | None = None
    group: str | None = None
    kind: str | None = None
    department: str | None = None
    out_of_scope_reason: str | None = None
    on_hold: bool | None = None
    q: str | None = None


SORTS = {
    "started_at": Recording.started_at,
    "duration": Recording.duration,
    "caller_number": Recording.caller_number,
    "expires_at": Recording.expires_at,
}


def search(
    session: Session,
    filters: SearchFilters,
    *,
    sort: str = "started_at",
    descending: bool = True,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, Sequence[Recording]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.date_from is not None:
        conditions.append(Recording.started_at >= filters.date_from)
    if filters.date_to is not None:
        conditions.append(Recording.started_at < filters.date_to)
    if filters.caller_number:
        # A full number matches exactly; a short one matches the number's end.
        conditions.append(
            or_(
                Recording.caller_number == filters.caller_number,
                Recording.caller_number.endswith(filters.caller_number, autoescape=True),
            )
        )
    for name in ("operator", "group", "kind", "department", "out_of_scope_reason"):
        value = getattr(filters, name)
        if value:
            conditions.append(getattr(Recording, name) == value)
    if filters.on_hold is not None:
        conditions.append(Recording.on_hold == filters.on_hold)
    if filters.q:
        clause = _fulltext(session.get_bind().dialect.name, filters.q)
        if clause is not None:
            conditions.append(clause)
    where = and_(*conditions) if conditions else and_(True)
    total = session.scalar(select(func.count()).select_from(Recording).where(where)) or 0
    column = SORTS[sort]
    order = column.desc() if descending else column.asc()
    rows = session.scalars(
        select(Recording)
        .where(where)
        .order_by(order, Recording.unique_id)
        .limit(limit)
        .offset(offset)
    ).all()
    return int(total), rows


def audit(
    session: Session,
    *,
    user: str,
    role: str,
    action: str,
    unique_id: str | None,
    client: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """An entry of the audit log about a recording (`hotline.core.audit`)."""
    core_audit(
        session,
        user=user,
        role=role,
        subject="recording",
        action=action,
        unique_id=unique_id,
        client=client,
        detail=detail,
    )


#: forget(session, unique_id) takes what the caller said out of one more table, in the
#: purge's transaction, and returns the names of the places it took words from
Forget = Callable[[Session, str], list[str]]


def purge_expired(
    sessions: sessionmaker[Session],
    store: RecordingStore,
    now: datetime | None = None,
    *,
    forget: Sequence[Forget],
) -> list[str]:
    """Delete recordings past their expiry and not on hold: files (audio and the sidecar
    with the transcript), index row, full-text entry, and, through `forget`, every other copy
    of what the caller said (the call's path, the routing decision: `hotline.service` lists
    them). Each deletion is written to the audit log. Returns the ids deleted."""
    now = now or utcnow()
    deleted: list[str] = []
    with sessions() as session:
        _overwrite_deleted(session)
        expired = session.scalars(
            select(Recording).where(Recording.expires_at <= now, Recording.on_hold.is_(False))
        ).all()
        for recording in expired:
            _overwrite_deleted(session)
            started_at = as_utc(recording.started_at)
            assert started_at is not None
            files = store.delete(recording.unique_id, started_at)
            _fulltext_replace(session, recording.unique_id, None)
            session.execute(
                delete(RecordingJob).where(RecordingJob.unique_id == recording.unique_id)
            )
            removed = [place for f in forget for place in f(session, recording.unique_id)]
            audit(
                session,
                user="system",
                role="system",
                action="purge",
                unique_id=recording.unique_id,
                detail={
                    "category": recording.category,
                    "expires_at": (as_utc(recording.expires_at) or now).isoformat(),
                    "started_at": started_at.isoformat(),
                    "files": files,
                    # no copy of the words is left: the sidecar and index row are gone, and
                    # `forget` took them out of these places
                    "transcript_deleted": True,
                    "words_removed_from": removed,
                },
            )
            session.delete(recording)
            session.commit()
            deleted.append(recording.unique_id)
        if deleted and session.get_bind().dialect.name == "sqlite":
            _scrub_sqlite(session)
    return deleted


def _overwrite_deleted(session: Session) -> None:
    """On SQLite, deleted rows are overwritten in the file, not only unlinked from the tree.
    The pragma belongs to a connection, and a commit may give the session's next transaction
    another one of the pool: each transaction of the purge sets it."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("PRAGMA secure_delete = ON"))


def _scrub_sqlite(session: Session) -> None:
    """After a purge on SQLite, leave no deleted words in the database's files: FTS5 keeps a
    deleted row's terms in its segments (`recordings_fts_data`) until they are merged, so
    the index is merged into one segment; and the WAL file keeps the pages of earlier
    transactions, so it is copied into the database (where freed pages are overwritten)
    and truncated."""
    _overwrite_deleted(session)
    session.execute(text("INSERT INTO recordings_fts(recordings_fts) VALUES('optimize')"))
    session.commit()
    busy = session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)")).first()
    session.commit()
    if busy is not None and busy[0]:
        # A reader kept the WAL from being truncated; the next purge tries again.
        log.warning("purge: the SQLite WAL file is in use and was not truncated")


def reindex(
    sessions: sessionmaker[Session],
    catalogue: SqlCatalogue,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Rebuild the index from the store's sidecars: every stored recording gets its row
    (with fresh call metadata and retention), rows without a recording in the store go.
    Legal holds survive (kept in the sidecars and in existing rows)."""
    import json

    paths = list(catalogue.store.sidecars())
    seen: set[str] = set()
    skipped = 0
    with sessions() as session:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("DELETE FROM recordings_fts"))
        for n, path in enumerate(paths, 1):
            data = json.loads(path.read_text("utf-8"))
            if not data.get("audio") or data.get("unique_id") in seen:
                skipped += 1  # not archived yet: its ingest job will index it
            else:
                catalogue.index_in(session, data)
                seen.add(str(data["unique_id"]))
            if n % 200 == 0:
                session.commit()
            if progress is not None:
                progress(n, len(paths))
        stale = [uid for uid in session.scalars(select(Recording.unique_id)) if uid not in seen]
        for uid in stale:
            session.execute(delete(Recording).where(Recording.unique_id == uid))
        session.commit()
    return {"indexed": len(seen), "skipped": skipped, "removed": len(stale)}
