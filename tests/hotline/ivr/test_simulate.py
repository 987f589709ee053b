"""The menu simulator with the live router writes nothing and reads no caller's history: ops
cannot use it to look up a citizen's open cases (their work orders), to make or follow up an
order, or to add rows to the call log."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import inspect, text

from hotline.core import db
from hotline.core.auth import create_user
from hotline.core.settings import Settings
from hotline.orders.store import NewOrder
from hotline.service import Service
from hotline.web.app import create_app

NUMBER = "13800138000"


@pytest.fixture
async def service(settings: Settings, tmp_path: Path) -> AsyncIterator[Service]:
    service = Service(
        settings.model_copy(update={"prompts_dir": tmp_path / "prompts", "speech_enabled": False})
    )
    db.upgrade(service.settings.database_url)
    await service.ivr.start()
    # The caller has an open work order: a real call from this number would go to dispatch.
    service.orders.store.create(NewOrder(channel="phone", caller_number=NUMBER))
    yield service
    service.engine.dispose()


def every_row(service: Service) -> dict[str, list[str]]:
    """Every row of every table (the schema's and SQLite's full-text ones), as text."""
    with service.engine.connect() as connection:
        names = inspect(connection).get_table_names()
        return {
            name: sorted(
                json.dumps(list(row), default=str, ensure_ascii=False)
                for row in connection.execute(text(f'SELECT * FROM "{name}"'))
            )
            for name in names
        }


def case_of(service: Service) -> str:
    return service.orders.store.open_for_caller(NUMBER)[0].number


async def simulate(service: Service, body: dict[str, Any]) -> httpx.Response:
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        token = create_user(service.sessions, "olga", "ops")
        before = every_row(service)
        response = await client.post(
            "/api/ivr/versions/1/simulate",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        after = every_row(service)
    users = "users"
    before.pop(users), after.pop(users)  # the token made for the request
    assert after == before, "a simulation changed the database"
    return response


async def test_a_simulation_with_the_live_router_stores_nothing_and_reads_no_history(
    service: Service,
) -> None:
    # Nothing said at the speech step: the key menu; 2: a personal request, then the route.
    response = await simulate(service, {"inputs": ["silence", "2"], "caller_number": NUMBER})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "routed"
    route = next(step for step in body["path"] if step["step"] == "route")
    # The caller's open case would send the call to dispatch ("open_case"): the simulator
    # routes as for a caller without history, and says nothing of the case.
    assert route["tags"]["rule"] == "default"
    assert case_of(service) not in response.text and "open_cases" not in response.text


async def test_a_simulation_with_every_queue_staffed_stores_nothing_either(
    service: Service,
) -> None:
    response = await simulate(
        service,
        {"inputs": ["silence", "2"], "caller_number": NUMBER, "every_queue_staffed": True},
    )
    assert response.status_code == 200, response.text
    assert case_of(service) not in response.text


async def test_a_simulated_call_keying_an_order_number_neither_reads_nor_follows_it_up(
    service: Service,
) -> None:
    case = case_of(service)
    inputs = ["silence", "3", f"digits:{case}#"]
    response = await simulate(service, {"inputs": inputs, "caller_number": NUMBER})
    assert response.status_code == 200, response.text
    route = next(step for step in response.json()["path"] if step["step"] == "route")
    assert route["tags"]["rule"] == "follow_up"  # (nobody on duty: waits in intake)
    # Nothing of the order (its status, due time, whether it exists) comes back.
    assert not {"order", "order_status", "order_due", "order_not_found"} & set(route["tags"])
    assert "draft" not in response.text
    assert service.orders.store.open_for_caller(NUMBER)[0].follow_ups == 0
