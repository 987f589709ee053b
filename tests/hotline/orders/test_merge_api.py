"""The merge endpoints on a real database: who may use them, what the candidates show, a
merge and an unmerge with the parent's version, bad input refused with what and where."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hotline.core import db
from hotline.core.audit import AuditEntry
from hotline.core.auth import create_user
from hotline.core.settings import Settings
from hotline.orders.store import OrderStore
from hotline.orders.tables import WorkOrder
from hotline.service import Service
from hotline.web.app import create_app
from tests.hotline.orders.test_merge import BURST, T0, make

Api = tuple[httpx.AsyncClient, Service, OrderStore]


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[Api]:
    db.upgrade(settings.database_url)
    service = Service(settings)
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c, service, OrderStore(service.sessions, settings.timezone)
    service.engine.dispose()


def auth(service: Service, role: str) -> dict[str, str]:
    # a department user answers for one department (where users have one)
    extra: dict[str, Any] = {}
    if role == "department" and "department" in inspect.signature(create_user).parameters:
        extra["department"] = "water_supply"
    token = create_user(service.sessions, f"u-{role}", role, **extra)
    return {"Authorization": f"Bearer {token}"}


async def test_candidates_show_what_matched_and_a_merge_needs_the_parents_version(api: Api) -> None:
    c, service, store = api
    orders = [make(store, BURST[i], at=T0 + timedelta(minutes=i)) for i in range(4)]
    make(store, "北苑小区门口水管爆了", at=T0)
    parent, children = orders[0], orders[1:]
    h = auth(service, "operator")

    r = await c.get(f"/api/work-orders/{parent.number}/merge-candidates", headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["order"]["number"] == parent.number
    assert body["order"]["place"] == "胜利路·阳光小区"
    assert sorted(x["number"] for x in body["candidates"]) == [o.number for o in children]
    first = body["candidates"][0]
    assert {"part": "community", "value": "阳光小区"} in first["matched"]["place"]
    assert first["matched"]["matter"] == "matter"
    assert 0 < first["score"] <= 1
    assert first["matched"]["hours_apart"] <= 0.05

    numbers = [o.number for o in children]
    stale = await c.post(
        f"/api/work-orders/{parent.number}/merge",
        json={"children": numbers, "version": parent.version + 5},
        headers=h,
    )
    assert stale.status_code == 409
    assert stale.json()["detail"]["error"] == "stale_version"
    assert stale.json()["detail"]["current"]["version"] == parent.version

    r = await c.post(
        f"/api/work-orders/{parent.number}/merge",
        json={"children": numbers, "version": parent.version},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert r.json()["order"]["version"] == parent.version + 1
    assert [x["number"] for x in r.json()["children"]] == numbers

    again = await c.get(f"/api/work-orders/{parent.number}/merge-candidates", headers=h)
    assert again.json()["candidates"] == []
    assert again.json()["order"]["children"] == numbers

    r = await c.post(
        f"/api/work-orders/{parent.number}/unmerge",
        json={"children": numbers[:1], "version": parent.version + 1},
        headers=h,
    )
    assert r.status_code == 200, r.text
    assert [x["number"] for x in r.json()["children"]] == numbers[1:]

    with service.sessions() as s:
        audited = list(
            s.scalars(select(AuditEntry.action).where(AuditEntry.unique_id == parent.number))
        )
    assert audited == ["merge_candidates", "merge", "merge_candidates", "unmerge"]


@pytest.mark.parametrize(
    ("role", "code"),
    [("department", 403), ("ops", 403), ("operator", 200), ("supervisor", 200), ("admin", 200)],
)
async def test_departments_and_ops_never_merge(api: Api, role: str, code: int) -> None:
    c, service, store = api
    parent, child = make(store, BURST[0]), make(store, BURST[1])
    h = auth(service, role)
    r = await c.get(f"/api/work-orders/{parent.number}/merge-candidates", headers=h)
    assert r.status_code == code
    r = await c.post(
        f"/api/work-orders/{parent.number}/merge",
        json={"children": [child.number], "version": parent.version},
        headers=h,
    )
    assert r.status_code == code
    with service.sessions() as s:
        merged = s.scalar(select(WorkOrder.parent_id).where(WorkOrder.id == child.id))
    assert merged == (parent.id if code == 200 else None)
    assert (await c.get(f"/api/work-orders/{parent.number}/merge-candidates")).status_code == 401


@pytest.mark.parametrize(
    ("path", "body", "code", "says"),
    [
        ("/api/work-orders/123/merge-candidates", None, 422, "pattern"),
        ("/api/work-orders/{p}/merge-candidates?window_hours=0", None, 422, "window_hours"),
        ("/api/work-orders/{p}/merge-candidates?limit=1000", None, 422, "limit"),
        ("/api/work-orders/2026120199999/merge-candidates", None, 404, "no work order"),
        ("/api/work-orders/{p}/merge", {"children": [], "version": 1}, 422, "children"),
        ("/api/work-orders/{p}/merge", {"children": ["12"], "version": 1}, 422, "children"),
        ("/api/work-orders/{p}/merge", {"children": ["{c}"], "version": 0}, 422, "version"),
        ("/api/work-orders/{p}/merge", {"children": ["{c}", "{c}"], "version": 1}, 422, "twice"),
        ("/api/work-orders/{p}/merge", {"children": ["{p}"], "version": 1}, 422, "its own"),
        (
            "/api/work-orders/{p}/merge",
            {"children": ["2026120199999"], "version": 1},
            404,
            "2026120199999",
        ),
        ("/api/work-orders/{p}/unmerge", {"children": ["{c}"], "version": 1}, 409, "not merged"),
    ],
)
async def test_bad_input_is_refused_saying_what(
    api: Api, path: str, body: dict[str, Any] | None, code: int, says: str
) -> None:
    c, service, store = api
    parent, child = make(store, BURST[0]), make(store, BURST[1])
    h = auth(service, "supervisor")
    url = path.format(p=parent.number)
    if body is None:
        r = await c.get(url, headers=h)
    else:
        filled = {
            "children": [x.format(p=parent.number, c=child.number) for x in body["children"]],
            "version": body["version"],
        }
        r = await c.post(url, json=filled, headers=h)
    assert r.status_code == code, r.text
    assert says in r.text
    with service.sessions() as s:
        versions = list(s.scalars(select(WorkOrder.version).order_by(WorkOrder.id)))
    assert versions == [1, 1]
