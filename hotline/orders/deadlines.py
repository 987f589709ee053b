"""Time limits of work orders (办理时限): a table of deadline classes, counted in hours or in
working days of the roster's holiday calendar (调休 included).

Theory of operation: an order's deadline class is picked when it is dispatched (`class_for`:
the matter's class if the table names it, else the dispatch catalogue's class of the matter
(routing/data/catalogue.yaml), else the department's, else the default), and its
due time is set then: the department's clock starts when the department gets the order; the
time the hotline takes to dispatch is not the department's. A re-dispatch (after a return or
a reopening) starts a new limit for the department that gets it.

- A limit in hours is counted on the clock: water, power, gas and heating work round the
  clock (24 h by default).
- A limit in working days counts whole working days from the day after dispatch (次日起算)
  and ends at midnight closing the last one: general requests 5 working days, complex cases
  15. A weekend day the calendar makes a working day (调休 班) counts; a holiday does not.
- One extension per dispatch, with a reason: by default the class's own limit again (the
  limit doubles), counted on from the current due time; the table may name another.

The table comes from `HOTLINE_ORDER_DEADLINES` (JSON, or the path of a JSON file), merged
over `DEFAULT_TABLE`, and is validated when the service starts (`parse_table`):

    {"classes": {"general": {"working_days": 7, "extension": {"working_days": 3}}},
     "departments": {"heating": "utilities"}, "matters": {"拆迁补偿": "complex"}}
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final, Protocol
from zoneinfo import ZoneInfo

from hotline.orders.lifecycle import OrderError
from routing.taxonomy import DEPARTMENTS

#: the statuses in which the department's clock runs: an order past its due time in one of
#: them is overdue (a reply stops the clock; a return hands the order back to dispatch)
CLOCK_STATUSES: Final = ("dispatched",)
#: how far a count of working days looks ahead before deciding the calendar has none
MAX_SCAN_DAYS: Final = 3 * 366
MAX_HOURS: Final = 24 * 366
MAX_WORKING_DAYS: Final = 250


class Calendar(Protocol):
    """Which days are working days (routing.roster.HolidayCalendar)."""

    def is_working_day(self, day: date) -> bool: ...


class WeekCalendar:
    """Monday to Friday, no holidays: for a store without a roster."""

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5


@dataclass(frozen=True)
class Limit:
    """A time limit: a number of hours on the clock, or of working days."""

    hours: int = 0
    working_days: int = 0

    def __post_init__(self) -> None:
        if (self.hours > 0) == (self.working_days > 0) or min(self.hours, self.working_days) < 0:
            raise ValueError("a limit is a positive number of hours or of working days")
        if self.hours > MAX_HOURS or self.working_days > MAX_WORKING_DAYS:
            raise ValueError(
                f"a limit is at most {MAX_HOURS} hours or {MAX_WORKING_DAYS} working days"
            )

    def __str__(self) -> str:
        return f"{self.hours} h" if self.hours else f"{self.working_days} working days"

    def to_dict(self) -> dict[str, int]:
        return {"hours": self.hours} if self.hours else {"working_days": self.working_days}


@dataclass(frozen=True)
class DeadlineClass:
    name: str
    limit: Limit
    #: what the one extension adds (default: the limit again)
    extension: Limit


def _class(name: str, limit: Limit) -> DeadlineClass:
    return DeadlineClass(name, limit, limit)


@dataclass(frozen=True)
class DeadlineTable:
    classes: Mapping[str, DeadlineClass]
    #: department code -> class (water, power, gas, heating: utilities)
    departments: Mapping[str, str] = field(default_factory=dict)
    #: matter -> class: the table's own choices, before the catalogue's
    matters: Mapping[str, str] = field(default_factory=dict)
    default: str = "general"
    #: the dispatch catalogue's class of a matter id (None: not in the catalogue)
    catalogue: Callable[[str], str | None] | None = None

    def class_for(self, department: str | None, matter: str | None) -> str:
        """The deadline class of an order about `matter` dispatched to `department`: the
        table's class of the matter, else the dispatch catalogue's (if the table has that
        class), else the department's, else the default."""
        if matter and matter in self.matters:
            return self.matters[matter]
        listed = self.catalogue(matter) if matter and self.catalogue else None
        if listed in self.classes:
            return str(listed)
        if department and department in self.departments:
            return self.departments[department]
        return self.default

    def get(self, name: str) -> DeadlineClass:
        """The class called `name`. Raises OrderError (422) naming the known ones."""
        try:
            return self.classes[name]
        except KeyError:
            raise OrderError(
                "bad_deadline_class",
                f"deadline class {name!r}: one of {', '.join(sorted(self.classes))}",
            ) from None

    def due(self, name: str, start: datetime, calendar: Calendar, tz: ZoneInfo) -> datetime:
        """When an order of class `name` dispatched at `start` is due."""
        return add_limit(self.get(name).limit, start, calendar, tz)

    def extend(self, name: str, due: datetime, calendar: Calendar, tz: ZoneInfo) -> datetime:
        """The due time after the one extension of an order of class `name` due at `due`."""
        return add_limit(self.get(name).extension, due, calendar, tz)

    def to_dict(self) -> dict[str, Any]:
        return {
            "classes": {
                c.name: {**c.limit.to_dict(), "extension": c.extension.to_dict()}
                for c in self.classes.values()
            },
            "departments": dict(self.departments),
            "matters": dict(self.matters),
            "default": self.default,
        }


