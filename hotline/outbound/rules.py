"""The rules every outbound call obeys, as pure functions of plain inputs (no clock, no I/O).

`why_not_now` says why the dialer must not place a call at this moment (or None): people
paused it, the inbound queues are long, outside calling hours or on a holiday, too many calls
at once or in the last minute. `next_open` is the first moment calls may be placed again;
`next_try` when a job is tried again after an unanswered attempt (None: it is left for a
person); `outcome_of` turns Asterisk's answer to an Originate into an attempt's outcome.

A call-back joins a queue when the citizen answers, ahead of the inbound callers there (its
queue priority is high), so on top of those rules `callback_blocked` lets one start only
when its queue has an operator free now who is not already promised to another call-back in
flight, and nobody waiting: it then takes an operator nobody else was going to get. Surveys
talk to the controller, not to an operator, and obey the other rules only.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

_HOURS = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")
_DELAY = re.compile(r"^(\d{1,4})([smhd])$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class CallingHours:
    """Local hours in which citizens may be called, and whether holidays count."""

    start: time = time(8, 0)
    end: time = time(21, 0)
    on_holidays: bool = False

    @classmethod
    def parse(cls, text: str, on_holidays: bool = False) -> CallingHours:
        """'08:00-21:00' -> CallingHours. Raises ValueError saying what is wrong."""
        match = _HOURS.match(text.strip())
        if not match:
            raise ValueError(f"calling hours {text!r}: write them as HH:MM-HH:MM, e.g. 08:00-21:00")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if (h2, m2) > (24, 0):
            raise ValueError(f"calling hours {text!r}: they end at 24:00 at the latest")
        end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
        start = time(h1, m1)
        if end <= start:
            raise ValueError(f"calling hours {text!r}: the end must come after the start")
        return cls(start, end, on_holidays)

    def open_at(self, local: datetime, holiday: bool) -> bool:
        if holiday and not self.on_holidays:
            return False
        return self.start <= local.time() < self.end


@dataclass(frozen=True)
class Limits:
    #: calls in progress at most
    at_once: int = 2
    #: calls started in any minute at most
    per_minute: int = 10
    #: callers waiting in any inbound queue from which outbound pauses (0: never)
    queue_waiting: int = 3


@dataclass(frozen=True)
class Moment:
    """What the dialer knows when it considers placing a call."""

    local: datetime
    holiday: bool
    paused: bool
    in_progress: int
    started_last_minute: int
    #: callers waiting per inbound queue (None: not known, e.g. no AMI)
    waiting: Mapping[str, int] | None


@dataclass(frozen=True)
class QueueNow:
    """One queue as AMI's QueueSummary tells it."""

    #: members logged in, not paused and not on a call
    available: int
    #: callers waiting
    callers: int


def callback_blocked(
    queue: str, queues: Mapping[str, QueueNow] | None, promised: Mapping[str, int]
) -> str | None:
    """Why a call-back that will join `queue` must not start now, or None when it may.
    `promised`: per queue, the call-backs already ringing or answered but not yet with an
    operator (each will take one of the available operators)."""
    if queues is None:
        return "queues_unknown"
    now = queues.get(queue)
    if now is None:
        return "queue_unknown"
    if now.callers > 0:
        return "callers_waiting"
    if now.available - promised.get(queue, 0) <= 0:
        return "no_free_operator"
    return None


def open_queues(queues: Mapping[str, QueueNow] | None, promised: Mapping[str, int]) -> set[str]:
    """The queues a call-back may be placed for now."""
    return {q for q in (queues or {}) if callback_blocked(q, queues, promised) is None}


def why_not_now(moment: Moment, hours: CallingHours, limits: Limits) -> str | None:
    """The reason no call may start now, or None when one may."""
    if moment.paused:
        return "paused"
    if moment.waiting is None:
        return "queues_unknown"
    if limits.queue_waiting and any(n >= limits.queue_waiting for n in moment.waiting.values()):
        return "queues_long"
    if moment.holiday and not hours.on_holidays:
        return "holiday"
    if not hours.open_at(moment.local, False):
        return "outside_hours"
    if moment.in_progress >= limits.at_once:
        return "at_once"
    if moment.started_last_minute >= limits.per_minute:
        return "per_minute"
    return None


def room(moment: Moment, limits: Limits) -> int:
    """How many calls may start now under both limits."""
    return max(
        0,
        min(
            limits.at_once - moment.in_progress,
            limits.per_minute - moment.started_last_minute,
        ),
    )


def next_open(
    local: datetime, hours: CallingHours, is_holiday: Callable[[date], bool], days: int = 60
) -> datetime:
    """The first moment at or after `local` (an aware local time) inside calling hours on a
    day calls are allowed; `local` itself when it is one. Looks `days` ahead at most (then
    returns the start of the last day looked at)."""
    day = local.date()
    for n in range(days):
        current = day + timedelta(days=n)
        if is_holiday(current) and not hours.on_holidays:
            continue
        start = local.replace(
            year=current.year,
            month=current.month,
            day=current.day,
            hour=hours.start.hour,
            minute=hours.start.minute,
            second=0,
            microsecond=0,
        )
        if n == 0 and local >= start:
            if local.time() < hours.end:
                return local
            continue
        return start
    return local + timedelta(days=days)


def parse_delays(text: str) -> tuple[timedelta, ...]:
    """'4h,20h' -> the waits before the second and the third try. Raises ValueError."""
    delays = []
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        match = _DELAY.match(part)
        if not match:
            raise ValueError(f"retry delay {part!r}: a number and s, m, h or d (e.g. 4h)")
        delays.append(timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)]))
    if not delays or len(delays) > 19:
        raise ValueError("retry delays: 1 to 19 of them, comma-separated (e.g. 4h,20h)")
    return tuple(delays)


def next_try(tries_done: int, max_tries: int, delays: Sequence[timedelta]) -> timedelta | None:
    """How long after an unanswered try the next one is due, or None when `tries_done` of
    `max_tries` are used up (the job is left for a person). The last delay repeats."""
    if tries_done >= max_tries or not delays:
        return None
    return delays[min(tries_done, len(delays)) - 1] if tries_done else timedelta(0)


#: OriginateResponse Reason codes (Asterisk's control frames) -> an attempt's outcome
REASONS = {"0": "failed", "1": "no_answer", "3": "no_answer", "5": "busy", "8": "failed"}
#: hang-up causes of a call that never answered (Q.850) -> an attempt's outcome
CAUSES = {"17": "busy", "18": "no_answer", "19": "no_answer", "21": "no_answer"}


def outcome_of(success: bool, reason: str, cause: str = "") -> str:
    """'answered', 'busy', 'no_answer' or 'failed' from an OriginateResponse."""
    if success:
        return "answered"
    if cause in CAUSES:
        return CAUSES[cause]
    return REASONS.get(reason, "failed")
