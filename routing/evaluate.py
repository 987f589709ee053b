"""Scores of the classifier on the held-out split of the corpus.

Per-label accuracy is counted on the rows where the label applies: kind and domain on
non-emergency rows, department on rows that name one (a follow-up about no particular matter
names none), enterprise and intent on every row. Emergency recall is over held-out emergencies;
the false-alarm rate is over held-out non-emergencies (which include near misses: past,
negated and hypothetical mentions). Calibration is the expected calibration error (10 bins) of
`confidence` against "the decision it speaks for was right".

Recalls that decide where a call goes are counted on their own rows: `reason` (the
out-of-scope reason, on the rows that are out of scope and not emergencies), `follow_up` (on
follow-up rows: was it taken for one), `enterprise` recall (on enterprise rows). Every figure
rests on `templates`, the number of independent templates scored, not on the rows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from routing.classifier import Classification, Classifier
from routing.corpus import Example

TARGETS: dict[str, float] = {
    "emergency_recall": 1.0,
    "intent": 0.95,
    "in_scope": 0.90,
    "kind": 0.85,
    "department": 0.80,
}
MAX_FALSE_EMERGENCY = 0.02


@dataclass
class Report:
    rows: int = 0
    correct: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    emergencies: int = 0
    emergencies_caught: int = 0
    emergency_number_right: int = 0
    non_emergencies: int = 0
    false_alarms: int = 0
    confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    kind_confusion: Counter[tuple[str, str]] = field(default_factory=Counter)
    by_source: dict[str, Counter[str]] = field(default_factory=dict)
    calibration: list[tuple[float, bool]] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    false_alarm_texts: list[str] = field(default_factory=list)
    templates: set[str] = field(default_factory=set)

    def accuracy(self, label: str) -> float:
        return self.correct[label] / self.total[label] if self.total[label] else float("nan")

    @property
    def emergency_recall(self) -> float:
        return self.emergencies_caught / self.emergencies if self.emergencies else float("nan")

    @property
    def false_alarm_rate(self) -> float:
        return self.false_alarms / self.non_emergencies if self.non_emergencies else float("nan")

    def ece(self, bins: int = 10) -> float:
        if not self.calibration:
            return float("nan")
        err = 0.0
        for b in range(bins):
            lo, hi = b / bins, (b + 1) / bins
            cell = [
                (c, ok)
                for c, ok in self.calibration
                if lo <= c < hi or (b == bins - 1 and c == 1.0)
            ]
            if cell:
                mean_conf = sum(c for c, _ in cell) / len(cell)
                acc = sum(ok for _, ok in cell) / len(cell)
                err += len(cell) / len(self.calibration) * abs(mean_conf - acc)
        return err


def _check(report: Report, label: str, ok: bool, source: str) -> None:
    report.total[label] += 1
    report.correct[label] += ok
    per = report.by_source.setdefault(source, Counter())
    per[f"{label}_n"] += 1
    per[label] += ok


def evaluate(classifier: Classifier, examples: Sequence[Example]) -> Report:
    """Classify every example and count (callers pass the held-out split)."""
    report = Report()
    for ex in examples:
        got: Classification = classifier.classify(ex.text)
        report.rows += 1
        report.templates.add(ex.template)
        src = ex.source
        if ex.emergency is not None:
            report.emergencies += 1
            report.emergencies_caught += got.emergency is not None
            report.emergency_number_right += got.emergency == ex.emergency
            if got.emergency is None:
                report.misses.append(ex.text)
        else:
            report.non_emergencies += 1
            if got.emergency is not None:
                report.false_alarms += 1
                report.false_alarm_texts.append(ex.text)
        _check(report, "intent", got.intent == ex.intent, src)
        _check(report, "emergency_number", got.emergency == ex.emergency, src)
        _check(report, "in_scope", got.in_scope == ex.in_scope, src)
        _check(
            report, "out_of_scope_reason", got.out_of_scope_reason == ex.out_of_scope_reason, src
        )
        _check(report, "enterprise", got.enterprise == ex.enterprise, src)
        if ex.enterprise:
            _check(report, "enterprise_recall", got.enterprise, src)
        if ex.intent == "follow_up":
            _check(report, "follow_up_recall", got.intent == "follow_up", src)
        if ex.out_of_scope_reason is not None and ex.intent != "emergency":
            _check(report, "reason", got.out_of_scope_reason == ex.out_of_scope_reason, src)
        if ex.intent != "emergency":
            _check(report, "kind", got.kind == ex.kind, src)
            report.kind_confusion[(str(ex.kind), got.kind or "-")] += 1
            _check(report, "domain", got.domain == ex.domain, src)
        if ex.department is not None:
            ok = got.department == ex.department
            _check(report, "department", ok, src)
            report.confusion[(ex.department, got.department or "-")] += 1
            if ex.in_scope and ex.intent == "new_request":
                report.calibration.append((got.confidence, ok))
    return report


def merge(reports: Sequence[Report]) -> Report:
    """One report counting every row of `reports` (e.g. the folds of a cross-validation)."""
    out = Report()
    for r in reports:
        out.rows += r.rows
        out.correct.update(r.correct)
        out.total.update(r.total)
        out.emergencies += r.emergencies
        out.emergencies_caught += r.emergencies_caught
        out.emergency_number_right += r.emergency_number_right
        out.non_emergencies += r.non_emergencies
        out.false_alarms += r.false_alarms
        out.confusion.update(r.confusion)
        out.kind_confusion.update(r.kind_confusion)
        for source, counts in r.by_source.items():
            out.by_source.setdefault(source, Counter()).update(counts)
        out.calibration += r.calibration
        out.misses += r.misses
        out.false_alarm_texts += r.false_alarm_texts
        out.templates |= r.templates
    return out


def format_report(report: Report) -> str:
    """Plain-text tables: accuracies against targets, emergencies, department confusion."""
    lines = [
        f"rows: {report.rows} from {len(report.templates)} templates",
        "",
        "| label | accuracy | n | clean | asr | target |",
    ]
    lines.append("| --- | --- | --- | --- | --- | --- |")
    for label in (
        "intent",
        "emergency_number",
        "in_scope",
        "out_of_scope_reason",
        "reason",
        "follow_up_recall",
        "enterprise_recall",
        "kind",
        "domain",
        "department",
        "enterprise",
    ):
        per = [report.by_source.get(s, Counter()) for s in ("clean", "asr")]
        parts = [f"{p[label] / p[f'{label}_n']:.1%}" if p[f"{label}_n"] else "-" for p in per]
        target = TARGETS.get(label)
        lines.append(
            f"| {label} | {report.accuracy(label):.1%} | {report.total[label]} | {parts[0]} | "
            f"{parts[1]} | {f'>= {target:.0%}' if target else ''} |"
        )
    lines += [
        "",
        "| emergency | value | target |",
        "| --- | --- | --- |",
        f"| recall | {report.emergency_recall:.1%} ({report.emergencies_caught}/{report.emergencies}) "
        f"| 100% |",
        f"| right number | {report.emergency_number_right}/{report.emergencies} | |",
        f"| false alarms | {report.false_alarm_rate:.2%} ({report.false_alarms}/"
        f"{report.non_emergencies}) | <= {MAX_FALSE_EMERGENCY:.0%} |",
        "",
        f"confidence calibration (department, in-scope new requests): ECE {report.ece():.3f}",
    ]
    depts = sorted({g for g, _ in report.confusion})
    lines += ["", "department confusion (gold: predicted count, worst first):"]
    for gold in depts:
        row = {p: n for (g, p), n in report.confusion.items() if g == gold}
        n = sum(row.values())
        right = row.get(gold, 0)
        wrong = sorted(((c, p) for p, c in row.items() if p != gold), reverse=True)
        detail = ", ".join(f"{p} {c}" for c, p in wrong) or "-"
        lines.append(f"  {gold:32} {right:3}/{n:<3} -> {detail}")
    for title, texts in (
        ("missed emergencies", report.misses),
        ("false alarms", report.false_alarm_texts),
    ):
        if texts:
            lines += ["", f"{title}:"] + [f"  {t}" for t in texts[:20]]
    return "\n".join(lines)


def meets_targets(report: Report) -> dict[str, bool]:
    """Each target of the issue and whether the report meets it."""
    out = {
        name: report.accuracy(name) >= t
        for name, t in TARGETS.items()
        if name != "emergency_recall"
    }
    out["emergency_recall"] = report.emergency_recall >= TARGETS["emergency_recall"]
    out["false_emergency"] = report.false_alarm_rate <= MAX_FALSE_EMERGENCY
    return out
