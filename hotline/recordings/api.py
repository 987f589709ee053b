"""Recordings API: search, details with word timings, audio (HTTP Range), legal holds, the
audit log, and the supervisors' page.

Only supervisors and admins reach a recording; every other role gets 403 before anything is
looked up, so a refusal says nothing about whether a recording exists. Every search, opening,
ticket, stream, download, hold and release is written to the audit log
(`hotline.core.audit`) with who, what, when and from where. A legal hold is lifted (or
changed) only by an admin or the one who set it.

The audit log of every feature is listed here too (`/api/audit`, admins).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field
from sqlalchemy import func, select

from hotline.core.audit import AuditEntry, client_address
from hotline.core.auth import User
from hotline.core.db import utcnow
from hotline.core.privacy import View
from hotline.recordings.feature import RecordingsFeature
from hotline.recordings.store import SORTS, SearchFilters, audit, search
from hotline.recordings.tables import Recording, as_utc
from hotline.web.deps import Role, authenticated, require, service_of
from hotline.web.params import PageOffset
from recordings.ids import RecordingIdError, check_recording_id
from recordings.media import MIME_TYPES
from recordings.search import query_phrases, search_text

router = APIRouter(tags=["recordings"])
PAGE = Path(__file__).with_name("page.html")
LISTENERS = (Role.supervisor, Role.admin)
_bearer = HTTPBearer(auto_error=False)

Listener = Annotated[User, require(Role.supervisor, Role.admin)]
Admin = Annotated[User, require(Role.admin)]


class WordOut(BaseModel):
    word: str
    start: float
    end: float
    confidence: float = 1.0


class RecordingOut(BaseModel):
    unique_id: str
    started_at: datetime
    ended_at: datetime | None
    duration: float
    caller_number: str
    caller_name: str
    called_number: str
    operator: str | None
    group: str | None
    kind: str | None
    department: str | None
    out_of_scope_reason: str | None
    category: str
    expires_at: datetime
    on_hold: bool
    hold_reason: str
    hold_by: str
    transcribed: bool
    transcript: str
    audio_format: str
    audio_bytes: int
    hits: list[WordOut] = Field(default_factory=list, description="words matching the query")


class RecordingDetail(RecordingOut):
    audio_sha256: str
    words: list[WordOut]


class RecordingPage(BaseModel):
    total: int
    items: list[RecordingOut]


class HoldIn(BaseModel):
    reason: str = Field(min_length=1, max_length=500)


class Ticket(BaseModel):
    url: str
    expires_in: int


class AuditOut(BaseModel):
    id: int
    at: datetime
    user: str
    role: str
    subject: str
    action: str
    unique_id: str | None
    client: str
    detail: dict[str, Any]


class AuditPage(BaseModel):
    total: int
    items: list[AuditOut]


def _feature(request: Request) -> RecordingsFeature:
    feature: RecordingsFeature | None = service_of(request).recordings
    if feature is None:
        raise HTTPException(status.HTTP_503_SERVICE_UNAVAILABLE, "recordings are disabled")
    return feature


def _client(request: Request) -> str:
    return client_address(request)


def _checked_id(unique_id: str) -> str:
    try:
        return check_recording_id(unique_id)
    except RecordingIdError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from None


def _not_found(unique_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"no recording with id {unique_id!r}")


def shown_number(role: str, number: str) -> str:
    """The number as `role` sees it (`hotline.core.privacy`): full, or masked (138****0000)."""
    return View.for_role(role).number(number)


def _hits(words: list[dict[str, Any]], query: str | None) -> list[WordOut]:
    if not query:
        return []
    phrases = query_phrases(query)
    hits = []
    for word in words:
        text = search_text(str(word.get("word", "")))
        if text and any(text in phrase or phrase in text for phrase in phrases):
            hits.append(WordOut(**word))
    return hits


def _out(recording: Recording, role: str, query: str | None = None) -> dict[str, Any]:
    view = View.for_role(role)
    return {
        "unique_id": recording.unique_id,
        "started_at": as_utc(recording.started_at),
        "ended_at": as_utc(recording.ended_at),
        "duration": recording.duration,
        "caller_number": view.number(recording.caller_number),
        "caller_name": view.name(recording.caller_name),
        "called_number": recording.called_number,
        "operator": recording.operator,
        "group": recording.group,
        "kind": recording.kind,
        "department": recording.department,
        "out_of_scope_reason": recording.out_of_scope_reason,
        "category": recording.category,
        "expires_at": as_utc(recording.expires_at),
        "on_hold": recording.on_hold,
        "hold_reason": recording.hold_reason,
        "hold_by": recording.hold_by,
        "transcribed": recording.transcribed,
        "transcript": view.words(recording.transcript),
        "audio_format": recording.audio_format,
        "audio_bytes": recording.audio_bytes,
        "hits": _hits(view.word_list(recording.words), query),
    }


async def audio_listener(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ticket: Annotated[str | None, Query(max_length=400)] = None,
) -> tuple[str, str]:
    """(user, role) of who may fetch this audio: a bearer token, or a ticket issued for this
    recording (the browser's <audio> element sends no Authorization header)."""
    if credentials is not None:
        # The same checks, log and limit as every other route (hotline.web.deps).
        user = await authenticated(request, credentials.credentials)
        name, role = user.name, user.role
    elif ticket is not None:
        checked = _feature(request).tickets.check(ticket, request.path_params["unique_id"])
        if checked is None:
            raise HTTPException(status.HTTP_403_FORBIDDEN, "invalid or expired ticket")
        name, role = checked
    else:
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "missing bearer token or ticket",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if role not in LISTENERS:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "your role may not do this")
    return name, role


