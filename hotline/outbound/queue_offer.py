""" "Call me back" from the queue (预约回拨): the caller keeps their place without holding on.

Theory of operation: a caller still waiting in a queue after the queue's
``periodic-announce-frequency`` hears the offer (按1保留排队位置，稍后由我们回电; queues.conf).
Key 1 leaves the queue for the dialplan's ``hotline-queue-exit``, which raises the AMI
``UserEvent HotlineCallbackRequested`` (the caller's number and place), plays a confirmation
and hangs up. The queue reported the caller leaving just before (``QueueCallerLeave``: the
queue and the place), so the controller knows which queue the caller left.

The controller then asks the queue how fast it moves (``QueueStatus``) and schedules a
``queue_callback`` job due when the caller would have reached the front (`estimate_wait`):

    wait = position x handle time / operators taking calls

where the handle time is the queue's own average talk time (``TalkTime`` of QueueParams, an
average of the calls it connected) plus its wrap-up time, or `DEFAULT_HANDLE_SECONDS` until
the queue has connected a call, and the operators taking calls are its members not paused
(at least one). The estimate is kept within [`MIN_WAIT`, `MAX_WAIT`]. When the citizen
answers the call-back, the dialplan (``hotline-callback-connect``) puts them back in the queue
they left at `QUEUE_CALLBACK_PRIORITY`, so the next free operator takes them first.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hotline.core.db import utcnow
from hotline.outbound.missed import callable_number
from hotline.outbound.store import OutboundStore
from telephony.ami_client import AMIClient, AMIError
from telephony.ami_protocol import Event

log = logging.getLogger("hotline.outbound.queue_offer")

KIND = "queue_callback"
#: ahead of every caller but an unconfirmed possible emergency (10): the caller's place is
#: what they were promised
QUEUE_CALLBACK_PRIORITY = 9
#: seconds an operator spends on a call before the queue has measured one (a typical
#: 12345 call: about 150 s of talk)
DEFAULT_HANDLE_SECONDS = 150.0
#: queues.conf `wrapuptime` of the hotline's queues
WRAPUP_SECONDS = 5.0
MIN_WAIT = 30.0
MAX_WAIT = 2 * 3600.0
#: queue leaves remembered until their request arrives
REMEMBERED = 500

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class QueueFigures:
    """What QueueStatus says about how fast one queue moves."""

    queue: str
    #: average talk time of the calls it connected, seconds (0: none yet)
    talk_seconds: float
    #: average wait of the calls it connected, seconds
    hold_seconds: float
    #: members not paused
    operators: int
    #: callers waiting now
    waiting: int


def figures_from_status(queue: str, events: list[Event]) -> QueueFigures:
    """`QueueFigures` of `queue` from the events of a ``QueueStatus`` action."""

    def number(event: Event, name: str) -> float:
        try:
            return float(event.get(name, "0") or 0)
        except ValueError:
            return 0.0

    talk = hold = 0.0
    waiting = operators = 0
    for event in events:
        if (event.get("Queue", "") or "") != queue:
            continue
        if event.name == "QueueParams":
            talk, hold = number(event, "TalkTime"), number(event, "Holdtime")
            waiting = int(number(event, "Calls"))
        elif event.name == "QueueMember" and number(event, "Paused") != 1:
            operators += 1
    return QueueFigures(queue, talk, hold, operators, waiting)


def estimate_wait(position: int, figures: QueueFigures | None) -> float:
    """Seconds until a caller at `position` (1: next) would have reached an operator, as
    the module header says."""
    talk = figures.talk_seconds if figures is not None and figures.talk_seconds > 0 else 0.0
    handle = (talk or DEFAULT_HANDLE_SECONDS) + WRAPUP_SECONDS
    operators = max(1, figures.operators if figures is not None else 1)
    wait = max(1, position) * handle / operators
    return min(MAX_WAIT, max(MIN_WAIT, wait))


@dataclass(frozen=True)
class Request:
    """One caller's "call me back"."""

    number: str
    queue: str
    position: int
    at: datetime
    unique_id: str = ""


