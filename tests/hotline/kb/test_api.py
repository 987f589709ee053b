"""The knowledge base over HTTP, as each role: readers search and read, ops and admins
change; bad bodies get 422 naming the field, a stale version 409, a CSV with a bad row 422
naming its line; limits on q and limit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import select

from hotline.core import db
from hotline.core.audit import AuditEntry
from hotline.core.auth import create_user
from hotline.core.settings import Settings
from hotline.service import Service
from hotline.web.app import create_app

ENTRY = {
    "question": "电动自行车上牌怎么办理？",
    "answer": "到公安交管部门指定的登记点办理。",
    "keywords": ["电动车上牌", "上牌"],
    "department": "public_security",
    "source": "本市电动自行车管理规定",
}


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


async def test_readers_search_and_read_only_ops_and_admins_change(client) -> None:
    c, service = client
    h = {role: auth(service, role) for role in ("operator", "supervisor", "admin", "ops")}
    for role in ("operator", "supervisor"):
        assert (await c.post("/api/kb/entries", json=ENTRY, headers=h[role])).status_code == 403
    assert (await c.post("/api/kb/entries", json=ENTRY)).status_code == 401
    made = await c.post("/api/kb/entries", json=ENTRY, headers=h["ops"])
    assert made.status_code == 201, made.text
    entry_id = made.json()["id"]
    patch = {"version": 1, "answer": "改了"}
    url = f"/api/kb/entries/{entry_id}"
    assert (await c.patch(url, json=patch, headers=h["operator"])).status_code == 403
    assert (await c.delete(url, headers=h["operator"])).status_code == 403
    assert (
        await c.post(
            "/api/kb/import",
            content="question,answer\n问题甲,答案甲\n",
            headers={**h["operator"], "Content-Type": "text/csv"},
        )
    ).status_code == 403
    assert (await c.get("/api/kb/export", headers=h["operator"])).status_code == 403
    for role in h:
        found = await c.get("/api/kb/search", params={"q": "电动车 怎么 上牌 啊"}, headers=h[role])
        assert found.status_code == 200, role
        assert [r["id"] for r in found.json()["results"]] == [entry_id]
        assert found.json()["results"][0]["matched"] == ["电动车", "上牌"]
    assert (await c.get(url, headers=h["operator"])).json()["answer"] == ENTRY["answer"]
    changed = await c.patch(url, json=patch, headers=h["admin"])
    assert changed.status_code == 200 and changed.json()["version"] == 2
    versions = (await c.get(f"{url}/versions", headers=h["supervisor"])).json()
    assert [(v["version"], v["by"]) for v in versions] == [(1, "u-ops"), (2, "u-admin")]
    with service.sessions() as session:
        rows = session.execute(
            select(AuditEntry.user_name, AuditEntry.action, AuditEntry.unique_id).where(
                AuditEntry.subject == "kb"
            )
        ).all()
    assert [tuple(r) for r in rows] == [
        ("u-ops", "create", str(entry_id)),
        ("u-admin", "update", str(entry_id)),
    ]


async def test_bad_input_is_a_clear_error_and_changes_nothing(client) -> None:
    c, service = client
    h = auth(service, "ops")
    bad = await c.post(
        "/api/kb/entries", json={**ENTRY, "department": "parking", "colour": "red"}, headers=h
    )
    assert bad.status_code == 422 and "colour" in bad.text
    bad = await c.post("/api/kb/entries", json={**ENTRY, "department": "parking"}, headers=h)
    assert bad.status_code == 422
    assert bad.json()["detail"]["problems"] == [
        "department: 'parking' is not a department code (e.g. housing_provident_fund)"
    ]
    made = (await c.post("/api/kb/entries", json=ENTRY, headers=h)).json()
    again = await c.post("/api/kb/entries", json=ENTRY, headers=h)
    assert again.status_code == 409 and again.json()["detail"]["error"] == "duplicate"
    url = f"/api/kb/entries/{made['id']}"
    assert (
        await c.patch(url, json={"version": 1, "source": "新来源"}, headers=h)
    ).status_code == 200
    stale = await c.patch(url, json={"version": 1, "source": "旧页面的改动"}, headers=h)
    assert stale.status_code == 409
    assert stale.json()["detail"]["current"]["source"] == "新来源"
    null = await c.patch(url, json={"version": 2, "answer": None}, headers=h)
    assert null.status_code == 422 and "answer" in null.text
    assert (await c.get("/api/kb/entries/999", headers=h)).status_code == 404
    csv_text = "question,answer\n问题甲,答案甲\n问题乙,\n"
    imported = await c.post(
        "/api/kb/import", content=csv_text.encode(), headers={**h, "Content-Type": "text/csv"}
    )
    assert imported.status_code == 422
    assert imported.json()["detail"]["rows"] == [
        {"line": 3, "message": "line 3: answer: at least 2 characters"}
    ]
    listed = (await c.get("/api/kb/entries", headers=h)).json()
    assert listed["total"] == 1


async def test_limits_of_search(client) -> None:
    c, service = client
    h = auth(service, "operator")
    assert (await c.get("/api/kb/search", params={"q": "水" * 2001}, headers=h)).status_code == 422
    assert (
        await c.get("/api/kb/search", params={"q": "停水", "limit": 51}, headers=h)
    ).status_code == 422
    assert (await c.get("/api/kb/search", params={"q": ""}, headers=h)).status_code == 422
    long_transcript = "喂你好我想问一下我们家这边已经停水两天了到底什么时候来水啊" * 30
    found = await c.post("/api/kb/search", json={"q": long_transcript[:2000]}, headers=h)
    assert found.status_code == 200 and found.json() == {"results": []}  # empty KB


async def test_the_starter_set_loads_once_and_answers_over_the_api(client) -> None:
    c, service = client
    assert await asyncio.to_thread(service.kb.ensure_starter) >= 150
    h = auth(service, "operator")
    found = await c.get("/api/kb/search", params={"q": "我想问一下那个公积金怎么提取啊"}, headers=h)
    assert found.json()["results"][0]["question"] == "住房公积金怎么提取？"
    assert found.json()["results"][0]["department"] == "housing_provident_fund"
    assert await asyncio.to_thread(service.kb.ensure_starter) == 0
