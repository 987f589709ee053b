"""The database stops during a call: the call still reaches a human, and its record is
written once the database is back. Runs on PostgreSQL (a server that can be stopped)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.carrier import Carrier
from hotline.db import Call
from hotline.settings import Settings, load_settings
from telephony.ami_protocol import Event
from tests.conftest import postgres_database, wait_for

pytestmark = pytest.mark.sandbox
POSTGRES = Path(__file__).resolve().parents[2] / "scripts" / "postgres"


@pytest.fixture
def pg_settings(tmp_path: Path) -> Iterator[Settings]:
    with postgres_database() as url:
        yield load_settings(state_dir=tmp_path / "state", database_url=url)


def postgres(action: str) -> None:
    subprocess.run(["bash", str(POSTGRES), action], check=True, capture_output=True)


async def test_a_call_during_a_database_outage_routes_and_is_recorded_afterwards(
    sandbox, start_service, carrier: Carrier, pg_settings: Settings
) -> None:
    service = await start_service(
        database_url=pg_settings.database_url, state_dir=pg_settings.state_dir
    )
    joined: dict[str, str] = {}

    def on_join(event: Event) -> None:
        joined[event.get("CallerIDNum", "") or ""] = event.get("Queue", "") or ""

    service.ami.on_event("QueueCallerJoin", on_join)
    postgres("stop")
    try:
        assert not service.health()["database"]
        # The caller presses nothing: the menu retries, then hands the call to a human.
        await carrier.call(number="13400000001", name="赵六", delay=60, hold=60)
        await wait_for(lambda: "13400000001" in joined, 60, "the call to reach a queue")
        assert joined["13400000001"] == "intake"
        assert service.call_log.pending, "the record should be waiting for the database"
    finally:
        postgres("start")
    await wait_for(lambda: not service.call_log.pending, 30, "the pending records to be written")
    with service.sessions() as session:
        call = session.scalar(select(Call).where(Call.caller_number == "13400000001"))
    assert call is not None
    assert call.caller_name == "赵六"
    assert call.outcome != "in_progress"
