"""The queue synchroniser's background task, against a stand-in AMI client: it outlives a
roster it cannot read (the database is down) and syncs once it can."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from hotline.roster.queue_sync import QueueSync
from routing.roster import Roster
from telephony.ami_protocol import Event, Response
from tests.conftest import wait_for


class QuietAMI:
    """Connected; Asterisk has no queue members."""

    connected = True

    def on_connection(self, callback: Any) -> None:
        pass

    async def action_list(self, name: str, headers: Any = None) -> tuple[Response, list[Event]]:
        return Response("", (("Response", "Success"),)), []


async def test_a_roster_that_cannot_be_read_does_not_stop_the_synchroniser(
    caplog: pytest.LogCaptureFixture,
) -> None:
    reads: list[str] = []

    def roster() -> Roster:
        if not reads:
            reads.append("failed")
            raise OperationalError(
                "SELECT roster_calendar.day FROM roster_calendar",
                {},
                Exception("terminating connection due to administrator command"),
            )
        reads.append("read")
        return Roster([], [], [])

    sync = QueueSync(
        QuietAMI(),  # type: ignore[arg-type]
        roster,
        lambda: datetime(2026, 12, 1, 2, tzinfo=UTC),
        retry_busy=0.05,
    )
    sync.start()
    try:
        sync.request_sync()
        await wait_for(lambda: sync.last_report is not None, 30, "a sync once the roster reads")
    finally:
        await sync.stop()  # raises whatever ended the task, if anything did
    assert reads[0] == "failed" and "read" in reads
    assert "queue sync could not read the roster: OperationalError" in caplog.text
