"""A city's labelled history as training rows: read, check, split.

Theory of operation: a city retrains the model on the shipped corpus plus its own work orders
(`hotline classify train --data history.csv`). The file is a CSV with a header; its columns:

    text                  what the caller said or wrote (required, non-empty)
    kind                  consult, help, complaint, report, suggestion, praise (or empty)
    department            a taxonomy department code (or empty: answered directly, out of scope)
    out_of_scope_reason   empty for an in-scope request, else a reason the classifier decides
    emergency             empty, or 110 / 119 / 120 / 122
    intent                optional column: new_request (default) or follow_up
    domain                optional column: a taxonomy domain (or empty)
    enterprise            optional column: true/false, 1/0, yes/no (default false)
    id                    optional column: the row's name in reports (e.g. the order number)

Every row is checked before anything is trained; `read_history` raises HistoryError listing
every bad row with its line and what is wrong, so a city fixes its file in one pass. A label
left empty trains nothing for that head (a consultation answered without a department still
teaches kind and scope). Each city row is its own template (calibration folds never split a
row from itself). `holdout_part` splits rows by a hash of their text, so adding rows never
moves the others between parts.
"""

from __future__ import annotations

import csv
import io
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

from routing.build import build_model
from routing.classifier import Classifier, ClassifyError
from routing.corpus import Example
from routing.labelled import scores_from_examples
from routing.model import LinearModel
from routing.taxonomy import (
    CLASSIFIER_OOS_REASONS,
    DEPARTMENTS,
    DOMAINS,
    EMERGENCY_NUMBERS,
    KINDS,
)

REQUIRED_COLUMNS: Final = ("text", "kind", "department", "out_of_scope_reason", "emergency")
OPTIONAL_COLUMNS: Final = ("intent", "domain", "enterprise", "id")
#: a history file larger than this is refused before it is parsed
MAX_HISTORY_BYTES: Final = 64 * 1024 * 1024
MAX_HISTORY_ROWS: Final = 200_000
#: a written message (title and body) is a few thousand characters at most
MAX_TEXT_CHARS: Final = 8_000
MAX_ID_CHARS: Final = 64
CITY_SOURCE: Final = "city"
_TRUE: Final = frozenset({"true", "1", "yes", "y"})
_FALSE: Final = frozenset({"false", "0", "no", "n", ""})


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int  # 1 is the header
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


class HistoryError(ValueError):
    """The history file cannot be trained on; `problems` lists every bad row."""

    error_id = "bad_history"

    def __init__(self, problems: Sequence[RowProblem]) -> None:
        self.problems = list(problems)
        shown = "; ".join(str(p) for p in self.problems[:3])
        more = f" (and {len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(f"{len(self.problems)} problem(s): {shown}{more}")


def _choice(value: str, allowed: Sequence[str], column: str) -> tuple[str | None, str | None]:
    """(the value or None when empty, a problem or None)."""
    if not value:
        return None, None
    if value not in allowed:
        return None, f"{column}: {value!r} is not one of {', '.join(allowed)}"
    return value, None


