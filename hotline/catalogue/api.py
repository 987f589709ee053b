"""`/api/catalogue`: the dispatch catalogue (派单目录).

Everyone signed in (operators, supervisors, ops, admins, departments) reads the live catalogue
and searches it (`/match`: the matters a request is about and the words that named them, for
the operator's form). Ops and admins edit it: the draft as a whole document (PUT, YAML or
JSON) or one matter at a time (PATCH), then publish, roll back, list versions and compare two.
Every edit names the catalogue revision it was made on (`revision`, from GET /draft or GET
/api/catalogue); a newer one saved since gets 409 with the current head. A draft with
problems is saved and its problems listed (where: matter id and field; what); publishing it is
refused with the same list. Changes are audited (subject "catalogue"); a searched text is
neither logged nor audited (it can be what a caller said).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from hotline.catalogue.document import diff_documents, plain, read_document
from hotline.catalogue.feature import CatalogueFeature
from hotline.catalogue.store import MAX_COMMENT, MAX_PAGE, Actor, CatalogueStoreError, summary
from hotline.core.audit import client_address
from hotline.core.auth import User
from hotline.web.deps import Role, require, service_of
from hotline.web.limits import body_limit
from hotline.web.params import MAX_INTEGER, PageOffset, RowId
from routing.catalogue import (
    MATTER_KEYS,
    MAX_DOCUMENT_BYTES,
    MAX_LIMIT,
    MAX_TEXT_CHARS,
    CatalogueError,
    MatterMatch,
    Problem,
    validate,
)

router = APIRouter(prefix="/api/catalogue", tags=["dispatch catalogue"])
Reader = Annotated[
    User,
    require(Role.operator, Role.supervisor, Role.ops, Role.admin, Role.department),
]
Editor = Annotated[User, require(Role.ops, Role.admin)]

T = TypeVar("T")

Revision = Annotated[
    int,
    Field(
        ge=0,
        le=MAX_INTEGER,
        description="the catalogue revision the change was made on (GET /draft or "
        "GET /api/catalogue); another one saved since: 409",
    ),
]
#: a matter id in a path: the validator says what a good one is
MatterId = Annotated[str, Field(min_length=1, max_length=64)]
#: a query searched on GET (a long written message goes in POST's body)
MAX_GET_QUERY = 2_000


class DraftIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the whole catalogue, as YAML/JSON text or as a JSON object
    document: Annotated[str, Field(max_length=MAX_DOCUMENT_BYTES)] | dict[str, Any]
    revision: Revision
    comment: Annotated[str, Field(max_length=MAX_COMMENT)] | None = None


class MatterPatch(BaseModel):
    """One matter's fields to set (null removes a field); a matter the draft lacks is added
    with them. `remove: true` takes the matter out instead."""

    model_config = ConfigDict(extra="forbid")

    revision: Revision
    fields: dict[str, Any] = Field(default_factory=dict, max_length=len(MATTER_KEYS) + 4)
    remove: bool = False


class RevisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: Revision


class RollbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: a published version; omit for the version live before the current one
    to: RowId | None = None


class MatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = 5


def _feature(request: Request) -> CatalogueFeature:
    feature: CatalogueFeature = service_of(request).catalogue
    return feature


def _actor(request: Request, user: User) -> Actor:
    return Actor(user.name, str(user.role), client_address(request))


def _problems(problems: list[Problem]) -> list[dict[str, str]]:
    return [{"where": p.where, "what": p.what} for p in problems]


def _fail(exc: CatalogueStoreError | CatalogueError) -> HTTPException:
    if isinstance(exc, CatalogueError):
        return HTTPException(
            422,
            {
                "error": exc.error_id,
                "message": str(exc),
                "problems": _problems(list(exc.problems)),
            },
        )
    detail: dict[str, Any] = {"error": exc.code, "message": str(exc), **exc.detail}
    if exc.problems:
        detail["problems"] = _problems(exc.problems)
    return HTTPException(exc.status, detail)


async def _run(fn: Callable[..., T], *args: Any) -> T:
    """Blocking or CPU work (a document of up to 4 MB) in a thread, off the calls' loop."""
    try:
        return await asyncio.to_thread(fn, *args)
    except (CatalogueStoreError, CatalogueError) as exc:
        raise _fail(exc) from None


def _document(value: str | dict[str, Any]) -> Any:
    return read_document(value) if isinstance(value, str) else plain(value)


def _saved_out(saved: Any, live: int | None) -> dict[str, Any]:
    return {**summary(saved.row, live), "problem_list": _problems(saved.problems)}


def _match_out(found: MatterMatch) -> dict[str, Any]:
    return {
        **found.matter.to_dict(),
        "score": found.score,
        "explanation": found.explain(),
        "matched": [
            {"term": h.term, "kind": h.kind, "heard": h.heard, "by_sound": h.by_sound}
            for h in found.hits
        ],
    }


# ---- reading (everyone signed in) ---------------------------------------------------------
@router.get("")
async def live_catalogue(request: Request, _: Reader) -> dict[str, Any]:
    """The live catalogue: its version, the head revision to edit from, and every matter."""
    feature = _feature(request)
    head = await _run(feature.store.head)
    catalogue = feature.live()
    return {
        "version": feature.live_version,
        "revision": head.revision,
        "draft": head.draft.id if head.draft else None,
        "matters": [m.to_dict() for m in catalogue.matters],
    }


