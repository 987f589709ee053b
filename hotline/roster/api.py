"""Roster API for supervisors: operators, shifts, assignments, the holiday calendar, the CSV
import of a month, who is on duty, Asterisk's queues (sync, pause). Other roles get 403."""

from __future__ import annotations

import asyncio
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Query, Request, status
from pydantic import BaseModel, Field, field_validator

from hotline.core.audit import audit, client_address
from hotline.core.auth import User
from hotline.core.privacy import View
from hotline.roster.store import NotFound, RosterImportError, shift_from_fields
from hotline.web.deps import Role, require, service_of
from hotline.web.limits import body_limit
from hotline.web.params import RowId
from routing.roster import GROUPS, SHIFT_DAYS, SKILLS, Operator, RosterError
from telephony.ami_client import AMIError

router = APIRouter(prefix="/api/roster", tags=["roster"])
Supervisor = Annotated[User, require(Role.supervisor)]


def _one_line(value: str, what: str) -> str:
    # Names and reasons reach Asterisk over AMI (MemberName, Reason): refuse line breaks here.
    if any(ch in value for ch in "\r\n\x00"):
        raise ValueError(f"{what} must be one line (no line breaks)")
    return value


class OperatorIn(BaseModel):
    name: str = Field(min_length=1, max_length=64)
    group: str
    skills: list[str] = ["mandarin"]
    active: bool = True

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return _one_line(v, "name")

    @field_validator("group")
    @classmethod
    def _group(cls, v: str) -> str:
        if v not in GROUPS:
            raise ValueError(f"group must be one of {', '.join(GROUPS)}")
        return v

    @field_validator("skills")
    @classmethod
    def _skills(cls, v: list[str]) -> list[str]:
        bad = [s for s in v if s not in SKILLS]
        if bad:
            raise ValueError(f"unknown skills {bad}; each one of {', '.join(SKILLS)}")
        return sorted(set(v))


class ShiftIn(BaseModel):
    start: str = Field(examples=["08:00"])
    end: str = Field(examples=["16:00"])
    days: str = "all"


class AssignmentIn(BaseModel):
    day: date
    shift: str
    extension: str


class CalendarDayIn(BaseModel):
    kind: str = Field(description="'holiday' (休) or 'workday' (班, a swapped working day)")
    note: str = Field("", max_length=64)


class PauseIn(BaseModel):
    paused: bool
    reason: str = Field("", max_length=64)

    @field_validator("reason")
    @classmethod
    def _reason(cls, v: str) -> str:
        return _one_line(v, "reason")


def _http(exc: RosterError) -> HTTPException:
    code = status.HTTP_404_NOT_FOUND if isinstance(exc, NotFound) else 422
    if exc.error_id == "duplicate":
        code = status.HTTP_409_CONFLICT
    return HTTPException(code, {"error": exc.error_id, "message": str(exc)})


def _store(request: Request) -> Any:
    return service_of(request).routing.store


async def _run(fn: Any, *args: Any) -> Any:
    try:
        return await asyncio.to_thread(fn, *args)
    except RosterError as exc:
        raise _http(exc) from None


# ---- operators -----------------------------------------------------------------------
@router.get("/operators")
async def list_operators(request: Request, _: Supervisor) -> list[dict[str, Any]]:
    rows = await _run(_store(request).operators)
    return [
        {
            "extension": r.extension,
            "name": r.name,
            "group": r.group,
            "skills": r.skills,
            "active": r.active,
        }
        for r in rows
    ]


@router.put("/operators/{extension}")
async def put_operator(
    extension: str, body: OperatorIn, request: Request, _: Supervisor
) -> dict[str, str]:
    try:
        op = Operator(extension, body.name, body.group, frozenset(body.skills))  # type: ignore[arg-type]
    except RosterError as exc:
        raise _http(exc) from None
    await _run(_store(request).put_operator, op, body.active)
    return {"extension": extension}


@router.delete("/operators/{extension}", status_code=204)
async def delete_operator(extension: str, request: Request, _: Supervisor) -> None:
    await _run(_store(request).delete_operator, extension)


# ---- shifts --------------------------------------------------------------------------
@router.get("/shifts")
async def list_shifts(request: Request, _: Supervisor) -> list[dict[str, Any]]:
    rows = await _run(_store(request).shifts)
    return [
        {
            "name": r.name,
            "start": r.start.strftime("%H:%M"),
            "end": r.end.strftime("%H:%M"),
            "days": r.days,
            "overnight": r.end <= r.start,
        }
        for r in rows
    ]


@router.put("/shifts/{name}")
async def put_shift(name: str, body: ShiftIn, request: Request, _: Supervisor) -> dict[str, str]:
    if body.days not in SHIFT_DAYS:
        raise HTTPException(422, f"days must be one of {', '.join(SHIFT_DAYS)}")
    try:
        shift = shift_from_fields(name, body.start, body.end, body.days)
    except RosterError as exc:
        raise _http(exc) from None
    await _run(_store(request).put_shift, shift)
    return {"name": name}


@router.delete("/shifts/{name}", status_code=204)
async def delete_shift(name: str, request: Request, _: Supervisor) -> None:
    await _run(_store(request).delete_shift, name)


# ---- assignments ---------------------------------------------------------------------
@router.get("/assignments")
async def list_assignments(
    request: Request,
    _: Supervisor,
    start: Annotated[date, Query(alias="from")],
    end: Annotated[date, Query(alias="to", description="exclusive")],
) -> list[dict[str, Any]]:
    rows = await _run(_store(request).assignments, start, end)
    return [
        {"id": r.id, "day": r.day.isoformat(), "shift": r.shift, "extension": r.extension}
        for r in rows
    ]


