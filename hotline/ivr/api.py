"""The IVR editing API (role `ops`): drafts, validation, publish, roll-back, diff, diagram,
simulation and prompt uploads. Domain errors carry an `error` id and a message; a refused
publish lists every problem with its node path."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, File, HTTPException, Request, UploadFile, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field

from hotline.core.auth import User
from hotline.ivr.ports import classify_text, requested_service
from hotline.ivr.prompts import PromptError, PromptInfo
from hotline.ivr.runtime import IvrRuntime
from hotline.ivr.store import IvrError, MenuInvalid
from hotline.ivr.tables import MenuVersion
from hotline.web.deps import Role, require, service_of
from hotline.web.limits import body_limit
from hotline.web.params import RowId
from ivr.diagram import mermaid
from ivr.diff import diff_documents
from ivr.document import DocumentError, parse_data, parse_text
from ivr.simulate import SimulationInputError, simulate
from ivr.validation import Problem, validate

router = APIRouter(prefix="/api/ivr", tags=["ivr"])
Ops = Annotated[User, require(Role.ops)]


class DraftIn(BaseModel):
    #: the menu as YAML/JSON text, or as a JSON object; omit to copy `based_on`
    document: str | dict[str, Any] | None = None
    comment: str = ""
    based_on: RowId | None = None


class DraftUpdate(BaseModel):
    document: str | dict[str, Any]
    comment: str | None = None


class RollbackIn(BaseModel):
    #: a published version; omit for the version live before the current one
    to: RowId | None = None


class SimulateIn(BaseModel):
    #: one per input: a key ("1"), "silence", "say:<words>", or "digits:<keys>" (a number)
    inputs: list[str] = Field(default_factory=list, max_length=200)
    #: local time for time_switch nodes (default: now)
    at: datetime | None = None
    speech: bool = True
    caller_number: str = "13800138000"
    #: false: the rules real calls use over the roster as it stands at `at`; true: the same
    #: rules with someone on duty in every queue. Either way as for a caller without history
    #: (no real number's cases are read) and nothing is stored.
    every_queue_staffed: bool = False


def _runtime(request: Request) -> IvrRuntime:
    runtime: IvrRuntime = service_of(request).ivr
    return runtime


def _fail(exc: Exception, code: int | None = None) -> HTTPException:
    detail: dict[str, Any] = {
        "error": getattr(exc, "error_id", "ivr-error"),
        "message": str(exc),
    }
    if isinstance(exc, MenuInvalid):
        detail["problems"] = [p.to_dict() for p in exc.problems]
    status_code: int = code if code is not None else getattr(exc, "status", 400)
    return HTTPException(status_code, detail)


def _document(value: str | dict[str, Any]) -> dict[str, Any]:
    try:
        return parse_text(value) if isinstance(value, str) else parse_data(value)
    except DocumentError as exc:
        raise _fail(exc, 422) from None


def _recorded(runtime: IvrRuntime) -> set[tuple[str, str]]:
    """The prompts with a recording, taken on the event loop (an upload adds to them) for
    work in a thread."""
    return set(runtime.prompts.recorded)


def _version_out(
    row: MenuVersion, live: int | None, recorded: set[tuple[str, str]]
) -> dict[str, Any]:
    """A version with its validation: CPU work on a document of up to 200,000 characters, so
    handlers run it in a thread (`_out`), not on the loop that drives calls."""
    _, problems = validate(row.document, recorded)
    return {
        "version": row.id,
        "status": row.status,
        "live": row.id == live,
        "comment": row.comment,
        "based_on": row.based_on,
        "created_by": row.created_by,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
        "published_by": row.published_by,
        "published_at": row.published_at,
        "valid": not problems,
        "problems": [p.to_dict() for p in problems],
    }


async def _out(row: MenuVersion, runtime: IvrRuntime) -> dict[str, Any]:
    live = runtime.live.version if runtime.live else None
    out: dict[str, Any] = await asyncio.to_thread(_version_out, row, live, _recorded(runtime))
    return out


async def _call(fn: Any, *args: Any) -> Any:
    try:
        return await asyncio.to_thread(fn, *args)
    except (IvrError, PromptError) as exc:
        raise _fail(exc) from None


@router.get("/versions")
async def list_versions(request: Request, user: Ops) -> dict[str, Any]:
    runtime = _runtime(request)
    rows = await _call(runtime.store.versions)
    live = runtime.live.version if runtime.live else None
    recorded = _recorded(runtime)

    def items() -> list[dict[str, Any]]:
        # Every version validated: in a thread.
        return [
            {k: v for k, v in _version_out(r, live, recorded).items() if k != "problems"}
            for r in rows
        ]

    return {"live": live, "items": await asyncio.to_thread(items)}


@router.post("/versions", status_code=status.HTTP_201_CREATED)
async def create_draft(request: Request, body: DraftIn, user: Ops) -> dict[str, Any]:
    runtime = _runtime(request)
    if body.document is None:
        if body.based_on is None:
            raise HTTPException(422, "give a document, or based_on to copy a version")
        data = (await _call(runtime.store.get, body.based_on)).document
    else:
        # A document of up to a megabyte of YAML takes seconds to parse: not on the loop
        # that drives calls.
        data = await asyncio.to_thread(_document, body.document)
    row = await _call(runtime.store.create, data, user.name, body.comment, body.based_on)
    return {**await _out(row, runtime), "document": row.document}


@router.get("/versions/{version}")
async def get_version(request: Request, version: RowId, user: Ops) -> dict[str, Any]:
    runtime = _runtime(request)
    row = await _call(runtime.store.get, version)
    return {**await _out(row, runtime), "document": row.document}


@router.put("/versions/{version}")
async def update_draft(
    request: Request, version: RowId, body: DraftUpdate, user: Ops
) -> dict[str, Any]:
    runtime = _runtime(request)
    data = await asyncio.to_thread(_document, body.document)
    row = await _call(runtime.store.update, version, data, user.name, body.comment)
    return {**await _out(row, runtime), "document": row.document}


@router.post("/versions/{version}/validate")
async def validate_version(request: Request, version: RowId, user: Ops) -> dict[str, Any]:
    runtime = _runtime(request)
    row = await _call(runtime.store.get, version)
    _, problems = await asyncio.to_thread(validate, row.document, _recorded(runtime))
    return {
        "version": version,
        "valid": not problems,
        "problems": [p.to_dict() for p in problems],
    }


@router.post("/versions/{version}/publish")
async def publish(request: Request, version: RowId, user: Ops) -> dict[str, Any]:
    runtime = _runtime(request)
    row = await _call(runtime.publish, version, user.name)
    await runtime.reload()
    return await _out(row, runtime)


@router.post("/rollback")
async def rollback(request: Request, body: RollbackIn, user: Ops) -> dict[str, Any]:
    runtime = _runtime(request)
    row = await _call(runtime.rollback, user.name, body.to)
    await runtime.reload()
    return await _out(row, runtime)


@router.get("/live")
async def live(request: Request, user: Ops) -> dict[str, Any]:
    runtime = _runtime(request)
    rows = await _call(runtime.store.activations)
    return {
        "version": runtime.live.version if runtime.live else None,
        "history": [
            {"version": a.version_id, "action": a.action, "by": a.by, "at": a.at} for a in rows
        ],
    }


@router.get("/diff")
async def diff(request: Request, a: RowId, b: RowId, user: Ops) -> dict[str, Any]:
    runtime = _runtime(request)
    old = await _call(runtime.store.get, a)
    new = await _call(runtime.store.get, b)
    # Two documents of up to 200,000 characters each: in a thread.
    changes: dict[str, Any] = await asyncio.to_thread(
        diff_documents,
        old.document,
        new.document,
        old_label=f"version {a}",
        new_label=f"version {b}",
    )
    return {"a": a, "b": b, **changes}


@router.get("/versions/{version}/diagram", response_class=PlainTextResponse)
async def diagram(request: Request, version: RowId, user: Ops) -> PlainTextResponse:
    runtime = _runtime(request)
    row = await _call(runtime.store.get, version)

    def draw() -> tuple[str | None, list[Problem]]:
        document, problems = validate(row.document)
        return (mermaid(document) if document is not None else None), problems

    text, problems = await asyncio.to_thread(draw)
    if text is None:
        raise HTTPException(
            422,
            {
                "error": "ivr-menu-invalid",
                "message": "the document's shape is wrong; fix it to draw it",
                "problems": [p.to_dict() for p in problems],
            },
        )
    return PlainTextResponse(text, media_type="text/vnd.mermaid")


@router.post("/versions/{version}/simulate")
async def simulate_version(
    request: Request, version: RowId, body: SimulateIn, user: Ops
) -> dict[str, Any]:
    runtime = _runtime(request)
    row = await _call(runtime.store.get, version)
    document, problems = await asyncio.to_thread(validate, row.document, _recorded(runtime))
    if document is None or problems:
        raise HTTPException(
            422,
            {
                "error": "ivr-menu-invalid",
                "message": f"version {version} has problems; fix them to simulate it",
                "problems": [p.to_dict() for p in problems],
            },
        )
    at = body.at or datetime.now(runtime.zone)
    if at.tzinfo is None:
        at = at.replace(tzinfo=runtime.zone)
    deciding = (
        runtime.static_router
        if body.every_queue_staffed
        else service_of(request).simulation_router(at)
    )
    try:
        result = await simulate(
            document,
            body.inputs,
            router=deciding,
            classify=classify_text,
            at=at,
            speech=body.speech,
            version=version,
            caller_number=body.caller_number,
            resolve_prompt=lambda name, language: runtime.prompts.resolve(document, name, language),
            requested_service=requested_service,
        )
    except SimulationInputError as exc:
        raise _fail(exc, 422) from None
    return {"version": version, **result.to_dict()}


@router.get("/prompts")
async def prompts(request: Request, user: Ops) -> dict[str, Any]:
    """Each prompt of the live menu per language: recorded, synthetic placeholder, or
    missing; and every stored prompt file."""
    runtime = _runtime(request)
    files = await _call(runtime.prompts.files)
    needed = []
    if runtime.live is not None:
        document = runtime.live.document
        for name, texts in document.prompts.items():
            for language in document.languages:
                if (name, language) in runtime.prompts.recorded:
                    state = "recorded"
                elif texts.get(language, "").strip():
                    state = "synthetic"
                else:
                    state = "missing"
                needed.append(
                    {
                        "name": name,
                        "language": language,
                        "state": state,
                        "synthetic": state == "synthetic",
                        "text": texts.get(language, ""),
                    }
                )
    return {"live": needed, "files": [f.to_dict() for f in files]}


@router.put(
    "/prompts/{name}/{language}", openapi_extra=body_limit("prompt_max_bytes", multipart=True)
)
async def upload_prompt(
    request: Request,
    name: str,
    language: str,
    file: Annotated[UploadFile, File()],
    user: Ops,
) -> dict[str, Any]:
    runtime = _runtime(request)
    limit = runtime.prompts.max_bytes
    data = await file.read(limit + 1)
    info: PromptInfo = await _call(
        runtime.prompts.upload, name, language, data, file.filename or "upload", user.name
    )
    return info.to_dict()