async def _match(request: Request, q: str, limit: int) -> dict[str, Any]:
    feature = _feature(request)
    catalogue = feature.live()
    found = await asyncio.to_thread(catalogue.match, q, limit)
    return {"version": feature.live_version, "results": [_match_out(m) for m in found]}


@router.get("/match")
async def match(
    request: Request,
    _: Reader,
    q: Annotated[str, Query(min_length=1, max_length=MAX_GET_QUERY)],
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 5,
) -> dict[str, Any]:
    """The matters a request is about, best first, each with the words that named it."""
    return await _match(request, q, limit)


@router.post("/match")
async def match_post(request: Request, _: Reader, body: MatchIn) -> dict[str, Any]:
    """The same search with the text in the body (a long written message)."""
    return await _match(request, body.q, body.limit)


# ---- versions (ops, admin) ----------------------------------------------------------------
@router.get("/versions")
async def list_versions(
    request: Request,
    _: Editor,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: PageOffset = 0,
) -> dict[str, Any]:
    """Every version, newest first: status, who made and published it, when, its counts."""
    feature = _feature(request)
    total, rows = await _run(feature.store.versions, limit, offset)
    live = feature.live_version
    return {"live": live, "total": total, "items": [summary(r, live) for r in rows]}


@router.get("/versions/{version}")
async def get_version(request: Request, version: RowId, _: Editor) -> dict[str, Any]:
    """One version with its document and its problems (where, what)."""
    feature = _feature(request)
    row = await _run(feature.store.get, version)
    problems = await asyncio.to_thread(validate, row.document)
    return {
        **summary(row, feature.live_version),
        "problem_list": _problems(problems),
        "document": row.document,
    }


@router.get("/activations")
async def activations(
    request: Request, _: Editor, limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50
) -> dict[str, Any]:
    """Each time a version went live (shipped, publish, roll-back), newest first."""
    feature = _feature(request)
    rows = await _run(feature.store.activations, limit)
    return {
        "live": feature.live_version,
        "items": [
            {"version": a.version_id, "action": a.action, "by": a.by, "at": a.at} for a in rows
        ],
    }


@router.get("/diff")
async def diff(request: Request, a: RowId, b: RowId, _: Editor) -> dict[str, Any]:
    """What changed from version `a` to version `b`, matter by matter."""
    store = _feature(request).store
    old = await _run(store.get, a)
    new = await _run(store.get, b)
    changes = await asyncio.to_thread(diff_documents, old.document, new.document)
    return {"a": a, "b": b, **changes}


# ---- the draft (ops, admin) ---------------------------------------------------------------
@router.get("/draft")
async def get_draft(request: Request, _: Editor) -> dict[str, Any]:
    """The draft with its document and problems; 404 (with the revision to start one from)
    when there is none."""
    feature = _feature(request)
    head = await _run(feature.store.head)
    if head.draft is None:
        raise HTTPException(
            404,
            {
                "error": "no_draft",
                "message": "there is no draft: PUT one (or PATCH a matter) with the revision "
                "given here",
                "current": head.to_dict(),
            },
        )
    row = head.draft
    problems = await asyncio.to_thread(validate, row.document)
    return {
        **summary(row, feature.live_version),
        "problem_list": _problems(problems),
        "document": row.document,
    }


@router.put("/draft", openapi_extra=body_limit("catalogue_max_body_bytes"))
async def put_draft(request: Request, body: DraftIn, user: Editor) -> dict[str, Any]:
    """Save the whole document as the draft. Saved even with problems (listed with where and
    what); 409 when the catalogue's revision is no longer `revision`."""
    feature = _feature(request)
    document = await _run(_document, body.document)
    saved = await _run(
        feature.store.save_draft, document, body.revision, _actor(request, user), body.comment
    )
    return _saved_out(saved, feature.live_version)


@router.patch("/draft/matters/{matter_id}")
async def patch_matter(
    request: Request, matter_id: MatterId, body: MatterPatch, user: Editor
) -> dict[str, Any]:
    """Change, add or remove one matter; the draft is made from the live version when there
    is none. Its id stays (work orders keep it)."""
    feature = _feature(request)
    changes = await _run(plain, body.fields)
    saved, done = await _run(
        feature.store.edit_matter,
        matter_id,
        None if body.remove else changes,
        body.revision,
        _actor(request, user),
    )
    return {**_saved_out(saved, feature.live_version), "done": done, "matter": matter_id}


@router.delete("/draft")
async def discard_draft(
    request: Request,
    user: Editor,
    revision: Annotated[int, Query(ge=0, le=MAX_INTEGER)],
) -> dict[str, Any]:
    """Throw the draft away; the live version stays."""
    feature = _feature(request)
    row = await _run(feature.store.discard_draft, revision, _actor(request, user))
    return {"discarded": row.id}


@router.post("/draft/publish")
async def publish(request: Request, body: RevisionIn, user: Editor) -> dict[str, Any]:
    """Make the draft live (422 listing its problems when it has any). From now on calls are
    classified and deadlines set with it."""
    feature = _feature(request)
    try:
        row = await feature.publish(body.revision, _actor(request, user))
    except (CatalogueStoreError, CatalogueError) as exc:
        raise _fail(exc) from None
    return summary(row, feature.live_version)


@router.post("/rollback")
async def rollback(request: Request, body: RollbackIn, user: Editor) -> dict[str, Any]:
    """Make an earlier published version live again (default: the one live before)."""
    feature = _feature(request)
    try:
        row = await feature.rollback(_actor(request, user), body.to)
    except (CatalogueStoreError, CatalogueError) as exc:
        raise _fail(exc) from None
    return summary(row, feature.live_version)
