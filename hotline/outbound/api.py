"""Outbound calls over the API (/api/outbound): jobs with their attempts and results, retry
now and cancel, pause and resume the dialer, the do-not-call list (supervisors and admins,
who see citizens' numbers: every list that shows them is audited); the satisfaction survey's
versions (ops and admins, like the menus: publish a new version, put an earlier one live)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, status
from pydantic import BaseModel, Field

from hotline.core.audit import audit
from hotline.core.auth import User
from hotline.core.privacy import View
from hotline.outbound.store import KINDS, MAX_PAGE, STATES, OutboundError
from hotline.outbound.survey import SurveyDocumentError
from hotline.outbound.tables import OutboundAttempt, OutboundJob
from hotline.web.deps import Role, client_address, require, service_of
from hotline.web.params import PageOffset, RowId

router = APIRouter(prefix="/api/outbound", tags=["outbound"])
Supervisor = Annotated[User, require(Role.supervisor, Role.admin)]
Runner = Annotated[User, require(Role.supervisor, Role.admin, Role.ops)]
Editor = Annotated[User, require(Role.ops, Role.admin)]


class PauseIn(BaseModel):
    reason: str = Field("", max_length=150, pattern=r"^[^\r\n\x00]*$")


class DoNotCallIn(BaseModel):
    number: str = Field(min_length=3, max_length=24)
    reason: str = Field("", max_length=200, pattern=r"^[^\r\n\x00]*$")


class SurveyIn(BaseModel):
    document: dict[str, Any]
    comment: str = Field("", max_length=200)


def _feature(request: Request) -> Any:
    return service_of(request).outbound


def _http(exc: OutboundError | SurveyDocumentError | ValueError) -> HTTPException:
    if isinstance(exc, OutboundError):
        return HTTPException(exc.status, {"error": exc.error_id, "message": str(exc)})
    return HTTPException(422, {"error": "survey-invalid", "message": str(exc)})


async def _run(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except (OutboundError, ValueError) as exc:
        raise _http(exc) from None


def _audit(request: Request, user: User, action: str, detail: dict[str, Any]) -> None:
    with service_of(request).sessions() as session:
        audit(
            session,
            user=user.name,
            role=user.role,
            subject="outbound",
            action=action,
            client=client_address(request),
            detail=detail,
        )
        session.commit()


def _when(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def _attempt(row: OutboundAttempt, view: View) -> dict[str, Any]:
    return {
        "id": row.id,
        "call_id": row.call_id,
        "started_at": _when(row.started_at),
        "ended_at": _when(row.ended_at),
        "outcome": row.outcome,
        "cause": row.cause,
        "keys": row.keys if view.shows(_keys()) else "",
    }


def _keys() -> Any:
    from hotline.core.privacy import Personal

    return Personal.keys


def _job(row: OutboundJob, attempts: list[OutboundAttempt], view: View) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "number": view.number(row.number),
        "order_id": row.order_id,
        "state": row.state,
        "priority": row.priority,
        "due_at": _when(row.due_at),
        "tries": row.tries,
        "max_tries": row.max_tries,
        "outcome": row.outcome,
        "result": row.result if view.shows(_keys()) else None,
        "note": row.note,
        "detail": {k: v for k, v in (row.detail or {}).items() if k not in ("number", "name")},
        "created_at": _when(row.created_at),
        "updated_at": _when(row.updated_at),
        "attempts": [_attempt(a, view) for a in attempts],
    }


# ---- jobs ------------------------------------------------------------------------------
@router.get("/jobs")
async def list_jobs(
    request: Request,
    user: Supervisor,
    state: Annotated[list[str], Query(max_length=len(STATES))] = [],  # noqa: B006
    kind: Annotated[list[str], Query(max_length=len(KINDS))] = [],  # noqa: B006
    order_id: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: PageOffset = 0,
) -> dict[str, Any]:
    """Jobs newest first, each with its attempts; `state=gave_up` lists those left for a
    person after their last try."""
    store = _feature(request).store
    total, rows = await _run(
        store.jobs, state=state, kind=kind, order_id=order_id, limit=limit, offset=offset
    )
    attempts = await _run(store.attempts, [r.id for r in rows])
    view = View.for_role(user.role)
    await asyncio.to_thread(
        _audit, request, user, "list", {"jobs": [r.id for r in rows], "state": state}
    )
    return {"total": total, "items": [_job(r, attempts[r.id], view) for r in rows]}


@router.get("/jobs/{job_id}")
async def get_job(request: Request, job_id: RowId, user: Supervisor) -> dict[str, Any]:
    store = _feature(request).store
    row = await _run(store.job, job_id)
    attempts = await _run(store.attempts, [job_id])
    await asyncio.to_thread(_audit, request, user, "read", {"job": job_id})
    return _job(row, attempts[job_id], View.for_role(user.role))


@router.post("/jobs/{job_id}/retry")
async def retry_job(request: Request, job_id: RowId, user: Supervisor) -> dict[str, Any]:
    """Call this job's citizen again as soon as the rules allow (one more try if its tries
    are used up)."""
    feature = _feature(request)
    row = await _run(feature.store.retry_now, job_id, feature.dialer.clock(), user.name)
    feature.dialer.wake()
    await asyncio.to_thread(_audit, request, user, "retry", {"job": job_id})
    return {"id": row.id, "state": row.state, "due_at": _when(row.due_at)}


@router.post("/jobs/{job_id}/cancel")
async def cancel_job(request: Request, job_id: RowId, user: Supervisor) -> dict[str, Any]:
    feature = _feature(request)
    row = await _run(feature.store.cancel, job_id, user.name, feature.dialer.clock())
    await asyncio.to_thread(_audit, request, user, "cancel", {"job": job_id})
    return {"id": row.id, "state": row.state}


# ---- the dialer --------------------------------------------------------------------------
@router.get("/status")
async def dialer_status(request: Request, _: Runner) -> dict[str, Any]:
    feature = _feature(request)
    paused, by, reason = await _run(feature.store.paused)
    counts = await _run(feature.store.counts)
    return {
        "enabled": feature.enabled,
        "paused": paused,
        "paused_by": by,
        "reason": reason,
        "waiting_reason": feature.dialer.last_reason,
        "calls_in_progress": feature.dialer.in_flight,
        "jobs": counts,
        "inbound_waiting": feature.dialer.waiting,
    }


@router.post("/pause")
async def pause(request: Request, body: PauseIn, user: Runner) -> dict[str, Any]:
    """No new outbound call starts until resumed (calls in progress go on)."""
    await _run(_feature(request).store.set_paused, True, user.name, body.reason)
    await asyncio.to_thread(_audit, request, user, "pause", {"reason": body.reason})
    return {"paused": True}


@router.post("/resume")
async def resume(request: Request, user: Runner) -> dict[str, Any]:
    feature = _feature(request)
    await _run(feature.store.set_paused, False, user.name)
    feature.dialer.wake()
    await asyncio.to_thread(_audit, request, user, "resume", {})
    return {"paused": False}


# ---- do-not-call list ------------------------------------------------------------------
@router.get("/do-not-call")
async def list_do_not_call(request: Request, user: Supervisor) -> list[dict[str, Any]]:
    rows = await _run(_feature(request).store.do_not_call)
    view = View.for_role(user.role)
    await asyncio.to_thread(_audit, request, user, "list_do_not_call", {"count": len(rows)})
    return [
        {
            "number": view.number(r.number),
            "reason": r.reason,
            "added_by": r.added_by,
            "added_at": _when(r.added_at),
        }
        for r in rows
    ]


@router.post("/do-not-call", status_code=status.HTTP_201_CREATED)
async def add_do_not_call(request: Request, body: DoNotCallIn, user: Supervisor) -> dict[str, Any]:
    row = await _run(_feature(request).store.add_do_not_call, body.number, user.name, body.reason)
    await asyncio.to_thread(_audit, request, user, "add_do_not_call", {"reason": body.reason})
    return {"number": row.number, "reason": row.reason}


@router.delete("/do-not-call/{number}")
async def remove_do_not_call(request: Request, number: str, user: Supervisor) -> dict[str, Any]:
    if len(number) > 24:
        raise HTTPException(422, {"error": "bad_number", "message": "number: too long"})
    removed = await _run(_feature(request).store.remove_do_not_call, number)
    if not removed:
        raise HTTPException(404, {"error": "not_found", "message": "not on the do-not-call list"})
    await asyncio.to_thread(_audit, request, user, "remove_do_not_call", {})
    return {"removed": True}


# ---- the survey ----------------------------------------------------------------------------
@router.get("/survey")
async def survey_versions(request: Request, _: Editor) -> dict[str, Any]:
    feature = _feature(request)
    rows = await _run(feature.store.survey_versions)
    live = feature.survey[0] if feature.survey else None
    return {
        "live": live,
        "versions": [
            {
                "id": r.id,
                "comment": r.comment,
                "created_by": r.created_by,
                "created_at": _when(r.created_at),
                "live_since": _when(r.live_since),
                "published_by": r.published_by,
                "document": r.document,
            }
            for r in rows
        ],
    }


@router.post("/survey", status_code=status.HTTP_201_CREATED)
async def publish_survey(request: Request, body: SurveyIn, user: Editor) -> dict[str, Any]:
    """A new survey version, checked (422 naming each problem; nothing stored) and put
    live: the next survey call plays it."""
    feature = _feature(request)
    version = await _run(feature.publish_survey, body.document, user.name, body.comment)
    await feature.reload_survey()
    await asyncio.to_thread(_audit, request, user, "publish_survey", {"version": version})
    return {"live": version}


@router.post("/survey/{version}/live")
async def survey_live(request: Request, version: RowId, user: Editor) -> dict[str, Any]:
    """Put an earlier version live again (a roll-back)."""
    feature = _feature(request)
    await _run(feature.store.make_live, version, user.name)
    await feature.reload_survey()
    await asyncio.to_thread(_audit, request, user, "survey_live", {"version": version})
    return {"live": version}
