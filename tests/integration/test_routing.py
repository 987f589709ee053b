"""Routing against the real sandbox: operators are pyVoIP phones registered to the hotline
Asterisk; the carrier places real calls; the controller routes them with the roster router
and Asterisk's queues follow the roster."""

from __future__ import annotations

import asyncio
import time as clock_time
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.calls.store import CallRecord
from hotline.calls.tables import Call
from hotline.devtools.carrier import Carrier
from hotline.ivr.ports import send_to_queue
from hotline.roster.tables import CallRouteRow
from hotline.service import Service
from ivr.routing_port import CallFacts
from routing.roster import Operator, Shift
from telephony.agi import AGISession
from telephony.queues import queue_status
from tests.conftest import wait_for
from tests.support.operator_phone import OperatorPhone

pytestmark = pytest.mark.sandbox

TZ = ZoneInfo("Asia/Shanghai")
DAY = date(2026, 12, 1)
DAYTIME = datetime(2026, 12, 1, 10, tzinfo=TZ)
EVENING = datetime(2026, 12, 1, 20, tzinfo=TZ)
OURS = ("intake", "intake-mongolian", "dispatch", "enterprise", "callback", "multimedia")


def seed_roster(service: Service) -> None:
    """Day shift 08-16: 7001 (intake), 7002 (intake, Mongolian), 7003 (dispatch).
    Night shift 16-08: 7001 only."""
    store = service.routing.store
    store.put_operator(Operator("7001", "王芳", "intake"))
    store.put_operator(Operator("7002", "巴特尔", "intake", frozenset({"mandarin", "mongolian"})))
    store.put_operator(Operator("7003", "李强", "dispatch"))
    store.put_shift(Shift("day", time(8), time(16)))
    store.put_shift(Shift("night", time(16), time(8)))
    for ext in ("7001", "7002", "7003"):
        store.add_assignment(DAY, "day", ext)
    store.add_assignment(DAY, "night", "7001")


async def membership(service: Service) -> dict[str, set[str]]:
    status = await queue_status(service.ami)
    return {
        q: {m.interface.removeprefix("PJSIP/") for m in status.get(q, []) if m.dynamic}
        for q in OURS
    }


def routing_flow(holder: dict[str, Service], callers: dict[str, dict[str, Any]]) -> Any:
    """Answer, route what the test says this caller said, and hand the call to its queue.
    (The speech step belongs to the IVR; here the transcript comes from the test.)"""

    async def flow(session: AGISession, record: CallRecord) -> None:
        await session.answer()
        record.step("answer")
        spec = callers[session.caller_number]
        facts = CallFacts(
            unique_id=session.unique_id,
            caller_number=session.caller_number,
            caller_name=session.caller_name,
            language=spec.get("language", "mandarin"),
            tags=spec.get("tags", {}),
            transcript=spec.get("text"),
        )
        target = await holder["service"].router.route(facts)
        record.step("route", queue=target.queue, priority=target.priority, tags=target.tags)
        record.outcome = "routed"
        await send_to_queue(session, target)

    return flow


@pytest.fixture
async def phones(settings: Any) -> AsyncIterator[dict[str, OperatorPhone]]:
    made = {
        ext: OperatorPhone(settings, ext, 15071 + n, 22200 + 50 * n)
        for n, ext in enumerate(("7001", "7002", "7003"))
    }
    try:
        for phone in made.values():
            await phone.start()
        yield made
    finally:
        for phone in made.values():
            await phone.stop()


