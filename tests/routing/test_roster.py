"""Roster logic: shift edges, overnight shifts, overlaps, swapped working days (调休)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from routing.roster import (
    Assignment,
    HolidayCalendar,
    Operator,
    Roster,
    RosterError,
    Shift,
    queue_members,
)

TZ = ZoneInfo("Asia/Shanghai")
A = Operator("7001", "王芳", "intake", frozenset({"mandarin"}))
B = Operator("7002", "巴特尔", "intake", frozenset({"mandarin", "mongolian"}))
C = Operator("7003", "李强", "dispatch", frozenset({"mandarin", "senior"}))
D = Operator("7004", "赵敏", "intake", frozenset({"mandarin", "enterprise"}))

EARLY = Shift("early", time(8), time(16))
LATE = Shift("late", time(16), time(0))  # ends at midnight
NIGHT = Shift("night", time(22), time(6, 30))  # crosses midnight
OFFICE = Shift("office", time(9), time(17), "workdays")
WEEKEND = Shift("weekend", time(9), time(17), "restdays")


def at(y: int, m: int, d: int, hh: int, mm: int = 0, ss: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, ss, tzinfo=TZ)


def roster(*assignments: Assignment, calendar: HolidayCalendar | None = None) -> Roster:
    return Roster([A, B, C, D], [EARLY, LATE, NIGHT, OFFICE, WEEKEND], assignments, calendar)


def exts(r: Roster, when: datetime) -> list[str]:
    return [d.operator.extension for d in r.on_duty(when)]


def test_shift_start_is_inclusive_and_end_exclusive() -> None:
    r = roster(Assignment(date(2026, 12, 1), "early", "7001"))
    assert exts(r, at(2026, 12, 1, 7, 59, 59)) == []
    assert exts(r, at(2026, 12, 1, 8)) == ["7001"]
    assert exts(r, at(2026, 12, 1, 15, 59, 59)) == ["7001"]
    assert exts(r, at(2026, 12, 1, 16)) == []


def test_shift_ending_at_midnight_covers_the_last_second_of_its_day_only() -> None:
    r = roster(Assignment(date(2026, 12, 1), "late", "7002"))
    assert exts(r, at(2026, 12, 1, 23, 59, 59)) == ["7002"]
    assert exts(r, at(2026, 12, 2, 0)) == []
    assert exts(r, at(2026, 12, 1, 15, 59)) == []


def test_overnight_shift_belongs_to_the_date_it_starts() -> None:
    r = roster(Assignment(date(2026, 12, 1), "night", "7003"))
    assert exts(r, at(2026, 12, 1, 21, 59)) == []
    assert exts(r, at(2026, 12, 1, 22)) == ["7003"]
    assert exts(r, at(2026, 12, 2, 3)) == ["7003"]
    assert exts(r, at(2026, 12, 2, 6, 29, 59)) == ["7003"]
    assert exts(r, at(2026, 12, 2, 6, 30)) == []
    # The early hours of Dec 1 belong to a Nov 30 instance nobody was assigned to.
    assert exts(r, at(2026, 12, 1, 3)) == []


def test_overnight_shift_across_a_month_and_year_end() -> None:
    r = roster(Assignment(date(2026, 12, 31), "night", "7001"))
    assert exts(r, at(2027, 1, 1, 1)) == ["7001"]


def test_overlapping_shifts_count_each_operator_once_with_the_later_end() -> None:
    r = roster(
        Assignment(date(2026, 12, 1), "late", "7001"),
        Assignment(date(2026, 12, 1), "night", "7001"),
        Assignment(date(2026, 12, 1), "late", "7002"),
    )
    duty = r.on_duty(at(2026, 12, 1, 23))
    assert [(d.operator.extension, d.shift) for d in duty] == [("7001", "night"), ("7002", "late")]
    assert duty[0].until == at(2026, 12, 2, 6, 30)
    assert exts(r, at(2026, 12, 2, 1)) == ["7001"]


def test_on_duty_converts_other_time_zones() -> None:
    r = roster(Assignment(date(2026, 12, 1), "early", "7001"))
    utc_moment = datetime(2026, 12, 1, 0, 30, tzinfo=ZoneInfo("UTC"))  # 08:30 in Shanghai
    assert exts(r, utc_moment) == ["7001"]
    with pytest.raises(RosterError):
        r.on_duty(datetime(2026, 12, 1, 9))


def test_workday_shift_runs_on_a_swapped_saturday_and_not_on_a_holiday_monday() -> None:
    # 2026-10-10 is a Saturday worked in exchange; 2026-10-05 a Monday of the National Day holiday.
    calendar = HolidayCalendar({date(2026, 10, 10): "workday", date(2026, 10, 5): "holiday"})
    r = roster(
        Assignment(date(2026, 10, 10), "office", "7004"),
        Assignment(date(2026, 10, 10), "weekend", "7001"),
        Assignment(date(2026, 10, 5), "office", "7004"),
        Assignment(date(2026, 10, 5), "weekend", "7001"),
        Assignment(date(2026, 10, 3), "weekend", "7002"),
        calendar=calendar,
    )
    assert exts(r, at(2026, 10, 10, 10)) == ["7004"]
    assert exts(r, at(2026, 10, 5, 10)) == ["7001"]
    assert exts(r, at(2026, 10, 3, 10)) == ["7002"]  # an ordinary Saturday
    assert calendar.is_working_day(date(2026, 10, 9))  # an ordinary Friday
    # Without the calendar the same Saturday is a rest day.
    plain = roster(Assignment(date(2026, 10, 10), "office", "7004"))
    assert exts(plain, at(2026, 10, 10, 10)) == []


def test_boundaries_list_every_start_and_end_in_order() -> None:
    r = roster(
        Assignment(date(2026, 12, 1), "early", "7001"),
        Assignment(date(2026, 12, 1), "night", "7003"),
    )
    found = r.boundaries(at(2026, 12, 1, 0), at(2026, 12, 2, 12))
    assert found == [
        at(2026, 12, 1, 8),
        at(2026, 12, 1, 16),
        at(2026, 12, 1, 22),
        at(2026, 12, 2, 6, 30),
    ]
    assert r.next_boundary(at(2026, 12, 1, 16)) == at(2026, 12, 1, 22)
    assert r.next_boundary(at(2026, 12, 2, 7)) is None


def test_queue_members_follow_group_and_skills() -> None:
    members = queue_members([A, B, C, D])
    assert members["intake"] == {"7001", "7002", "7004"}
    assert members["intake-mongolian"] == {"7002"}
    assert members["enterprise"] == {"7004"}
    assert members["dispatch"] == {"7003"}
    assert members["callback"] == set() and members["multimedia"] == set()


@pytest.mark.parametrize(
    ("kwargs", "error_id"),
    [
        ({"extension": "70a1"}, "bad_extension"),
        ({"group": "sales"}, "bad_group"),
        ({"skills": frozenset({"french"})}, "bad_skill"),
    ],
)
def test_bad_operators_are_refused(kwargs: dict[str, object], error_id: str) -> None:
    values: dict[str, object] = {"extension": "7001", "name": "x", "group": "intake", **kwargs}
    with pytest.raises(RosterError) as err:
        Operator(**values)  # type: ignore[arg-type]
    assert err.value.error_id == error_id


def test_shift_span_of_overnight_shift_is_its_length() -> None:
    start, end = NIGHT.span(date(2026, 12, 1), TZ)
    assert end - start == timedelta(hours=8, minutes=30)