@router.post("/assignments", status_code=201)
async def add_assignment(body: AssignmentIn, request: Request, _: Supervisor) -> dict[str, Any]:
    row = await _run(_store(request).add_assignment, body.day, body.shift, body.extension)
    return {"id": row.id}


@router.delete("/assignments/{assignment_id}", status_code=204)
async def delete_assignment(assignment_id: RowId, request: Request, _: Supervisor) -> None:
    await _run(_store(request).delete_assignment, assignment_id)


@router.post("/import", openapi_extra=body_limit("roster_csv_max_bytes"))
async def import_month(
    request: Request,
    _: Supervisor,
    month: Annotated[str, Query(pattern=r"^[0-9]{4}-[0-9]{2}$")],
    csv_text: Annotated[str, Body(media_type="text/csv")],
) -> dict[str, Any]:
    """Replace a month's assignments with a CSV (date,shift,extension). Any bad row: 422
    with every bad row listed, and nothing is imported."""
    try:
        count = await asyncio.to_thread(_store(request).import_csv, csv_text, month)
    except RosterImportError as exc:
        raise HTTPException(
            422,
            {
                "error": "bad_rows",
                "message": "nothing imported",
                "rows": [e.to_dict() for e in exc.errors],
            },
        ) from None
    except RosterError as exc:
        raise _http(exc) from None
    return {"month": month, "imported": count}


# ---- calendar ------------------------------------------------------------------------
@router.get("/calendar")
async def list_calendar(request: Request, _: Supervisor) -> list[dict[str, str]]:
    rows = await _run(_store(request).calendar)
    return [{"day": r.day.isoformat(), "kind": r.kind, "note": r.note} for r in rows]


@router.put("/calendar/{day}")
async def put_day(
    day: date, body: CalendarDayIn, request: Request, _: Supervisor
) -> dict[str, str]:
    await _run(_store(request).put_calendar_day, day, body.kind, body.note)
    return {"day": day.isoformat(), "kind": body.kind}


@router.delete("/calendar/{day}", status_code=204)
async def delete_day(day: date, request: Request, _: Supervisor) -> None:
    await _run(_store(request).delete_calendar_day, day)


# ---- on duty and queues --------------------------------------------------------------
@router.get("/on-duty")
async def on_duty(request: Request, _: Supervisor, at: datetime | None = None) -> dict[str, Any]:
    feature = service_of(request).routing
    moment = at or feature.now()
    if moment.tzinfo is None:
        raise HTTPException(422, "at needs a time zone offset, e.g. 2026-12-01T10:00+08:00")
    roster = await _run(_store(request).roster)
    return {
        "at": moment.isoformat(),
        "operators": [
            {
                "extension": d.operator.extension,
                "name": d.operator.name,
                "group": d.operator.group,
                "skills": sorted(d.operator.skills),
                "shift": d.shift,
                "until": d.until.isoformat(),
            }
            for d in roster.on_duty(moment)
        ],
    }


@router.get("/queues")
async def queues(request: Request, _: Supervisor) -> dict[str, Any]:
    sync = service_of(request).routing.queue_sync
    try:
        actual = await sync.membership()
    except AMIError as exc:
        raise HTTPException(503, f"Asterisk is not reachable: {exc}") from None
    wanted = sync.desired()
    return {"asterisk": actual, "roster": {q: sorted(e) for q, e in wanted.items()}}


@router.post("/queues/sync")
async def sync_now(request: Request, _: Supervisor) -> dict[str, Any]:
    try:
        report = await service_of(request).routing.queue_sync.sync()
    except AMIError as exc:
        raise HTTPException(503, f"Asterisk is not reachable: {exc}") from None
    result: dict[str, Any] = report.to_dict()
    return result


@router.post("/operators/{extension}/pause")
async def pause(extension: str, body: PauseIn, request: Request, _: Supervisor) -> dict[str, Any]:
    if not extension.isdigit():
        raise HTTPException(422, "extension must be digits")
    try:
        await service_of(request).routing.queue_sync.set_paused(extension, body.paused, body.reason)
    except AMIError as exc:
        raise HTTPException(503, f"Asterisk is not reachable: {exc}") from None
    return {"extension": extension, "paused": body.paused}


def _read_decision(request: Request, unique_id: str, user: User) -> Any:
    """The call's routing decision, its reading written to the audit log."""
    row = _store(request).decision_of(unique_id)
    if row is not None:
        with service_of(request).sessions() as session:
            audit(
                session,
                user=user.name,
                role=user.role,
                subject="decision",
                action="open",
                unique_id=unique_id,
                client=client_address(request),
            )
            session.commit()
    return row


@router.get("/decisions/{unique_id}")
async def decision(unique_id: str, request: Request, user: Supervisor) -> dict[str, Any]:
    row = await _run(_read_decision, request, unique_id, user)
    if row is None:
        raise HTTPException(404, f"no routing decision for call {unique_id!r}")
    view = View.for_role(user.role)
    return {
        "unique_id": row.unique_id,
        "queue": row.queue,
        "wanted": row.wanted,
        "priority": row.priority,
        "rule": row.rule,
        "explanation": view.words(row.explanation),
        "tags": row.tags,
        "classification": view.classification(row.classification),
        "decision_ms": row.decision_ms,
    }
