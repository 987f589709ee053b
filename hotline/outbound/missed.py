"""Missed-call call-backs (漏接回拨): every missed call goes on the call-back list.

Theory of operation: a call is missed in one of two ways. It is abandoned in a queue: the
hotline Asterisk says so at once (AMI ``QueueCallerAbandon``: the caller's number, the queue,
how long they waited). Or the caller hung up in the IVR after the greeting: the controller's
own record of the call says so when the call ends (`missed_in_ivr`). A call handed over to
110/119/120/122 ended in a transfer, a call an operator took was never abandoned: neither is
missed. A call-back call that the citizen abandons in the queue again (the dialplan announces
each one with ``HotlineCallbackConnected``) is not a new miss: the job has its own tries.

Each miss becomes an outbound job of kind ``missed`` due `delay` seconds later at priority
`MISSED_PRIORITY`, one per number (the dedupe key is the number): a number that misses again
while its job is waiting adds to the job's `count`, keeps its earlier due time, and the last
miss's queue and time. When the citizen answers, the dialplan (``hotline-callback-connect``)
puts them in the intake queue at that priority with 漏接回拨 on the operator's phone; the
dialer's retry rule stops after the kind's last try.

The AMI callbacks only note what happened; the database work runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.db import utcnow
from hotline.outbound.store import OutboundStore
from hotline.outbound.tables import OutboundJob
from telephony.ami_client import AMIClient
from telephony.ami_protocol import Event

log = logging.getLogger("hotline.outbound.missed")

KIND = "missed"
#: queue priority of a missed call's call-back: ahead of ordinary callers and of an elderly
#: repeat caller (3 + 2), behind an unconfirmed possible emergency (10) and a caller whose
#: place was kept ("call me back", 9)
MISSED_PRIORITY = 6
DEFAULT_DELAY = 180.0
#: a number worth calling back: a mobile or a landline, not a short service number (110) nor
#: a withheld or made-up caller id
CALLABLE = re.compile(r"^\+?[0-9]{6,20}$")
#: the steps of a call's path after which it was handed over or put in a queue
HANDED_OVER = frozenset({"transfer"})
#: the dialplan's names on a call-back's channel (the operator's phone shows them)
CALLBACK_NAMES = ("漏接回拨", "预约回拨")
#: call-back channels remembered (their abandons are not new misses)
REMEMBERED = 2000

Clock = Callable[[], datetime]


def callable_number(number: str) -> str | None:
    """`number` as the dialer dials it when it is worth calling back, else None."""
    value = (number or "").strip()
    return value if CALLABLE.match(value) else None


def missed_in_ivr(outcome: str, path: Sequence[Mapping[str, Any]]) -> bool:
    """A call whose caller hung up in the IVR after the greeting: the outcome is
    `caller_hung_up` and at least one prompt was played to its end (or cut by a key: the
    caller heard it), and nothing handed the call over."""
    if outcome != "caller_hung_up":
        return False
    steps = [str(step.get("step", "")) for step in path]
    if any(step in HANDED_OVER for step in steps):
        return False
    return "play" in steps


@dataclass(frozen=True)
class Miss:
    """One missed call."""

    number: str
    #: "queue" (abandoned in a queue) or "ivr" (hung up in the menu)
    where: str
    at: datetime
    unique_id: str = ""
    queue: str = ""
    #: seconds waited in the queue
    waited: int = 0


def miss_from_abandon(event: Event, at: datetime) -> Miss | None:
    """The miss an AMI ``QueueCallerAbandon`` reports, or None when the caller cannot be
    called back."""
    number = callable_number(event.get("CallerIDNum", "") or "")
    if number is None:
        return None
    try:
        waited = max(0, int(event.get("HoldTime", "0") or 0))
    except ValueError:
        waited = 0
    return Miss(
        number=number,
        where="queue",
        at=at,
        unique_id=event.get("Uniqueid", "") or "",
        queue=(event.get("Queue", "") or "")[:64],
        waited=waited,
    )


def job_detail(miss: Miss, earlier: Mapping[str, Any] | None) -> dict[str, Any]:
    """The job's detail after `miss`: the count of misses since the job was opened and the
    last one's where, when, queue and wait."""
    count = 0
    if earlier:
        with contextlib.suppress(TypeError, ValueError):
            count = int(earlier.get("count", 0))
    detail: dict[str, Any] = {
        "count": count + 1,
        "where": miss.where,
        "last_missed_at": miss.at.isoformat(),
        # the call-back goes to intake whatever queue the caller had reached
        "queue": "intake",
    }
    if miss.queue:
        detail["missed_queue"] = miss.queue
        detail["waited"] = miss.waited
    return detail


