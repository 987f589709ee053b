"""Shift rosters: who is on duty at a given moment.

Theory of operation: a day has named shifts (eight at a 12345 centre), each with a start and an
end in the hotline's time zone. A shift whose end is not after its start crosses midnight: the
instance that starts on date D ends on D+1. Shifts may overlap. An assignment puts one operator
on one shift on one date (the date the shift instance starts). A shift may run every day, only
on working days or only on rest days; the holiday calendar decides which days those are,
including China's swapped working days (调休: a Saturday that is worked, a Monday that is not).

`Roster.on_duty(at)` is pure: it looks at the assignments of the local date and of the day
before (for instances that crossed midnight). `Roster.boundaries(start, end)` lists the moments
when the set of people on duty may change, which the queue synchroniser sleeps until.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Final, Literal
from zoneinfo import ZoneInfo

Group = Literal["intake", "multimedia", "dispatch", "callback"]
Skill = Literal["mandarin", "mongolian", "enterprise", "senior"]
ShiftDays = Literal["all", "workdays", "restdays"]
DayKind = Literal["holiday", "workday"]

GROUPS: Final = ("intake", "multimedia", "dispatch", "callback")
GROUP_NAMES: Final = {
    "intake": "受理组",
    "multimedia": "多媒体组",
    "dispatch": "派单组",
    "callback": "回访组",
}
SKILLS: Final = ("mandarin", "mongolian", "enterprise", "senior")
SHIFT_DAYS: Final = ("all", "workdays", "restdays")
EXTENSION = re.compile(r"[0-9]{3,8}")
SHIFT_NAME = re.compile(r"[A-Za-z0-9_\-\u4e00-\u9fff]{1,32}")


class RosterError(ValueError):
    """Roster data that cannot be used; `error_id` names the kind of problem."""

    def __init__(self, error_id: str, message: str) -> None:
        super().__init__(message)
        self.error_id = error_id


@dataclass(frozen=True)
class Operator:
    extension: str
    name: str
    group: Group
    skills: frozenset[Skill] = frozenset({"mandarin"})

    def __post_init__(self) -> None:
        if not EXTENSION.fullmatch(self.extension):
            raise RosterError("bad_extension", f"extension {self.extension!r}: 3 to 8 digits")
        if self.group not in GROUPS:
            raise RosterError("bad_group", f"group {self.group!r}: one of {', '.join(GROUPS)}")
        unknown = set(self.skills) - set(SKILLS)
        if unknown:
            raise RosterError(
                "bad_skill", f"skills {sorted(unknown)}: each one of {', '.join(SKILLS)}"
            )


@dataclass(frozen=True)
class Shift:
    name: str
    start: time
    end: time
    days: ShiftDays = "all"

    def __post_init__(self) -> None:
        if not SHIFT_NAME.fullmatch(self.name):
            raise RosterError(
                "bad_shift_name", f"shift name {self.name!r}: 1-32 letters, digits, '-' or '_'"
            )
        if self.days not in SHIFT_DAYS:
            raise RosterError("bad_shift_days", f"days {self.days!r}: one of {SHIFT_DAYS}")

    @property
    def overnight(self) -> bool:
        return self.end <= self.start

    def span(self, day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """The instance of this shift that starts on `day`: (start, end), end exclusive."""
        start = datetime.combine(day, self.start, tz)
        end = datetime.combine(day + timedelta(days=1) if self.overnight else day, self.end, tz)
        return start, end


@dataclass(frozen=True)
class Assignment:
    day: date
    shift: str
    extension: str


@dataclass(frozen=True)
class HolidayCalendar:
    """Days that differ from the Monday-to-Friday week: public holidays (休) and the weekend
    days worked in exchange (班)."""

    days: Mapping[date, DayKind] = field(default_factory=dict)

    def is_working_day(self, day: date) -> bool:
        kind = self.days.get(day)
        if kind == "holiday":
            return False
        if kind == "workday":
            return True
        return day.weekday() < 5

    def runs(self, shift: Shift, day: date) -> bool:
        if shift.days == "all":
            return True
        return self.is_working_day(day) == (shift.days == "workdays")


@dataclass(frozen=True)
class OnDuty:
    operator: Operator
    shift: str
    until: datetime


class Roster:
    """An immutable snapshot of operators, shifts, assignments and the calendar."""

    def __init__(
        self,
        operators: Iterable[Operator],
        shifts: Iterable[Shift],
        assignments: Iterable[Assignment],
        calendar: HolidayCalendar | None = None,
        tz: str | ZoneInfo = "Asia/Shanghai",
    ) -> None:
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        self.operators = {op.extension: op for op in operators}
        self.shifts = {s.name: s for s in shifts}
        self.calendar = calendar or HolidayCalendar()
        self._by_day: dict[date, list[Assignment]] = {}
        for a in assignments:
            self._by_day.setdefault(a.day, []).append(a)

    def local(self, at: datetime) -> datetime:
        if at.tzinfo is None:
            raise RosterError("naive_time", f"{at.isoformat()}: a time zone is required")
        return at.astimezone(self.tz)

    def _instances(self, day: date) -> Iterable[tuple[Assignment, Shift, datetime, datetime]]:
        for a in self._by_day.get(day, ()):
            shift = self.shifts.get(a.shift)
            if shift is None or a.extension not in self.operators:
                continue
            if not self.calendar.runs(shift, day):
                continue
            start, end = shift.span(day, self.tz)
            yield a, shift, start, end

    def on_duty(self, at: datetime) -> list[OnDuty]:
        """Operators working at `at` (an aware datetime), by extension, each once (with the
        shift that keeps them longest when their shifts overlap)."""
        local = self.local(at)
        found: dict[str, OnDuty] = {}
        for day in (local.date() - timedelta(days=1), local.date()):
            for a, shift, start, end in self._instances(day):
                if start <= local < end:
                    current = found.get(a.extension)
                    if current is None or end > current.until:
                        found[a.extension] = OnDuty(self.operators[a.extension], shift.name, end)
        return [found[ext] for ext in sorted(found)]

    def boundaries(self, start: datetime, end: datetime) -> list[datetime]:
        """Shift starts and ends in (start, end], in order: when on-duty sets may change."""
        local_start, local_end = self.local(start), self.local(end)
        moments: set[datetime] = set()
        day = local_start.date() - timedelta(days=1)
        while day <= local_end.date():
            for _a, _shift, s, e in self._instances(day):
                for moment in (s, e):
                    if local_start < moment <= local_end:
                        moments.add(moment)
            day += timedelta(days=1)
        return sorted(moments)

    def next_boundary(
        self, after: datetime, horizon: timedelta = timedelta(days=2)
    ) -> datetime | None:
        found = self.boundaries(after, after + horizon)
        return found[0] if found else None


# ---- Asterisk queues --------------------------------------------------------------------

#: queue -> (group, skill it needs or None)
QUEUES: Final[dict[str, tuple[Group, Skill | None]]] = {
    "intake": ("intake", None),
    "multimedia": ("multimedia", None),
    "dispatch": ("dispatch", None),
    "callback": ("callback", None),
    "intake-mongolian": ("intake", "mongolian"),
    "enterprise": ("intake", "enterprise"),
}


def queues_of(operator: Operator) -> list[str]:
    """The queues an on-duty operator belongs to: their group's, and a skill queue of that
    group for each skill that has one."""
    return [
        queue
        for queue, (group, skill) in QUEUES.items()
        if group == operator.group and (skill is None or skill in operator.skills)
    ]


def queue_members(on_duty: Iterable[OnDuty | Operator]) -> dict[str, set[str]]:
    """Desired membership: queue -> extensions, for every queue (empty sets included)."""
    members: dict[str, set[str]] = {queue: set() for queue in QUEUES}
    for item in on_duty:
        op = item.operator if isinstance(item, OnDuty) else item
        for queue in queues_of(op):
            members[queue].add(op.extension)
    return members
