"""`/api/work-orders`: work orders for operators, dispatch, departments and supervisors.

- `POST /api/work-orders`: a written request of the multimedia desk (web, WeChat, e-mail,
  app, letter) becomes a draft order, pre-classified from its text;
- `GET /api/work-orders?status=&department=&due=overdue|today&created_from=&created_to=&caller=`:
  a page of orders (newest first; soonest due first with `due`);
- `GET /api/work-orders/search?q=`: find orders by number, day or words (the console);
- `GET /api/work-orders/{number}`: one order and its history;
- `PATCH /api/work-orders/{number}`: the operator's fields, with the version they were read
  at (a stale version: 409 with the current order);
- `POST /api/work-orders/{number}/{action}`: a lifecycle action (hotline.orders.lifecycle).

Operators, supervisors and admins work every order; a department user (role `department`,
with its department set) sees only the orders dispatched to its department (any other: 404)
and replies or returns them; ops get 403. What each reader sees of the caller is
`hotline.orders.views`'; every read that shows personal data is in the audit log.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from hotline.core.audit import audit, client_address
from hotline.core.auth import Role, User, mask_number
from hotline.core.db import utcnow
from hotline.orders.lifecycle import ACTIONS, OrderError
from hotline.orders.search import MAX_LIMIT as SEARCH_MAX_LIMIT
from hotline.orders.search import MAX_QUERY as SEARCH_MAX_QUERY
from hotline.orders.search import SearchError, search_orders
from hotline.orders.store import (
    MAX_PAGE,
    MAX_SUMMARY,
    MAX_TEXT,
    Act,
    NewOrder,
    OrderFilter,
    OrderStore,
    VersionConflict,
    visible_to,
)
from hotline.orders.tables import WorkOrder
from hotline.orders.views import ROLE_ACTIONS, history_json, order_json, shows_personal
from hotline.web.deps import require, service_of
from hotline.web.params import PageOffset

if TYPE_CHECKING:
    from routing import Classifier

router = APIRouter(prefix="/api/work-orders", tags=["work orders"])
Reader = Annotated[User, require(Role.admin, Role.supervisor, Role.operator, Role.department)]
Writer = Annotated[User, require(Role.admin, Role.supervisor, Role.operator)]
Number = Annotated[str, Path(pattern=r"^[0-9]{13}$", description="e.g. 2026120100123")]
STATUSES = Literal[
    "draft", "answered", "dispatched", "replied", "callback", "closed", "returned", "reopened"
]


class WrittenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: the multimedia desk's channels (phone orders come from calls)
    channel: Literal["web", "wechat", "email", "app", "letter"]
    text: str = Field(min_length=1, max_length=MAX_TEXT, description="title and body")
    caller_number: str = Field(default="", max_length=20, pattern=r"^(\+?[0-9]{3,19})?$")
    caller_name: str = Field(default="", max_length=64)
    needs_callback: bool = True


class OrderPatch(BaseModel):
    """The fields to change (only those given) and the version they were read at."""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1, le=2**31 - 1)
    kind: Literal["consult", "help", "complaint", "report", "suggestion", "praise"] | None = None
    department: str | None = Field(default=None, max_length=64)
    matter: str | None = Field(default=None, max_length=64)
    in_scope: bool | None = None
    out_of_scope_reason: str | None = Field(default=None, max_length=32)
    summary: str | None = Field(default=None, max_length=MAX_SUMMARY)
    place: str | None = Field(default=None, max_length=128)
    needs_callback: bool | None = None
    caller_name: str | None = Field(default=None, max_length=64)


class CallbackResult(BaseModel):
    model_config = ConfigDict(extra="forbid")

    solved: bool
    satisfaction: Literal["satisfied", "basically_satisfied", "unsatisfied"]


class ActionIn(BaseModel):
    """What an action takes: `text` is the reply (reply), the reason (return, reopen,
    extend), the answer given (answer, accept_return) or a note; `department` and
    `deadline_class` for dispatch; `kb_entry_id` for an answer from the knowledge base;
    `callback_result` for close (required after a callback) and reopen; `version`, when
    given, must be the order's current one (409 otherwise)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(default="", max_length=MAX_TEXT)
    department: str | None = Field(default=None, max_length=64)
    deadline_class: str | None = Field(default=None, max_length=16)
    kb_entry_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    callback_result: CallbackResult | None = None
    version: int | None = Field(default=None, ge=1, le=2**31 - 1)


def _store(request: Request) -> OrderStore:
    store: OrderStore = service_of(request).orders.store
    return store


def _http(exc: OrderError, role: str) -> HTTPException | JSONResponse:
    body: dict[str, Any] = {"error": exc.code, "message": str(exc)}
    if isinstance(exc, VersionConflict):
        body["current"] = order_json(exc.current, role, utcnow())
        return JSONResponse(body, status_code=409)
    return HTTPException(exc.status, body)


