"""What a knowledge-base entry holds and the rules it must meet (pure logic).

One rule set for every way in (the API, the CSV import, the starter set): `problems(fields)`
lists what is wrong, each message naming the field. A CSV cell holds a list as values joined
by "|" and a flag as true/false (or 1/0, yes/no, 是/否).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from routing.taxonomy import DEPARTMENTS

MAX_QUESTION = 300
MAX_ANSWER = 4000
MAX_SOURCE = 200
MAX_ITEMS = {"matters": 10, "keywords": 20}
MAX_ITEM = {"matters": 64, "keywords": 32}
LIST_SEPARATOR = "|"

#: the fields an ops user edits (and a version keeps)
FIELDS = (
    "question",
    "answer",
    "matters",
    "keywords",
    "department",
    "valid_from",
    "valid_until",
    "source",
    "active",
)


@dataclass
class EntryFields:
    question: str
    answer: str
    matters: list[str] = field(default_factory=list)
    keywords: list[str] = field(default_factory=list)
    department: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    source: str = ""
    active: bool = True

    def cleaned(self) -> EntryFields:
        """The same with outer spaces trimmed, empty list items and repeats dropped."""
        return EntryFields(
            question=self.question.strip(),
            answer=self.answer.strip(),
            matters=_items(self.matters),
            keywords=_items(self.keywords),
            department=(self.department or "").strip() or None,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            source=self.source.strip(),
            active=self.active,
        )

    def content(self) -> dict[str, Any]:
        """As stored in a version row (JSON: dates as ISO strings)."""
        data = asdict(self)
        for name in ("valid_from", "valid_until"):
            data[name] = data[name].isoformat() if data[name] else None
        return data

    @classmethod
    def from_content(cls, data: Mapping[str, Any]) -> EntryFields:
        values = {name: data[name] for name in FIELDS if name in data}
        for name in ("valid_from", "valid_until"):
            if values.get(name):
                values[name] = date.fromisoformat(values[name])
        return cls(**values)


def _items(values: list[str]) -> list[str]:
    seen: dict[str, None] = {}
    for value in values:
        value = value.strip()
        if value:
            seen.setdefault(value, None)
    return list(seen)


def _controls(text: str, *, newlines: bool) -> bool:
    allowed = "\n\t" if newlines else ""
    return any(
        unicodedata.category(c) == "Cc" and c not in allowed for c in text.replace("\r\n", "\n")
    )


# ---- the rules: each looks at one thing and returns its problem, or None ---------------
def _question(f: EntryFields) -> str | None:
    if len(f.question) < 2:
        return "question: at least 2 characters"
    if len(f.question) > MAX_QUESTION:
        return f"question: at most {MAX_QUESTION} characters (it has {len(f.question)})"
    if _controls(f.question, newlines=False):
        return "question: one line, without control characters"
    return None


def _answer(f: EntryFields) -> str | None:
    if len(f.answer) < 2:
        return "answer: at least 2 characters"
    if len(f.answer) > MAX_ANSWER:
        return f"answer: at most {MAX_ANSWER} characters (it has {len(f.answer)})"
    if _controls(f.answer, newlines=True):
        return "answer: no control characters besides line breaks and tabs"
    return None


def _list(name: str) -> Callable[[EntryFields], str | None]:
    def rule(f: EntryFields) -> str | None:
        values: list[str] = getattr(f, name)
        if len(values) > MAX_ITEMS[name]:
            return f"{name}: at most {MAX_ITEMS[name]} (there are {len(values)})"
        for value in values:
            if len(value) > MAX_ITEM[name]:
                return f"{name}: {value[:20]!r}... is over {MAX_ITEM[name]} characters"
            if LIST_SEPARATOR in value or _controls(value, newlines=False):
                return f"{name}: {value!r} may not hold '{LIST_SEPARATOR}' or control characters"
        return None

    return rule


def _department(f: EntryFields) -> str | None:
    if f.department is not None and f.department not in DEPARTMENTS:
        return (
            f"department: {f.department!r} is not a department code (e.g. housing_provident_fund)"
        )
    return None


def _validity(f: EntryFields) -> str | None:
    if f.valid_from and f.valid_until and f.valid_until < f.valid_from:
        return f"valid_until {f.valid_until} is before valid_from {f.valid_from}"
    return None


def _source(f: EntryFields) -> str | None:
    if len(f.source) > MAX_SOURCE:
        return f"source: at most {MAX_SOURCE} characters"
    if _controls(f.source, newlines=False):
        return "source: one line, without control characters"
    return None


RULES: tuple[Callable[[EntryFields], str | None], ...] = (
    _question,
    _answer,
    _list("matters"),
    _list("keywords"),
    _department,
    _validity,
    _source,
)


def problems(fields: EntryFields) -> list[str]:
    """Everything wrong with (cleaned) `fields`; empty when the entry may be stored."""
    return [p for rule in RULES if (p := rule(fields)) is not None]


# ---- CSV cells ----------------------------------------------------------------------------
def split_list(cell: str) -> list[str]:
    return _items(cell.split(LIST_SEPARATOR))


def join_list(values: list[str]) -> str:
    return LIST_SEPARATOR.join(values)


def parse_date(cell: str, name: str) -> date | None:
    cell = cell.strip()
    if not cell:
        return None
    try:
        return date.fromisoformat(cell)
    except ValueError:
        raise ValueError(f"{name}: {cell!r} is not a date (YYYY-MM-DD)") from None


_TRUE = {"true", "1", "yes", "y", "是"}
_FALSE = {"false", "0", "no", "n", "否"}


def parse_flag(cell: str, name: str) -> bool:
    value = cell.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{name}: {cell!r} is not true or false")
