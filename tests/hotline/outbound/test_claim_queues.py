"""Claiming only the call-backs whose queue can take one, on the real database (SQLite and
PostgreSQL): the dialer passes the queues with an operator free and nobody waiting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hotline.core import db
from hotline.outbound.store import OutboundStore

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def store(database_url: str) -> OutboundStore:
    if database_url.startswith("sqlite"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db.upgrade(database_url)
    return OutboundStore(db.session_factory(db.make_engine(database_url)), "Asia/Shanghai")


def test_a_call_back_for_a_busy_queue_is_left_and_a_survey_goes_ahead(
    store: OutboundStore,
) -> None:
    urgent = store.schedule("missed", "13800138001", due_at=T0, priority=9)
    elderly = store.schedule(
        "queue_callback", "13800138002", due_at=T0, priority=8, detail={"queue": "elderly"}
    )
    survey = store.schedule("survey", "13800138003", due_at=T0, priority=1)
    now = T0 + timedelta(seconds=1)

    # intake (where a call-back without a queue goes) is busy; elderly can take one
    first = store.claim("w", now, queues={"elderly"})
    assert first is not None and first.job_id == elderly
    # no queue can take a call-back: only the survey is called
    second = store.claim("w", now, queues=set())
    assert second is not None and second.job_id == survey
    assert store.claim("w", now, queues=set()) is None
    assert store.job(urgent).state == "pending" and store.job(urgent).tries == 0

    third = store.claim("w", now, queues={"intake"})
    assert third is not None and third.job_id == urgent
