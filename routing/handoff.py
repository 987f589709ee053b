"""Explicit requests for an emergency service: "帮我转120", "给我接一下幺幺零", "打119".

A caller who names the service and asks to be put through is handed over without a
question; everyone else the classifier suspects of an emergency is asked first (the IVR's
confirmation), because a hand-off to 110/119/120/122 must never rest on a guess.

A request is a transfer verb (转, 转接) before the number, or a call verb (接, 打, 拨, 呼叫,
联系) that is asked of the hotline: after 帮我, 给我, 请, 麻烦, 我要... or at the start of what
the caller said. "我打119没人接" and "不用转120" are no requests. Numbers are read as callers
and recognisers write them: digits, 一/幺 (and its homophones 妖, 腰), 零/〇/洞 (灵: "妖妖灵"), 二/两, 九, with
or without spaces between characters. Pure and fast: one regular expression.
"""

from __future__ import annotations

import re
from typing import Final

_ONE = "[1１一幺妖腰]"
_ZERO = "[0０零〇洞灵铃]"
_TWO = "[2２二两]"
_NINE = "[9９九]"
_DIGIT = "[0-9０-９零〇洞灵铃一幺妖腰二两三四五六七八九]"

#: the service each spoken form of the number stands for
_NUMBER: Final = (
    f"(?<!{_DIGIT})(?P<n>{_ONE}{_ONE}{_ZERO}|{_ONE}{_ONE}{_NINE}|{_ONE}{_TWO}{_ZERO}|"
    f"{_ONE}{_TWO}{_TWO})(?!{_DIGIT})"
)
_FILLER: Final = "(?:一下|一个|个|下|给我|给|我|到|去|通|一通)*"
_TRANSFER: Final = "(?:转接|转到|转给|转去|转)"
_CALL: Final = "(?:接通|接到|接|拨打|拨通|拨|打|呼叫|联系|连)"
_ASK: Final = "(?:帮我|帮忙|帮帮我|给我|替我|请|麻烦你|麻烦|我要|我想|快|赶紧|赶快|马上|立刻|立即)"

#: 转 asks for a transfer wherever it stands; a call verb only when asked of the hotline
_REQUESTS: Final = (
    re.compile(f"{_TRANSFER}{_FILLER}{_NUMBER}"),
    re.compile(f"(?:{_ASK}+|^){_CALL}{_FILLER}{_NUMBER}"),
)
#: a negation just before the request, perhaps with asking words between ("不用帮我转120")
_NEGATED: Final = re.compile(f"(?:不用|不要|不必|无需|别|甭|勿|没有|没|不){_ASK}*$")
_SPACE: Final = re.compile(r"\s+")


def requested_service(text: str | None) -> str | None:
    """The service ("110", "119", "120", "122") the caller asks to be put through to, or
    None when `text` holds no such request."""
    if not text:
        return None
    compact = _SPACE.sub("", text)
    for pattern in _REQUESTS:
        for match in pattern.finditer(compact):
            if not _NEGATED.search(compact[: match.start()]):
                return _service(match.group("n"))
    return None


def _service(spoken: str) -> str:
    digits = []
    for ch in spoken:
        if re.fullmatch(_ONE, ch):
            digits.append("1")
        elif re.fullmatch(_ZERO, ch):
            digits.append("0")
        elif re.fullmatch(_TWO, ch):
            digits.append("2")
        else:
            digits.append("9")
    return "".join(digits)
