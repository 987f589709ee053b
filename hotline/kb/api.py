"""`/api/kb`: the knowledge base (一问一答).

Operators, supervisors, admins and ops search and read it (it holds no personal data); ops
and admins change it: entries one by one (POST, PATCH with the version it changes, DELETE
deactivates), or many at once with a CSV (all rows or none). Every change keeps the previous
version (`/entries/{id}/versions`) and is written to the audit log (subject "kb").

A transcript is not logged nor audited: search takes it as `q` (GET) or in a JSON body
(POST, for the operator's screen).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Body, HTTPException, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from hotline.core.audit import client_address
from hotline.core.auth import User
from hotline.kb.entry import MAX_ANSWER, MAX_ITEMS, MAX_QUESTION, MAX_SOURCE, EntryFields
from hotline.kb.store import MAX_LIMIT, MAX_QUERY, Actor, Hit, KbError, KbImportError, KbStore
from hotline.web.deps import Role, require, service_of
from hotline.web.params import PageOffset, RowId

router = APIRouter(prefix="/api/kb", tags=["knowledge base"])
Reader = Annotated[User, require(Role.operator, Role.supervisor, Role.admin, Role.ops)]
Editor = Annotated[User, require(Role.ops, Role.admin)]

T = TypeVar("T")

_STATUS = {"invalid": 422, "bad_rows": 422, "not_found": 404, "duplicate": 409, "stale": 409}

# Bounds of the body's shape; the entry's rules (hotline.kb.entry) say the rest.
Question = Annotated[str, Field(max_length=MAX_QUESTION + 50)]
Answer = Annotated[str, Field(max_length=MAX_ANSWER + 50)]
Items = Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=50)]
Source = Annotated[str, Field(max_length=MAX_SOURCE + 50)]


class EntryIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: Question
    answer: Answer
    matters: Items = Field(default_factory=list, description=f"at most {MAX_ITEMS['matters']}")
    keywords: Items = Field(default_factory=list, description=f"at most {MAX_ITEMS['keywords']}")
    department: str | None = Field(None, max_length=64, description="a taxonomy code")
    valid_from: date | None = None
    valid_until: date | None = Field(None, description="the last day (inclusive)")
    source: Source = ""
    active: bool = True


class EntryPatch(BaseModel):
    """The fields to change and the version they were read at (another: 409)."""

    model_config = ConfigDict(extra="forbid")

    version: Annotated[int, Field(ge=1, le=2**31 - 1)]
    question: Question | None = None
    answer: Answer | None = None
    matters: Items | None = None
    keywords: Items | None = None
    department: str | None = Field(None, max_length=64)
    valid_from: date | None = None
    valid_until: date | None = None
    source: Source | None = None
    active: bool | None = None


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: Annotated[str, Field(min_length=1, max_length=MAX_QUERY)]
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 10
    department: str | None = Field(None, max_length=64)
    on: date | None = Field(None, description="the day entries must be valid on; default today")
    include_expired: bool = False
    include_inactive: bool = False


def _store(request: Request) -> KbStore:
    store: KbStore = service_of(request).kb
    return store


def _actor(request: Request, user: User) -> Actor:
    return Actor(user.name, str(user.role), client_address(request))


async def _run(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except KbImportError as exc:
        raise HTTPException(
            422,
            {
                "error": "bad_rows",
                "message": "nothing imported",
                "rows": [e.to_dict() for e in exc.errors],
            },
        ) from None
    except KbError as exc:
        raise HTTPException(
            _STATUS.get(exc.code, 422), {"error": exc.code, "message": str(exc), **exc.detail}
        ) from None


def _hits(hits: list[Hit]) -> dict[str, Any]:
    return {
        "results": [{**h.entry, "score": h.score, "matched": h.matched} for h in hits],
    }


# ---- search and reading ----------------------------------------------------------------
@router.get("/search")
async def search(
    request: Request,
    _: Reader,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 10,
    department: Annotated[str | None, Query(max_length=64)] = None,
    on: date | None = None,
    include_expired: bool = False,
    include_inactive: bool = False,
) -> dict[str, Any]:
    """The entries that best answer a transcript or a typed question, best first, each with
    its score and the words of the question it matched."""
    body = SearchIn(
        q=q,
        limit=limit,
        department=department,
        on=on,
        include_expired=include_expired,
        include_inactive=include_inactive,
    )
    return await search_post(request, _, body)


@router.post("/search")
async def search_post(request: Request, _: Reader, body: SearchIn) -> dict[str, Any]:
    """The same search with the query in the body (a long transcript)."""
    hits = await _run(
        _store(request).search,
        body.q,
        limit=body.limit,
        on=body.on,
        include_expired=body.include_expired,
        include_inactive=body.include_inactive,
        department=body.department,
    )
    return _hits(hits)


@router.get("/entries")
async def list_entries(
    request: Request,
    _: Reader,
    include_inactive: bool = False,
    department: Annotated[str | None, Query(max_length=64)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: PageOffset = 0,
) -> dict[str, Any]:
    total, rows = await _run(
        _store(request).entries,
        include_inactive=include_inactive,
        department=department,
        limit=limit,
        offset=offset,
    )
    return {"total": total, "entries": rows}


@router.get("/entries/{entry_id}")
async def get_entry(entry_id: RowId, request: Request, _: Reader) -> dict[str, Any]:
    return await _run(_store(request).get, entry_id)


@router.get("/entries/{entry_id}/versions")
async def entry_versions(entry_id: RowId, request: Request, _: Reader) -> list[dict[str, Any]]:
    """Every version of the entry, oldest first: content, who, when, what was done."""
    return await _run(_store(request).versions, entry_id)


# ---- changes (ops, admin) ----------------------------------------------------------------
@router.post("/entries", status_code=201)
async def create_entry(body: EntryIn, request: Request, user: Editor) -> dict[str, Any]:
    fields = EntryFields(**body.model_dump())
    return await _run(_store(request).create, fields, _actor(request, user))


@router.patch("/entries/{entry_id}")
async def update_entry(
    entry_id: RowId, body: EntryPatch, request: Request, user: Editor
) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    version = changes.pop("version")
    for name in ("question", "answer", "matters", "keywords", "source", "active"):
        if name in changes and changes[name] is None:
            raise HTTPException(422, {"error": "invalid", "message": f"{name}: may not be null"})
    return await _run(_store(request).update, entry_id, changes, version, _actor(request, user))


@router.delete("/entries/{entry_id}")
async def deactivate_entry(entry_id: RowId, request: Request, user: Editor) -> dict[str, Any]:
    """Take the entry out of search; it and its versions stay (PATCH active=true restores)."""
    return await _run(_store(request).deactivate, entry_id, _actor(request, user))


@router.post("/import")
async def import_csv(
    request: Request,
    user: Editor,
    csv_text: Annotated[str, Body(media_type="text/csv")],
) -> dict[str, int]:
    """Add (rows without id) or change (rows with id, and version if given) entries from a CSV
    with a header: question, answer required; matters and keywords joined by '|'. Any bad
    row: 422 listing every bad row by line, and nothing is imported."""
    return await _run(_store(request).import_csv, csv_text, _actor(request, user))


@router.get("/export")
async def export_csv(request: Request, _: Editor, include_inactive: bool = True) -> Response:
    """Every entry as CSV, the import's columns (edit, then import back)."""
    text = await _run(_store(request).export_csv, include_inactive=include_inactive)
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="kb.csv"'},
    )
