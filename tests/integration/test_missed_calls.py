"""Missed-call call-backs and "call me back" on the sandbox: the carrier plays the citizens
(placing calls into the hotline and answering its call-backs), an operator is a pyVoIP phone
registered to the hotline Asterisk, the controller runs with its real AMI, database and
dialer. Every step waits for what the Asterisks report, never for a guessed time."""

from __future__ import annotations

import asyncio
import time as clock_time
from collections.abc import AsyncIterator
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hotline.calls.store import CallRecord
from hotline.devtools.carrier import Carrier
from hotline.devtools.menu_caller import MenuCall, call_through_menu, hang_up
from hotline.ivr.ports import send_to_queue
from hotline.outbound.tables import OutboundJob
from hotline.service import Service
from ivr.routing_port import RouteTarget
from routing.roster import Operator, Shift
from telephony.agi import AGISession
from telephony.ami_protocol import Event
from telephony.queues import queue_status
from tests.conftest import wait_for
from tests.support.operator_phone import OperatorPhone

pytestmark = pytest.mark.sandbox

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 1)  # a Tuesday
DAYTIME = datetime(2026, 12, 1, 10, tzinfo=TZ)
OPERATOR = "7001"


async def to_intake(session: AGISession, record: CallRecord) -> None:
    """The menu's part is not under test: every call goes straight to intake."""
    await session.answer()
    record.step("answer")
    record.outcome = "routed"
    await send_to_queue(session, RouteTarget("intake", tags={"display": "来电"}))


async def intake_members(service: Service) -> dict[str, bool]:
    """Extension -> paused, of intake's members."""
    status = await queue_status(service.ami, "intake")
    return {m.interface.removeprefix("PJSIP/"): m.paused for m in status.get("intake", [])}


async def settle(service: Service, wanted: dict[str, bool]) -> None:
    """Until intake's membership is `wanted` and has held for a second (a sync started with
    the real clock at start-up may land after the test's own)."""
    deadline = clock_time.monotonic() + 20
    steady: float | None = None
    while True:
        now = clock_time.monotonic()
        if await intake_members(service) == wanted:
            steady = steady or now
            if now - steady >= 1.0:
                return
        else:
            steady = None
            service.routing.queue_sync.request_sync()
        assert now < deadline, f"intake did not settle: {await intake_members(service)}"
        await asyncio.sleep(0.2)


@pytest.fixture
async def phone(settings: Any) -> AsyncIterator[OperatorPhone]:
    made = OperatorPhone(settings, OPERATOR, 15091, 22600)
    await made.start()
    try:
        yield made
    finally:
        await made.stop()


@pytest.fixture
async def hotline(start_service: Any, phone: OperatorPhone) -> Service:
    """A controller that sends every call to intake, whose one operator (7001, on duty at
    the test's clock) is paused: callers wait until the test unpauses them."""
    # Calling hours all day (the calls are real, the clock is the machine's).
    service: Service = await start_service(
        to_intake, speech_enabled=False, outbound_hours="00:00-24:00", outbound_on_holidays=True
    )
    await service.routing.queue_sync.sync()
    service.routing.clock = lambda: DAYTIME
    await service.routing.queue_sync.set_paused(OPERATOR, True, "test")
    store = service.routing.store
    await asyncio.to_thread(store.put_operator, Operator(OPERATOR, "王芳", "intake"))
    await asyncio.to_thread(store.put_shift, Shift("day", time(8), time(16)))
    await asyncio.to_thread(store.add_assignment, DAY, "day", OPERATOR)
    await service.routing.queue_sync.sync()
    await settle(service, {OPERATOR: True})
    return service


async def jobs(service: Service, kind: str) -> list[OutboundJob]:
    store = service.outbound.store
    return (await asyncio.to_thread(store.jobs, kind=[kind]))[1]


async def until_job(service: Service, kind: str, number: str) -> OutboundJob:
    deadline = clock_time.monotonic() + 20
    while True:
        found = [job for job in await jobs(service, kind) if job.number == number]
        if found:
            return found[0]
        assert clock_time.monotonic() < deadline, f"no {kind} job for {number}"
        await asyncio.sleep(0.1)


