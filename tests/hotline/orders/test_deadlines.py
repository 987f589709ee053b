"""Deadlines: hours on the clock for utilities, working days of the holiday calendar
(weekends, holidays, swapped working days), one extension, the table from the settings."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.orders.deadlines import (
    DEFAULT_TABLE,
    DeadlineConfigError,
    Limit,
    add_limit,
    parse_table,
)
from hotline.orders.lifecycle import OrderError
from routing.roster import HolidayCalendar

TZ = ZoneInfo("Asia/Shanghai")
WEEK = HolidayCalendar()
# 2026: 1 October (Thursday) to 8 October are the National Day holidays; Saturday
# 10 October is worked in exchange (调休).
NATIONAL_DAY = HolidayCalendar(
    {
        **{date(2026, 10, d): "holiday" for d in range(1, 9)},
        date(2026, 10, 10): "workday",
    }
)


def local(year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=TZ)


def test_classes_from_department_and_matter() -> None:
    assert DEFAULT_TABLE.class_for("heating", None) == "utilities"
    assert DEFAULT_TABLE.class_for("water_supply", "停水") == "utilities"
    assert DEFAULT_TABLE.class_for("housing_urban_rural", None) == "general"
    table = parse_table('{"matters": {"拆迁补偿": "complex"}}')
    assert table.class_for("housing_urban_rural", "拆迁补偿") == "complex"
    # The dispatch catalogue's class of a matter id: installing an elevator is complex.
    assert DEFAULT_TABLE.class_for("housing_urban_rural", "housing.elevator_install") == "complex"
    assert DEFAULT_TABLE.class_for("housing_urban_rural", "no.such_matter") == "general"
    # The table's own choice comes first.
    own = parse_table('{"matters": {"housing.elevator_install": "general"}}')
    assert own.class_for("housing_urban_rural", "housing.elevator_install") == "general"


def test_utilities_have_24_hours_on_the_clock_even_over_a_weekend() -> None:
    friday_evening = local(2026, 12, 4, 18, 30)
    assert DEFAULT_TABLE.due("utilities", friday_evening, WEEK, TZ) == local(2026, 12, 5, 18, 30)


def test_five_working_days_skip_the_weekend() -> None:
    # Dispatched Thursday 3 December: Fri, Mon, Tue, Wed, Thu -> due at the end of Thursday 10.
    due = DEFAULT_TABLE.due("general", local(2026, 12, 3, 15, 0), WEEK, TZ)
    assert due == local(2026, 12, 11, 0, 0)
    # The same moment given in UTC counts from the local day.
    assert DEFAULT_TABLE.due("general", datetime(2026, 12, 3, 7, 0, tzinfo=UTC), WEEK, TZ) == due


def test_holidays_do_not_count_and_a_swapped_saturday_does() -> None:
    # Dispatched Wednesday 30 September: 1-8 October are holidays; Friday 9, Saturday 10
    # (worked in exchange), Monday 12, Tuesday 13, Wednesday 14.
    due = DEFAULT_TABLE.due("general", local(2026, 9, 30, 10, 0), NATIONAL_DAY, TZ)
    assert due == local(2026, 10, 15, 0, 0)
    # Without the swapped Saturday it would be a day later.
    assert DEFAULT_TABLE.due("general", local(2026, 9, 30, 10, 0), WEEK, TZ) == local(
        2026, 10, 8, 0, 0
    )


def test_the_extension_doubles_the_limit_from_the_current_due_time() -> None:
    due = DEFAULT_TABLE.due("general", local(2026, 12, 3, 15, 0), WEEK, TZ)
    # Five more working days after Thursday 10: Fri 11, Mon 14 .. Thu 17.
    assert DEFAULT_TABLE.extend("general", due, WEEK, TZ) == local(2026, 12, 18, 0, 0)
    hot = DEFAULT_TABLE.due("utilities", local(2026, 12, 4, 18, 30), WEEK, TZ)
    assert DEFAULT_TABLE.extend("utilities", hot, WEEK, TZ) == local(2026, 12, 6, 18, 30)


def test_a_calendar_without_working_days_is_a_clear_error() -> None:
    class NoWork:
        def is_working_day(self, day: date) -> bool:
            return False

    with pytest.raises(OrderError, match="fewer than 5 working days"):
        add_limit(Limit(working_days=5), local(2026, 12, 1, 9, 0), NoWork(), TZ)


def test_the_table_from_settings_is_merged_over_the_defaults(tmp_path: Path) -> None:
    table = parse_table(
        '{"classes": {"general": {"working_days": 7, "extension": {"working_days": 3}}}}'
    )
    assert table.get("general").limit == Limit(working_days=7)
    assert table.get("general").extension == Limit(working_days=3)
    assert table.get("utilities").limit == Limit(hours=24)
    path = tmp_path / "deadlines.json"
    path.write_text(json.dumps({"classes": {"urgent": {"hours": 2}}, "default": "urgent"}))
    from_file = parse_table(str(path))
    assert from_file.class_for("education", None) == "urgent"
    assert parse_table("") is DEFAULT_TABLE


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not JSON"),
        ("/no/such/file.json", "neither a JSON object nor a file"),
        ('{"clases": {}}', "unknown keys"),
        ('{"classes": {"general": {"days": 5}}}', "classes.general: expected"),
        ('{"classes": {"general": {"hours": 5, "working_days": 2}}}', "hours or of working"),
        ('{"classes": {"general": {"working_days": 0}}}', "positive"),
        ('{"classes": {"general": {"working_days": "5"}}}', "whole numbers"),
        ('{"departments": {"fire": "utilities"}}', "unknown department 'fire'"),
        ('{"departments": {"heating": "urgent"}}', "departments.heating: unknown class"),
        ('{"default": "later"}', "default: unknown class 'later'"),
    ],
)
def test_a_bad_table_is_refused_naming_the_entry(text: str, message: str) -> None:
    with pytest.raises(DeadlineConfigError, match=message):
        parse_table(text)
