"""The database stops during a call: the call still reaches a human, and its record is
written once the database is back. Runs on PostgreSQL (a server that can be stopped).

The test stops a server other tests share, so it owns every connection it breaks: the
controller's is the only engine on the test's database (the fixtures' admin connections are
closed as soon as used), its pool is emptied before the stop and after the restart, and the
test ends only once the server answers again."""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import NullPool

from hotline.calls.tables import Call
from hotline.devtools.carrier import Carrier
from telephony.ami_protocol import Event
from tests.conftest import postgres_database, wait_for

pytestmark = pytest.mark.sandbox
POSTGRES = Path(__file__).resolve().parents[2] / "scripts" / "postgres"


@pytest.fixture
def database_url() -> Iterator[str]:
    """One PostgreSQL database, whichever backends HOTLINE_TEST_DATABASES names: this test
    needs a server it can stop, and runs once."""
    with postgres_database() as url:
        yield url


async def postgres(action: str) -> None:
    await asyncio.to_thread(
        subprocess.run, ["bash", str(POSTGRES), action], check=True, capture_output=True
    )


async def until_postgres_answers(url: str, timeout: float = 60) -> None:
    """Until a new connection to `url` runs a query."""

    def answers() -> bool:
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except OperationalError:
            return False
        finally:
            engine.dispose()

    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await asyncio.to_thread(answers):
        assert loop.time() < deadline, f"PostgreSQL did not answer within {timeout:g} s"
        await asyncio.sleep(0.2)


async def test_a_call_during_a_database_outage_routes_and_is_recorded_afterwards(
    sandbox, start_service, carrier: Carrier, database_url: str
) -> None:
    service = await start_service()
    assert service.settings.database_url == database_url
    joined: dict[str, str] = {}

    def on_join(event: Event) -> None:
        joined[event.get("CallerIDNum", "") or ""] = event.get("Queue", "") or ""

    service.ami.on_event("QueueCallerJoin", on_join)
    # The start-up work that reads the database (migrations, the live menu, the first queue
    # sync) is over, and no connection is left in the pool: the outage breaks only what the
    # call makes the controller try.
    await wait_for(
        lambda: service.routing.queue_sync.last_report is not None, 30, "the first queue sync"
    )
    service.engine.dispose()
    await postgres("stop")
    try:
        assert not service.health()["database"]
        # The caller presses nothing: the menu retries, then hands the call to a human.
        await carrier.call(number="13400000001", name="赵六", delay=60, hold=60)
        await wait_for(lambda: "13400000001" in joined, 60, "the call to reach a queue")
        assert joined["13400000001"] == "intake"
        assert service.call_log.pending, "the record should be waiting for the database"
    finally:
        await postgres("start")
        await until_postgres_answers(database_url)
        service.engine.dispose()  # connections the outage broke are not handed out again
    await wait_for(lambda: not service.call_log.pending, 30, "the pending records to be written")
    with service.sessions() as session:
        call = session.scalar(select(Call).where(Call.caller_number == "13400000001"))
    assert call is not None
    assert call.caller_name == "赵六"
    assert call.outcome != "in_progress"
    # The controller came through the outage whole: healthy, its queue synchroniser syncing.
    assert service.health() == {"ami": True, "database": True}
    before = service.routing.queue_sync.last_report
    service.routing.queue_sync.request_sync()
    await wait_for(lambda: service.routing.queue_sync.last_report is not before, 30, "a queue sync")