def _row(cells: dict[str, str], line: int) -> tuple[Example | None, list[str]]:
    """One CSV record as an Example, or the list of what is wrong with it."""
    wrong: list[str] = []
    text = cells["text"].strip()
    if not text:
        wrong.append("text is empty")
    elif len(text) > MAX_TEXT_CHARS:
        wrong.append(f"text has {len(text)} characters, at most {MAX_TEXT_CHARS}")
    labels: dict[str, str | None] = {}
    for column, allowed in (
        ("kind", KINDS),
        ("department", DEPARTMENTS),
        ("out_of_scope_reason", CLASSIFIER_OOS_REASONS),
        ("emergency", EMERGENCY_NUMBERS),
        ("intent", ("new_request", "follow_up")),
        ("domain", DOMAINS),
    ):
        value, problem = _choice(cells.get(column, "").strip(), allowed, column)
        labels[column] = value
        if problem:
            wrong.append(problem)
    flag = cells.get("enterprise", "").strip().lower()
    if flag not in _TRUE | _FALSE:
        wrong.append(f"enterprise: {cells.get('enterprise')!r} is not true/false")
    enterprise = flag in _TRUE
    row_id = cells.get("id", "").strip()
    if len(row_id) > MAX_ID_CHARS:
        wrong.append(f"id has more than {MAX_ID_CHARS} characters")

    emergency = labels["emergency"]
    reason = labels["out_of_scope_reason"]
    if emergency is not None:
        # The taxonomy's emergency object: nothing else is labelled (docs/taxonomy.md).
        extra = [c for c in ("kind", "department", "out_of_scope_reason", "domain") if labels[c]]
        if extra:
            wrong.append(f"an emergency ({emergency}) has no {', '.join(extra)}; leave it empty")
        if labels["intent"] == "follow_up":
            wrong.append("an emergency is not a follow-up")
        if enterprise:
            wrong.append("an emergency is not an enterprise request")
    elif reason is not None and labels["department"] is not None:
        wrong.append(
            f"an out-of-scope request ({reason}) goes to no department; leave department empty"
        )
    if wrong:
        return None, wrong
    return (
        Example(
            id=f"{CITY_SOURCE}:{row_id or line}",
            text=text,
            split="train",
            source=CITY_SOURCE,
            template=f"{CITY_SOURCE}:{line}",
            intent="emergency" if emergency else (labels["intent"] or "new_request"),
            emergency=emergency,
            in_scope=emergency is None and reason is None,
            out_of_scope_reason="emergency" if emergency else reason,
            kind=labels["kind"],
            domain=labels["domain"],
            department=labels["department"],
            enterprise=enterprise,
        ),
        [],
    )


def read_history(data: bytes | str, max_rows: int = MAX_HISTORY_ROWS) -> list[Example]:
    """The rows of a history CSV as training Examples (split "train", source "city").

    Raises HistoryError listing every problem (a bad header, each bad row with its line, too
    many rows or bytes); nothing is returned unless every row is good."""
    size = len(data.encode("utf-8") if isinstance(data, str) else data)
    if size > MAX_HISTORY_BYTES:
        raise HistoryError(
            [RowProblem(1, f"the file has {size} bytes, at most {MAX_HISTORY_BYTES}")]
        )
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise HistoryError(
                [RowProblem(1, f"not UTF-8 text ({exc.reason} at byte {exc.start})")]
            ) from None
    data = data.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(data, newline=""))
    try:
        header = [h.strip() for h in next(reader)]
    except StopIteration:
        raise HistoryError([RowProblem(1, "the file is empty; it needs a header row")]) from None
    except csv.Error as exc:
        raise HistoryError([RowProblem(1, f"not CSV ({exc})")]) from None
    problems = _header_problems(header)
    if problems:
        raise HistoryError(problems)

    examples: list[Example] = []
    line = reader.line_num + 1  # where the next record starts (a quoted field may span lines)
    while True:
        try:
            record = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problems.append(RowProblem(line, f"not CSV ({exc})"))
            break
        start, line = line, reader.line_num + 1
        if not any(cell.strip() for cell in record):
            continue  # a blank line
        if len(examples) + len(problems) >= max_rows:
            problems.append(RowProblem(start, f"more than {max_rows} rows; split the file"))
            break
        if len(record) != len(header):
            problems.append(RowProblem(start, f"{len(record)} cells, the header has {len(header)}"))
            continue
        example, wrong = _row(dict(zip(header, record, strict=True)), start)
        if example is None:
            problems.append(RowProblem(start, "; ".join(wrong)))
        else:
            examples.append(example)
    if problems:
        raise HistoryError(problems)
    if not examples:
        raise HistoryError([RowProblem(1, "no rows after the header")])
    return examples


def _header_problems(header: list[str]) -> list[RowProblem]:
    problems = []
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        problems.append(RowProblem(1, f"missing column(s): {', '.join(missing)}"))
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        problems.append(
            RowProblem(
                1,
                f"unknown column(s): {', '.join(map(repr, unknown))}; the columns are "
                f"{', '.join(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)}",
            )
        )
    twice = sorted({c for c in header if header.count(c) > 1})
    if twice:
        problems.append(RowProblem(1, f"column(s) named twice: {', '.join(twice)}"))
    return problems


