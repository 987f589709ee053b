"""Reading a work-order number out of what a caller keyed or said."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routing.followup import (
    DIGITS,
    is_order_number,
    keyed_number,
    named_order_number,
    read_order_number,
)

NUMBER = "2026120100123"


@pytest.mark.parametrize(
    "text",
    [
        "我的工单号是2026120100123，想问一下进度",
        "我的工单号是二零二六一二零一零零一二三",
        "工单 二 零 二 六 一 二 零 一 零 零 一 二 三 办得怎么样了",
        "二零二六 一二零一 零零幺二三",
        "两〇两六幺两〇幺〇〇幺两三",
        "编号２０２６１２０１００１２３",
        "2026-1201-00123",
    ],
)
def test_a_number_keyed_or_read_out_is_found(text: str) -> None:
    assert read_order_number(text) == NUMBER


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "我家暖气不热，屋里才十二度",
        "我的电话是13800138000",  # a phone number: eleven digits
        "身份证号150102199001011234",  # an ID card number: eighteen
        "二零二六一三零一零零一二三",  # month 13: not a day
        "一二三四五热线",
        "工单二零二六一二零一零零一二",  # twelve digits: one missed
    ],
)
def test_what_is_not_an_order_number_is_not_read_as_one(text: str | None) -> None:
    assert read_order_number(text) is None


def test_the_first_number_wins() -> None:
    assert read_order_number("2026120100123 还有 2026120200001") == NUMBER


def spelled(digits: str, spellings: list[int], gaps: list[str]) -> str:
    """`digits` with each digit in one of its spellings, gaps between them."""
    by_digit: dict[str, list[str]] = {}
    for char, digit in DIGITS.items():
        by_digit.setdefault(digit, []).append(char)
    out = []
    for i, d in enumerate(digits):
        options = by_digit[d]
        out.append(options[spellings[i % len(spellings)] % len(options)])
        out.append(gaps[i % len(gaps)])
    return "".join(out)


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31))


@given(
    day=days,
    sequence=st.integers(1, 99_999),
    spellings=st.lists(st.integers(0, 5), min_size=1, max_size=13),
    gaps=st.lists(st.sampled_from(["", " ", "  ", "-"]), min_size=1, max_size=13),
    before=st.sampled_from(["", "我的工单号是", "查一下", "编号："]),
    after=st.sampled_from(["", "，谢谢", "办得怎么样了", "。"]),
)
def test_any_spelling_of_any_number_is_read_back(
    day: date, sequence: int, spellings: list[int], gaps: list[str], before: str, after: str
) -> None:
    number = f"{day:%Y%m%d}{sequence:05d}"
    text = before + spelled(number, spellings, gaps).strip(" -") + after
    assert read_order_number(text) == number


@given(st.text(max_size=200))
def test_whatever_the_text_the_answer_is_an_order_number_or_none(text: str) -> None:
    found = read_order_number(text)
    assert found is None or (is_order_number(found) and found.isascii())


@given(day=days, sequence=st.integers(1, 99_999), extra=st.sampled_from(["1", "一", "9"]))
def test_a_longer_run_of_digits_is_not_an_order_number(
    day: date, sequence: int, extra: str
) -> None:
    assert read_order_number(f"{day:%Y%m%d}{sequence:05d}{extra}") is None


def test_is_order_number() -> None:
    assert is_order_number(NUMBER)
    assert not is_order_number("20261201001234")
    assert not is_order_number("2026023000123")  # 30 February
    assert not is_order_number("1999120100123")
    assert not is_order_number("２０２６１２０１００１２３")
    last = date(2099, 12, 31)
    assert is_order_number(f"{last:%Y%m%d}00001")
    assert not is_order_number(f"{last + timedelta(days=1):%Y%m%d}00001")


def test_keyed_entries_come_before_the_transcript() -> None:
    assert keyed_number({"order_number": " 2026120100123 "}) == NUMBER
    assert keyed_number({"order_number": ""}) is None
    assert keyed_number({}) is None
    # Whatever was keyed is what the caller meant, even when it is no order number.
    assert named_order_number({"order_number": "12345"}, "二零二六一二零一零零一二三") == "12345"
    assert named_order_number({}, "二零二六一二零一零零一二三") == NUMBER
    assert named_order_number({}, "没有编号") is None
