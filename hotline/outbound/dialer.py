"""The dialer: places the calls of due jobs through the hotline's trunk and files outcomes.

Theory of operation: `tick` is one pass. It asks the rules (`hotline.outbound.rules`)
whether a call may start now (people's pause, long inbound queues, calling hours and
holidays, the at-once and per-minute limits); if so it claims as many due jobs as there is
room for (`OutboundStore.claim`: the attempt row exists before the call) and places each in
its own task. A call is an AMI ``Originate`` (Async) of ``PJSIP/<number>@carrier`` with the
hotline's caller id and the attempt's `call_id` as the channel's unique id (``ChannelId``),
so the ``OriginateResponse`` (and, for a survey, the AsyncAGI session) is matched to its
attempt; an answer that comes before the channel exists is matched by its ActionID. A survey
goes to ``hotline-outbound-survey`` (AsyncAGI: the feature plays the survey); other kinds go
to ``hotline-callback-connect`` with CALLBACK_KIND, CALLBACK_QUEUE, CALLBACK_PRIORITY and
CALLBACK_TAG, where the dialplan puts the citizen in the queue.

A call-back is answered into a queue at high priority, ahead of inbound callers, so it is
placed only for a queue that has an operator free and not promised to another call-back in
flight, and nobody waiting (`rules.callback_blocked`), checked on a fresh read of AMI's
``QueueSummary`` just before each claim and again just before its Originate (a read is
reused for `queue_cache` seconds, so AMI is not flooded). A call-back is promised an
operator from its claim until it leaves its queue (``QueueCallerLeave``: an operator took
it) or hangs up, and until a read of the queues made after that shows it: a read started
earlier might not count the operator as taken yet.

An unanswered try is due again after the next retry delay, at the next moment calls are
allowed; after the last try the job is `gave_up`, left for a person. `run` calls `tick`
every `poll` seconds (or sooner when woken); `stop` stops claiming and waits for the calls
in progress, so a controller that is stopped neither drops nor repeats a call.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, Counter

from hotline.core.auth import mask_number
from hotline.outbound.rules import (
    CallingHours,
    Limits,
    Moment,
    QueueNow,
    callback_blocked,
    next_open,
    next_try,
    open_queues,
    outcome_of,
    room,
    why_not_now,
)
from hotline.outbound.store import Claimed, OutboundStore
from telephony.ami_client import AMIActionError, AMIClient, AMIError
from telephony.ami_protocol import Event

log = logging.getLogger("hotline.outbound")

SURVEY_CONTEXT = "hotline-outbound-survey"
CONNECT_CONTEXT = "hotline-callback-connect"


#: how many times (each `queue_cache` apart) a claimed call-back's queue is checked again
#: before the call is given back unplaced
HOLD_CHECKS = 20


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class DialerConfig:
    hours: CallingHours = CallingHours()
    limits: Limits = Limits()
    #: waits before the second, third... try
    delays: tuple[timedelta, ...] = (timedelta(hours=4), timedelta(hours=20))
    #: how long the citizen's phone rings before the try counts as unanswered
    ring_seconds: float = 30.0
    #: the dial string; {number} is the citizen's number
    dial: str = "PJSIP/{number}@carrier"
    caller_id: str = "12345"
    #: the longest a survey call may take, from the answer
    survey_seconds: float = 300.0
    poll: float = 5.0
    #: how long a read of the queues (AMI QueueSummary) is reused
    queue_cache: float = 1.0
    #: a call-back's promise outlives its leaving the queue by this, for the operator's
    #: state to reach QueueSummary
    promise_grace: float = 1.0
    #: a promise whose end was never seen (a lost event) is dropped after this
    promise_max: float = 900.0


@dataclass
class Promise:
    """An operator a call-back in flight will take: from its claim until it leaves its
    queue or hangs up (`ended`, monotonic seconds), and a read of the queues after that."""

    queue: str
    since: float
    ended: float | None = None


def joins_queue(claimed: Claimed) -> str | None:
    """The queue a call-back joins when answered (None: a survey, which joins none)."""
    if claimed.kind == "survey":
        return None
    return str(claimed.detail.get("queue") or "intake")


@dataclass
class AttemptEnd:
    """How an answered call ended, as the survey tells: the attempt's outcome, whether the
    job is finished (else tried again), and what to file."""

    outcome: str
    finished: bool
    keys: str = ""
    detail: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    note: str = ""


#: after_answer(claimed) -> how the answered call ended (the survey's part)
AfterAnswer = Callable[[Claimed], Awaitable[AttemptEnd]]


class OutboundCounters:
    """The dialer's figures on /metrics."""

    def __init__(self, registry: CollectorRegistry | None) -> None:
        self.attempts = Counter(
            "hotline_outbound_attempts",
            "Outbound call attempts by kind and outcome",
            ["kind", "outcome"],
            registry=registry,
        )
        self.answers = Counter(
            "hotline_outbound_answers",
            "Outbound calls the citizen answered",
            ["kind"],
            registry=registry,
        )
        self.completions = Counter(
            "hotline_outbound_completions",
            "Outbound jobs finished by kind and how (done, gave_up, cancelled)",
            ["kind", "state"],
            registry=registry,
        )
        self.satisfaction = Counter(
            "hotline_outbound_satisfaction",
            "Survey answers: solved (yes/no) and satisfaction",
            ["solved", "satisfaction"],
            registry=registry,
        )


