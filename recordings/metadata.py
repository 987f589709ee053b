"""The call facts a recording is indexed with, read from a `calls` row.

The classification (kind, department, out-of-scope reason), the group a call was routed to
and the operator who took it are written by other parts of the controller, as columns of
`calls` or as data of the call's path steps. Whatever is present is used; what is not stays
empty and is filled by a later reindex.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

FIELDS = ("kind", "department", "out_of_scope_reason", "group", "operator")
_ALIASES = {
    "group": ("group", "route_group", "queue", "target_group"),
    "operator": ("operator", "agent", "operator_name", "answered_by"),
}


def _first(source: Mapping[str, Any], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = source.get(name)
        if isinstance(value, str) and value:
            return value
    return None


def classification_of(call: Mapping[str, Any]) -> dict[str, str | None]:
    """kind, department, out_of_scope_reason, group and operator of a call row (a mapping of
    its columns); columns win over path steps, later steps over earlier ones."""
    found: dict[str, str | None] = dict.fromkeys(FIELDS)
    steps = call.get("path") or []
    sources: list[Mapping[str, Any]] = []
    for step in steps if isinstance(steps, list) else []:
        if isinstance(step, Mapping):
            sources.append(step)
            for nested in ("classification", "route", "target"):
                inner = step.get(nested)
                if isinstance(inner, Mapping):
                    sources.append(inner)
    sources.append(call)
    for source in sources:
        for field in FIELDS:
            value = _first(source, _ALIASES.get(field, (field,)))
            if value is not None:
                found[field] = value
    return found