async def wait_in_intake(service: Service, carrier: Carrier, number: str) -> MenuCall:
    call = await call_through_menu(carrier, service.ami, number=number, keys="", timeout=30)
    assert call.queue == "intake", call
    return call


async def call_back_now(service: Service, job_id: int) -> None:
    """The engine's own trigger ("retry now"): the job is due at once, the dialer woken."""
    store = service.outbound.store
    await asyncio.to_thread(store.retry_now, job_id, service.outbound.dialer.clock(), "test")
    service.outbound.dialer.wake()


def watch(service: Service, name: str) -> list[Event]:
    seen: list[Event] = []
    service.ami.on_event(name, seen.append)
    return seen


async def test_a_caller_who_hangs_up_in_the_queue_is_called_back_and_reaches_an_operator(
    hotline: Service, carrier: Carrier, phone: OperatorPhone
) -> None:
    service = hotline
    call = await wait_in_intake(service, carrier, "13800138011")
    await hang_up(carrier, call)
    job = await until_job(service, "missed", "13800138011")
    assert job.detail["count"] == 1 and job.detail["missed_queue"] == "intake"
    assert not phone.invites

    # The operator is free; the call-back is made due now.
    await service.routing.queue_sync.set_paused(OPERATOR, False)
    await call_back_now(service, job.id)
    await wait_for(lambda: bool(phone.invites), 60, "the operator's phone to ring")
    assert phone.shown_names() == ["漏接回拨"]
    assert "13800138011" in str(phone.invites[0]["From"]["raw"])
    tag = phone.header("X-Hotline-Tag")[0]
    assert tag.startswith("callback=missed")


async def test_call_me_back_is_placed_only_when_an_operator_is_free_and_nobody_waits(
    hotline: Service, carrier: Carrier, phone: OperatorPhone
) -> None:
    """Answered, a call-back joins intake ahead of the callers there: it is not placed while
    an inbound caller waits, nor while no operator is free."""
    service = hotline
    dialer = service.outbound.dialer
    requested = watch(service, "UserEvent")
    dialled: list[str] = []
    carrier.ami.on_event(
        "UserEvent",
        lambda e: (
            dialled.append(e.get("Exten") or "") if e.get("UserEvent") == "CarrierCalled" else None
        ),
    )
    first = await wait_in_intake(service, carrier, "13800138021")
    await carrier.ami.action("PlayDTMF", {"Channel": first.channel, "Digit": "1", "Duration": 200})
    job = await until_job(service, "queue_callback", "13800138021")
    assert job.detail["queue"] == "intake" and job.detail["position"] == 1
    assert any(e.get("UserEvent") == "HotlineCallbackRequested" for e in requested)
    # Pressing 1 is a request, not an abandoned call.
    assert await jobs(service, "missed") == []

    async def held_back() -> None:
        dialer.last_reason = ""
        dialer.wake()
        await wait_for(
            lambda: dialer.last_reason == "callbacks_wait_for_operators",
            30,
            "the dialer to hold the call-back back",
        )
        held = service.outbound.store.job(job.id)
        assert (held.state, held.tries) == ("pending", 0)
        assert "13800138021" not in dialled

    # An inbound caller waits (the operator is paused): the call-back is due but not placed.
    second = await wait_in_intake(service, carrier, "13800138022")
    await call_back_now(service, job.id)
    await held_back()
    # Nobody waits any more, but no operator is free: still not placed.
    await hang_up(carrier, second)
    await until_waiting(service, 0)
    await held_back()
    # The operator becomes free: the call-back is placed and connected to them.
    await service.routing.queue_sync.set_paused(OPERATOR, False)
    await wait_for(lambda: bool(phone.invites), 60, "the operator's phone to ring")
    assert "13800138021" in dialled
    assert phone.shown_names()[0] == "预约回拨"
    assert "13800138021" in str(phone.invites[0]["From"]["raw"])


async def until_waiting(service: Service, callers: int) -> None:
    deadline = clock_time.monotonic() + 30
    while True:
        _, events = await service.ami.action_list("QueueSummary", {"Queue": "intake"})
        if any(e.get("Callers") == str(callers) for e in events):
            return
        assert clock_time.monotonic() < deadline, f"intake never had {callers} callers waiting"
        await asyncio.sleep(0.2)
