"""Missed-call call-backs and "call me back": which calls are missed, one entry per number,
when a queue caller's call-back is due. The rules are plain functions; the list is the real
schedule on the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hotline.core import db
from hotline.outbound.missed import (
    MISSED_PRIORITY,
    Miss,
    MissedCalls,
    callable_number,
    miss_from_abandon,
    missed_in_ivr,
)
from hotline.outbound.queue_offer import (
    DEFAULT_HANDLE_SECONDS,
    MAX_WAIT,
    MIN_WAIT,
    QUEUE_CALLBACK_PRIORITY,
    WRAPUP_SECONDS,
    QueueFigures,
    QueueOffer,
    Request,
    estimate_wait,
    figures_from_status,
)
from hotline.outbound.store import OutboundStore
from telephony.ami_client import AMIClient
from telephony.ami_protocol import Event

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
GREETED = [{"step": "answer"}, {"step": "ivr_start"}, {"step": "play", "prompt": "greeting"}]


def event(name: str, **headers: str) -> Event:
    return Event("", (("Event", name), *headers.items()))


# ---- which calls are missed -----------------------------------------------------------
def test_a_caller_who_hangs_up_after_the_greeting_is_missed() -> None:
    assert missed_in_ivr("caller_hung_up", [*GREETED, {"step": "node", "node": "menu"}])


def test_a_caller_who_hangs_up_during_the_greeting_is_not() -> None:
    assert not missed_in_ivr("caller_hung_up", [{"step": "answer"}, {"step": "ivr_start"}])


def test_an_emergency_handed_over_is_not_missed() -> None:
    path = [*GREETED, {"step": "transfer", "number": "120"}]
    assert not missed_in_ivr("caller_hung_up", path)


@pytest.mark.parametrize("outcome", ["routed", "transferred", "completed", "failed"])
def test_a_call_that_went_on_is_not_missed(outcome: str) -> None:
    assert not missed_in_ivr(outcome, GREETED)


@pytest.mark.parametrize(
    ("number", "expected"),
    [
        ("13800138000", "13800138000"),
        ("+8613800138000", "+8613800138000"),
        ("04718888888", "04718888888"),
        ("110", None),
        ("anonymous", None),
        ("", None),
        ("1380013800O", None),
    ],
)
def test_only_a_real_number_is_called_back(number: str, expected: str | None) -> None:
    assert callable_number(number) == expected


def test_an_abandon_event_names_the_number_queue_and_wait() -> None:
    miss = miss_from_abandon(
        event(
            "QueueCallerAbandon",
            Queue="intake",
            CallerIDNum="13800138000",
            HoldTime="42",
            Uniqueid="1.1",
        ),
        T0,
    )
    assert miss == Miss("13800138000", "queue", T0, "1.1", "intake", 42)
    assert miss_from_abandon(event("QueueCallerAbandon", CallerIDNum="<unknown>"), T0) is None


# ---- when a kept place is called back -------------------------------------------------
def test_the_wait_is_position_times_handle_time_over_operators() -> None:
    figures = QueueFigures("intake", talk_seconds=120, hold_seconds=30, operators=2, waiting=4)
    assert estimate_wait(3, figures) == pytest.approx(3 * (120 + WRAPUP_SECONDS) / 2)


def test_a_queue_without_measured_calls_uses_the_typical_call() -> None:
    figures = QueueFigures("intake", talk_seconds=0, hold_seconds=0, operators=0, waiting=1)
    assert estimate_wait(2, figures) == pytest.approx(2 * (DEFAULT_HANDLE_SECONDS + WRAPUP_SECONDS))
    assert estimate_wait(1, None) == DEFAULT_HANDLE_SECONDS + WRAPUP_SECONDS


def test_the_wait_stays_within_its_bounds() -> None:
    fast = QueueFigures("intake", talk_seconds=1, hold_seconds=0, operators=50, waiting=1)
    assert estimate_wait(1, fast) == MIN_WAIT
    assert estimate_wait(10_000, None) == MAX_WAIT


def test_queue_status_gives_talk_time_and_operators_taking_calls() -> None:
    events = [
        event("QueueParams", Queue="intake", TalkTime="97", Holdtime="12", Calls="3"),
        event("QueueMember", Queue="intake", Name="7001", Paused="0"),
        event("QueueMember", Queue="intake", Name="7002", Paused="1"),
        event("QueueMember", Queue="intake", Name="7003", Paused="0"),
        event("QueueParams", Queue="dispatch", TalkTime="500", Calls="9"),
        event("QueueMember", Queue="dispatch", Name="7009", Paused="0"),
    ]
    assert figures_from_status("intake", events) == QueueFigures("intake", 97, 12, 2, 3)


# ---- the list, on the real database ---------------------------------------------------
@pytest.fixture
def store(database_url: str) -> OutboundStore:
    if database_url.startswith("sqlite"):
        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db.upgrade(database_url)
    return OutboundStore(db.session_factory(db.make_engine(database_url)), "Asia/Shanghai")


def missed_calls(store: OutboundStore, clock: list[datetime]) -> MissedCalls:
    ami = AMIClient("127.0.0.1", 1, "x", "y")  # never connected: events are fed by hand
    calls = MissedCalls(ami, store, store._sessions, delay=300, clock=lambda: clock[0])
    calls.start()
    return calls


def jobs(store: OutboundStore) -> list[Any]:
    return store.jobs(kind=["missed"])[1]


async def test_repeated_misses_from_one_number_are_one_entry_with_a_count(
    store: OutboundStore,
) -> None:
    clock = [T0]
    calls = missed_calls(store, clock)
    calls.ami._dispatch(
        event(
            "QueueCallerAbandon",
            Queue="intake",
            CallerIDNum="13800138000",
            HoldTime="40",
            Uniqueid="1.1",
        )
    )
    await calls.stop()
    clock[0] = T0 + timedelta(minutes=2)
    calls.start()
    calls.call_ended("caller_hung_up", GREETED, "13800138000")
    calls.call_ended("caller_hung_up", GREETED, "13900139000")
    await calls.stop()
    found = {job.number: job for job in jobs(store)}
    assert set(found) == {"13800138000", "13900139000"}
    first = found["13800138000"]
    assert first.detail["count"] == 2 and first.detail["where"] == "ivr"
    assert first.detail["missed_queue"] == "intake" and first.detail["queue"] == "intake"
    assert first.priority == MISSED_PRIORITY and first.state == "pending"
    # due a delay after the first miss: a second miss does not push the call-back back
    assert first.due_at.replace(tzinfo=UTC) == T0 + timedelta(seconds=300)


async def test_a_call_back_abandoned_again_is_not_a_new_miss(store: OutboundStore) -> None:
    calls = missed_calls(store, [T0])
    calls.ami._dispatch(event("UserEvent", UserEvent="HotlineCallbackConnected", Uniqueid="9.9"))
    calls.ami._dispatch(
        event("QueueCallerAbandon", Queue="intake", CallerIDNum="13800138000", Uniqueid="9.9")
    )
    calls.call_ended("caller_hung_up", [{"step": "answer"}], "13700137000")  # in the greeting
    calls.call_ended("routed", GREETED, "13600136000")
    await calls.stop()
    assert jobs(store) == []


async def test_call_me_back_is_due_when_the_caller_would_reach_the_front(
    store: OutboundStore,
) -> None:
    ami = AMIClient("127.0.0.1", 1, "x", "y")  # not connected: no QueueStatus, the default
    offer = QueueOffer(ami, store, clock=lambda: T0)
    job_id = await offer.schedule(Request("13800138000", "intake", 3, T0))
    assert job_id is not None
    job = store.job(job_id)
    wait = 3 * (DEFAULT_HANDLE_SECONDS + WRAPUP_SECONDS)
    assert job.kind == "queue_callback" and job.priority == QUEUE_CALLBACK_PRIORITY
    assert job.detail["queue"] == "intake" and job.detail["position"] == 3
    assert job.due_at.replace(tzinfo=UTC) == T0 + timedelta(seconds=wait)


async def test_the_request_takes_its_queue_and_place_from_the_queue_leave(
    store: OutboundStore,
) -> None:
    ami = AMIClient("127.0.0.1", 1, "x", "y")
    offer = QueueOffer(ami, store, clock=lambda: T0)
    offer.start()
    ami._dispatch(event("QueueCallerLeave", Queue="enterprise", Position="2", Uniqueid="5.5"))
    ami._dispatch(
        event(
            "UserEvent",
            UserEvent="HotlineCallbackRequested",
            Caller="13800138000",
            Position="2",
            Uniqueid="5.5",
        )
    )
    await offer.stop()
    [job] = store.jobs(kind=["queue_callback"])[1]
    assert job.number == "13800138000" and job.detail["queue"] == "enterprise"
    assert job.detail["position"] == 2
