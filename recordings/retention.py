"""Retention: how long a recording is kept, by category.

The category is the call's kind (complaint, report...), "emergency" for calls handed to
110/119/120/122, else "default". A recording on legal hold is never deleted, whatever its
expiry.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class RetentionPolicy:
    days: Mapping[str, int]

    def category(self, kind: str | None, out_of_scope_reason: str | None = None) -> str:
        if out_of_scope_reason == "emergency" and "emergency" in self.days:
            return "emergency"
        if kind and kind in self.days:
            return kind
        return "default"

    def expires_at(self, started_at: datetime, category: str) -> datetime:
        return started_at + timedelta(days=self.days.get(category, self.days["default"]))


def is_purgeable(expires_at: datetime, on_hold: bool, now: datetime) -> bool:
    return not on_hold and expires_at <= now