def part_of(example: Example, parts: int) -> int:
    """The part (0 .. parts-1) a row falls in, by a hash of its text: stable when rows are
    added, and equal texts always fall together (a duplicate never scores its twin)."""
    return zlib.crc32(example.text.encode("utf-8")) % parts


def folds(examples: Sequence[Example], parts: int) -> list[tuple[list[Example], list[Example]]]:
    """(fit, score) pairs of a `parts`-fold split of `examples` by `part_of`; a part with no
    rows is left out."""
    if parts < 2:
        raise ValueError("a split needs at least 2 parts")
    out = []
    for k in range(parts):
        score = [e for e in examples if part_of(e, parts) == k]
        if score:
            out.append(([e for e in examples if part_of(e, parts) != k], score))
    return out


# --- fitting and measuring -----------------------------------------------------------------

EVALUATIONS: Final = ("holdout", "cv", "none")
HOLDOUT_PARTS: Final = 5  # the holdout is one part in five of the city's rows
MAX_FOLDS: Final = 10


@dataclass(frozen=True)
class Trained:
    """A model fitted on the base corpus plus the city's rows, with its figures on the
    city's rows: `new` measured on rows the model being scored never saw (holdout or
    cross-validation), `before` the model in use before it, over the same rows."""

    model: LinearModel
    evaluation: str  # "holdout", "cv<k>" or "none"
    scored_rows: int
    new: dict[str, Any] | None
    before: dict[str, Any] | None

    def figures(self) -> dict[str, Any]:
        return {"scored_rows": self.scored_rows, "new": self.new, "before": self.before}


def train(
    base: Sequence[Example],
    city: Sequence[Example],
    *,
    evaluation: str = "holdout",
    folds_count: int = 5,
    before: Classifier | None = None,
    progress: Callable[[str], None] = lambda _message: None,
) -> Trained:
    """Fit a model on `base` + `city` and measure it on the city's rows.

    "holdout": one model on base + 4/5 of the city's rows, scored on the fifth; "cv": a
    `folds_count`-fold cross-validation over the city's rows (each fold's model sees base +
    the other folds); "none": no figures. Then the model that is returned is fitted on
    everything. `before` (the model in use) is scored on the same rows for comparison. Every
    fit is a full `build_model`, so "cv" costs folds_count + 1 fits."""
    if evaluation not in EVALUATIONS:
        raise ValueError(f"evaluation {evaluation!r}: one of {', '.join(EVALUATIONS)}")
    if evaluation == "cv" and not 2 <= folds_count <= MAX_FOLDS:
        raise ValueError(f"folds: 2 to {MAX_FOLDS}, not {folds_count}")
    splits: list[tuple[list[Example], list[Example]]] = []
    if evaluation == "holdout":
        splits = [s for s in folds(city, HOLDOUT_PARTS) if s[0]][:1]
    elif evaluation == "cv":
        splits = folds(city, folds_count)
    scored: list[Example] = []
    # Equal texts fall in the same part (part_of hashes the text), so answers keyed by text
    # are the answers of the one model that did not see them.
    answers: dict[str, dict[str, Any] | None] = {}
    for n, (fit_rows, score_rows) in enumerate(splits, start=1):
        progress(f"fit {n}/{len(splits) + 1}: base + {len(fit_rows)} city rows")
        classifier = Classifier(build_model([*base, *fit_rows]))
        for row in score_rows:
            answers[row.text] = _classification(classifier, row.text)
        scored += score_rows
    new = old_figures = None
    if scored:
        new = scores_from_examples(scored, answers.__getitem__).summary()
        if before is not None:
            old = before
            old_figures = scores_from_examples(
                scored, lambda text: _classification(old, text)
            ).summary()
    progress(f"fit {len(splits) + 1}/{len(splits) + 1}: base + {len(city)} city rows")
    model = build_model([*base, *city])
    name = "cv" + str(folds_count) if evaluation == "cv" else evaluation
    return Trained(model, name if scored else "none", len(scored), new, old_figures)


def _classification(classifier: Classifier, text: str) -> dict[str, Any] | None:
    try:
        return classifier.classify(text).to_dict()
    except ClassifyError:
        return None