class MissedCalls:
    """Puts missed calls on the call-back list. `start()` subscribes to the AMI events;
    `call_ended(outcome, path, number)` is told of every call the controller ran."""

    def __init__(
        self,
        ami: AMIClient,
        store: OutboundStore,
        sessions: sessionmaker[Session],
        *,
        delay: float = DEFAULT_DELAY,
        clock: Clock = utcnow,
        executor: Executor | None = None,
    ) -> None:
        self.ami = ami
        self.store = store
        self._sessions = sessions
        self.delay = delay
        self.clock = clock
        self.executor = executor
        #: call-back channels the dialplan announced (unique id -> None), oldest first
        self._callbacks: OrderedDict[str, None] = OrderedDict()
        self._tasks: set[asyncio.Task[int | None]] = set()
        self._unsubscribe: list[Callable[[], None]] = []
        self.scheduled = 0

    def start(self) -> None:
        self._unsubscribe = [
            self.ami.on_event("QueueCallerAbandon", self._on_abandon),
            self.ami.on_event("UserEvent", self._on_user_event),
        ]

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # ---- what happened (event loop, quick) -----------------------------------------------
    def _on_user_event(self, event: Event) -> None:
        if (event.get("UserEvent", "") or "") != "HotlineCallbackConnected":
            return
        unique_id = event.get("Uniqueid", "") or ""
        if unique_id:
            self._callbacks[unique_id] = None
            while len(self._callbacks) > REMEMBERED:
                self._callbacks.popitem(last=False)

    def _on_abandon(self, event: Event) -> None:
        unique_id = event.get("Uniqueid", "") or ""
        if unique_id in self._callbacks or (event.get("CallerIDName") or "") in CALLBACK_NAMES:
            return
        miss = miss_from_abandon(event, self.clock())
        if miss is not None:
            self._spawn(miss)

    def call_ended(self, outcome: str, path: Sequence[Mapping[str, Any]], number: str) -> None:
        """The controller's record of a call that ended: a miss when the caller hung up in
        the IVR after the greeting."""
        caller = callable_number(number)
        if caller is not None and missed_in_ivr(outcome, path):
            self._spawn(Miss(number=caller, where="ivr", at=self.clock()))

    def _spawn(self, miss: Miss) -> None:
        task = asyncio.get_running_loop().create_task(self.record(miss))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- the list (worker thread) --------------------------------------------------------
    async def record(self, miss: Miss) -> int | None:
        """Put `miss` on the call-back list; return its job's id (None when it could not be
        stored: logged, the call is not lost for the count of calls but is not called back)."""
        loop = asyncio.get_running_loop()
        try:
            job_id = await loop.run_in_executor(self.executor, self._schedule, miss)
        except Exception as exc:  # the database may be down: log, go on
            log.error(
                "a missed call could not be put on the call-back list (%s)",
                type(exc).__name__,
                extra={"personal": {"number": miss.number}},
            )
            return None
        self.scheduled += 1
        log.info(
            "missed call (%s) on the call-back list as job %d",
            miss.where,
            job_id,
            extra={"personal": {"number": miss.number}},
        )
        return job_id

    def _schedule(self, miss: Miss) -> int:
        return self.store.schedule(
            KIND,
            miss.number,
            due_at=miss.at + timedelta(seconds=self.delay),
            priority=MISSED_PRIORITY,
            detail=job_detail(miss, self._open_detail(miss.number)),
            dedupe_key=miss.number,
        )

    def _open_detail(self, key: str) -> dict[str, Any] | None:
        # Read only: the store writes the job (merging this detail into it).
        with self._sessions() as session:
            detail = session.scalar(
                select(OutboundJob.detail).where(
                    OutboundJob.open_key == key, OutboundJob.state == "pending"
                )
            )
        return dict(detail) if isinstance(detail, dict) else None