class QueueOffer:
    """Turns ``HotlineCallbackRequested`` into a ``queue_callback`` job."""

    def __init__(
        self,
        ami: AMIClient,
        store: OutboundStore,
        *,
        clock: Clock = utcnow,
        executor: Executor | None = None,
        default_queue: str = "intake",
    ) -> None:
        self.ami = ami
        self.store = store
        self.clock = clock
        self.executor = executor
        self.default_queue = default_queue
        #: unique id -> (queue, position) of the latest callers who left a queue
        self._left: OrderedDict[str, tuple[str, int]] = OrderedDict()
        self._tasks: set[asyncio.Task[int | None]] = set()
        self._unsubscribe: list[Callable[[], None]] = []
        self.scheduled = 0

    def start(self) -> None:
        self._unsubscribe = [
            self.ami.on_event("QueueCallerLeave", self._on_leave),
            self.ami.on_event("UserEvent", self._on_user_event),
        ]

    async def stop(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe = []
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # ---- events (event loop, quick) ------------------------------------------------------
    def _on_leave(self, event: Event) -> None:
        unique_id = event.get("Uniqueid", "") or ""
        if not unique_id:
            return
        self._left[unique_id] = (event.get("Queue", "") or "", _int(event.get("Position")))
        while len(self._left) > REMEMBERED:
            self._left.popitem(last=False)

    def _on_user_event(self, event: Event) -> None:
        if (event.get("UserEvent", "") or "") != "HotlineCallbackRequested":
            return
        number = callable_number(event.get("Caller", "") or "")
        unique_id = event.get("Uniqueid", "") or ""
        queue, position = self._left.pop(unique_id, ("", 0))
        if number is None:
            log.warning("a caller asked to be called back without a number to call")
            return
        request = Request(
            number=number,
            queue=_queue_name(queue) or self.default_queue,
            position=position or _int(event.get("Position")) or 1,
            at=self.clock(),
            unique_id=unique_id,
        )
        task = asyncio.get_running_loop().create_task(self.schedule(request))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ---- the job -------------------------------------------------------------------------
    async def schedule(self, request: Request) -> int | None:
        """Estimate when `request`'s caller would have reached the front and schedule the
        call-back then; return the job's id (None when it could not be stored: logged)."""
        figures = await self._figures(request.queue)
        wait = estimate_wait(request.position, figures)
        detail: dict[str, Any] = {
            "queue": request.queue,
            "position": request.position,
            "estimate_seconds": round(wait),
            "requested_at": request.at.isoformat(),
        }
        if figures is not None:
            detail["talk_seconds"] = round(figures.talk_seconds)
            detail["operators"] = figures.operators
        loop = asyncio.get_running_loop()
        try:
            job_id = await loop.run_in_executor(
                self.executor,
                lambda: self.store.schedule(
                    KIND,
                    request.number,
                    due_at=request.at + timedelta(seconds=wait),
                    priority=QUEUE_CALLBACK_PRIORITY,
                    detail=detail,
                    dedupe_key=f"{KIND}:{request.number}",
                ),
            )
        except Exception as exc:  # the database may be down: log, go on
            log.error(
                "a 'call me back' request could not be stored (%s)",
                type(exc).__name__,
                extra={"personal": {"number": request.number}},
            )
            return None
        self.scheduled += 1
        log.info(
            "call-back from queue %s (place %d) due in %.0f s as job %d",
            request.queue,
            request.position,
            wait,
            job_id,
            extra={"personal": {"number": request.number}},
        )
        return job_id

    async def _figures(self, queue: str) -> QueueFigures | None:
        try:
            _, events = await self.ami.action_list("QueueStatus", {"Queue": queue})
        except AMIError as exc:
            log.warning("queue %s: no QueueStatus (%s); estimating without it", queue, exc)
            return None
        return figures_from_status(queue, events)


def _int(value: str | None) -> int:
    try:
        return max(0, int(value or 0))
    except ValueError:
        return 0


def _queue_name(value: str) -> str:
    # what goes back to the dialplan as CALLBACK_QUEUE: a queue's name, nothing else
    return value if value and all(ch.islower() or ch == "-" for ch in value) else ""
