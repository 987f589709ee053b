"""Outbound calls on the sandbox, the carrier playing the citizens: satisfaction surveys that
close or reopen their work orders, an unanswered number tried again at its next slot and left
for a person after the last try, calling hours and the do-not-call list, and a controller
stopped in the middle of a campaign that resumes without calling anyone twice.

The carrier answers the hotline's calls in [from-hotline]; a number is made busy or silent
with AstDB (family `citizen`). Keys are pressed when the survey listens: each GET DATA of a
survey channel on the hotline's AMI, then a PlayDTMF on the carrier's side of that call.
The dialer's clock is the test's: a retry's next slot is reached by moving it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.devtools.carrier import Carrier
from hotline.orders.store import Act, NewOrder
from hotline.orders.tables import WorkOrder, WorkOrderEvent
from hotline.outbound.tables import OutboundJob
from hotline.service import Service
from telephony.ami_protocol import Event
from telephony.queues import add_member, queue_status, remove_member
from tests.conftest import wait_for

pytestmark = pytest.mark.sandbox

TZ = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 12, 7, 10, 0, tzinfo=TZ).astimezone(UTC)
#: fast dialer passes; a short ring; no pause for the queue the call-backs wait in
FAST = {
    "outbound_poll_interval": 0.3,
    "outbound_survey_poll_interval": 0.5,
    "outbound_ring_seconds": 4.0,
    "outbound_pause_queue_waiting": 0,
}


class Citizens:
    """What the carrier saw of the hotline's calls, per number, and the keys to press."""

    def __init__(self, service: Service, carrier: Carrier) -> None:
        self.service = service
        self.carrier = carrier
        self.called: Counter[str] = Counter()
        self.answered: Counter[str] = Counter()
        self.channels: dict[str, str] = {}
        self.keys: dict[str, list[str]] = defaultdict(list)
        self.pressed: dict[str, str] = defaultdict(str)
        self._tasks: set[asyncio.Task[None]] = set()
        self._stops: list[Callable[[], None]] = []
        self.watch(service)
        self._stops.append(carrier.ami.on_event("UserEvent", self._on_carrier))

    def watch(self, service: Service) -> None:
        self.service = service
        self._stops.append(service.ami.on_event("AGIExecStart", self._on_hotline))

    def _on_carrier(self, event: Event) -> None:
        number = event.get("Exten") or ""
        if event.get("UserEvent") == "CarrierCalled":
            self.called[number] += 1
        elif event.get("UserEvent") == "CarrierAnswered":
            self.answered[number] += 1
            self.channels[number] = event.get("Channel") or ""

    def _on_hotline(self, event: Event) -> None:
        call_id = event.get("Uniqueid") or ""
        if call_id.startswith("ob-") and (event.get("Command") or "").startswith("GET DATA"):
            task = asyncio.get_running_loop().create_task(self._press(call_id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _press(self, call_id: str) -> None:
        found = await asyncio.to_thread(self.service.outbound.store.attempt_by_call, call_id)
        assert found is not None
        number = found[1].number
        if not self.keys[number]:
            return  # this citizen presses nothing
        key = self.keys[number].pop(0)
        await wait_for(lambda: number in self.channels, 10, f"the carrier's channel of {number}")
        await asyncio.sleep(0.5)  # a finger after the question starts
        await self.carrier.ami.action(
            "PlayDTMF", {"Channel": self.channels[number], "Digit": key, "Duration": 200}
        )
        self.pressed[number] += key

    async def behave(self, number: str, how: str) -> None:
        await self.carrier.ami.action("DBPut", {"Family": "citizen", "Key": number, "Val": how})

    async def close(self) -> None:
        for stop in self._stops:
            with contextlib.suppress(ValueError):
                stop()
        for task in self._tasks:
            task.cancel()
        for number in list(self.called):
            await self.carrier.ami.action(
                "DBDel", {"Family": "citizen", "Key": number}, check=False
            )


#: intake's operators here: stand-ins of the hotline's dialplan (answer, talk 3 s, hang up)
STAND_INS = [f"Local/{9100 + n}@hotline-bench-operator/n" for n in range(2)]


async def stand_in_operators(service: Service) -> None:
    """A call-back is placed only while its queue (intake) has an operator free: give it
    stand-ins, which the roster's synchroniser (stopped) would otherwise take out."""
    await service.routing.queue_sync.stop()
    present = {m.interface for m in (await queue_status(service.ami, "intake")).get("intake", [])}
    for interface in STAND_INS:
        if interface not in present:
            await add_member(service.ami, "intake", interface, name="stand-in")


@pytest.fixture
async def outbound(
    start_service: Callable[..., Awaitable[Service]], carrier: Carrier
) -> AsyncIterator[tuple[Service, Citizens]]:
    service = await start_service(**FAST)
    await stand_in_operators(service)
    service.outbound.dialer.clock = lambda: MORNING
    citizens = Citizens(service, carrier)
    yield service, citizens
    await citizens.close()
    # The next test's intake is the roster's again.
    for interface in STAND_INS:
        with contextlib.suppress(Exception):
            await remove_member(service.ami, "intake", interface)


def job_of(service: Service, job_id: int) -> OutboundJob:
    return service.outbound.store.job(job_id)


def order_in_callback(service: Service, number: str) -> str:
    store = service.orders.store
    order = store.create(NewOrder(channel="web", caller_number=number, transcript="路灯不亮"))
    store.act(order.number, Act("dispatch", "dispatcher", department="housing_urban_rural"))
    store.act(order.number, Act("reply", "housing", text="已修复路灯"))
    store.act(order.number, Act("to_callback", "dispatcher"))
    return order.number


def order(service: Service, number: str) -> tuple[WorkOrder, list[WorkOrderEvent]]:
    with service.sessions() as s:
        row = s.scalar(select(WorkOrder).where(WorkOrder.number == number))
        assert row is not None
        events = list(
            s.scalars(
                select(WorkOrderEvent)
                .where(WorkOrderEvent.order_id == row.id)
                .order_by(WorkOrderEvent.id)
            )
        )
        return row, events


async def test_survey_answers_close_or_reopen_the_order(
    outbound: tuple[Service, Citizens],
) -> None:
    service, citizens = outbound
    pleased, unhappy = "13900000201", "13900000202"
    citizens.keys[pleased] = ["1", "1"]
    citizens.keys[unhappy] = ["2", "3"]
    first = await asyncio.to_thread(order_in_callback, service, pleased)
    second = await asyncio.to_thread(order_in_callback, service, unhappy)

    def finished() -> bool:
        total, rows = service.outbound.store.jobs(kind=["survey"], state=["done"])
        return total == 2

    await wait_for(finished, 120, "both surveys done")
    closed, closed_history = order(service, first)
    assert closed.status == "closed"
    assert closed.callback_result == {"solved": True, "satisfaction": "satisfied"}
    assert closed_history[-1].actor == "outbound-survey"
    reopened, reopened_history = order(service, second)
    assert reopened.status == "reopened"
    assert reopened.callback_result == {"solved": False, "satisfaction": "unsatisfied"}
    assert "未解决" in reopened_history[-1].note and "不满意" in reopened_history[-1].note
    assert citizens.pressed == {pleased: "11", unhappy: "23"}
    assert citizens.answered == {pleased: 1, unhappy: 1}
    # one survey per time in callback: the finder does not make a second job
    assert await asyncio.to_thread(service.outbound.schedule_surveys) == 0
    metrics = service.metrics.registry
    assert (
        metrics.get_sample_value(
            "hotline_outbound_satisfaction_total", {"solved": "yes", "satisfaction": "satisfied"}
        )
        == 1
    )
    assert (
        metrics.get_sample_value(
            "hotline_outbound_attempts_total", {"kind": "survey", "outcome": "completed"}
        )
        == 2
    )


async def test_an_unanswered_number_is_tried_at_its_next_slot_then_left_for_a_person(
    outbound: tuple[Service, Citizens],
) -> None:
    service, citizens = outbound
    silent, busy = "13900000301", "13900000302"
    await citizens.behave(silent, "noanswer")
    await citizens.behave(busy, "busy")
    store = service.outbound.store
    delays = service.outbound.dialer.config.delays  # 4 h, then 20 h
    jobs = {n: store.schedule("missed", n, due_at=MORNING, max_tries=2) for n in (silent, busy)}
    service.outbound.dialer.wake()

    def tried(number: str, tries: int) -> Callable[[], bool]:
        return lambda: job_of(service, jobs[number]).tries == tries

    for number in (silent, busy):
        await wait_for(tried(number, 1), 60, f"the first try of {number}")
    silent_job = job_of(service, jobs[silent])
    assert (silent_job.state, silent_job.outcome) == ("pending", "no_answer")
    assert silent_job.due_at.replace(tzinfo=UTC) == MORNING + delays[0]
    assert job_of(service, jobs[busy]).outcome == "busy"
    assert citizens.called == {silent: 1, busy: 1}

    service.outbound.dialer.clock = lambda: MORNING + delays[0]
    service.outbound.dialer.wake()
    for number in (silent, busy):
        await wait_for(tried(number, 2), 60, f"the second try of {number}")
        assert job_of(service, jobs[number]).state == "gave_up"
    assert citizens.called == {silent: 2, busy: 2}
    assert citizens.answered == {}
    total, left = store.jobs(state=["gave_up"])
    assert {j.id for j in left} == set(jobs.values())


async def test_calling_hours_and_the_do_not_call_list(
    outbound: tuple[Service, Citizens],
) -> None:
    service, citizens = outbound
    dialer = service.outbound.dialer
    store = service.outbound.store
    night = datetime(2026, 12, 7, 22, 0, tzinfo=TZ).astimezone(UTC)
    dialer.clock = lambda: night
    wanted, refused = "13900000401", "13900000402"
    store.add_do_not_call(refused, "supervisor", "asked not to be called")
    jobs = {n: store.schedule("missed", n, due_at=night) for n in (wanted, refused)}
    assert await dialer.tick() == "outside_hours"
    assert store.attempts(list(jobs.values())) == {j: [] for j in jobs.values()}

    next_morning = datetime(2026, 12, 8, 8, 0, tzinfo=TZ).astimezone(UTC)
    dialer.clock = lambda: next_morning
    assert await dialer.tick() is None
    await wait_for(lambda: job_of(service, jobs[wanted]).state == "done", 60, "the call-back")
    refused_job = job_of(service, jobs[refused])
    assert (refused_job.state, refused_job.outcome) == ("cancelled", "do_not_call")
    assert citizens.answered == {wanted: 1}
    assert citizens.called[refused] == 0


async def test_a_controller_stopped_mid_campaign_resumes_without_a_second_call(
    start_service: Callable[..., Awaitable[Service]],
    outbound: tuple[Service, Citizens],
) -> None:
    first, citizens = outbound
    numbers = [f"1390000050{i}" for i in range(1, 5)]
    store = first.outbound.store
    # one call at a time, so the stop falls between the campaign's calls
    dialer = first.outbound.dialer
    dialer.config = dataclasses.replace(
        dialer.config, limits=dataclasses.replace(dialer.config.limits, at_once=1)
    )
    jobs = [store.schedule("missed", n, due_at=MORNING) for n in numbers]
    first.outbound.dialer.wake()
    await wait_for(lambda: sum(citizens.answered.values()) >= 1, 60, "the first answer")
    await first.outbound.stop()

    second = await start_service(**FAST)
    await stand_in_operators(second)
    second.outbound.dialer.clock = lambda: MORNING
    citizens.watch(second)

    def done() -> bool:
        return all(second.outbound.store.job(j).state == "done" for j in jobs)

    await wait_for(done, 120, "every call-back of the campaign")
    assert citizens.answered == {n: 1 for n in numbers}
    assert citizens.called == {n: 1 for n in numbers}