async def start_routing_service(
    start_service: Any, callers: dict[str, dict[str, Any]], at: datetime
) -> Service:
    holder: dict[str, Service] = {}
    service = await start_service(routing_flow(holder, callers), speech_enabled=False)
    holder["service"] = service
    # First let the start-up sync (real clock, empty roster) finish: it empties the queues
    # an earlier test filled. Only then set the test's clock and roster.
    await service.routing.queue_sync.sync()
    deadline = clock_time.monotonic() + 15
    while any((await membership(service)).values()):
        assert clock_time.monotonic() < deadline, await membership(service)
        await service.routing.queue_sync.sync()
        await asyncio.sleep(0.3)
    service.routing.clock = lambda: at
    await asyncio.to_thread(seed_roster, service)
    await service.routing.queue_sync.sync()
    # The synchroniser also runs by itself (at start-up, on reconnection): wait until
    # Asterisk's membership has settled on the roster at `at`.
    wanted = service.routing.queue_sync.desired(at)
    expected = {q: set(wanted.get(q, set())) for q in OURS}
    # A sync the synchroniser started at start-up (with the real clock and an empty roster)
    # may still land after ours: wait until the membership has held for a second.
    deadline = clock_time.monotonic() + 20
    steady_since: float | None = None
    while True:
        now = clock_time.monotonic()
        if await membership(service) == expected:
            steady_since = steady_since or now
            if now - steady_since >= 1.0:
                return service
        else:
            steady_since = None
            service.routing.queue_sync.request_sync()
        if now > deadline:
            raise AssertionError(
                f"queues did not settle: {await membership(service)} != {expected}"
            )
        await asyncio.sleep(0.2)


async def wait_until_busy(service: Service, queue: str, extension: str) -> None:
    """Until Asterisk reports the member on a call (answered and bridged)."""
    deadline = clock_time.monotonic() + 30
    while True:
        status = await queue_status(service.ami, queue)
        if any(m.interface == f"PJSIP/{extension}" and m.busy for m in status.get(queue, [])):
            return
        assert clock_time.monotonic() < deadline, f"{extension} never busy in {queue}: {status}"
        await asyncio.sleep(0.2)


def route_of(service: Service, number: str) -> CallRouteRow | None:
    with service.sessions() as s:
        return s.scalar(select(CallRouteRow).where(CallRouteRow.caller_number == number))


async def test_heating_complaint_reaches_an_on_duty_intake_operator_with_the_tag(
    start_service: Any, carrier: Carrier, phones: dict[str, OperatorPhone]
) -> None:
    callers = {"13800138001": {"text": "我家暖气不热，屋里才十二度，我要投诉"}}
    service = await start_routing_service(start_service, callers, DAYTIME)
    assert (await membership(service))["intake"] == {"7001", "7002"}

    await carrier.call(number="13800138001", name="张三", delay=0.5, hold=12)
    await wait_for(
        lambda: sum(len(p.invites) for p in phones.values()) >= 1, 25, "an operator's phone to ring"
    )
    rung = [p for p in phones.values() if p.invites]
    assert [p.extension for p in rung] in (["7001"], ["7002"])  # intake only, never dispatch
    tags = rung[0].header("X-Hotline-Tag")
    assert tags and "department=heating" in tags[0] and "kind=complaint" in tags[0]
    assert "queue=intake" in tags[0]
    assert rung[0].shown_names() == ["投诉|供热"]

    row = route_of(service, "13800138001")
    assert row is not None and (row.queue, row.rule) == ("intake", "default")
    assert row.classification is not None and row.classification["department"] == "heating"
    # How long deciding took is recorded (`hotline bench route` measures how fast it is).
    assert row.classification["kind"] == "complaint" and row.decision_ms > 0
    with service.sessions() as s:
        call = s.scalar(select(Call).where(Call.caller_number == "13800138001"))
        assert call is not None
        assert [st["queue"] for st in call.path if st["step"] == "route"] == ["intake"]