@router.get("/recordings", include_in_schema=False)
async def page() -> HTMLResponse:
    return HTMLResponse(PAGE.read_text("utf-8"))


@router.get("/api/recordings")
async def search_recordings(
    request: Request,
    user: Listener,
    date_from: datetime | None = None,
    date_to: datetime | None = None,
    caller_number: Annotated[str | None, Query(max_length=64)] = None,
    operator: Annotated[str | None, Query(max_length=64)] = None,
    group: Annotated[str | None, Query(max_length=32)] = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    out_of_scope_reason: Annotated[str | None, Query(max_length=32)] = None,
    on_hold: bool | None = None,
    q: Annotated[str | None, Query(max_length=200, description="words in the transcript")] = None,
    sort: Annotated[str, Query(pattern="^-?(" + "|".join(SORTS) + ")$")] = "-started_at",
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: PageOffset = 0,
) -> RecordingPage:
    _feature(request)
    filters = SearchFilters(
        date_from=date_from,
        date_to=date_to,
        caller_number=caller_number,
        operator=operator,
        group=group,
        kind=kind,
        department=department,
        out_of_scope_reason=out_of_scope_reason,
        on_hold=on_hold,
        q=q,
    )
    used = {k: str(v) for k, v in vars(filters).items() if v is not None}

    def run() -> RecordingPage:
        with service_of(request).sessions() as session:
            total, rows = search(
                session,
                filters,
                sort=sort.lstrip("-"),
                descending=sort.startswith("-"),
                limit=limit,
                offset=offset,
            )
            audit(
                session,
                user=user.name,
                role=user.role,
                action="search",
                unique_id=None,
                client=_client(request),
                detail={"filters": used, "total": total},
            )
            session.commit()
            return RecordingPage(
                total=total, items=[RecordingOut(**_out(r, user.role, q)) for r in rows]
            )

    return await asyncio.to_thread(run)


def _load(request: Request, unique_id: str) -> Recording:
    with service_of(request).sessions() as session:
        recording: Recording | None = session.get(Recording, unique_id)
    if recording is None:
        raise _not_found(unique_id)
    return recording


def _audit(request: Request, name: str, role: str, action: str, uid: str, **detail: Any) -> None:
    with service_of(request).sessions() as session:
        audit(
            session,
            user=name,
            role=role,
            action=action,
            unique_id=uid,
            client=_client(request),
            detail=detail,
        )
        session.commit()


@router.get("/api/recordings/{unique_id}")
async def open_recording(
    request: Request, unique_id: str, user: Listener, q: str | None = None
) -> RecordingDetail:
    _feature(request)
    _checked_id(unique_id)
    recording = await asyncio.to_thread(_load, request, unique_id)
    await asyncio.to_thread(_audit, request, user.name, user.role, "open", unique_id)
    return RecordingDetail(
        **_out(recording, user.role, q),
        audio_sha256=recording.audio_sha256,
        words=[WordOut(**w) for w in View.for_role(user.role).word_list(recording.words)],
    )


@router.post("/api/recordings/{unique_id}/ticket")
async def audio_ticket(request: Request, unique_id: str, user: Listener) -> Ticket:
    feature = _feature(request)
    _checked_id(unique_id)
    await asyncio.to_thread(_load, request, unique_id)
    ticket = feature.tickets.issue(user.name, user.role, unique_id)
    await asyncio.to_thread(
        _audit,
        request,
        user.name,
        user.role,
        "ticket",
        unique_id,
        expires_in=feature.tickets.seconds,
    )
    return Ticket(
        url=f"/api/recordings/{unique_id}/audio?ticket={ticket}",
        expires_in=feature.tickets.seconds,
    )