def catalogue_class(matter: str) -> str | None:
    """The deadline class the shipped dispatch catalogue gives matter id `matter` (loaded on
    first use: a few seconds, once per process)."""
    from routing.catalogue import deadline_class_of

    return deadline_class_of(matter)


DEFAULT_TABLE: Final = DeadlineTable(
    classes={
        "utilities": _class("utilities", Limit(hours=24)),
        "general": _class("general", Limit(working_days=5)),
        "complex": _class("complex", Limit(working_days=15)),
    },
    departments={d: "utilities" for d in ("water_supply", "power_supply", "gas_supply", "heating")},
    catalogue=catalogue_class,
)


def working_day_after(day: date, count: int, calendar: Calendar) -> date:
    """The `count`-th working day after `day` (`day` itself not counted). Raises OrderError
    when the calendar has no such day within three years."""
    counted = 0
    for offset in range(1, MAX_SCAN_DAYS + 1):
        candidate = day + timedelta(days=offset)
        if calendar.is_working_day(candidate):
            counted += 1
            if counted == count:
                return candidate
    raise OrderError(
        "no_working_days",
        f"the holiday calendar has fewer than {count} working days after {day.isoformat()} "
        "in the next three years",
    )


def _last_day(moment: datetime, tz: ZoneInfo) -> date:
    # A due time at local midnight closes the day before it: count on from that day.
    local = moment.astimezone(tz)
    if local.timetz().replace(tzinfo=None) == time(0):
        return local.date() - timedelta(days=1)
    return local.date()


def add_limit(limit: Limit, start: datetime, calendar: Calendar, tz: ZoneInfo) -> datetime:
    """`start` plus `limit`: hours on the clock, or the midnight that ends the last of the
    working days counted from the day after `start`'s local day."""
    if limit.hours:
        return start + timedelta(hours=limit.hours)
    last = working_day_after(_last_day(start, tz), limit.working_days, calendar)
    return datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz)


def local_day_bounds(now: datetime, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The start of `now`'s local day and the start of the next (an order due at the latter
    is due at the end of today)."""
    day = now.astimezone(tz).date()
    start = datetime.combine(day, time(0), tzinfo=tz)
    return start, datetime.combine(day + timedelta(days=1), time(0), tzinfo=tz)


# ---- the table from settings ---------------------------------------------------------------
class DeadlineConfigError(ValueError):
    """The deadline table in the settings cannot be used; the message says where."""


def _limit(value: Any, where: str) -> Limit:
    if not isinstance(value, dict) or not set(value) <= {"hours", "working_days"}:
        raise DeadlineConfigError(f"{where}: expected {{'hours': N}} or {{'working_days': N}}")
    numbers = list(value.values())
    if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers):
        raise DeadlineConfigError(f"{where}: hours and working_days are whole numbers")
    try:
        return Limit(**value)
    except ValueError as exc:
        raise DeadlineConfigError(f"{where}: {exc}") from None


def _mapping(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise DeadlineConfigError(f"{where}: expected a JSON object")
    return value


def parse_table(text: str, base: DeadlineTable = DEFAULT_TABLE) -> DeadlineTable:
    """The table of `HOTLINE_ORDER_DEADLINES` (JSON text, or the path of a JSON file; empty:
    the defaults), merged over `base`. Raises DeadlineConfigError naming the bad entry."""
    text = text.strip()
    if not text:
        return base
    where = "HOTLINE_ORDER_DEADLINES"
    if not text.startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise DeadlineConfigError(f"{where}: {text} is neither a JSON object nor a file")
        where, text = str(path), path.read_text(encoding="utf-8")
    try:
        data = _mapping(json.loads(text), where)
    except json.JSONDecodeError as exc:
        raise DeadlineConfigError(f"{where}: not JSON ({exc})") from None
    unknown = set(data) - {"classes", "departments", "matters", "default"}
    if unknown:
        raise DeadlineConfigError(f"{where}: unknown keys {sorted(unknown)}")

    classes = dict(base.classes)
    for name, entry in _mapping(data.get("classes", {}), f"{where}.classes").items():
        at = f"{where}.classes.{name}"
        if not isinstance(name, str) or not 1 <= len(name) <= 16:
            raise DeadlineConfigError(f"{at}: a class name has 1 to 16 characters")
        entry = dict(_mapping(entry, at))
        extension = entry.pop("extension", None)
        limit = _limit(entry, at)
        classes[name] = DeadlineClass(
            name, limit, limit if extension is None else _limit(extension, f"{at}.extension")
        )
    departments = dict(base.departments)
    for department, name in _mapping(data.get("departments", {}), f"{where}.departments").items():
        if department not in DEPARTMENTS:
            raise DeadlineConfigError(
                f"{where}.departments: unknown department {department!r} "
                f"(one of {', '.join(DEPARTMENTS)})"
            )
        departments[department] = name
    matters = dict(base.matters)
    for matter, name in _mapping(data.get("matters", {}), f"{where}.matters").items():
        if not 1 <= len(matter) <= 64:
            raise DeadlineConfigError(f"{where}.matters: a matter has 1 to 64 characters")
        matters[matter] = name
    default = data.get("default", base.default)
    for at, name in [
        *((f"departments.{d}", n) for d, n in departments.items()),
        *((f"matters.{m}", n) for m, n in matters.items()),
        ("default", default),
    ]:
        if name not in classes:
            raise DeadlineConfigError(
                f"{where}.{at}: unknown class {name!r} (one of {', '.join(sorted(classes))})"
            )
    return DeadlineTable(classes, departments, matters, default, base.catalogue)
