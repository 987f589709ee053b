"""Scoring the classifier on any labelled file: per-head figures, emergencies, confusions.

Theory of operation: a labelled file is JSON lines, each with `text` and some of the
taxonomy's output labels (`intent`, `emergency`, `in_scope`, `out_of_scope_reason`, `kind`,
`domain`, `department`, `enterprise`); other keys (`id`, `style`, ...) are carried along. A
label a line does not carry is not scored on that line, so a file labelled only for
department scores department alone. `read_labelled` checks every line and lists every bad one
(nothing is scored unless all are good).

`score` runs a classify function (text -> the taxonomy object as a dict, or None when the text
cannot be classified) over the rows and counts, per head, accuracy and each label's precision
and recall. A head is scored on the rows whose label applies: kind, domain and department
where the gold label is not null, the others on every row that carries them. Emergencies are
counted apart: recall over the rows labelled with a number (any number counts as caught; the
right number is counted too), the false-alarm rate over rows labelled with none, and the
missed emergencies are kept as examples. A text the classifier refuses counts as a
prediction of nothing (a missed emergency stays missed).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from routing.taxonomy import (
    DEPARTMENTS,
    DOMAINS,
    EMERGENCY_NUMBERS,
    INTENTS,
    KINDS,
    OUT_OF_SCOPE_REASONS,
)

LABELS: Final = (
    "intent",
    "emergency",
    "in_scope",
    "out_of_scope_reason",
    "kind",
    "domain",
    "department",
    "enterprise",
)
#: heads scored only where the gold label is not null
WHERE_LABELLED: Final = ("kind", "domain", "department")
MAX_LABELLED_BYTES: Final = 32 * 1024 * 1024
MAX_LABELLED_ROWS: Final = 100_000
MAX_TEXT_CHARS: Final = 8_000
#: examples of missed emergencies and false alarms kept in a report
MAX_EXAMPLES: Final = 20
_ALLOWED: Final[dict[str, tuple[str, ...]]] = {
    "intent": INTENTS,
    "emergency": EMERGENCY_NUMBERS,
    "out_of_scope_reason": OUT_OF_SCOPE_REASONS,
    "kind": KINDS,
    "domain": DOMAINS,
    "department": DEPARTMENTS,
}
_NULLABLE: Final = frozenset({"emergency", "out_of_scope_reason", "kind", "domain", "department"})

Classify = Callable[[str], Mapping[str, Any] | None]


@dataclass(frozen=True, slots=True)
class LabelledRow:
    line: int
    id: str  # the line's `id`, or "line N"
    text: str
    labels: dict[str, Any]  # only the labels the line carries


class LabelledError(ValueError):
    """The labelled file cannot be scored; `problems` lists every bad line."""

    error_id = "bad_labelled_file"

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(f"{len(self.problems)} problem(s): {'; '.join(self.problems[:3])}{more}")


def _label_problems(labels: Mapping[str, Any]) -> list[str]:
    wrong = []
    for key, value in labels.items():
        if key in ("in_scope", "enterprise"):
            if not isinstance(value, bool):
                wrong.append(f"{key} must be true or false, not {value!r}")
        elif value is None:
            if key not in _NULLABLE:
                wrong.append(f"{key} cannot be null")
        elif value not in _ALLOWED[key]:
            wrong.append(f"{key}: {value!r} is not one of {', '.join(_ALLOWED[key])}")
    return wrong


def read_labelled(data: bytes | str, max_rows: int = MAX_LABELLED_ROWS) -> list[LabelledRow]:
    """The rows of a labelled JSON-lines file; raises LabelledError listing every bad line."""
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > MAX_LABELLED_BYTES:
        raise LabelledError([f"the file has {size} bytes, at most {MAX_LABELLED_BYTES}"])
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise LabelledError([f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    rows: list[LabelledRow] = []
    problems: list[str] = []
    for n, line in enumerate(data.removeprefix("\ufeff").splitlines(), start=1):
        if not line.strip():
            continue
        if len(rows) + len(problems) >= max_rows:
            problems.append(f"line {n}: more than {max_rows} rows; split the file")
            break
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {n}: not JSON ({exc.msg})")
            continue
        if not isinstance(record, dict):
            problems.append(f"line {n}: not a JSON object")
            continue
        text = record.get("text")
        wrong = []
        if not isinstance(text, str) or not text.strip():
            wrong.append("needs a non-empty string `text`")
        elif len(text) > MAX_TEXT_CHARS:
            wrong.append(f"text has {len(text)} characters, at most {MAX_TEXT_CHARS}")
        labels = {k: record[k] for k in LABELS if k in record}
        if not labels:
            wrong.append(f"carries none of the labels {', '.join(LABELS)}")
        wrong += _label_problems(labels)
        if wrong:
            problems.append(f"line {n}: {'; '.join(wrong)}")
            continue
        row_id = record.get("id")
        name = str(row_id)[:64] if row_id is not None else f"line {n}"
        rows.append(LabelledRow(n, name, str(text), labels))
    if problems:
        raise LabelledError(problems)
    if not rows:
        raise LabelledError(["the file has no rows"])
    return rows


def _as_label(key: str, value: Any) -> str:
    """A gold or predicted value as the label string counted in the tables."""
    if key in ("in_scope", "enterprise"):
        return "true" if value else "false"
    if value is None:
        return {"emergency": "none", "out_of_scope_reason": "in_scope"}.get(key, "-")
    return str(value)


@dataclass
class HeadScore:
    """One head: how many rows it was scored on, how many right, and per label the gold
    count (support), the predicted count and the right ones."""

    n: int = 0
    correct: int = 0
    support: Counter[str] = field(default_factory=Counter)
    predicted: Counter[str] = field(default_factory=Counter)
    right: Counter[str] = field(default_factory=Counter)
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.n if self.n else None

    def precision(self, label: str) -> float | None:
        return self.right[label] / self.predicted[label] if self.predicted[label] else None

    def recall(self, label: str) -> float | None:
        return self.right[label] / self.support[label] if self.support[label] else None

    def add(self, gold: str, got: str) -> None:
        self.n += 1
        self.correct += gold == got
        self.support[gold] += 1
        self.predicted[got] += 1
        self.right[gold] += gold == got
        self.confusion[(gold, got)] += 1

    def to_dict(self, with_confusion: bool) -> dict[str, Any]:
        labels = sorted(set(self.support) | set(self.predicted))
        out: dict[str, Any] = {
            "n": self.n,
            "correct": self.correct,
            "accuracy": self.accuracy,
            "labels": {
                label: {
                    "support": self.support[label],
                    "predicted": self.predicted[label],
                    "correct": self.right[label],
                    "precision": self.precision(label),
                    "recall": self.recall(label),
                }
                for label in labels
            },
        }
        if with_confusion:
            table: dict[str, dict[str, int]] = {}
            for (gold, got), count in sorted(self.confusion.items()):
                table.setdefault(gold, {})[got] = count
            out["confusion"] = table
        return out


@dataclass
class Scores:
    rows: int = 0
    unclassified: int = 0
    heads: dict[str, HeadScore] = field(default_factory=lambda: {k: HeadScore() for k in LABELS})
    emergencies: int = 0
    caught: int = 0
    right_number: int = 0
    non_emergencies: int = 0
    false_alarms: int = 0
    missed: list[dict[str, Any]] = field(default_factory=list)
    false_alarm_examples: list[dict[str, Any]] = field(default_factory=list)

    @property
    def emergency_recall(self) -> float | None:
        return self.caught / self.emergencies if self.emergencies else None

    @property
    def false_alarm_rate(self) -> float | None:
        return self.false_alarms / self.non_emergencies if self.non_emergencies else None

    def summary(self) -> dict[str, Any]:
        """The figures without any text (kept with a model version: no caller's words)."""
        return {
            "rows": self.rows,
            "accuracy": {name: h.accuracy for name, h in self.heads.items() if h.n},
            "emergencies": self.emergencies,
            "emergency_recall": self.emergency_recall,
            "non_emergencies": self.non_emergencies,
            "false_alarm_rate": self.false_alarm_rate,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "unclassified": self.unclassified,
            "emergency": {
                "emergencies": self.emergencies,
                "caught": self.caught,
                "right_number": self.right_number,
                "recall": self.emergency_recall,
                "non_emergencies": self.non_emergencies,
                "false_alarms": self.false_alarms,
                "false_alarm_rate": self.false_alarm_rate,
                "missed": self.missed,
                "false_alarm_examples": self.false_alarm_examples,
            },
            "heads": {
                name: head.to_dict(name in ("kind", "department"))
                for name, head in self.heads.items()
                if head.n
            },
        }


def score(rows: Sequence[LabelledRow], classify: Classify) -> Scores:
    """Classify every row and count (see the module header)."""
    out = Scores()
    for row in rows:
        got = classify(row.text)
        out.rows += 1
        if got is None:
            out.unclassified += 1
            got = {}
        for key, gold in row.labels.items():
            if key in WHERE_LABELLED and gold is None:
                continue
            out.heads[key].add(_as_label(key, gold), _as_label(key, got.get(key)))
        if "emergency" not in row.labels:
            continue
        gold_number, got_number = row.labels["emergency"], got.get("emergency")
        example = {"line": row.line, "id": row.id, "text": row.text, "got": got_number}
        if gold_number is not None:
            out.emergencies += 1
            out.caught += got_number is not None
            out.right_number += got_number == gold_number
            if got_number is None and len(out.missed) < MAX_EXAMPLES:
                out.missed.append({**example, "expected": gold_number})
        else:
            out.non_emergencies += 1
            if got_number is not None:
                out.false_alarms += 1
                if len(out.false_alarm_examples) < MAX_EXAMPLES:
                    out.false_alarm_examples.append(example)
    return out


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def format_scores(scores: Scores) -> str:
    """Plain-text tables: heads, each head's labels, emergencies, two confusion tables."""
    lines = [f"rows: {scores.rows} (unclassifiable: {scores.unclassified})", ""]
    lines += ["| head | accuracy | right | n |", "| --- | --- | --- | --- |"]
    for name, head in scores.heads.items():
        if head.n:
            lines.append(f"| {name} | {_pct(head.accuracy)} | {head.correct} | {head.n} |")
    lines += [
        "",
        "emergencies (counted apart):",
        f"  recall {_pct(scores.emergency_recall)} ({scores.caught}/{scores.emergencies}), "
        f"right number {scores.right_number}/{scores.emergencies}",
        f"  false alarms {_pct(scores.false_alarm_rate)} "
        f"({scores.false_alarms}/{scores.non_emergencies})",
    ]
    for title, examples in (
        ("missed emergencies", scores.missed),
        ("false alarms", scores.false_alarm_examples),
    ):
        if examples:
            lines.append(f"  {title}:")
            lines += [
                f"    {e['id']} (expected {e.get('expected', 'none')}, got {e['got'] or 'none'}): "
                f"{e['text'][:120]}"
                for e in examples
            ]
    for name, head in scores.heads.items():
        if not head.n:
            continue
        lines += ["", f"{name}: | label | precision | recall | gold | predicted |"]
        for label in sorted(set(head.support) | set(head.predicted)):
            lines.append(
                f"  | {label} | {_pct(head.precision(label))} | {_pct(head.recall(label))} "
                f"| {head.support[label]} | {head.predicted[label]} |"
            )
    for name in ("department", "kind"):
        head = scores.heads[name]
        if not head.n:
            continue
        lines += ["", f"{name} confusion (gold -> predicted count, wrong ones worst first):"]
        for gold in sorted(head.support):
            row = {got: n for (g, got), n in head.confusion.items() if g == gold}
            wrong = sorted(((n, got) for got, n in row.items() if got != gold), reverse=True)
            detail = ", ".join(f"{got} {n}" for n, got in wrong) or "-"
            lines.append(f"  {gold:32} {row.get(gold, 0):4}/{head.support[gold]:<4} -> {detail}")
    return "\n".join(lines)


def scores_from_examples(examples: Sequence[Any], classify: Classify) -> Scores:
    """`score` over corpus or city Examples (every label they carry)."""
    rows = [
        LabelledRow(
            n,
            str(e.id),
            e.text,
            {k: getattr(e, k) for k in LABELS},
        )
        for n, e in enumerate(examples, start=1)
    ]
    return score(rows, classify)
