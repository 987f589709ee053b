"""The audit log: every reading of a caller's data is written down with who, role, what,
when and from where; legal holds are lifted only by an admin or the one who set them; a
forged listening ticket is refused, never a server error."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from hotline.core import db
from hotline.core.audit import AuditEntry
from hotline.core.auth import create_user
from hotline.core.settings import Settings
from hotline.service import Service
from hotline.web.app import create_app
from tests.hotline.test_personal_data import UID, seed

Client = tuple[httpx.AsyncClient, Service]


@pytest.fixture
async def client(settings: Settings, tmp_path: Path) -> AsyncIterator[Client]:
    (tmp_path / "monitor").mkdir()
    settings = settings.model_copy(update={"recordings_monitor_dir": tmp_path / "monitor"})
    db.upgrade(settings.database_url)
    service = Service(settings)
    seed(service)
    transport = httpx.ASGITransport(app=create_app(service), client=("192.0.2.7", 50123))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c, service
    service.engine.dispose()


def auth(service: Service, role: str, name: str | None = None) -> dict[str, str]:
    token = create_user(service.sessions, name or f"u-{role}", role)
    return {"Authorization": f"Bearer {token}"}


async def audit_log(c: httpx.AsyncClient, service: Service, **params: str) -> list[dict[str, Any]]:
    response = await c.get(
        "/api/recordings-audit", params=params, headers=auth(service, "admin", "auditor")
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


@pytest.mark.parametrize(
    ("method", "path", "role", "action"),
    [
        ("GET", "/api/calls", "ops", "list"),
        ("GET", f"/api/calls/{UID}", "supervisor", "open"),
        ("POST", f"/api/recordings/{UID}/ticket", "supervisor", "ticket"),
        ("GET", f"/api/roster/decisions/{UID}", "supervisor", "open"),
    ],
)
async def test_reading_calls_tickets_and_decisions_is_audited(
    client: Client, method: str, path: str, role: str, action: str
) -> None:
    c, service = client
    before = datetime.now().astimezone()
    response = await c.request(method, path, headers=auth(service, role, "wang"))
    assert response.status_code == 200, response.text
    entries = [e for e in await audit_log(c, service) if e["user"] == "wang"]
    assert len(entries) == 1, entries
    [entry] = entries
    assert entry["role"] == role and entry["action"] == action
    assert entry["client"] == "192.0.2.7"
    assert datetime.fromisoformat(entry["at"]) >= before.replace(microsecond=0)
    if path != "/api/calls":
        assert entry["unique_id"] == UID
    else:
        assert entry["detail"]["unique_ids"] == [UID]


async def test_a_legal_hold_is_lifted_only_by_an_admin_or_the_one_who_set_it(
    client: Client,
) -> None:
    c, service = client
    zhao, qian = auth(service, "supervisor", "zhao"), auth(service, "supervisor", "qian")
    admin = auth(service, "admin", "root-admin")
    hold = f"/api/recordings/{UID}/hold"
    assert (await c.put(hold, json={"reason": "行政复议 17"}, headers=admin)).status_code == 200
    # Another supervisor can neither lift the admin's hold nor take it over.
    assert (await c.delete(hold, headers=zhao)).status_code == 403
    assert (await c.put(hold, json={"reason": "mine now"}, headers=zhao)).status_code == 403
    assert (await c.delete(hold, headers=admin)).status_code == 200

    assert (await c.put(hold, json={"reason": "投诉复核"}, headers=zhao)).status_code == 200
    refused = await c.delete(hold, headers=qian)
    assert refused.status_code == 403 and "zhao" in refused.json()["detail"]
    assert (await c.delete(hold, headers=zhao)).status_code == 200
    # Lifted holds and refusals are in the audit log.
    actions = [(e["action"], e["user"]) for e in await audit_log(c, service, unique_id=UID)]
    assert ("release", "zhao") in actions and ("release", "root-admin") in actions
    assert ("release_refused", "qian") in actions


@pytest.mark.parametrize("signature", ["é", "签名", "\u0000", "a" * 24 + "ü"])
async def test_a_ticket_with_a_non_ascii_signature_is_refused(
    client: Client, signature: str
) -> None:
    c, service = client
    issued = await c.post(f"/api/recordings/{UID}/ticket", headers=auth(service, "supervisor"))
    body = issued.json()["url"].split("ticket=", 1)[1].split(".", 1)[0]
    response = await c.get(f"/api/recordings/{UID}/audio", params={"ticket": f"{body}.{signature}"})
    assert response.status_code in (401, 403), response.text


def test_the_recordings_audit_log_moves_into_the_general_one_and_back(settings: Settings) -> None:
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import text

    url = settings.database_url
    db.upgrade(url, "0002_recordings")
    engine = db.make_engine(url)
    old = (
        "INSERT INTO recording_audit (at, user_name, role, action, unique_id, client, detail) "
        "VALUES (:at, 'sup-li', 'supervisor', 'download', 'hotline-9.1', '10.0.0.5', '{}')"
    )
    with engine.begin() as connection:
        connection.execute(text(old), {"at": datetime(2026, 11, 1).astimezone()})
    db.upgrade(url)
    with engine.begin() as connection:
        rows = connection.execute(
            text("SELECT id, user_name, subject, action, unique_id, client FROM audit_log")
        ).all()
        assert [tuple(r) for r in rows] == [
            (1, "sup-li", "recording", "download", "hotline-9.1", "10.0.0.5")
        ]
    service = Service(settings)
    with service.sessions() as session:  # new entries go on after the copied ones
        from hotline.core.audit import audit

        audit(session, user="ops-1", role="ops", subject="call", action="list")
        session.commit()
    service.engine.dispose()

    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    command.downgrade(config, "0002_recordings")
    with engine.begin() as connection:
        rows = connection.execute(text("SELECT id, user_name, action FROM recording_audit")).all()
        assert [tuple(r) for r in rows] == [(1, "sup-li", "download")]
    engine.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.parametrize(
    ("trusted", "recorded"),
    [("", "127.0.0.1"), ("127.0.0.1", "203.0.113.9"), ("10.0.0.0/8, ::1", "127.0.0.1")],
)
async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    settings: Settings, tmp_path: Path, trusted: str, recorded: str
) -> None:
    """A client on the API's own host sends X-Forwarded-For with an address of its choosing:
    the audit log records its real address, unless it is a configured proxy."""
    import uvicorn

    from hotline.service import api_server

    (tmp_path / "monitor").mkdir()
    settings = settings.model_copy(
        update={
            "recordings_monitor_dir": tmp_path / "monitor",
            "api_port": free_port(),
            "trusted_proxies": trusted,
        }
    )
    db.upgrade(settings.database_url)
    service = Service(settings)
    seed(service)
    server = uvicorn.Server(api_server(settings, create_app(service)))
    running = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not running.done(), running
            await asyncio.sleep(0.02)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.api_port}") as c:
            headers = {**auth(service, "supervisor", "wang"), "X-Forwarded-For": "203.0.113.9"}
            assert (await c.get(f"/api/calls/{UID}", headers=headers)).status_code == 200
    finally:
        server.should_exit = True
        await running
    with service.sessions() as session:
        [entry] = session.scalars(select(AuditEntry).where(AuditEntry.user_name == "wang"))
        assert entry.client == recorded
    service.engine.dispose()


def test_trusted_proxies_must_be_addresses_or_networks() -> None:
    from hotline.core.settings import SettingsError, load_settings

    assert load_settings().trusted_proxy_networks == ()
    with pytest.raises(SettingsError, match="trusted_proxies"):
        load_settings(trusted_proxies="10.0.0.1, proxy.example")