async def test_mongolian_caller_with_no_mongolian_speaker_on_duty_falls_back_tagged(
    start_service: Any, carrier: Carrier, phones: dict[str, OperatorPhone]
) -> None:
    callers = {"13900139002": {"text": "我想咨询一下社保怎么交", "language": "mongolian"}}
    service = await start_routing_service(start_service, callers, EVENING)
    members = await membership(service)
    assert members["intake"] == {"7001"} and members["intake-mongolian"] == set()

    await carrier.call(number="13900139002", name="巴雅尔", delay=0.5, hold=10)
    await wait_for(lambda: bool(phones["7001"].invites), 25, "7001 to ring")
    assert not phones["7002"].invites and not phones["7003"].invites
    tag = phones["7001"].header("X-Hotline-Tag")[0]
    assert "fallback=intake-mongolian" in tag and "language=mongolian" in tag
    assert "兜底" in phones["7001"].shown_names()[0]
    row = route_of(service, "13900139002")
    assert row is not None and (row.wanted, row.queue) == ("intake-mongolian", "intake")
    assert "nobody on duty in intake-mongolian" in row.explanation


async def test_queue_membership_follows_the_roster_across_a_shift_change(
    start_service: Any,
) -> None:
    service = await start_routing_service(start_service, {}, DAYTIME)
    assert await membership(service) == {
        "intake": {"7001", "7002"},
        "intake-mongolian": {"7002"},
        "dispatch": {"7003"},
        "enterprise": set(),
        "callback": set(),
        "multimedia": set(),
    }
    # A clock that reaches the 16:00 shift boundary in two seconds: the synchroniser wakes
    # at the boundary by itself.
    t0 = clock_time.monotonic()
    start = datetime(2026, 12, 1, 15, 59, 58, tzinfo=TZ)
    service.routing.clock = lambda: start + timedelta(seconds=clock_time.monotonic() - t0)
    service.routing.queue_sync.request_sync()
    night = {"intake": {"7001"}, **{q: set() for q in OURS if q != "intake"}}
    deadline = clock_time.monotonic() + 15
    while await membership(service) != night:
        assert clock_time.monotonic() < deadline, await membership(service)
        await asyncio.sleep(0.2)
        if service.routing.clock() >= datetime(2026, 12, 1, 16, 0, 1, tzinfo=TZ):
            service.routing.queue_sync.request_sync()
    assert service.routing.clock() >= datetime(2026, 12, 1, 16, tzinfo=TZ)


async def test_operator_on_a_call_is_removed_only_after_the_call(
    start_service: Any, carrier: Carrier, phones: dict[str, OperatorPhone]
) -> None:
    callers = {"13700137003": {"text": "我想问一下公积金怎么提取", "language": "mongolian"}}
    service = await start_routing_service(start_service, callers, DAYTIME)
    await carrier.call(number="13700137003", name="测试", delay=0.5, hold=8)
    await wait_for(lambda: bool(phones["7002"].invites), 25, "7002 to answer")
    await wait_until_busy(service, "intake-mongolian", "7002")

    service.routing.clock = lambda: EVENING
    report = await service.routing.queue_sync.sync()
    assert ("intake-mongolian", "7002") in report.deferred
    assert "7002" in (await membership(service))["intake-mongolian"]
    # The carrier hangs up after its hold time; the deferred removal follows.
    deadline = clock_time.monotonic() + 20
    while "7002" in (await membership(service))["intake-mongolian"]:
        assert clock_time.monotonic() < deadline, "7002 still a member after the call"
        await asyncio.sleep(0.3)
    # The evening roster in every queue, once the synchroniser has run again.
    while (members := await membership(service))["intake"] != {"7001"}:
        assert clock_time.monotonic() < deadline + 10, members
        service.routing.queue_sync.request_sync()
        await asyncio.sleep(0.5)


async def test_pause_and_unpause_reach_asterisk(start_service: Any) -> None:
    service = await start_routing_service(start_service, {}, DAYTIME)
    await service.routing.queue_sync.set_paused("7001", True, "break")
    status = await queue_status(service.ami, "intake")
    paused = {m.interface: m.paused for m in status["intake"]}
    assert paused == {"PJSIP/7001": True, "PJSIP/7002": False}
    await service.routing.queue_sync.set_paused("7001", False)
    status = await queue_status(service.ami, "intake")
    assert not any(m.paused for m in status["intake"])
