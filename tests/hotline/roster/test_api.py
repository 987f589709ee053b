"""The roster API on a real database: roles, shifts and assignments, the CSV import (all or
nothing, row-by-row errors), swapped working days, who is on duty, injection refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from hotline.core import db
from hotline.core.auth import create_user
from hotline.core.settings import Settings
from hotline.service import Service
from hotline.web.app import create_app


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Service]]:
    db.upgrade(settings.database_url)
    service = Service(settings)
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c, service
    service.engine.dispose()


def auth(service: Service, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_user(service.sessions, f'u-{role}', role)}"}


async def seed(c: httpx.AsyncClient, h: dict[str, str]) -> None:
    for ext, name, group, skills in (
        ("7001", "王芳", "intake", ["mandarin"]),
        ("7002", "巴特尔", "intake", ["mandarin", "mongolian"]),
        ("7003", "李强", "dispatch", ["mandarin", "senior"]),
    ):
        r = await c.put(
            f"/api/roster/operators/{ext}",
            json={"name": name, "group": group, "skills": skills},
            headers=h,
        )
        assert r.status_code == 200, r.text
    for name, start, end, days in (
        ("day", "08:00", "16:00", "all"),
        ("night", "22:00", "06:30", "all"),
        ("office", "09:00", "17:00", "workdays"),
    ):
        r = await c.put(
            f"/api/roster/shifts/{name}", json={"start": start, "end": end, "days": days}, headers=h
        )
        assert r.status_code == 200, r.text


async def test_only_supervisors_manage_rosters(client) -> None:
    c, service = client
    for role in ("admin", "ops", "operator"):
        r = await c.get("/api/roster/shifts", headers=auth(service, role))
        assert r.status_code == 403, role
    assert (await c.get("/api/roster/shifts")).status_code == 401
    assert (
        await c.get("/api/roster/shifts", headers=auth(service, "supervisor"))
    ).status_code == 200


async def test_shifts_assignments_and_on_duty_across_midnight(client) -> None:
    c, service = client
    h = auth(service, "supervisor")
    await seed(c, h)
    shifts = (await c.get("/api/roster/shifts", headers=h)).json()
    assert {s["name"]: s["overnight"] for s in shifts} == {
        "day": False,
        "night": True,
        "office": False,
    }
    r = await c.post(
        "/api/roster/assignments",
        json={"day": "2026-12-01", "shift": "night", "extension": "7003"},
        headers=h,
    )
    assert r.status_code == 201, r.text
    again = await c.post(
        "/api/roster/assignments",
        json={"day": "2026-12-01", "shift": "night", "extension": "7003"},
        headers=h,
    )
    assert again.status_code == 409
    duty = (
        await c.get("/api/roster/on-duty", params={"at": "2026-12-02T03:00:00+08:00"}, headers=h)
    ).json()
    assert [(o["extension"], o["shift"]) for o in duty["operators"]] == [("7003", "night")]
    # 2026-12-01T19:30Z is 03:30 on Dec 2 in Shanghai: the same shift.
    duty = (
        await c.get("/api/roster/on-duty", params={"at": "2026-12-01T19:30:00Z"}, headers=h)
    ).json()
    assert [o["extension"] for o in duty["operators"]] == ["7003"]
    bad = await c.post(
        "/api/roster/assignments",
        json={"day": "2026-12-01", "shift": "nope", "extension": "7003"},
        headers=h,
    )
    assert bad.status_code == 422 and "nope" in bad.text


async def test_swapped_working_day_lets_a_workday_shift_run_on_saturday(client) -> None:
    c, service = client
    h = auth(service, "supervisor")
    await seed(c, h)
    saturday = {"day": "2026-10-10", "shift": "office", "extension": "7001"}
    refused = await c.post("/api/roster/assignments", json=saturday, headers=h)
    assert refused.status_code == 422 and "rest day" in refused.text
    r = await c.put(
        "/api/roster/calendar/2026-10-10", json={"kind": "workday", "note": "国庆调休"}, headers=h
    )
    assert r.status_code == 200
    assert (await c.post("/api/roster/assignments", json=saturday, headers=h)).status_code == 201
    duty = (
        await c.get("/api/roster/on-duty", params={"at": "2026-10-10T10:00:00+08:00"}, headers=h)
    ).json()
    assert [o["extension"] for o in duty["operators"]] == ["7001"]


CSV_GOOD = """date,shift,extension
2026-12-01,day,7001
2026-12-01,day,7002
2026-12-01,night,7003
2026-12-31,night,7001
"""
CSV_BAD = """date,shift,extension
2026-12-01,day,7001
2026-12-32,day,7002
2026-11-30,day,7002
2026-12-02,evening,7002
2026-12-02,day,9999
2026-12-01,day,7001
2026-12-05,office,7001
"""


async def test_csv_import_is_all_or_nothing_with_row_errors(client) -> None:
    c, service = client
    h = auth(service, "supervisor")
    await seed(c, h)
    h = {**h, "Content-Type": "text/csv"}
    r = await c.post("/api/roster/import", params={"month": "2026-12"}, content=CSV_GOOD, headers=h)
    assert r.status_code == 200, r.text
    assert r.json() == {"month": "2026-12", "imported": 4}

    r = await c.post("/api/roster/import", params={"month": "2026-12"}, content=CSV_BAD, headers=h)
    assert r.status_code == 422
    rows = {e["line"]: e["message"] for e in r.json()["detail"]["rows"]}
    assert sorted(rows) == [3, 4, 5, 6, 7, 8]
    assert "not YYYY-MM-DD" in rows[3] and "outside 2026-12" in rows[4]
    assert "unknown shift 'evening'" in rows[5] and "unknown operator '9999'" in rows[6]
    assert "same as line 2" in rows[7] and "rest day" in rows[8]  # 2026-12-05 is a Saturday
    # Nothing of the bad file was stored; the good import is intact.
    listed = (
        await c.get(
            "/api/roster/assignments", params={"from": "2026-12-01", "to": "2027-01-01"}, headers=h
        )
    ).json()
    assert len(listed) == 4

    header = await c.post(
        "/api/roster/import", params={"month": "2026-12"}, content="day,who\n1,2\n", headers=h
    )
    assert header.status_code == 422 and "header" in header.text


async def test_line_breaks_in_names_and_reasons_are_refused_before_amI(client) -> None:
    c, service = client
    h = auth(service, "supervisor")
    r = await c.put(
        "/api/roster/operators/7001",
        json={"name": "x\r\nAction: Originate", "group": "intake"},
        headers=h,
    )
    assert r.status_code == 422 and "one line" in r.text
    r = await c.post(
        "/api/roster/operators/7001/pause", json={"paused": True, "reason": "a\nb"}, headers=h
    )
    assert r.status_code == 422 and "one line" in r.text
    r = await c.put("/api/roster/operators/70a1", json={"name": "x", "group": "intake"}, headers=h)
    assert r.status_code == 422
