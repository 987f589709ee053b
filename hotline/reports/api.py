"""`/api/reports`: reports from work orders, for supervisors and admins.

Reports hold counts and rates only (no caller's number, name or words), so reading one is
not audited. `GET /api/reports/{name}?from=&to=&by=&format=` answers JSON or CSV; the CSV
starts with a byte-order mark, which spreadsheets need to read UTF-8.
"""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import Response

from hotline.core.auth import User
from hotline.reports.queries import (
    MAX_DAYS,
    MAX_TOP,
    REPORTS,
    ReportError,
    ReportRequest,
    run_report,
)
from hotline.web.deps import Role, require, service_of

router = APIRouter(prefix="/api/reports", tags=["reports"])
Reader = Annotated[User, require(Role.supervisor, Role.admin)]


@router.get(
    "/{name}",
    responses={200: {"content": {"text/csv": {}}, "description": "the report"}},
)
async def report(
    request: Request,
    _: Reader,
    name: Annotated[str, Path(max_length=32, description=", ".join(REPORTS))],
    start: Annotated[date, Query(alias="from", description="first local day")],
    end: Annotated[
        date | None, Query(alias="to", description=f"last local day, at most {MAX_DAYS} days")
    ] = None,
    by: Annotated[Literal["day", "shift", "group", "department"], Query()] = "day",
    fmt: Annotated[Literal["json", "csv"], Query(alias="format")] = "json",
    top: Annotated[int, Query(ge=1, le=MAX_TOP, description="matters per bucket")] = 10,
) -> Any:
    if name not in REPORTS:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND,
            {"error": "unknown_report", "message": f"no report {name!r}; one of {REPORTS}"},
        )
    try:
        asked = ReportRequest(name, start, end or start, by, top)
    except ReportError as exc:
        raise HTTPException(422, {"error": exc.code, "message": str(exc)}) from None
    service = service_of(request)
    made = await asyncio.to_thread(run_report, service.sessions, asked, service.settings.timezone)
    if fmt == "csv":
        filename = f"{name}-{asked.by}-{asked.start:%Y%m%d}-{asked.end:%Y%m%d}.csv"
        return Response(
            "\ufeff" + made.to_csv(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )
    return made.to_dict()
