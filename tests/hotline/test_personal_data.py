"""What each role sees of a caller, on every endpoint that returns calls, recordings or
routing decisions: one rule (`hotline.core.privacy.personal_fields`), checked per role and per
endpoint on a real database."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.calls.tables import Call
from hotline.core import db
from hotline.core.auth import create_user
from hotline.core.settings import Settings
from hotline.recordings.tables import Recording
from hotline.roster.tables import CallRouteRow
from hotline.service import Service
from hotline.web.app import create_app

UID = "hotline-1.1"
NUMBER, MASKED, NAME = "13800138000", "138****8000", "张三"
#: what the caller said, and a routing explanation naming the caller's open case
WORDS, CASE = "十二度", "GD-2026-0042"
KEY = "7"
STARTED = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)

ROLES = ("admin", "supervisor", "ops", "operator")
#: endpoint -> the roles it answers (the others get 403), and the personal fields it carries
#: ("explanation": the routing explanation, which names the caller's open case)
ENDPOINTS: dict[str, tuple[tuple[str, ...], set[str]]] = {
    "/api/calls": (
        ("admin", "supervisor", "ops"),
        {"number", "name", "words", "keys", "explanation"},
    ),
    f"/api/calls/{UID}": (
        ("admin", "supervisor", "ops"),
        {"number", "name", "words", "keys", "explanation"},
    ),
    "/api/recordings": (("admin", "supervisor"), {"number", "name", "words"}),
    f"/api/recordings/{UID}": (("admin", "supervisor"), {"number", "name", "words"}),
    f"/api/roster/decisions/{UID}": (("supervisor",), {"explanation"}),
}
#: role -> the personal fields it sees; ops run the system and see none of them
SEES: dict[str, set[str]] = {
    "admin": {"number", "name", "words", "keys"},
    "supervisor": {"number", "name", "words", "keys"},
    "ops": set(),
    "operator": set(),
}


def seed(service: Service) -> None:
    path = [
        {"t": 0.1, "step": "answer"},
        {"t": 1.0, "step": "input", "node": "main", "digits": KEY, "waited": 0.8},
        {"t": 4.0, "step": "speech", "node": "speak", "text": f"我家暖气不热 屋里才{WORDS}"},
        {"t": 4.1, "step": "classified", "node": "speak", "intent": "new_request"},
        {
            "t": 4.2,
            "step": "route",
            "node": "connect",
            "queue": "dispatch",
            "priority": 0,
            "reason": f"caller has open case {CASE} about this: dispatch group",
            "tags": {"rule": "open_case", "queue": "dispatch"},
        },
    ]
    with service.sessions() as session:
        session.add(
            Call(
                unique_id=UID,
                channel="PJSIP/carrier-00000001",
                caller_number=NUMBER,
                caller_name=NAME,
                called_number="12345",
                started_at=STARTED,
                ended_at=STARTED + timedelta(seconds=30),
                path=path,
                outcome="routed",
                detail="queue dispatch",
            )
        )
        session.add(
            CallRouteRow(
                unique_id=UID,
                decided_at=STARTED,
                caller_number=NUMBER,
                queue="dispatch",
                wanted="dispatch",
                priority=0,
                rule="open_case",
                explanation=f"caller has open case {CASE} about this: dispatch group",
                tags={"rule": "open_case", "queue": "dispatch"},
                classification={"intent": "new_request", "kind": "complaint"},
                transcript=f"我家暖气不热 屋里才{WORDS}",
            )
        )
        session.add(
            Recording(
                unique_id=UID,
                started_at=STARTED,
                ended_at=STARTED + timedelta(seconds=30),
                duration=30.0,
                caller_number=NUMBER,
                caller_name=NAME,
                called_number="12345",
                category="complaint",
                expires_at=STARTED + timedelta(days=365),
                audio_path="2026/11/29/hotline-1.1.opus",
                audio_format="opus",
                audio_sha256="0" * 64,
                transcribed=True,
                transcript=f"我家 暖气 不 热 屋里 才 {WORDS}",
                search_text="",
                words=[{"word": WORDS, "start": 3.0, "end": 3.5, "confidence": 1.0}],
            )
        )
        session.commit()


@pytest.fixture
async def client(
    settings: Settings, tmp_path: Path
) -> AsyncIterator[tuple[httpx.AsyncClient, Service]]:
    (tmp_path / "monitor").mkdir()
    settings = settings.model_copy(update={"recordings_monitor_dir": tmp_path / "monitor"})
    db.upgrade(settings.database_url)
    service = Service(settings)
    seed(service)
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c, service
    service.engine.dispose()


def key_pressed(body: Any) -> bool:
    """Whether any path step in `body` still says which key was pressed."""
    text = json.dumps(body, ensure_ascii=False)
    return f'"digits": "{KEY}"' in text


@pytest.mark.parametrize("endpoint", list(ENDPOINTS))
@pytest.mark.parametrize("role", ROLES)
async def test_each_role_sees_only_its_personal_fields_on_every_endpoint(
    client: tuple[httpx.AsyncClient, Service], role: str, endpoint: str
) -> None:
    c, service = client
    token = create_user(service.sessions, f"u-{role}", role)
    response = await c.get(endpoint, headers={"Authorization": f"Bearer {token}"})
    roles, carried = ENDPOINTS[endpoint]
    if role not in roles:
        assert response.status_code == 403, response.text
        return
    assert response.status_code == 200, response.text
    text = response.text
    # A field the role sees is there in full; one it does not see is nowhere in the answer.
    shown = SEES[role] & carried
    assert (NUMBER in text) == ("number" in shown), text
    if "number" in carried and "number" not in shown:
        assert MASKED in text
    assert (NAME in text) == ("name" in shown), text
    assert (WORDS in text) == ("words" in shown), text
    sees_words = "words" in SEES[role]
    assert (CASE in text) == ("explanation" in carried and sees_words), text
    assert key_pressed(response.json()) == ("keys" in shown), text


@pytest.mark.parametrize("role", ROLES)
def test_the_one_rule_matches_what_the_endpoints_show(role: str) -> None:
    from hotline.core.privacy import personal_fields

    assert {str(field) for field in personal_fields(role)} == SEES[role]
