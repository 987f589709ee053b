"""What changed between two menu versions: nodes and prompts added, removed and changed,
with the changed fields, plus a unified diff of the documents as YAML."""

from __future__ import annotations

import difflib
from typing import Any

from ivr.document import dump_yaml


def diff_documents(
    old: dict[str, Any], new: dict[str, Any], *, old_label: str = "a", new_label: str = "b"
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for section in ("nodes", "prompts", "calendars"):
        before: dict[str, Any] = old.get(section) or {}
        after: dict[str, Any] = new.get(section) or {}
        changed = {}
        for key in sorted(set(before) & set(after)):
            if before[key] != after[key]:
                a, b = before[key], after[key]
                if isinstance(a, dict) and isinstance(b, dict):
                    fields = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
                    changed[key] = {f: {"from": a.get(f), "to": b.get(f)} for f in fields}
                else:
                    changed[key] = {"from": a, "to": b}
        out[section] = {
            "added": sorted(set(after) - set(before)),
            "removed": sorted(set(before) - set(after)),
            "changed": changed,
        }
    settings = {}
    for key in sorted((set(old) | set(new)) - {"nodes", "prompts", "calendars"}):
        if old.get(key) != new.get(key):
            settings[key] = {"from": old.get(key), "to": new.get(key)}
    out["document"] = settings
    out["unified"] = "".join(
        difflib.unified_diff(
            dump_yaml(old).splitlines(keepends=True),
            dump_yaml(new).splitlines(keepends=True),
            fromfile=old_label,
            tofile=new_label,
        )
    )
    return out
