"""Reports on a real database, through the API and the command line: known orders give
exact counts and rates, in JSON and CSV, for supervisors and admins only."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from typer.testing import CliRunner

from hotline.cli import app as cli
from hotline.core import db
from hotline.core.auth import create_user
from hotline.core.settings import Settings
from hotline.orders.tables import WorkOrder, WorkOrderEvent
from hotline.roster.tables import ShiftRow
from hotline.service import Service
from hotline.web.app import create_app

TZ = ZoneInfo("Asia/Shanghai")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A local time in November 2026 (3rd: Tuesday), as the database stores it (UTC)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=TZ).astimezone(UTC)


#: (created, queue, department, matter, status, due, answered, scope reason, callback)
ORDERS: list[tuple[Any, ...]] = [
    (at(3, 9, 30), "intake", "heating", "供暖不热", "closed", at(4, 9, 30), at(3, 20), None,
     {"solved": True, "satisfaction": "satisfied"}),
    (at(3, 10), "intake", "heating", None, "dispatched", at(3, 12), None, None, None),
    (at(3, 17), "enterprise", "market_supervision", "食品安全", "callback", at(4, 17),
     at(5, 8), None, None),
    (at(3, 23, 30), "intake", None, None, "answered", None, at(3, 23, 40), "privacy", None),
    (at(4, 3), "dispatch", "heating", "供暖不热", "closed", at(11, 3), at(4, 10), None,
     {"solved": False, "satisfaction": "unsatisfied"}),
    (at(4, 12), "", "urban_management", None, "dispatched", datetime(2099, 1, 1, tzinfo=UTC),
     None, None, None),
    # outside 3 and 4 November, local time
    (at(2, 23, 59), "intake", "heating", None, "draft", None, None, None, None),
    (at(5, 0, 0), "intake", "heating", None, "draft", None, None, None, None),
]  # fmt: skip


def seed(settings: Settings) -> None:
    db.upgrade(settings.database_url)
    engine = db.make_engine(settings.database_url)
    sessions = db.session_factory(engine)
    with sessions() as s, s.begin():
        for name, start, end in (
            ("night", time(0), time(8)),
            ("morning", time(8), time(16)),
            ("evening", time(16), time(0)),
        ):
            s.add(ShiftRow(name=name, start=start, end=end, days="all"))
        s.add(ShiftRow(name="office", start=time(9), end=time(17), days="workdays"))
        for n, (created, queue, dept, matter, status, due, answered, reason, cb) in enumerate(
            ORDERS, 1
        ):
            order = WorkOrder(
                number=f"{created.astimezone(TZ):%Y%m%d}{n:05d}", version=1, status=status,
                channel="phone" if queue else "web", created_at=created, updated_at=created,
                queue=queue, caller_number=f"1380000{n:04d}", caller_name="张三",
                transcript="我家暖气不热", department=dept, matter=matter,
                in_scope=reason is None, out_of_scope_reason=reason, summary="", place="",
                due_at=due, reply="", return_reason="", callback_result=cb,
            )  # fmt: skip
            s.add(order)
            s.flush()
            s.add(WorkOrderEvent(order_id=order.id, at=created, actor="t", action="create",
                                 to_status="draft", changes={}))  # fmt: skip
            if answered is not None:
                to = "answered" if status == "answered" else "replied"
                for when in (answered, at(20, 0)):  # a later reply does not count
                    s.add(WorkOrderEvent(order_id=order.id, at=when, actor="t", action="x",
                                         to_status=to, changes={}))  # fmt: skip
    engine.dispose()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, Service]]:
    seed(settings)
    service = Service(settings)
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c, service
    service.engine.dispose()


def auth(service: Service, role: str) -> dict[str, str]:
    department = "heating" if role == "department" else None
    token = create_user(service.sessions, f"u-{role}", role, department=department)
    return {"Authorization": f"Bearer {token}"}


RANGE = {"from": "2026-11-03", "to": "2026-11-04"}


async def test_on_time_by_day_in_json_and_csv(client: Any) -> None:
    c, service = client
    h = auth(service, "supervisor")
    r = await c.get("/api/reports/on-time", params=RANGE, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["report"], body["by"], body["timezone"]) == ("on-time", "day", "Asia/Shanghai")
    assert body["rows"] == [
        {"day": "2026-11-03", "with_deadline": 3, "on_time": 1, "late": 2, "overdue_open": 1,
         "not_yet_due": 0, "on_time_rate": 0.3333},
        {"day": "2026-11-04", "with_deadline": 2, "on_time": 1, "late": 0, "overdue_open": 0,
         "not_yet_due": 1, "on_time_rate": 1.0},
    ]  # fmt: skip
    assert body["total"][0]["on_time_rate"] == 0.5
    r = await c.get("/api/reports/on-time", params={**RANGE, "format": "csv"}, headers=h)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="on-time-day-20261103-20261104.csv"' in r.headers["content-disposition"]
    assert r.text.lstrip("\ufeff").splitlines() == [
        "day,with_deadline,on_time,late,overdue_open,not_yet_due,on_time_rate",
        "2026-11-03,3,1,2,1,0,0.3333",
        "2026-11-04,2,1,0,0,1,1.0",
        "total,5,2,2,1,1,0.5",
    ]


async def test_buckets_by_shift_group_and_department(client: Any) -> None:
    c, service = client
    h = auth(service, "admin")

    async def rows(name: str, by: str) -> list[dict[str, Any]]:
        r = await c.get(f"/api/reports/{name}", params={**RANGE, "by": by}, headers=h)
        assert r.status_code == 200, r.text
        return list(r.json()["rows"])

    shifts = {row["shift"]: row["orders"] for row in await rows("status", "shift")}
    assert list(shifts.items()) == [("night", 1), ("morning", 0), ("office", 3), ("evening", 2)]
    groups = {row["group"]: row["orders"] for row in await rows("status", "group")}
    assert list(groups.items()) == [("dispatch", 1), ("enterprise", 1), ("intake", 3), ("none", 1)]
    heating = next(
        row for row in await rows("status", "department") if row["department"] == "heating"
    )
    assert (heating["orders"], heating["closed"], heating["dispatched"]) == (3, 2, 1)
    matters = [
        (row["department"], row["matter"], row["orders"])
        for row in await rows("matters", "department")
    ]
    assert matters[:2] == [("heating", "供暖不热", 2), ("heating", "heating", 1)]
    assert ("none", "unclassified", 1) in matters
    summary = (await c.get("/api/reports/summary", params=RANGE, headers=h)).json()["total"][0]
    assert summary == {
        "day": "total", "orders": 6, "open": 3, "finished": 3, "on_time_rate": 0.5,
        "out_of_scope_share": 0.1667, "satisfaction_rate": 0.5, "top_matter": "供暖不热",
    }  # fmt: skip


async def test_reports_hold_no_personal_data(client: Any) -> None:
    c, service = client
    h = auth(service, "supervisor")
    for name in ("summary", "status", "on-time", "scope", "matters", "satisfaction"):
        for by in ("day", "shift", "group", "department"):
            r = await c.get(f"/api/reports/{name}", params={**RANGE, "by": by}, headers=h)
            assert r.status_code == 200, (name, by, r.text)
            assert "138" not in r.text and "张三" not in r.text and "暖气" not in r.text


async def test_only_supervisors_and_admins_and_bad_parameters(client: Any) -> None:
    c, service = client
    for role in ("ops", "operator", "department"):
        r = await c.get("/api/reports/summary", params=RANGE, headers=auth(service, role))
        assert r.status_code == 403, role
    assert (await c.get("/api/reports/summary", params=RANGE)).status_code == 401
    h = auth(service, "supervisor")
    r = await c.get("/api/reports/weekly", params=RANGE, headers=h)
    assert r.status_code == 404 and "summary" in r.json()["detail"]["message"]
    r = await c.get(
        "/api/reports/summary", params={"from": "2025-01-01", "to": "2026-01-02"}, headers=h
    )
    assert r.status_code == 422 and r.json()["detail"]["error"] == "range_too_long"
    r = await c.get(
        "/api/reports/summary", params={"from": "2026-11-04", "to": "2026-11-03"}, headers=h
    )
    assert r.status_code == 422 and "before from" in r.json()["detail"]["message"]
    for bad in ({"by": "week"}, {"format": "xlsx"}, {"top": "51"}, {"from": "3 Nov"}):
        r = await c.get("/api/reports/summary", params={**RANGE, **bad}, headers=h)
        assert r.status_code == 422, bad
    assert (await c.get("/api/reports/summary", headers=h)).status_code == 422  # from missing


def test_the_command_line_prints_json_csv_and_tables(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(settings)
    monkeypatch.setenv("HOTLINE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HOTLINE_STATE_DIR", str(settings.state_dir))
    monkeypatch.setenv("COLUMNS", "160")
    runner = CliRunner()
    args = ["report", "scope", "--from", "2026-11-03", "--to", "2026-11-04"]
    result = runner.invoke(cli, [*args, "--by", "group", "--format", "csv"])
    assert result.exit_code == 0, result.output
    table = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["group"], r["orders"], r["out_of_scope"], r["privacy"]) for r in table] == [
        ("dispatch", "1", "0", "0"), ("enterprise", "1", "0", "0"), ("intake", "3", "1", "1"),
        ("none", "1", "0", "0"), ("total", "6", "1", "1"),
    ]  # fmt: skip
    result = runner.invoke(cli, [*args, "--format", "json"])
    assert json.loads(result.stdout)["total"][0]["out_of_scope_share"] == 0.1667
    result = runner.invoke(cli, args)
    assert result.exit_code == 0 and "2026-11-04" in result.stdout and "total" in result.stdout
    result = runner.invoke(cli, ["report", "scope", "--from", "2026-11-31"])
    assert result.exit_code == 2 and "--from '2026-11-31': expected YYYY-MM-DD" in result.output
