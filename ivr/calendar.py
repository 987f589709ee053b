"""Named calendars for `time_switch` nodes: weekly hours, holidays and swapped working days.

China moves working days around public holidays (调休): a Saturday can be a working day and a
Wednesday a holiday. So a date's status is decided in this order: a listed holiday is closed;
a listed working day is open with `working_day_hours`; otherwise the weekday's hours apply.
"""

from __future__ import annotations

import enum
import re
from datetime import date, datetime, time

from ivr.document import Calendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class DayKind(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    HOLIDAY = "holiday"


def parse_range(text: str) -> tuple[time, time]:
    """ "08:30-17:30" -> (08:30, 17:30). Raises ValueError with the reason."""
    match = _RANGE.match(text.strip())
    if not match:
        raise ValueError(f"{text!r} is not a time range like '08:30-17:30'")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if not (0 <= h1 <= 23 and 0 <= m1 <= 59 and 0 <= h2 <= 24 and 0 <= m2 <= 59):
        raise ValueError(f"{text!r} has an hour or minute out of range")
    start = time(h1, m1)
    end = time(23, 59, 59) if (h2, m2) == (24, 0) else time(h2, m2)
    if end <= start:
        raise ValueError(f"{text!r} ends before it starts")
    return start, end


def calendar_problems(calendar: Calendar) -> list[tuple[str, str]]:
    """(field path, message) for every malformed entry of a calendar."""
    problems: list[tuple[str, str]] = []
    for day, ranges in calendar.hours.items():
        if day not in WEEKDAYS:
            problems.append(
                (f"hours.{day}", f"unknown weekday {day!r} (use {', '.join(WEEKDAYS)})")
            )
        for i, text in enumerate(ranges):
            try:
                parse_range(text)
            except ValueError as exc:
                problems.append((f"hours.{day}.{i}", str(exc)))
    for field in ("holidays", "working_days"):
        for i, text in enumerate(getattr(calendar, field)):
            try:
                date.fromisoformat(text)
            except ValueError:
                problems.append((f"{field}.{i}", f"{text!r} is not a date like 2026-10-01"))
    for i, text in enumerate(calendar.working_day_hours or []):
        try:
            parse_range(text)
        except ValueError as exc:
            problems.append((f"working_day_hours.{i}", str(exc)))
    return problems


def day_kind(calendar: Calendar, at: datetime) -> DayKind:
    """Whether the calendar is open at local time `at` (a holiday is reported as such)."""
    today = at.date().isoformat()
    if today in calendar.holidays:
        return DayKind.HOLIDAY
    if today in calendar.working_days:
        ranges = calendar.working_day_hours
        if ranges is None:
            ranges = calendar.hours.get("mon", [])
    else:
        ranges = calendar.hours.get(WEEKDAYS[at.weekday()], [])
    now = at.time()
    for text in ranges:
        start, end = parse_range(text)
        if start <= now < end or (end == time(23, 59, 59) and now >= start):
            return DayKind.OPEN
    return DayKind.CLOSED
