"""The web API on a real database: health, metrics, tokens, roles, masking."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from hotline.calls.tables import Call
from hotline.core import db
from hotline.core.auth import create_user
from hotline.core.settings import Settings
from hotline.service import Service
from hotline.web.app import create_app


@pytest.fixture
def service(settings: Settings) -> Service:
    db.upgrade(settings.database_url)
    service = Service(settings)
    with service.sessions() as session:
        session.add(
            Call(
                unique_id="hotline-1.1",
                channel="PJSIP/carrier-00000001",
                caller_number="13800138000",
                caller_name="张三",
                called_number="12345",
                started_at=datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
                path=[{"t": 0.1, "step": "answer"}],
                outcome="completed",
                detail="",
            )
        )
        session.commit()
    return service


def token(service: Service, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_user(service.sessions, f'u-{role}', role)}"}


async def get(service: Service, path: str, headers: dict[str, str] | None = None) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.get(path, headers=headers)


async def test_health_is_degraded_without_ami(service: Service) -> None:
    response = await get(service, "/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "ami": False, "database": True}


@pytest.mark.sandbox
async def test_health_is_ok_with_ami_and_metrics_count_calls(start_service) -> None:
    service = await start_service()
    response = await get(service, "/healthz")
    assert response.status_code == 200, response.text
    assert response.json() == {"status": "ok", "ami": True, "database": True}
    metrics = (await get(service, "/metrics")).text
    assert "hotline_ami_connected 1.0" in metrics
    assert "hotline_calls_started_total 0.0" in metrics


async def test_calls_need_a_token(service: Service) -> None:
    response = await get(service, "/api/calls")
    assert response.status_code == 401
    assert "hotline users create" in response.json()["detail"]
    response = await get(service, "/api/calls", {"Authorization": "Bearer nope"})
    assert response.status_code == 401


async def test_supervisor_sees_numbers_ops_sees_them_masked_operator_is_refused(
    service: Service,
) -> None:
    full = (await get(service, "/api/calls", token(service, "supervisor"))).json()
    assert full["total"] == 1
    assert full["items"][0]["caller_number"] == "13800138000"
    assert full["items"][0]["caller_name"] == "张三"

    masked = (await get(service, "/api/calls/hotline-1.1", token(service, "ops"))).json()
    assert masked["caller_number"] == "138****8000"
    assert masked["caller_name"] == ""
    assert masked["path"] == [{"t": 0.1, "step": "answer"}]

    refused = await get(service, "/api/calls", token(service, "operator"))
    assert refused.status_code == 403


async def test_unknown_call_is_404_with_its_id(service: Service) -> None:
    response = await get(service, "/api/calls/nope", token(service, "admin"))
    assert response.status_code == 404
    assert "nope" in response.json()["detail"]


def test_user_creation_errors(service: Service) -> None:
    from hotline.core.auth import UserError

    create_user(service.sessions, "alice", "ops")
    with pytest.raises(UserError, match="already exists"):
        create_user(service.sessions, "alice", "admin")
    with pytest.raises(UserError, match="not one of: admin, ops, supervisor, operator"):
        create_user(service.sessions, "bob", "root")
    with pytest.raises(UserError, match="user name"):
        create_user(service.sessions, "bob smith", "ops")
