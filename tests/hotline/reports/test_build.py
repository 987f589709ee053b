"""Report rules on plain inputs: which shift an order belongs to, what counts as on time,
how buckets are ordered, which requests are refused."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.reports.queries import (
    OrderFacts,
    Report,
    ReportError,
    ReportRequest,
    ShiftClock,
    build,
)
from routing.roster import HolidayCalendar, Shift

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 10, tzinfo=UTC)


def local(day: int, hour: int, minute: int = 0, month: int = 12) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


SHIFTS = [
    Shift("night", time(0), time(8)),
    Shift("morning", time(8), time(16)),
    Shift("office", time(9), time(17), "workdays"),
    Shift("evening", time(16), time(0)),
    Shift("late", time(22), time(6)),  # crosses midnight
]


def clock(calendar: HolidayCalendar | None = None) -> ShiftClock:
    return ShiftClock(SHIFTS, calendar or HolidayCalendar(), TZ)


def test_the_shift_of_an_order_is_the_one_that_started_last() -> None:
    c = clock()
    assert c.names() == ["night", "morning", "office", "evening", "late"]
    assert c.shift_of(local(1, 8, 30)) == "morning"  # Tuesday
    assert c.shift_of(local(1, 9, 0)) == "office"
    assert c.shift_of(local(1, 17, 0)) == "evening"  # office ends at 17:00, exclusive
    assert c.shift_of(local(1, 23, 0)) == "late"
    # the night shift of the 2nd started at midnight, after the late shift of the 1st
    assert c.shift_of(local(2, 1, 0)) == "night"
    # given in UTC: 2026-12-01 01:30 UTC is 09:30 in Shanghai
    assert c.shift_of(datetime(2026, 12, 1, 1, 30, tzinfo=UTC)) == "office"


def test_office_hours_follow_the_holiday_calendar() -> None:
    plain = clock()
    assert plain.shift_of(local(5, 10)) == "morning"  # Saturday
    swapped = clock(HolidayCalendar({date(2026, 12, 5): "workday", date(2026, 12, 7): "holiday"}))
    assert swapped.shift_of(local(5, 10)) == "office"  # a Saturday worked (调休)
    assert swapped.shift_of(local(7, 10)) == "morning"  # a Monday off


def test_outside_every_shift_is_none() -> None:
    c = ShiftClock([Shift("day", time(8), time(16))], HolidayCalendar(), TZ)
    assert c.shift_of(local(1, 20)) == "none"


def report(name: str, facts: list[OrderFacts], by: str = "day", **kw: int) -> Report:
    request = ReportRequest(name, date(2026, 12, 1), date(2026, 12, 3), by, **kw)
    return build(request, facts, tz=TZ, shifts=clock(), now=NOW)


def test_on_time_counts_the_first_answer_and_overdue_open_orders() -> None:
    due = local(5, 12)
    facts = [
        OrderFacts(local(1, 10), "closed", due_at=due, answered_at=due),  # at due: on time
        OrderFacts(local(1, 11), "replied", due_at=due, answered_at=due + timedelta(seconds=1)),
        OrderFacts(local(1, 12), "dispatched", due_at=due),  # overdue at NOW: late
        OrderFacts(local(2, 12), "dispatched", due_at=local(20, 12)),  # not yet due
        OrderFacts(local(2, 13), "answered"),  # no due time: not counted
    ]
    r = report("on-time", facts)
    assert r.columns == (
        "day", "with_deadline", "on_time", "late", "overdue_open", "not_yet_due", "on_time_rate"
    )  # fmt: skip
    assert r.rows == [
        {"day": "2026-12-01", "with_deadline": 3, "on_time": 1, "late": 2, "overdue_open": 1,
         "not_yet_due": 0, "on_time_rate": 0.3333},
        {"day": "2026-12-02", "with_deadline": 1, "on_time": 0, "late": 0, "overdue_open": 0,
         "not_yet_due": 1, "on_time_rate": None},
        {"day": "2026-12-03", "with_deadline": 0, "on_time": 0, "late": 0, "overdue_open": 0,
         "not_yet_due": 0, "on_time_rate": None},
    ]  # fmt: skip
    assert r.total[0]["on_time_rate"] == 0.3333
    csv_lines = r.to_csv().splitlines()
    assert csv_lines[2] == "2026-12-02,1,0,0,0,1,"
    assert csv_lines[-1] == "total,4,1,2,1,1,0.3333"


def test_matters_fall_back_to_the_department_and_are_ranked() -> None:
    facts = [
        OrderFacts(local(1, 10), "closed", matter="供暖不热", department="heating"),
        OrderFacts(local(1, 11), "closed", matter="供暖不热", department="heating"),
        OrderFacts(local(1, 12), "closed", department="heating"),
        OrderFacts(local(1, 13), "closed"),
        OrderFacts(local(1, 14), "closed", matter="=cmd|' /C calc'!A0"),
    ]
    r = report("matters", facts, by="department", top=3)
    assert [(row["department"], row["rank"], row["matter"], row["orders"]) for row in r.rows] == [
        ("heating", 1, "供暖不热", 2),
        ("heating", 2, "heating", 1),
        ("none", 1, "=cmd|' /C calc'!A0", 1),
        ("none", 2, "unclassified", 1),
    ]
    assert [row["matter"] for row in r.total] == ["供暖不热", "=cmd|' /C calc'!A0", "heating"]
    assert r.total[0]["share"] == 0.4
    # a spreadsheet would run this cell as a formula: the CSV keeps it as text
    assert "none,1,'=cmd|' /C calc'!A0,1,0.5" in r.to_csv().splitlines()


def test_satisfaction_and_scope() -> None:
    facts = [
        OrderFacts(local(1, 10), "closed", callback_result={"solved": True, "satisfaction": "satisfied"}),
        OrderFacts(local(1, 10), "closed", callback_result={"solved": True, "satisfaction": "basic"}),
        OrderFacts(local(1, 10), "reopened", callback_result={"solved": False, "satisfaction": "unsatisfied"}),
        OrderFacts(local(1, 10), "closed", callback_result={"solved": True}),  # not rated
        OrderFacts(local(1, 10), "answered", in_scope=False, out_of_scope_reason="privacy"),
        OrderFacts(local(1, 10), "answered", in_scope=False, out_of_scope_reason="made-up"),
    ]  # fmt: skip
    s = report("satisfaction", facts).total[0]
    assert s == {"day": "total", "called_back": 4, "solved": 3, "unsolved": 1, "satisfied": 1,
                 "basic": 1, "unsatisfied": 1, "solved_rate": 0.75, "satisfaction_rate": 0.6667}  # fmt: skip
    scope = report("scope", facts).total[0]
    assert (scope["out_of_scope"], scope["out_of_scope_share"]) == (2, 0.3333)
    assert (scope["privacy"], scope["unspecified"], scope["emergency"]) == (1, 1, 0)


def test_every_shift_is_listed_in_start_order() -> None:
    facts = [OrderFacts(local(1, 23), "draft"), OrderFacts(local(2, 1), "draft")]
    r = report("status", facts, by="shift")
    assert [(row["shift"], row["orders"]) for row in r.rows] == [
        ("night", 1), ("morning", 0), ("office", 0), ("evening", 0), ("late", 1)
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("nope", date(2026, 1, 1), date(2026, 1, 1), "day"), "unknown_report"),
        (("status", date(2026, 1, 1), date(2026, 1, 1), "week"), "bad_by"),
        (("status", date(2026, 1, 2), date(2026, 1, 1), "day"), "bad_range"),
        (("status", date(2026, 1, 1), date(2027, 1, 2), "day"), "range_too_long"),
    ],
)
def test_bad_requests_are_refused(args: tuple[str, date, date, str], code: str) -> None:
    with pytest.raises(ReportError) as caught:
        ReportRequest(*args)
    assert caught.value.code == code
    # a leap year's 366 days are allowed
    ReportRequest("status", date(2028, 1, 1), date(2028, 12, 31))