def _scope(user: User) -> str | None:
    """A department user's department (None for everyone else). Raises 403 for a department
    user without one."""
    if user.role != Role.department:
        return None
    if not user.department:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "this department user has no department "
            "(`hotline users create NAME --role department --department CODE`)",
        )
    return user.department


async def _run(user: User, fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return await asyncio.to_thread(fn, *args, **kwargs)
    except OrderError as exc:
        answer = _http(exc, user.role)
        if isinstance(answer, JSONResponse):
            return answer
        raise answer from None


def _audit(
    request: Request, user: User, action: str, number: str | None, detail: dict[str, Any]
) -> None:
    with service_of(request).sessions() as session:
        audit(
            session,
            user=user.name,
            role=user.role,
            subject="order",
            action=action,
            unique_id=number,
            client=client_address(request),
            detail=detail,
        )
        session.commit()


@router.post("", status_code=201)
async def create_written(body: WrittenRequest, request: Request, user: Writer) -> dict[str, Any]:
    """A written request of the multimedia desk: a draft order with the text's
    pre-classification (none when the classifier is not available)."""
    live = getattr(request.app.state.service, "classifier", None)  # the live model version
    classification = await asyncio.to_thread(_classify, body.text, live.current if live else None)
    if any(ch in body.caller_name for ch in "\r\n\t\x00"):
        raise HTTPException(422, {"error": "bad_value", "message": "caller_name: one line"})
    new = NewOrder(
        channel=body.channel,
        caller_number=body.caller_number,
        caller_name=body.caller_name,
        transcript=body.text,
        classification=classification,
        created_by=user.name,
        queue="multimedia",
        operator=user.name,
        extra={"needs_callback": body.needs_callback},
    )
    order = await _run(user, _store(request).create, new)
    return order_json(order, user.role, utcnow())


def _classify(text: str, classifier: Classifier | None = None) -> dict[str, Any] | None:
    from routing import ClassifyError, classify

    run = classifier.classify if classifier is not None else classify
    try:
        data: dict[str, Any] = run(text).model_dump(mode="json")
    except ClassifyError:
        return None
    return data


@router.get("")
async def list_orders(
    request: Request,
    user: Reader,
    status_: Annotated[list[STATUSES] | None, Query(alias="status", max_length=8)] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    due: Literal["overdue", "today"] | None = None,
    created_from: date | None = None,
    created_to: date | None = None,
    caller: Annotated[str | None, Query(max_length=20, pattern=r"^\+?[0-9]{3,19}$")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 50,
    offset: PageOffset = 0,
) -> dict[str, Any]:
    """A page of orders: `status` may be given several times; `due=overdue` lists dispatched
    orders past their due time, `due=today` those due by the end of today."""
    scope = _scope(user)
    if scope is not None and caller:
        raise HTTPException(403, "departments do not look orders up by the caller's number")
    wanted = OrderFilter(
        status=tuple(status_ or ()),
        department=department,
        due=due,
        created_from=created_from,
        created_to=created_to,
        caller_number=caller,
        scope=scope,
    )
    store = _store(request)
    orders: list[WorkOrder] = await _run(
        user, store.list_orders, wanted, limit=limit + 1, offset=offset
    )
    more = len(orders) > limit
    orders = orders[:limit]
    now = utcnow()
    if any(shows_personal(user.role, o) for o in orders):
        detail: dict[str, Any] = {
            "numbers": [o.number for o in orders],
            "filter": {
                "status": list(wanted.status),
                "department": department,
                "due": due,
                "caller": mask_number(caller) if caller else None,
            },
        }
        await asyncio.to_thread(_audit, request, user, "list", None, detail)
    return {
        "items": [order_json(o, user.role, now) for o in orders],
        "limit": limit,
        "offset": offset,
        "next_offset": offset + limit if more else None,
    }


@router.get("/search")
async def search(
    request: Request,
    user: Reader,
    q: Annotated[str, Query(min_length=1, max_length=SEARCH_MAX_QUERY)],
    limit: Annotated[int, Query(ge=1, le=SEARCH_MAX_LIMIT)] = 20,
    before: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="`next_before` of the last page")
    ] = None,
) -> dict[str, Any]:
    """Find orders for the console, newest first: 13 digits find that order, the 8 digits of a
    day list its orders, anything else is words (all of them in the transcript, summary or
    place). A department sees only its own among them. The query is not logged or audited
    (it may be what a caller said); the orders shown are."""
    scope = _scope(user)
    store = _store(request)

    def find() -> tuple[list[WorkOrder], int | None]:
        with store.sessions() as session:
            found = search_orders(session, q, limit=limit, before_id=before)
        last = found[-1].id if len(found) == limit else None
        return [o for o in found if visible_to(o, scope)], last

    try:
        orders, last = await asyncio.to_thread(find)
    except SearchError as exc:
        raise HTTPException(422, {"error": exc.code, "message": str(exc)}) from None
    if any(shows_personal(user.role, o) for o in orders):
        detail = {"numbers": [o.number for o in orders]}
        await asyncio.to_thread(_audit, request, user, "search", None, detail)
    now = utcnow()
    return {"items": [order_json(o, user.role, now) for o in orders], "next_before": last}


