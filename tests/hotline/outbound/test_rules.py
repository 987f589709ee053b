"""The outbound rules on plain inputs."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

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
    parse_delays,
    room,
    why_not_now,
)

ZONE = ZoneInfo("Asia/Shanghai")
HOURS = CallingHours()
LIMITS = Limits(at_once=2, per_minute=5, queue_waiting=3)


def moment(hour: int, minute: int = 0, **changes: object) -> Moment:
    values: dict[str, object] = {
        "local": datetime(2026, 12, 7, hour, minute, tzinfo=ZONE),
        "holiday": False,
        "paused": False,
        "in_progress": 0,
        "started_last_minute": 0,
        "waiting": {"intake": 0},
    }
    values.update(changes)
    return Moment(**values)  # type: ignore[arg-type]


def test_calls_only_within_calling_hours() -> None:
    assert why_not_now(moment(7, 59), HOURS, LIMITS) == "outside_hours"
    assert why_not_now(moment(8, 0), HOURS, LIMITS) is None
    assert why_not_now(moment(20, 59), HOURS, LIMITS) is None
    assert why_not_now(moment(21, 0), HOURS, LIMITS) == "outside_hours"


def test_no_calls_on_holidays_unless_allowed() -> None:
    assert why_not_now(moment(10, holiday=True), HOURS, LIMITS) == "holiday"
    allowed = CallingHours(on_holidays=True)
    assert why_not_now(moment(10, holiday=True), allowed, LIMITS) is None


def test_long_inbound_queues_pause_outbound() -> None:
    assert why_not_now(moment(10, waiting={"intake": 3}), HOURS, LIMITS) == "queues_long"
    assert why_not_now(moment(10, waiting={"intake": 2}), HOURS, LIMITS) is None
    assert why_not_now(moment(10, waiting=None), HOURS, LIMITS) == "queues_unknown"
    never = Limits(queue_waiting=0)
    assert why_not_now(moment(10, waiting={"intake": 50}), HOURS, never) is None


def test_people_pause_before_anything_else() -> None:
    assert why_not_now(moment(3, paused=True), HOURS, LIMITS) == "paused"


def test_at_once_and_per_minute_limits() -> None:
    assert why_not_now(moment(10, in_progress=2), HOURS, LIMITS) == "at_once"
    assert why_not_now(moment(10, started_last_minute=5), HOURS, LIMITS) == "per_minute"
    assert room(moment(10, in_progress=1, started_last_minute=1), LIMITS) == 1
    assert room(moment(10, in_progress=0, started_last_minute=4), LIMITS) == 1
    assert room(moment(10, in_progress=0, started_last_minute=0), LIMITS) == 2


def test_hours_are_checked_when_set() -> None:
    assert CallingHours.parse("09:30-18:00") == CallingHours(time(9, 30), time(18, 0))
    assert CallingHours.parse("00:00-24:00").open_at(datetime(2026, 1, 1, 23, 59), False)
    for bad in ("9-18", "18:00-09:00", "08:00-25:00", "08:00"):
        with pytest.raises(ValueError, match="calling hours"):
            CallingHours.parse(bad)


def test_next_open_skips_nights_and_holidays() -> None:
    holidays = {date(2026, 12, 8)}

    def is_holiday(day: date) -> bool:
        return day in holidays

    at = datetime(2026, 12, 7, 22, 0, tzinfo=ZONE)
    assert next_open(at, HOURS, is_holiday) == datetime(2026, 12, 9, 8, 0, tzinfo=ZONE)
    early = datetime(2026, 12, 7, 6, 30, tzinfo=ZONE)
    assert next_open(early, HOURS, is_holiday) == datetime(2026, 12, 7, 8, 0, tzinfo=ZONE)
    inside = datetime(2026, 12, 7, 12, 0, tzinfo=ZONE)
    assert next_open(inside, HOURS, is_holiday) == inside


def test_three_tries_over_two_days_then_left_for_a_person() -> None:
    delays = parse_delays("4h,20h")
    assert next_try(1, 3, delays) == timedelta(hours=4)
    assert next_try(2, 3, delays) == timedelta(hours=20)
    assert next_try(3, 3, delays) is None
    assert next_try(4, 5, parse_delays("1h")) == timedelta(hours=1)  # the last delay repeats
    for bad in ("", "4x", "4h,,abc"):
        with pytest.raises(ValueError, match="retry delay"):
            parse_delays(bad)


def test_originate_answers_become_outcomes() -> None:
    assert outcome_of(True, "4") == "answered"
    assert outcome_of(False, "5") == "busy"
    assert outcome_of(False, "3") == "no_answer"
    assert outcome_of(False, "8") == "failed"
    assert outcome_of(False, "1", "17") == "busy"
    assert outcome_of(False, "0") == "failed"


def test_a_call_back_waits_while_an_inbound_caller_waits_in_its_queue() -> None:
    # An operator is free, but a caller is waiting: the answered call-back would jump ahead.
    queues = {"intake": QueueNow(available=1, callers=1)}
    assert callback_blocked("intake", queues, {}) == "callers_waiting"
    assert open_queues(queues, {}) == set()


def test_a_call_back_needs_an_operator_free_now() -> None:
    queues = {"intake": QueueNow(available=0, callers=0)}
    assert callback_blocked("intake", queues, {}) == "no_free_operator"
    assert callback_blocked("intake", {"intake": QueueNow(1, 0)}, {}) is None


def test_an_operator_promised_to_a_call_back_in_flight_is_not_free() -> None:
    queues = {"intake": QueueNow(available=2, callers=0), "elderly": QueueNow(1, 0)}
    assert callback_blocked("intake", queues, {"intake": 1}) is None
    assert callback_blocked("intake", queues, {"intake": 2}) == "no_free_operator"
    # a promise in another queue takes nothing here
    assert callback_blocked("elderly", queues, {"intake": 2}) is None
    assert open_queues(queues, {"intake": 2}) == {"elderly"}


def test_a_call_back_is_not_placed_blind() -> None:
    assert callback_blocked("intake", None, {}) == "queues_unknown"
    assert callback_blocked("complaints", {"intake": QueueNow(3, 0)}, {}) == "queue_unknown"
    assert open_queues(None, {}) == set()