@router.get("/api/recordings/{unique_id}/audio")
async def audio(
    request: Request,
    unique_id: str,
    who: Annotated[tuple[str, str], Depends(audio_listener)],
    download: bool = False,
) -> FileResponse:
    feature = _feature(request)
    _checked_id(unique_id)
    recording = await asyncio.to_thread(_load, request, unique_id)
    try:
        path = feature.store.resolve(recording.audio_path)
    except RecordingIdError:
        raise _not_found(unique_id) from None
    if not path.is_file():
        raise _not_found(unique_id)
    action = "download" if download else "stream"
    await asyncio.to_thread(
        _audit,
        request,
        who[0],
        who[1],
        action,
        unique_id,
        range=request.headers.get("range", ""),
    )
    return FileResponse(
        path,
        media_type=MIME_TYPES.get(path.suffix, "application/octet-stream"),
        filename=path.name if download else None,
        content_disposition_type="attachment" if download else "inline",
    )


def _set_hold(request: Request, unique_id: str, user: User, reason: str | None) -> None:
    feature = _feature(request)
    action = "hold" if reason is not None else "release"
    with service_of(request).sessions() as session:
        recording = session.get(Recording, unique_id)
        if recording is None:
            raise _not_found(unique_id)
        holder = recording.hold_by
        if recording.on_hold and user.role != Role.admin and holder != user.name:
            # Someone else's hold: only they or an admin may lift or change it.
            audit(
                session,
                user=user.name,
                role=user.role,
                action=f"{action}_refused",
                unique_id=unique_id,
                client=_client(request),
                detail={"held_by": holder},
            )
            session.commit()
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this recording is on hold by {holder or 'an admin'}: only they or an admin "
                "may lift or change the hold",
            )
        started_at = as_utc(recording.started_at)
        assert started_at is not None
        recording.on_hold = reason is not None
        recording.hold_reason = reason or ""
        recording.hold_by = user.name if reason is not None else ""
        sidecar = feature.store.read_sidecar(unique_id, started_at) or {}
        if sidecar:
            sidecar["legal_hold"] = (
                {"by": user.name, "reason": reason, "at": utcnow().isoformat()}
                if reason is not None
                else None
            )
            feature.store.write_sidecar(unique_id, started_at, sidecar)
        audit(
            session,
            user=user.name,
            role=user.role,
            action=action,
            unique_id=unique_id,
            client=_client(request),
            detail={"reason": reason} if reason is not None else {"held_by": holder},
        )
        session.commit()


@router.put("/api/recordings/{unique_id}/hold")
async def hold(request: Request, unique_id: str, body: HoldIn, user: Listener) -> dict[str, Any]:
    _checked_id(unique_id)
    await asyncio.to_thread(_set_hold, request, unique_id, user, body.reason)
    return {"unique_id": unique_id, "on_hold": True, "reason": body.reason}


@router.delete("/api/recordings/{unique_id}/hold")
async def release(request: Request, unique_id: str, user: Listener) -> dict[str, Any]:
    _checked_id(unique_id)
    await asyncio.to_thread(_set_hold, request, unique_id, user, None)
    return {"unique_id": unique_id, "on_hold": False}


@router.get("/api/audit")
@router.get("/api/recordings-audit")
async def audit_log(
    request: Request,
    user: Admin,
    unique_id: Annotated[str | None, Query(max_length=64)] = None,
    user_name: Annotated[str | None, Query(alias="user", max_length=64)] = None,
    subject: Annotated[str | None, Query(max_length=16)] = None,
    action: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: PageOffset = 0,
) -> AuditPage:
    """The audit log of every feature, newest first (`/api/recordings-audit` is its old
    name)."""

    def run() -> AuditPage:
        query = select(AuditEntry)
        if unique_id:
            query = query.where(AuditEntry.unique_id == unique_id)
        if user_name:
            query = query.where(AuditEntry.user_name == user_name)
        if subject:
            query = query.where(AuditEntry.subject == subject)
        if action:
            query = query.where(AuditEntry.action == action)
        with service_of(request).sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
            ).all()
            return AuditPage(
                total=total,
                items=[
                    AuditOut(
                        id=r.id,
                        at=as_utc(r.at) or r.at,
                        user=r.user_name,
                        role=r.role,
                        subject=r.subject,
                        action=r.action,
                        unique_id=r.unique_id,
                        client=r.client,
                        detail=r.detail,
                    )
                    for r in rows
                ],
            )

    return await asyncio.to_thread(run)