@router.get("/{number}")
async def get_order(number: Number, request: Request, user: Reader) -> dict[str, Any]:
    """One order and its history (a department: only an order dispatched to it)."""
    store = _store(request)
    order: WorkOrder = await _run(user, store.get, number, _scope(user))
    events = await asyncio.to_thread(store.history, order.id)
    if shows_personal(user.role, order):
        await asyncio.to_thread(_audit, request, user, "open", number, {})
    return {
        **order_json(order, user.role, utcnow()),
        "history": history_json(events, user.role, order),
    }


@router.patch("/{number}", response_model=None)
async def patch_order(
    number: Number, body: OrderPatch, request: Request, user: Writer
) -> dict[str, Any] | JSONResponse:
    """Change the fields given, from `version`. 409 with the current order when it changed
    meanwhile; 409 when the order's status does not allow the change; 422 for a bad value."""
    changes = {k: getattr(body, k) for k in body.model_fields_set if k != "version"}
    result = await _run(user, _store(request).patch, number, body.version, changes, user.name)
    if isinstance(result, JSONResponse):
        return result
    return order_json(result, user.role, utcnow())


#: what each action does, for the API's documentation
ACTION_DOCS: dict[str, str] = {
    "answer": "A consultation answered on the spot (直接办结): draft or reopened -> answered; "
    "`kb_entry_id` names the knowledge-base entry used, `text` the answer.",
    "dispatch": "Send the order to `department` (default: the order's) -> dispatched; the due "
    "time is set from the deadline class (`deadline_class`, else the matter's or the "
    "department's).",
    "reply": "The department's reply (`text`, required): dispatched -> replied.",
    "return": "The department sends the order back (退单) with its reason (`text`, required): "
    "dispatched -> returned.",
    "accept_return": "Dispatch accepts a department's objection (异议审核) and no department "
    "takes the matter: returned -> answered, `text` is the answer given to the citizen. To "
    "send it elsewhere, dispatch it again.",
    "to_callback": "The reply goes to the callback group (回访): replied -> callback.",
    "close": "Close the order: callback -> closed with `callback_result` (required), or "
    "answered -> closed.",
    "reopen": "The citizen is not satisfied (`text`: why; optional `callback_result`): "
    "callback, closed or answered -> reopened.",
    "extend": "Extend the due time once, with a reason (`text`, required); the status stays "
    "dispatched.",
}


async def apply_action(
    action: str, number: str, request: Request, user: User, body: ActionIn | None
) -> dict[str, Any] | JSONResponse:
    """Apply a lifecycle action. 409 when the order's status does not allow it (the message
    names the allowed ones) or the version is stale (with the current order); 403 when the
    reader's role may not apply it; 404 for an order a department does not see."""
    if action not in ROLE_ACTIONS.get(user.role, frozenset()):
        allowed = sorted(ROLE_ACTIONS.get(user.role, frozenset()), key=ACTIONS.index)
        raise HTTPException(
            403, f"a {user.role} user may not {action} an order (may: {', '.join(allowed)})"
        )
    scope = _scope(user)
    given = body or ActionIn()
    step = Act(
        action=action,
        actor=user.name,
        text=given.text,
        department=given.department,
        deadline_class=given.deadline_class,
        kb_entry_id=given.kb_entry_id,
        callback_result=given.callback_result.model_dump() if given.callback_result else None,
        version=given.version,
    )
    result = await _run(user, _store(request).act, number, step, scope=scope)
    if isinstance(result, JSONResponse):
        return result
    return order_json(result, user.role, utcnow())


def _action_route(action: str) -> Callable[..., Awaitable[dict[str, Any] | JSONResponse]]:
    async def route(
        number: Number, request: Request, user: Reader, body: ActionIn | None = None
    ) -> dict[str, Any] | JSONResponse:
        return await apply_action(action, number, request, user, body)

    route.__name__ = f"order_{action}"
    return route


# One route per action (POST /api/work-orders/{number}/dispatch, ...): a route with the action
# as a parameter would also catch other features' routes under the same prefix (merge).
for _action in ACTIONS:
    router.add_api_route(
        f"/{{number}}/{_action}",
        _action_route(_action),
        methods=["POST"],
        response_model=None,
        summary=f"{_action} a work order",
        description=ACTION_DOCS[_action],
    )