class Dialer:
    def __init__(
        self,
        ami: AMIClient,
        store: OutboundStore,
        config: DialerConfig,
        *,
        timezone: str,
        is_holiday: Callable[[date], bool] = lambda day: False,
        after_answer: AfterAnswer | None = None,
        counters: OutboundCounters | None = None,
        worker: str | None = None,
    ) -> None:
        self.ami = ami
        self.store = store
        self.config = config
        self.zone = ZoneInfo(timezone)
        self.is_holiday = is_holiday
        self.after_answer = after_answer
        self.counters = counters or OutboundCounters(None)
        self.worker = worker or f"dialer-{secrets.token_hex(4)}"
        #: the one clock of the dialer (UTC, aware); tests stand it at any moment
        self.clock: Callable[[], datetime] = utc_now
        #: the last read of the queues (None: not read yet, or AMI could not tell)
        self.queues: Mapping[str, QueueNow] | None = None
        self._read_at = -1e9
        self._read_lock = asyncio.Lock()
        #: call-backs in flight by call id, each promised one of its queue's free operators
        self.promises: dict[str, Promise] = {}
        #: why the last pass placed no call ("" when it placed some or had none due)
        self.last_reason = ""
        self._answers: dict[str, asyncio.Future[Event]] = {}
        self._actions: dict[str, str] = {}
        self._early: OrderedDict[str, Event] = OrderedDict()
        self._calls: set[asyncio.Task[None]] = set()
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._stopping = False
        #: hang-up causes of calls still waiting for their OriginateResponse (busy is told
        #: by the cause, 17, not by the response's Reason)
        self._causes: dict[str, asyncio.Future[str]] = {}
        self._unsubscribe = [
            ami.on_event("OriginateResponse", self._on_originate_response),
            ami.on_event("Hangup", self._on_hangup),
            ami.on_event("QueueCallerLeave", self._on_queue_leave),
        ]

    # ---- running ---------------------------------------------------------------------
    def start(self) -> None:
        self._runner = asyncio.create_task(self.run(), name="outbound-dialer")

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        while not self._stopping:
            try:
                await self.tick()
            except Exception:
                log.exception("outbound dialer pass failed; trying again")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll)

    async def stop(self, drain: float = 15.0) -> None:
        """Stop claiming; wait up to `drain` seconds for calls in progress to end (those
        that do not are marked interrupted by the next start and called again)."""
        self._stopping = True
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
        if self._calls:
            _, pending = await asyncio.wait(set(self._calls), timeout=drain)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []

    @property
    def in_flight(self) -> int:
        return len(self._calls)

    @property
    def waiting(self) -> Mapping[str, int] | None:
        """Callers waiting per inbound queue, as last read (None: not known)."""
        if self.queues is None:
            return None
        return {name: q.callers for name, q in self.queues.items()}

    async def read_queues(self, max_age: float | None = None) -> Mapping[str, QueueNow] | None:
        """The queues as AMI's QueueSummary tells them, a read at most `max_age` seconds old
        (the configured cache by default); None when AMI cannot tell."""
        age = self.config.queue_cache if max_age is None else max_age
        async with self._read_lock:  # callers at the same moment share one read
            if time.monotonic() - self._read_at <= age:
                return self.queues
            started = time.monotonic()
            try:
                _, events = await self.ami.action_list("QueueSummary")
            except (AMIError, TimeoutError) as exc:
                if self.queues is not None:
                    log.warning("outbound paused: inbound queues not readable (%s)", exc)
                self.queues = None
            else:
                self.queues = {
                    str(e.get("Queue") or ""): QueueNow(
                        available=_int(e.get("Available")), callers=_int(e.get("Callers"))
                    )
                    for e in events
                }
            self._read_at = started
            self._forget_promises(started)
            return self.queues

    def promised(self) -> dict[str, int]:
        """Per queue, the operators promised to call-backs in flight."""
        counts: dict[str, int] = {}
        for promise in self.promises.values():
            counts[promise.queue] = counts.get(promise.queue, 0) + 1
        return counts

    def _forget_promises(self, read_started: float) -> None:
        """Drop the promises the read started at `read_started` already reflects."""
        grace, longest = self.config.promise_grace, self.config.promise_max
        for call_id, promise in list(self.promises.items()):
            if promise.ended is not None and read_started >= promise.ended + grace:
                del self.promises[call_id]
            elif read_started - promise.since > longest:
                del self.promises[call_id]

    def _end_promise(self, call_id: str, *, at_once: bool = False) -> None:
        promise = self.promises.get(call_id)
        if promise is None:
            return
        if at_once:  # never reached its queue: no operator was taken
            del self.promises[call_id]
        elif promise.ended is None:
            promise.ended = time.monotonic()

    def _on_queue_leave(self, event: Event) -> None:
        self._end_promise(event.get("Uniqueid") or "")

    def moment(self, now: datetime, in_progress: int, recent: int, paused: bool) -> Moment:
        local = now.astimezone(self.zone)
        return Moment(
            local=local,
            holiday=self.is_holiday(local.date()),
            paused=paused,
            in_progress=in_progress,
            started_last_minute=recent,
            waiting=self.waiting,
        )

    async def tick(self) -> str | None:
        """One pass: place the calls that may start now. Returns why none could start
        (a rule's reason, 'no_ami'), or None."""
        if self._stopping:
            return "stopping"
        if not self.ami.connected:
            self.last_reason = "no_ami"
            return self.last_reason
        now = self.clock()
        in_progress, recent = await asyncio.to_thread(self.store.load, now)
        paused, _, _ = await asyncio.to_thread(self.store.paused)
        if self.config.limits.queue_waiting:
            await self.read_queues()
        moment = self.moment(now, in_progress, recent, paused)
        if not self.config.limits.queue_waiting:
            moment = dataclasses.replace(moment, waiting={})  # the pause is off
        reason = why_not_now(moment, self.config.hours, self.config.limits)
        self.last_reason = reason or ""
        if reason is not None:
            return reason
        for _ in range(room(moment, self.config.limits)):
            # Which queues may take a call-back, read just before this claim.
            free = open_queues(await self.read_queues(), self.promised())
            claimed = await asyncio.to_thread(self.store.claim, self.worker, now, queues=free)
            if claimed is None:
                if await asyncio.to_thread(self._held_back, now):
                    self.last_reason = "callbacks_wait_for_operators"
                    return self.last_reason
                break
            queue = joins_queue(claimed)
            if queue is not None:
                self.promises[claimed.call_id] = Promise(queue, time.monotonic())
            task = asyncio.create_task(self._attempt(claimed), name=f"outbound-{claimed.call_id}")
            self._calls.add(task)
            task.add_done_callback(self._calls.discard)
        return None

    def _held_back(self, now: datetime) -> bool:
        """Whether a job is due that the last claim did not take (a call-back whose queue
        has no operator free)."""
        due = self.store.next_due()
        return due is not None and due <= now

    async def wait_idle(self) -> None:
        """Until the calls placed so far have ended (tests, and `stop`)."""
        while self._calls:
            await asyncio.gather(*set(self._calls), return_exceptions=True)

    # ---- one attempt -----------------------------------------------------------------
    async def _attempt(self, claimed: Claimed) -> None:
        masked = mask_number(claimed.number)
        log.info(
            "outbound %s call %s (try %d of %d)",
            claimed.kind,
            claimed.call_id,
            claimed.attempt,
            claimed.max_tries,
            extra={"personal": {"caller_number": claimed.number}},
        )
        try:
            if not await self._queue_still_free(claimed):
                await asyncio.to_thread(self._give_back, claimed)
                return
            success, reason, cause = await self._originate(claimed)
        except asyncio.CancelledError:
            self._end_promise(claimed.call_id)
            raise  # the next start marks it interrupted
        except Exception as exc:
            log.warning("outbound call %s not placed: %s", claimed.call_id, exc)
            success, reason, cause = False, "0", f"{type(exc).__name__}"
        if not success:
            self._end_promise(claimed.call_id, at_once=True)
        outcome = outcome_of(success, reason, cause)
        end: AttemptEnd | None = None
        if success:
            self.counters.answers.labels(claimed.kind).inc()
            if claimed.kind == "survey" and self.after_answer is not None:
                end = await self.after_answer(claimed)
        if end is None:
            end = AttemptEnd(outcome, finished=outcome == "answered")
        self.counters.attempts.labels(claimed.kind, end.outcome).inc()
        await asyncio.to_thread(self._file, claimed, end, reason or cause)
        log.info(
            "outbound call %s to %s: %s (reason %s %s)",
            claimed.call_id,
            masked,
            end.outcome,
            reason,
            cause,
        )

    async def _queue_still_free(self, claimed: Claimed) -> bool:
        """Just before a call-back's Originate: its queue still has an operator for it and
        nobody waiting. If not, wait a little for one (the attempt keeps its claim); False
        when none came (the call is not placed)."""
        queue = joins_queue(claimed)
        if queue is None:
            return True
        for _ in range(HOLD_CHECKS):
            others = self.promised()
            others[queue] = others.get(queue, 0) - (1 if claimed.call_id in self.promises else 0)
            if callback_blocked(queue, await self.read_queues(), others) is None:
                return True
            if self._stopping:
                break
            await asyncio.sleep(self.config.queue_cache)
        return False

    def _give_back(self, claimed: Claimed) -> None:
        """A call-back not placed after all: due again now, the try not counted."""
        self._end_promise(claimed.call_id, at_once=True)
        self.store.finish(
            claimed.attempt_id,
            "interrupted",
            now=self.clock(),
            job_state="pending",
            next_due=self.clock(),
            cause="not placed: its queue had no operator free",
            counts=False,
        )
        log.info("outbound call %s not placed: its queue has no operator free", claimed.call_id)

    def _file(self, claimed: Claimed, end: AttemptEnd, cause: str) -> None:
        now = self.clock()
        state = "done"
        due: datetime | None = None
        if not end.finished:
            wait = next_try(claimed.attempt, claimed.max_tries, self.config.delays)
            if wait is None:
                state = "gave_up"
            else:
                local = next_open(
                    (now + wait).astimezone(self.zone), self.config.hours, self.is_holiday
                )
                due = local.astimezone(UTC)
                state = "pending"
        self.store.finish(
            claimed.attempt_id,
            end.outcome,
            now=now,
            job_state=state,
            next_due=due,
            cause=cause,
            keys=end.keys,
            detail=end.detail,
            result=end.result,
            note=end.note or ("left for a person after the last try" if state == "gave_up" else ""),
        )
        if state != "pending":
            self.counters.completions.labels(claimed.kind, state).inc()

    async def _originate(self, claimed: Claimed) -> tuple[bool, str, str]:
        """Place the call and wait for Asterisk's answer: (answered, Reason, cause)."""
        config = self.config
        if claimed.kind == "survey":
            context = SURVEY_CONTEXT
            variables: dict[str, object] = {}
        else:
            context = CONNECT_CONTEXT
            detail = claimed.detail
            variables = {
                "CALLBACK_KIND": claimed.kind,
                "CALLBACK_QUEUE": str(detail.get("queue") or "intake"),
                "CALLBACK_PRIORITY": int(detail.get("queue_priority", claimed.priority) or 0),
                "CALLBACK_TAG": str(detail.get("tag") or f"callback_{claimed.kind}"),
                "CALLBACK_NUMBER": claimed.number,
            }
        variables["HOTLINE_OUTBOUND"] = claimed.call_id
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        self._answers[claimed.call_id] = future
        hangup: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._causes[claimed.call_id] = hangup
        try:
            response = await self.ami.action(
                "Originate",
                {
                    "Channel": config.dial.format(number=claimed.number),
                    "Context": context,
                    "Exten": "s",
                    "Priority": 1,
                    "CallerID": f'"{config.caller_id}" <{config.caller_id}>',
                    "Timeout": int(config.ring_seconds * 1000),
                    "Async": "true",
                    "ChannelId": claimed.call_id,
                },
                variables=variables,
            )
            action_id = response.action_id or ""
            self._actions[action_id] = claimed.call_id
            early = self._early.pop(action_id, None)
            if early is not None and not future.done():
                future.set_result(early)
            event = await asyncio.wait_for(future, config.ring_seconds + 30)
            success = (event.get("Response") or "").lower() == "success"
            reason = event.get("Reason") or ""
            cause = ""
            if not success and reason in ("0", "1"):
                # The response does not say busy; the channel's hang-up cause (its event
                # comes just before or just after) does.
                with contextlib.suppress(TimeoutError):
                    cause = await asyncio.wait_for(asyncio.shield(hangup), 3.0)
            return success, reason, cause
        except AMIActionError as exc:
            return False, "0", exc.response.message[:60]
        except (AMIError, TimeoutError) as exc:
            return False, "0", f"no answer from Asterisk ({type(exc).__name__})"
        finally:
            self._answers.pop(claimed.call_id, None)
            self._causes.pop(claimed.call_id, None)
            self._actions = {k: v for k, v in self._actions.items() if v != claimed.call_id}

    def _on_hangup(self, event: Event) -> None:
        self._end_promise(event.get("Uniqueid") or "")
        hangup = self._causes.get(event.get("Uniqueid") or "")
        if hangup is not None and not hangup.done():
            hangup.set_result(event.get("Cause") or "")

    def _on_originate_response(self, event: Event) -> None:
        call_id = event.get("Uniqueid") or ""
        if call_id not in self._answers:
            call_id = self._actions.get(event.action_id or "", "")
        future = self._answers.get(call_id)
        if future is None:
            # Possibly answered before our coroutine saw the action's own response.
            self._early[event.action_id or ""] = event
            while len(self._early) > 200:
                self._early.popitem(last=False)
            return
        if not future.done():
            future.set_result(event)


async def watch_queues(dialer: Dialer, interval: float) -> None:
    """Keep the dialer's read of the queues at most `interval` seconds old between passes
    (the API shows it; each pass reads again when it is older than the cache)."""
    while True:
        try:
            await dialer.ami.wait_connected(interval * 4)
        except (AMIError, TimeoutError):
            dialer.queues = None
        else:
            await dialer.read_queues(interval)
        await asyncio.sleep(interval)


def _int(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0
