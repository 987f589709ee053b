"""Which work order a caller names: a number keyed in the menu or read out in the request.

A work-order number is thirteen digits, the local day and a five-digit sequence
(``2026120100123``). Callers key it in (the menu's `collect_digits` step stores it in the
tag `order_number`) or read it out, and the recogniser writes what they said in Chinese
numerals, one per syllable, often with spaces between them: ``二 零 二 六 一 二 零 一 零 零 一
二 三``. Callers say 幺 for one and 两 for two, as they do reading out phone numbers.

`read_order_number` finds such a number in a transcript: a run of exactly thirteen digits
(Arabic, full-width or spoken) whose first eight are a real date. A shorter or longer run
(a phone number, an ID card number) is not an order number. No I/O: whether the order
exists is for the caller of these functions to look up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Final

#: the menu tag a `collect_digits` step fills with the keyed number
ORDER_NUMBER_TAG: Final = "order_number"
ORDER_DIGITS: Final = 13
#: a keyed entry longer than this is not looked at (collect_digits stops at 32 keys)
MAX_KEYED: Final = 32

#: every way a digit is written in a transcript
DIGITS: Final[Mapping[str, str]] = {
    **{str(d): str(d) for d in range(10)},
    **{chr(0xFF10 + d): str(d) for d in range(10)},  # full-width ０..９
    "零": "0",
    "〇": "0",
    "○": "0",
    "洞": "0",
    "一": "1",
    "幺": "1",
    "二": "2",
    "两": "2",
    "三": "3",
    "四": "4",
    "五": "5",
    "六": "6",
    "七": "7",
    "拐": "7",
    "八": "8",
    "九": "9",
}
_DIGIT = "".join(sorted(DIGITS))
#: digits with spaces, hyphens or dots between them (what a recogniser or a typist puts there)
_RUN = re.compile(rf"[{_DIGIT}](?:[\s\-.·]*[{_DIGIT}])*")


def is_order_number(value: str) -> bool:
    """Thirteen ASCII digits whose first eight are a date (20000101 to 20991231)."""
    if len(value) != ORDER_DIGITS or not value.isascii() or not value.isdigit():
        return False
    try:
        day = date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError:
        return False
    return 2000 <= day.year <= 2099


def digits_of(run: str) -> str:
    """The ASCII digits of a run of digits in any of the spellings of `DIGITS`."""
    return "".join(DIGITS[c] for c in run if c in DIGITS)


def read_order_number(text: str | None) -> str | None:
    """The first order number in `text` (see the module header), as ASCII digits, or None."""
    for match in _RUN.finditer(text or ""):
        number = digits_of(match.group())
        if is_order_number(number):
            return number
    return None


def keyed_number(tags: Mapping[str, str]) -> str | None:
    """What the caller keyed into the order-number step ("" or missing: nothing), as digits;
    None when nothing was keyed."""
    value = (tags.get(ORDER_NUMBER_TAG) or "").strip()[:MAX_KEYED]
    digits = "".join(c for c in value if c.isascii() and c.isdigit())
    return digits or None


def named_order_number(tags: Mapping[str, str], transcript: str | None) -> str | None:
    """The order number a call names: what was keyed (even if malformed: the caller meant to
    name one), else one read out in the transcript; None when the call names none."""
    return keyed_number(tags) or read_order_number(transcript)
