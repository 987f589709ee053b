"""The web API on a real database: health, metrics, tokens, roles, masking."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from hotline.calls.tables import Call
from hotline.core import db
from hotline.core.auth import create_user
from hotline.core.settings import Settings, SettingsError, load_settings
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


async def get(
    service: Service,
    path: str,
    headers: dict[str, str] | None = None,
    client: str = "127.0.0.1",
) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(service), client=(client, 40000))
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


def with_settings(service: Service, **changes: object) -> Service:
    service.settings = service.settings.model_copy(update=changes)
    return service


async def test_metrics_are_served_to_loopback_clients_only_by_default(service: Service) -> None:
    assert (await get(service, "/metrics")).status_code == 200
    assert (await get(service, "/metrics", client="::1")).status_code == 200
    for outsider in ("203.0.113.5", "10.1.2.3", "2001:db8::1"):
        response = await get(service, "/metrics", client=outsider)
        assert response.status_code == 403, outsider
        assert "HOTLINE_METRICS_ALLOW" in response.json()["detail"]
        assert "hotline_" not in response.text
    # A proxy on this host makes every client look local unless its header is trusted.
    proxied = await get(service, "/metrics", {"X-Forwarded-For": "203.0.113.5"})
    assert proxied.status_code == 403


async def test_a_metrics_token_lets_its_holder_in_from_anywhere(service: Service) -> None:
    with_settings(service, metrics_token="m-" + "k" * 30)
    good = {"Authorization": "Bearer m-" + "k" * 30}
    for client in ("127.0.0.1", "203.0.113.5"):
        assert (await get(service, "/metrics", client=client)).status_code == 401
        wrong = {"Authorization": "Bearer m-" + "k" * 29}
        assert (await get(service, "/metrics", wrong, client=client)).status_code == 401
        response = await get(service, "/metrics", good, client=client)
        assert response.status_code == 200
        assert "hotline_ami_connected" in response.text


async def test_metrics_networks_alone_and_with_a_token(service: Service) -> None:
    with_settings(service, metrics_allow="10.0.0.0/8, 192.0.2.7")
    assert (await get(service, "/metrics", client="10.9.8.7")).status_code == 200
    assert (await get(service, "/metrics", client="192.0.2.7")).status_code == 200
    assert (await get(service, "/metrics", client="127.0.0.1")).status_code == 403
    with_settings(service, metrics_token="m-" + "k" * 30)
    good = {"Authorization": "Bearer m-" + "k" * 30}
    assert (await get(service, "/metrics", client="10.9.8.7")).status_code == 401
    assert (await get(service, "/metrics", good, client="10.9.8.7")).status_code == 200
    assert (await get(service, "/metrics", good, client="203.0.113.5")).status_code == 403


def test_metrics_settings_are_checked_at_start_up() -> None:
    with pytest.raises(SettingsError, match="'10.0.0.300/8' is not an IP network"):
        load_settings(metrics_allow="10.0.0.300/8")
    strong = {"ami_secret": "a" * 16, "carrier_ami_secret": "b" * 16, "sandbox": False}
    with pytest.raises(SettingsError, match="metrics_token"):
        load_settings(profile="prod", metrics_token="short", **strong)
    assert load_settings(profile="prod", metrics_token="t" * 24, **strong).metrics_token


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json"])
async def test_api_docs_are_off_in_prod_unless_enabled(service: Service, path: str) -> None:
    assert (await get(service, path)).status_code == 200
    strong = {"ami_secret": "a" * 16, "carrier_ami_secret": "b" * 16, "sandbox": False}
    with_settings(service, profile="prod", **strong)
    assert (await get(service, path)).status_code == 404
    with_settings(service, api_docs=True)
    assert (await get(service, path)).status_code == 200


async def test_health_says_ok_or_degraded_per_part_and_nothing_else(service: Service) -> None:
    service.health = lambda: {"ami": False, "database": "detail that must not show"}  # type: ignore[method-assign, dict-item]
    response = await get(service, "/healthz", client="203.0.113.5")
    assert response.status_code == 503
    assert response.json() == {"status": "degraded", "ami": False, "database": True}


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


@pytest.mark.parametrize(
    "role, path",
    [
        ("ops", "/api/ivr/versions/9223372036854775808"),
        ("ops", "/api/ivr/versions/2147483648/diagram"),
        ("ops", "/api/ivr/diff?a=1&b=9223372036854775808"),
        ("admin", "/api/calls?offset=9223372036854775808"),
        ("admin", "/api/audit?offset=9223372036854775808"),
        ("supervisor", "/api/recordings?offset=9223372036854775808"),
    ],
)
async def test_numbers_past_what_the_database_holds_are_422(
    service: Service, role: str, path: str
) -> None:
    # Found by tests/hotline/web/test_fuzz.py: these were 500s (OverflowError on SQLite,
    # "integer out of range" on PostgreSQL past 2**31).
    response = await get(service, path, token(service, role))
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    "role, method, path, body",
    [
        (
            "supervisor",
            "PUT",
            "/api/roster/calendar/2026-12-01",
            {"kind": "holiday", "note": "a\0"},
        ),
        ("supervisor", "GET", "/api/roster/decisions/a%00b", None),
        ("admin", "GET", "/api/calls/a%00b", None),
        ("admin", "GET", "/api/audit?user=a%00", None),
        ("ops", "POST", "/api/ivr/versions", {"document": "name: x", "comment": "a\0"}),
    ],
)
async def test_a_nul_character_is_never_a_server_error(
    service: Service, role: str, method: str, path: str, body: dict[str, str] | None
) -> None:
    # PostgreSQL refuses NUL in text (psycopg.DataError): these were 500s there. SQLite
    # stores it.
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.request(method, path, json=body, headers=token(service, role))
    assert response.status_code < 500, response.text
    if response.status_code == 422 and "unstorable-value" in response.text:
        assert "NUL" in response.json()["detail"]["message"]
