"""The work-order API on a real database, through the app: who may do what, what each role
sees of the caller, the lifecycle over HTTP (refusals change nothing), stale edits, a
department's view, the overdue list and its count on /metrics, the audit log."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hotline.core import db
from hotline.core.audit import AuditEntry
from hotline.core.auth import create_user
from hotline.core.settings import Settings
from hotline.orders.store import Act, NewOrder
from hotline.service import Service
from hotline.web.app import create_app

NUMBER = "13800001234"
WORDS = "幸福小区3号楼楼道灯坏了一个星期，晚上看不见路"

Client = tuple[httpx.AsyncClient, Service]


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[Client]:
    db.upgrade(settings.database_url)
    service = Service(settings)
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c, service
    service.engine.dispose()


def auth(service: Service, role: str, department: str | None = None) -> dict[str, str]:
    name = f"u-{role}-{department or ''}"
    return {"Authorization": f"Bearer {create_user(service.sessions, name, role, 30, department)}"}


async def written(c: httpx.AsyncClient, h: dict[str, str], **values: Any) -> dict[str, Any]:
    body = {"channel": "wechat", "text": WORDS, "caller_number": NUMBER, "caller_name": "张三"}
    r = await c.post("/api/work-orders", json={**body, **values}, headers=h)
    assert r.status_code == 201, r.text
    data: dict[str, Any] = r.json()
    return data


async def test_who_may_use_work_orders(client: Client) -> None:
    c, service = client
    assert (await c.get("/api/work-orders")).status_code == 401
    ops = auth(service, "ops")
    assert (await c.get("/api/work-orders", headers=ops)).status_code == 403
    r = await c.post("/api/work-orders", json={"channel": "web", "text": "x"}, headers=ops)
    assert r.status_code == 403
    department = auth(service, "department", "education")
    r = await c.post("/api/work-orders", json={"channel": "web", "text": "x"}, headers=department)
    assert r.status_code == 403
    for role in ("operator", "supervisor", "admin"):
        assert (await c.get("/api/work-orders", headers=auth(service, role))).status_code == 200


async def test_a_written_request_becomes_a_classified_draft(client: Client) -> None:
    c, service = client
    h = auth(service, "operator")
    order = await written(c, h)
    assert order["status"] == "draft" and order["version"] == 1
    assert order["channel"] == "wechat" and order["queue"] == "multimedia"
    assert order["caller_number"] == NUMBER and order["transcript"] == WORDS
    assert order["classification"]["intent"] == "new_request"
    assert set(order["actions"]) == {"answer", "dispatch"}
    # Refused: phone (calls make their own), too long, a line break in the name.
    for bad in (
        {"channel": "phone"},
        {"text": "长" * 5001},
        {"caller_number": "13800abc"},
        {"caller_name": "张\n三"},
        {"extra": 1},
    ):
        r = await c.post(
            "/api/work-orders", json={"channel": "web", "text": "路灯", **bad}, headers=h
        )
        assert r.status_code == 422, bad
    listed = (await c.get("/api/work-orders", headers=h)).json()["items"]
    assert [o["number"] for o in listed] == [order["number"]]


async def test_an_illegal_action_is_refused_and_nothing_changes(client: Client) -> None:
    c, service = client
    h = auth(service, "supervisor")
    number = (await written(c, h))["number"]
    r = await c.post(f"/api/work-orders/{number}/to_callback", headers=h)
    assert r.status_code == 409
    assert r.json()["detail"]["error"] == "illegal_transition"
    assert f"work order {number} is draft" in r.json()["detail"]["message"]
    assert "allowed: answer, dispatch" in r.json()["detail"]["message"]
    after = (await c.get(f"/api/work-orders/{number}", headers=h)).json()
    assert (after["status"], after["version"], len(after["history"])) == ("draft", 1, 1)
    # A bad department is a 422 naming it, and also changes nothing.
    r = await c.post(f"/api/work-orders/{number}/dispatch", json={"department": "fire"}, headers=h)
    assert r.status_code == 422 and "'fire'" in r.json()["detail"]["message"]
    assert (await c.get(f"/api/work-orders/{number}", headers=h)).json()["version"] == 1
    r = await c.post("/api/work-orders/2026010100001/dispatch", headers=h)
    assert r.status_code == 404


async def test_each_change_has_its_history_row(client: Client) -> None:
    c, service = client
    operator = auth(service, "operator")
    department = auth(service, "department", "housing_urban_rural")
    number = (await written(c, operator))["number"]
    steps = [
        (operator, "dispatch", {"department": "housing_urban_rural"}),
        (operator, "extend", {"text": "需要协调物业"}),
        (department, "reply", {"text": "已更换3号楼楼道灯"}),
        (operator, "to_callback", None),
        (
            operator,
            "close",
            {"callback_result": {"solved": True, "satisfaction": "satisfied"}},
        ),
    ]
    for headers, action, body in steps:
        r = await c.post(f"/api/work-orders/{number}/{action}", json=body, headers=headers)
        assert r.status_code == 200, (action, r.text)
    order = (await c.get(f"/api/work-orders/{number}", headers=operator)).json()
    assert order["status"] == "closed" and order["version"] == 6
    assert order["callback_result"] == {"solved": True, "satisfaction": "satisfied"}
    history = order["history"]
    assert [(e["action"], e["from_status"], e["to_status"]) for e in history] == [
        ("create", None, "draft"),
        ("dispatch", "draft", "dispatched"),
        ("extend", "dispatched", "dispatched"),
        ("reply", "dispatched", "replied"),
        ("to_callback", "replied", "callback"),
        ("close", "callback", "closed"),
    ]
    assert history[3]["actor"] == "u-department-housing_urban_rural"
    assert history[3]["changes"]["reply"] == ["", "已更换3号楼楼道灯"]
    # Operators do not reply for departments; departments do not dispatch.
    r = await c.post(
        f"/api/work-orders/{number}/reopen", json={"text": "灯又坏了"}, headers=operator
    )
    assert r.status_code == 200
    r = await c.post(f"/api/work-orders/{number}/reply", json={"text": "好"}, headers=operator)
    assert r.status_code == 403 and "may not reply" in r.json()["detail"]


async def test_a_stale_edit_gets_409_with_the_current_order(client: Client) -> None:
    c, service = client
    wang, li = auth(service, "operator"), auth(service, "supervisor")
    number = (await written(c, wang))["number"]
    r = await c.patch(
        f"/api/work-orders/{number}",
        json={"version": 1, "summary": "3号楼楼道灯坏", "kind": "help"},
        headers=wang,
    )
    assert r.status_code == 200 and r.json()["version"] == 2
    r = await c.patch(
        f"/api/work-orders/{number}", json={"version": 1, "summary": "另一个说法"}, headers=li
    )
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "stale_version"
    assert body["current"]["version"] == 2 and body["current"]["summary"] == "3号楼楼道灯坏"
    now = (await c.get(f"/api/work-orders/{number}", headers=li)).json()
    assert now["summary"] == "3号楼楼道灯坏" and len(now["history"]) == 2
    for bad in ({"version": 2, "status": "closed"}, {"version": 2, "kind": "gossip"}, {}):
        r = await c.patch(f"/api/work-orders/{number}", json=bad, headers=li)
        assert r.status_code == 422, bad
    r = await c.patch(
        f"/api/work-orders/{number}", json={"version": 2, "department": "nowhere"}, headers=li
    )
    assert r.status_code == 422 and "department 'nowhere'" in r.json()["detail"]["message"]
    # An action given a stale version is refused the same way.
    r = await c.post(
        f"/api/work-orders/{number}/dispatch",
        json={"department": "education", "version": 1},
        headers=li,
    )
    assert r.status_code == 409 and r.json()["current"]["status"] == "draft"


async def test_a_department_sees_only_its_orders_and_masked_numbers(client: Client) -> None:
    c, service = client
    operator = auth(service, "operator")
    education = auth(service, "department", "education")
    mine = (await written(c, operator, needs_callback=False))["number"]
    callback = (await written(c, operator, caller_number="13900005678"))["number"]
    drafted = (await written(c, operator))["number"]
    elsewhere = (await written(c, operator))["number"]
    for number, department in ((mine, "education"), (callback, "education"), (elsewhere, "health")):
        r = await c.post(
            f"/api/work-orders/{number}/dispatch", json={"department": department}, headers=operator
        )
        assert r.status_code == 200, r.text
    r = await c.patch(
        f"/api/work-orders/{drafted}",
        json={"version": 1, "department": "education"},
        headers=operator,
    )
    assert r.status_code == 200

    listed = (await c.get("/api/work-orders", headers=education)).json()["items"]
    assert sorted(o["number"] for o in listed) == sorted([mine, callback])
    # Asking for another department's orders gives nothing more.
    other = await c.get("/api/work-orders?department=health", headers=education)
    assert other.json()["items"] == []
    for number in (drafted, elsewhere):
        assert (await c.get(f"/api/work-orders/{number}", headers=education)).status_code == 404
        r = await c.post(f"/api/work-orders/{number}/reply", json={"text": "好"}, headers=education)
        assert r.status_code == 404

    seen = (await c.get(f"/api/work-orders/{mine}", headers=education)).json()
    assert seen["caller_number"] == "138****1234" and seen["caller_name"] == ""
    assert seen["transcript"] == WORDS
    assert seen["actions"] == ["reply", "return"]
    full = (await c.get(f"/api/work-orders/{callback}", headers=education)).json()
    assert full["caller_number"] == "13900005678" and full["caller_name"] == "张三"

    r = await c.post(
        f"/api/work-orders/{mine}/dispatch", json={"department": "health"}, headers=education
    )
    assert r.status_code == 403
    r = await c.post(
        f"/api/work-orders/{mine}/return", json={"text": "应由卫健委办理"}, headers=education
    )
    assert r.status_code == 200 and r.json()["status"] == "returned"
    assert (
        await c.get("/api/work-orders?caller=13800001234", headers=education)
    ).status_code == 403

    # A department user without a department gets nothing.
    lost = {"Authorization": f"Bearer {create_user(service.sessions, 'lost', 'operator')}"}
    assert (await c.get("/api/work-orders", headers=lost)).status_code == 200
    with service.sessions() as s:
        from hotline.core.auth import User

        user = s.scalar(select(User).where(User.name == "lost"))
        assert user is not None
        user.role = "department"
        s.commit()
    assert (await c.get("/api/work-orders", headers=lost)).status_code == 403

    with service.sessions() as s:
        entries = s.scalars(
            select(AuditEntry).where(
                AuditEntry.subject == "order", AuditEntry.user_name == "u-department-education"
            )
        ).all()
    assert {(e.action, e.unique_id) for e in entries} >= {("open", mine), ("open", callback)}
    assert any(e.action == "list" and mine in e.detail["numbers"] for e in entries)


async def test_overdue_and_due_today_are_listed_and_counted_on_metrics(client: Client) -> None:
    c, service = client
    store = service.orders.store
    now = datetime.now(UTC)
    numbers = [
        store.create(NewOrder(channel="phone", caller_number=NUMBER), at=now).number
        for _ in range(3)
    ]
    # heating: 24 hours. Dispatched 30 hours ago: overdue; 10 hours ago: due within 14 h.
    store.act(numbers[0], Act("dispatch", "d", department="heating"), at=now - timedelta(hours=30))
    store.act(numbers[1], Act("dispatch", "d", department="heating"), at=now - timedelta(hours=1))
    store.act(numbers[2], Act("dispatch", "d", department="heating"), at=now - timedelta(hours=40))
    store.act(numbers[2], Act("reply", "heat", text="已恢复供暖"))
    h = auth(service, "supervisor")
    overdue = (await c.get("/api/work-orders?due=overdue", headers=h)).json()["items"]
    assert [o["number"] for o in overdue] == [numbers[0]]
    assert overdue[0]["overdue"] is True
    assert (await c.get("/api/work-orders?due=soon", headers=h)).status_code == 422

    metrics = (await c.get("/metrics")).text
    assert "hotline_orders_overdue 1.0" in metrics
    due_today = [
        o["number"] for o in (await c.get("/api/work-orders?due=today", headers=h)).json()["items"]
    ]
    expected_today = 1 if numbers[1] in due_today else 0
    assert f"hotline_orders_due_today {float(expected_today)}" in metrics
    store.act(numbers[0], Act("reply", "heat", text="已修复"))
    assert "hotline_orders_overdue 0.0" in (await c.get("/metrics")).text


async def test_lists_are_paged_and_filtered(client: Client) -> None:
    c, service = client
    h = auth(service, "operator")
    for _ in range(3):
        await written(c, h)
    first = (await c.get("/api/work-orders?limit=2", headers=h)).json()
    assert len(first["items"]) == 2 and first["next_offset"] == 2
    rest = (await c.get("/api/work-orders?limit=2&offset=2", headers=h)).json()
    assert len(rest["items"]) == 1 and rest["next_offset"] is None
    assert (await c.get("/api/work-orders?limit=201", headers=h)).status_code == 422
    drafts = (await c.get("/api/work-orders?status=draft&status=closed", headers=h)).json()
    assert len(drafts["items"]) == 3
    assert (await c.get("/api/work-orders?status=done", headers=h)).status_code == 422
    assert (await c.get(f"/api/work-orders?caller={NUMBER}", headers=h)).json()["items"]
    assert not (await c.get("/api/work-orders?caller=13999999999", headers=h)).json()["items"]


def test_a_bad_deadline_table_stops_the_service_with_its_reason(settings: Settings) -> None:
    bad = settings.model_copy(update={"order_deadlines": '{"departments": {"heating": "fast"}}'})
    with pytest.raises(ValueError, match="departments.heating: unknown class 'fast'"):
        Service(bad)


async def test_the_console_finds_orders_by_number_day_and_words(client: Client) -> None:
    c, service = client
    h = auth(service, "operator")
    lamp = await written(c, h)
    other = await written(c, h, text="公园门口的共享单车乱停乱放", caller_number="13900000000")
    for q, found in (
        (lamp["number"], [lamp]),
        (lamp["number"][:8], [other, lamp]),
        ("楼道灯", [lamp]),
        ("单车 公园", [other]),
        ("地铁", []),
    ):
        r = await c.get("/api/work-orders/search", params={"q": q}, headers=h)
        assert r.status_code == 200, r.text
        assert [o["number"] for o in r.json()["items"]] == [o["number"] for o in found], q
    # Pages: the newest first, `next_before` for the next page.
    r = await c.get(
        "/api/work-orders/search", params={"q": lamp["number"][:8], "limit": 1}, headers=h
    )
    page = r.json()
    assert [o["number"] for o in page["items"]] == [other["number"]]
    r = await c.get(
        "/api/work-orders/search",
        params={"q": lamp["number"][:8], "limit": 1, "before": page["next_before"]},
        headers=h,
    )
    assert [o["number"] for o in r.json()["items"]] == [lamp["number"]]
    for bad in ({"q": ""}, {"q": "灯" * 201}, {"q": "灯", "limit": 0}, {"q": "灯", "limit": 101}):
        assert (await c.get("/api/work-orders/search", params=bad, headers=h)).status_code == 422
    # A department finds only what was dispatched to it, and the number masked.
    await c.post(
        f"/api/work-orders/{lamp['number']}/dispatch",
        json={"department": "housing_urban_rural"},
        headers=h,
    )
    housing = auth(service, "department", "housing_urban_rural")
    r = await c.get("/api/work-orders/search", params={"q": lamp["number"][:8]}, headers=housing)
    assert [o["number"] for o in r.json()["items"]] == [lamp["number"]]
    water = auth(service, "department", "water_supply")
    r = await c.get("/api/work-orders/search", params={"q": "楼道灯"}, headers=water)
    assert r.json()["items"] == []
    assert (
        await c.get("/api/work-orders/search", params={"q": "灯"}, headers=auth(service, "ops"))
    ).status_code == 403
    # The orders shown are audited; the query is not written anywhere.
    with service.sessions() as s:
        searches = s.scalars(select(AuditEntry).where(AuditEntry.action == "search")).all()
    assert searches and all("楼道灯" not in str(e.detail) for e in searches)
    assert lamp["number"] in str(searches[0].detail)
