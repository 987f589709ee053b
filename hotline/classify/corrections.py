"""Operators' corrections as training rows (`hotline classify corrections`).

A work order keeps the classifier's prediction as it was (`classification`) and the
operator's decisions (kind, department, in scope, out-of-scope reason), which start from the
prediction and are corrected by hand. Once an order is settled (answered by the operator,
replied by its department, waiting for the callback after that reply, or closed) its labels
are the city's ground truth, whether they confirm the prediction or correct it. Each such
order becomes one row in the history CSV format `hotline classify train --data` reads
(routing.training), named by the order's number.

The words are what a citizen said or wrote: personal data. The file is for the machine that
trains, is written 0600, is never logged, and the export is in the audit log. An order whose
words were taken out by the retention purge (or that never had any) has no row.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.audit import audit
from hotline.orders.tables import WorkOrder
from routing.taxonomy import CLASSIFIER_OOS_REASONS, DEPARTMENTS, EMERGENCY_NUMBERS, KINDS

#: statuses whose labels are settled (the department accepted the dispatch by replying)
SETTLED: Final = ("answered", "replied", "callback", "closed")
COLUMNS: Final = (
    "id",
    "text",
    "kind",
    "department",
    "out_of_scope_reason",
    "emergency",
    "intent",
    "domain",
    "enterprise",
)
MAX_ROWS: Final = 200_000
_BATCH: Final = 500


@dataclass
class Exported:
    rows: int = 0
    corrected: int = 0  # the operator changed a label of the prediction
    confirmed: int = 0  # the operator kept the prediction
    skipped: Counter[str] = field(default_factory=Counter)  # why an order has no row


def correction_row(order: WorkOrder) -> tuple[dict[str, str] | None, str, bool]:
    """(the CSV row or None, why there is none, whether the operator corrected it)."""
    predicted: Mapping[str, Any] = order.classification or {}
    if not order.transcript.strip():
        return None, "no words (purged, or none recorded)", False
    if not predicted:
        return None, "no prediction", False
    reason = None if order.in_scope else order.out_of_scope_reason
    if not order.in_scope and reason is None:
        return None, "out of scope without a reason", False
    row = dict.fromkeys(COLUMNS, "")
    row["id"] = order.number
    row["text"] = order.transcript
    if reason == "emergency":
        number = predicted.get("emergency")
        if number not in EMERGENCY_NUMBERS:
            return None, "an emergency without its number", False
        row["emergency"] = str(number)
        corrected = predicted.get("intent") != "emergency"
        return row, "", corrected
    if reason is not None and reason not in CLASSIFIER_OOS_REASONS:
        return None, f"reason {reason} is not one a classifier decides", False
    if order.kind is not None and order.kind not in KINDS:
        return None, "kind not in the taxonomy", False
    department = order.department if reason is None else None
    if department is not None and department not in DEPARTMENTS:
        return None, "department not in the taxonomy", False
    row["kind"] = order.kind or ""
    row["department"] = department or ""
    row["out_of_scope_reason"] = reason or ""
    intent = predicted.get("intent")
    row["intent"] = intent if intent in ("new_request", "follow_up") else "new_request"
    # The predicted domain stands only where the department it goes with was kept.
    if department == predicted.get("department") and predicted.get("domain"):
        row["domain"] = str(predicted["domain"])
    row["enterprise"] = "true" if predicted.get("enterprise") else "false"
    corrected = (
        predicted.get("emergency") is not None
        or order.kind != predicted.get("kind")
        or department != predicted.get("department")
        or reason != predicted.get("out_of_scope_reason")
    )
    return row, "", corrected


def export_corrections(
    sessions: sessionmaker[Session],
    out: TextIO,
    *,
    since: datetime,
    until: datetime | None = None,
    by: str,
    max_rows: int = MAX_ROWS,
) -> Exported:
    """Write the settled orders created in [since, until) as history CSV rows to `out`,
    oldest first; at most `max_rows` rows. The export is audited (who, the period, counts)."""
    done = Exported()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    after = 0
    while done.rows < max_rows:
        query = (
            select(WorkOrder)
            .where(
                WorkOrder.id > after,
                WorkOrder.status.in_(SETTLED),
                WorkOrder.created_at >= since,
            )
            .order_by(WorkOrder.id)
            .limit(_BATCH)
        )
        if until is not None:
            query = query.where(WorkOrder.created_at < until)
        with sessions() as s:
            orders = list(s.scalars(query))
        if not orders:
            break
        for order in orders:
            row, why, corrected = correction_row(order)
            if row is None:
                done.skipped[why] += 1
                continue
            if done.rows >= max_rows:
                done.skipped["past the row limit"] += 1
                break
            writer.writerow(row)
            done.rows += 1
            done.corrected += corrected
            done.confirmed += not corrected
        after = orders[-1].id
    with sessions() as s, s.begin():
        audit(
            s,
            user=by,
            role="cli",
            subject="order",
            action="export_corrections",
            detail={
                "since": since.isoformat(),
                "until": until.isoformat() if until else None,
                "rows": done.rows,
            },
        )
    return done


def private_file(path: Path) -> TextIO:
    """`path` opened for writing, readable by its owner only (it holds callers' words)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", newline="")
