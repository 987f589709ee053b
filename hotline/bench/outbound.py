"""`hotline bench outbound`: a call-back campaign while inbound calls run.

Theory of operation: the controller runs in this process on the sandbox, every inbound call
sent straight to intake, whose operators are stand-ins in the hotline's dialplan
(``Local/<n>@hotline-bench-operator``: answer, talk `talk` seconds, hang up; the roster's
synchroniser is stopped so they stay members). First `inbound` carrier calls are placed
alone (the baseline); then `callbacks` missed-call jobs are put due at once and the same
number of inbound calls is placed while the dialer works through them. The carrier plays the
citizens (its ``[from-hotline]``, AstDB ``citizen/<number>``): a share answers, some are
busy, others do not answer.

An inbound call's queue wait is measured from the hotline's ``QueueCallerJoin`` to its
``AgentConnect`` (both as this process receives them). Reported: inbound waits (p50, p95,
max) with and without the campaign, the campaign's attempts by outcome and per minute, and
the controller's CPU and memory.
"""

from __future__ import annotations

import asyncio
import resource
import statistics
import time
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

from hotline.calls.store import CallRecord
from hotline.core.settings import Settings
from hotline.devtools.carrier import Carrier
from hotline.devtools.sandbox import Sandbox
from hotline.ivr.ports import send_to_queue
from hotline.service import Service
from ivr.routing_port import RouteTarget
from telephony.agi import AGISession
from telephony.ami_protocol import Event
from telephony.queues import add_member, queue_status, remove_member

OPERATOR_CONTEXT = "hotline-bench-operator"


@dataclass
class Waits:
    placed: int
    connected: int
    p50_ms: float
    p95_ms: float
    max_ms: float


@dataclass
class OutboundReport:
    callbacks: int
    inbound: int
    operators: int
    baseline: Waits
    with_campaign: Waits
    #: the campaign's first attempts by outcome (answered, busy, no_answer, failed)
    attempts: dict[str, int]
    attempts_per_minute: float
    campaign_seconds: float
    cpu_seconds: float
    cpu_share_of_one_core: float
    peak_rss_mb: float
    #: inbound p95 wait with the campaign is within `tolerance_ms` of the baseline's
    inbound_not_slower: bool
    tolerance_ms: float
    citizens: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


async def to_intake(session: AGISession, record: CallRecord) -> None:
    await session.answer()
    record.step("answer")
    record.outcome = "routed"
    await send_to_queue(session, RouteTarget("intake", tags={"display": "来电"}))


def _percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def behaviour(n: int, answer_share: float, busy_share: float) -> str:
    """Citizen `n`'s behaviour, spread evenly over the campaign."""
    position = (n * 0.618034) % 1.0
    if position < answer_share:
        return "answer"
    if position < answer_share + busy_share:
        return "busy"
    return "noanswer"


async def inbound_waits(
    service: Service, carrier: Carrier, numbers: list[str], ramp: float, deadline: float
) -> Waits:
    """Place a call from each of `numbers` over `ramp` seconds; their queue waits."""
    wanted = set(numbers)
    joined: dict[str, float] = {}
    waits: list[float] = []

    def on_join(event: Event) -> None:
        if event.get("CallerIDNum") in wanted:
            joined[event.get("Uniqueid", "") or ""] = time.monotonic()

    def on_connect(event: Event) -> None:
        started = joined.pop(event.get("Uniqueid", "") or "", None)
        if started is not None:
            waits.append(time.monotonic() - started)

    stops = [
        service.ami.on_event("QueueCallerJoin", on_join),
        service.ami.on_event("AgentConnect", on_connect),
    ]
    try:
        for n, number in enumerate(numbers):
            await asyncio.sleep(ramp / max(len(numbers), 1) if n else 0)
            await carrier.call(number=number, delay=0, hold=deadline)
        end = time.monotonic() + deadline
        while len(waits) < len(numbers) and time.monotonic() < end:
            await asyncio.sleep(0.2)
    finally:
        for stop in stops:
            stop()
    return Waits(
        placed=len(numbers),
        connected=len(waits),
        p50_ms=_percentile(waits, 50) * 1000,
        p95_ms=_percentile(waits, 95) * 1000,
        max_ms=max(waits, default=0.0) * 1000,
    )


