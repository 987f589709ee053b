"""The hotline dialplan against callers who choose their own caller id (no Asterisk needed)."""

from __future__ import annotations

import re

from hotline.devtools.sandbox import CONF_DIR

EXTENSIONS = CONF_DIR / "hotline" / "extensions.conf"
# A value a caller controls, passed through FILTER to characters that cannot end an argument
# (','), quote or escape one ('"', '\\') or open a variable ('$'): digits, letters, + * #.
#: a value the caller may shape (a caller id) or Asterisk sets (a queue position), filtered to
#: safe characters and cut to a length
FILTERED = re.compile(
    r"^\$\{FILTER\((?:0-9A-Za-z\+\*#|a-z_),\$\{(?:[A-Z]+\([a-z]+\)|[A-Z_]+)\}\):0:\d+\}$"
)


def top_level_arguments(text: str) -> list[str]:
    """Split on the commas outside any ${...} or (...), as the application sees them."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    return [*parts, current]


def user_events() -> list[str]:
    lines = EXTENSIONS.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if "UserEvent(" in line and not line.lstrip().startswith(";")]


def test_every_value_in_a_user_event_is_filtered_and_bounded() -> None:
    """A caller id such as `1,UserEvent: HotlineTest` must not add or replace an event's
    headers: each header is one UserEvent argument, split on commas."""
    events = user_events()
    assert len(events) >= 2
    for line in events:
        arguments = line.split("UserEvent(", 1)[1].rsplit(")", 1)[0]
        for header in top_level_arguments(arguments)[1:]:
            name, _, value = header.partition(": ")
            assert re.fullmatch(r"[A-Za-z]+", name), line
            if "${" in value:
                assert FILTERED.match(value), f"unfiltered value in: {line.strip()}"
