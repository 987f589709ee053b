"""Which personal data of a caller each reader sees: one rule for the web API and the logs.

A caller's personal data comes in four kinds (`Personal`): the full number, the name, the
words (what the caller said: transcripts, recognised words, and the routing explanation, which
can name the caller's open case) and the keys pressed. `personal_fields(role)` is the one
place that says which of them a role sees; every endpoint that returns calls, recordings or
routing decisions shows what a `View` of the reader's role lets through, and the logs show
what `View.for_logs` does (nothing personal unless `HOTLINE_LOG_PERSONAL_DATA=true`).

A number not seen is masked (138****8000: enough to tell calls apart, not to call back);
anything else not seen is left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from hotline.core.auth import mask_number
from routing.taxonomy import OUTPUT_KEYS


class Personal(StrEnum):
    number = "number"
    name = "name"
    words = "words"
    keys = "keys"


#: role -> the personal fields it sees. Supervisors follow up on citizens' requests and
#: listen to recordings; admins answer for the data. Ops run the system (menus, queues,
#: health) and need no caller's data; operators use none of these endpoints.
ROLE_SEES: Mapping[str, frozenset[Personal]] = {
    "admin": frozenset(Personal),
    "supervisor": frozenset(Personal),
    "ops": frozenset(),
    "operator": frozenset(),
    # A department acts on what the citizen said; it sees the number and name only of an
    # order that needs a call back (hotline.orders.views).
    "department": frozenset({Personal.words}),
}


def personal_fields(role: str) -> frozenset[Personal]:
    """The personal fields `role` sees (none for a role this rule does not know)."""
    return ROLE_SEES.get(str(role), frozenset())


#: keys of a call's path steps and of log details that hold personal data
FIELD_KINDS: Mapping[str, Personal] = {
    "caller_number": Personal.number,
    "caller_name": Personal.name,
    "name": Personal.name,
    "text": Personal.words,
    "transcript": Personal.words,
    "words": Personal.words,
    "explanation": Personal.words,
    "digits": Personal.keys,
}
#: the same key holds personal data only in some steps: a route step's `reason` is the
#: routing explanation (a retry's is "no_input"); the built-in flow's `digits` step keeps
#: the key in `value`
STEP_FIELD_KINDS: Mapping[tuple[str, str], Personal] = {
    ("route", "reason"): Personal.words,
    ("digits", "value"): Personal.keys,
}
#: the labels of a classification (no words of the caller); anything else is left out for
#: a reader who does not see words
CLASSIFICATION_LABELS = frozenset(OUTPUT_KEYS)


def kind_of(key: str, step: str = "") -> Personal | None:
    """The kind of personal data a field holds (None: not personal)."""
    return STEP_FIELD_KINDS.get((step, key)) or FIELD_KINDS.get(key)


@dataclass(frozen=True)
class View:
    """What one reader sees of a caller's data."""

    sees: frozenset[Personal]

    @classmethod
    def for_role(cls, role: str) -> View:
        return cls(personal_fields(role))

    @classmethod
    def for_logs(cls, personal_data: bool = False) -> View:
        """Logs show nothing personal (numbers masked) unless personal data is switched on
        for debugging."""
        return cls(frozenset(Personal) if personal_data else frozenset())

    @classmethod
    def without_words(cls) -> View:
        """Everything but the caller's words: what stays of a call once the retention of its
        recording has ended."""
        return cls(frozenset(Personal) - {Personal.words})

    def shows(self, kind: Personal) -> bool:
        return kind in self.sees

    def number(self, number: str) -> str:
        return number if Personal.number in self.sees else mask_number(number)

    def name(self, name: str) -> str:
        return name if Personal.name in self.sees else ""

    def words(self, text: str) -> str:
        return text if Personal.words in self.sees else ""

    def word_list(self, words: Iterable[Any]) -> list[Any]:
        return list(words) if Personal.words in self.sees else []

    def classification(self, classification: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if classification is None:
            return None
        if Personal.words in self.sees:
            return dict(classification)
        return {k: v for k, v in classification.items() if k in CLASSIFICATION_LABELS}

    def fields(self, values: Mapping[str, Any], step: str = "") -> dict[str, Any]:
        """`values` with each personal field shown, masked (numbers) or left out."""
        shown: dict[str, Any] = {}
        for key, value in values.items():
            kind = kind_of(key, step)
            if kind is None or kind in self.sees:
                shown[key] = value
            elif kind is Personal.number and isinstance(value, str):
                shown[key] = mask_number(value)
        return shown

    def personal(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Values handed over as personal (e.g. to a log line) as this reader sees them; a
        key of no known kind counts as the caller's words."""
        shown: dict[str, Any] = {}
        for key, value in values.items():
            kind = FIELD_KINDS.get(key, Personal.words)
            if value in ("", None):
                continue
            if kind in self.sees:
                shown[key] = value
            elif kind is Personal.number:
                shown[key] = mask_number(str(value))
        return shown

    def step(self, step: Mapping[str, Any]) -> dict[str, Any]:
        """One step of a call's path as this reader sees it."""
        return self.fields(step, str(step.get("step", "")))

    def path(self, steps: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [self.step(step) for step in steps]


def split_personal(
    values: Mapping[str, Any], step: str = ""
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the fields that are not personal, the personal ones): a log line writes the first and
    hands the second to the log filter (`hotline.core.logs`)."""
    public = {k: v for k, v in values.items() if kind_of(k, step) is None}
    personal = {k: v for k, v in values.items() if kind_of(k, step) is not None}
    return public, personal