async def run_outbound(
    service: Service,
    carrier: Carrier,
    *,
    callbacks: int,
    inbound: int,
    operators: int,
    answer_share: float = 0.6,
    busy_share: float = 0.2,
    ramp: float = 20.0,
    deadline: float = 600.0,
    tolerance_ms: float = 1000.0,
) -> OutboundReport:
    # Stand-in operators only: the roster's synchroniser would take them out again.
    await service.routing.queue_sync.stop()
    for name, members in (await queue_status(service.ami, "intake")).items():
        for member in members:
            await remove_member(service.ami, name, member.interface)
    for n in range(operators):
        await add_member(
            service.ami, "intake", f"Local/{9000 + n}@{OPERATOR_CONTEXT}/n", name=f"bench-{n}"
        )

    baseline = await inbound_waits(
        service, carrier, [f"1580000{n:04d}" for n in range(inbound)], ramp, deadline
    )
    await hang_up_all(service, carrier)

    citizens: dict[str, int] = {}
    store = service.outbound.store
    now = service.outbound.dialer.clock()
    numbers = [f"1590100{n:04d}" for n in range(callbacks)]
    for n, number in enumerate(numbers):
        kind = behaviour(n, answer_share, busy_share)
        citizens[kind] = citizens.get(kind, 0) + 1
        await carrier.ami.action("DBPut", {"Family": "citizen", "Key": number, "Val": kind})

    def schedule_all() -> None:
        for number in numbers:
            store.schedule(
                "missed",
                number,
                due_at=now - timedelta(seconds=1),
                priority=6,
                detail={"count": 1, "where": "bench", "queue": "intake"},
                dedupe_key=f"bench:{number}",
            )

    cpu0, wall0 = time.process_time(), time.monotonic()
    await asyncio.to_thread(schedule_all)
    service.outbound.dialer.wake()
    with_campaign = await inbound_waits(
        service, carrier, [f"1580001{n:04d}" for n in range(inbound)], ramp, deadline
    )
    attempts = await until_attempted(service, callbacks, wall0 + deadline)
    campaign = time.monotonic() - wall0
    cpu = time.process_time() - cpu0
    await hang_up_all(service, carrier)
    for number in numbers:
        await carrier.ami.action("DBDel", {"Family": "citizen", "Key": number}, check=False)
    return OutboundReport(
        callbacks=callbacks,
        inbound=inbound,
        operators=operators,
        baseline=baseline,
        with_campaign=with_campaign,
        attempts=attempts,
        attempts_per_minute=sum(attempts.values()) / campaign * 60 if campaign else 0.0,
        campaign_seconds=campaign,
        cpu_seconds=cpu,
        cpu_share_of_one_core=cpu / campaign if campaign else 0.0,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        inbound_not_slower=(
            with_campaign.connected == with_campaign.placed
            and with_campaign.p95_ms <= baseline.p95_ms + tolerance_ms
        ),
        tolerance_ms=tolerance_ms,
        citizens=citizens,
    )


async def until_attempted(service: Service, jobs: int, deadline: float) -> dict[str, int]:
    """Until every job has had its first attempt (or the deadline); outcomes of those."""
    store = service.outbound.store

    def first_outcomes() -> dict[str, int]:
        total, _ = store.jobs(kind=["missed"], limit=1)
        ids: list[int] = []
        offset = 0
        while offset < total:
            _, page = store.jobs(kind=["missed"], limit=200, offset=offset)
            ids += [job.id for job in page]
            offset += 200
        counts: dict[str, int] = {}
        for attempts in store.attempts(ids).values():
            if attempts and attempts[0].outcome != "in_progress":
                counts[attempts[0].outcome] = counts.get(attempts[0].outcome, 0) + 1
        return counts

    while True:
        counts = await asyncio.to_thread(first_outcomes)
        if sum(counts.values()) >= jobs or time.monotonic() > deadline:
            return counts
        await asyncio.sleep(1.0)


async def hang_up_all(service: Service, carrier: Carrier) -> None:
    for ami in (carrier.ami, service.ami):
        _, events = await ami.action_list("CoreShowChannels")
        for event in events:
            channel = event.get("Channel", "") or ""
            if channel:
                await ami.action("Hangup", {"Channel": channel}, check=False)


async def bench(
    settings: Settings, callbacks: int, inbound: int, operators: int, ramp: float
) -> OutboundReport:
    box = Sandbox(settings)
    with box.lock():
        await asyncio.to_thread(box.up)
        service = Service(settings, to_intake)
        await service.start()
        try:
            await service.ami.wait_connected(15)
            async with Carrier.from_settings(settings) as carrier:
                try:
                    return await run_outbound(
                        service,
                        carrier,
                        callbacks=callbacks,
                        inbound=inbound,
                        operators=operators,
                        ramp=ramp,
                    )
                finally:
                    for name in ("carrier", "hotline"):
                        await asyncio.to_thread(box.cli, name, "channel request hangup all")
        finally:
            await service.stop()
