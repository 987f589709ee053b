"""The catalogue document as ops edit it: read from YAML or JSON into plain JSON data, one
matter changed, two versions compared. Pure functions; `routing.catalogue.validate` says
whether a document can go live.

A YAML document can say more than JSON can store (dates, binary, keys that are not text) and,
through anchors, name one node many times: 4 MB of YAML could stand for gigabytes once
expanded. `plain` walks it once with a budget of nodes and characters and names the first
value it cannot store, so a draft is either stored as JSON or refused with where and why.
"""

from __future__ import annotations

import copy
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

from routing.catalogue import (
    CATALOGUE_PATH,
    MATTER_KEYS,
    MAX_DOCUMENT_BYTES,
    CatalogueError,
    Problem,
    parse_document,
)

#: nodes (mappings, lists, values) a document may hold once its YAML aliases are expanded:
#: the largest valid catalogue (5,000 matters of 120 terms) has about 650,000
MAX_NODES: Final = 1_000_000
#: characters of text in a document once expanded
MAX_CHARS: Final = MAX_DOCUMENT_BYTES


class _Budget:
    def __init__(self) -> None:
        self.nodes = 0
        self.chars = 0

    def spend(self, where: str, chars: int = 0) -> None:
        self.nodes += 1
        self.chars += chars
        if self.nodes > MAX_NODES:
            raise CatalogueError([Problem(where, f"the document has over {MAX_NODES:,} values")])
        if self.chars > MAX_CHARS:
            raise CatalogueError(
                [Problem(where, f"the document has over {MAX_CHARS:,} characters of text")]
            )


def _plain(value: object, where: str, budget: _Budget) -> Any:
    if isinstance(value, str):
        budget.spend(where, len(value))
        return value
    budget.spend(where)
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CatalogueError([Problem(where, f"{value!r} is not a number JSON can hold")])
        return value
    if isinstance(value, Mapping):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise CatalogueError(
                    [Problem(f"{where}.{key!r}", "a field name must be text (put it in quotes)")]
                )
            out[key] = _plain(item, f"{where}.{key}" if where else key, budget)
        return out
    if isinstance(value, list | tuple):
        return [_plain(item, f"{where}[{i}]", budget) for i, item in enumerate(value)]
    raise CatalogueError(
        [
            Problem(
                where or "document",
                f"a {type(value).__name__} value; write it as text (in quotes)",
            )
        ]
    )


def plain(data: object) -> Any:
    """`data` (parsed YAML or JSON) as JSON data. Raises CatalogueError naming the first value
    JSON cannot hold, or the limit an expanded document goes past."""
    return _plain(data, "", _Budget())


def read_document(text: str) -> Any:
    """The document in a YAML or JSON text, as JSON data (it need not be a valid catalogue:
    a draft may have problems). Raises CatalogueError when it cannot be read at all."""
    return plain(parse_document(text))


def read_file(path: str | Path) -> Any:
    """The document in a file (YAML or JSON). Raises CatalogueError for one too large, not
    UTF-8 or not readable as YAML, OSError for one that cannot be read."""
    source = Path(path)
    with source.open("rb") as handle:
        raw = handle.read(MAX_DOCUMENT_BYTES + 1)
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise CatalogueError([Problem(str(source), f"larger than {MAX_DOCUMENT_BYTES:,} bytes")])
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogueError([Problem(str(source), f"not UTF-8 text ({exc.reason})")]) from None
    return read_document(text)


def shipped_document() -> Any:
    """The starter catalogue shipped with the package, as the file writes it."""
    return read_file(CATALOGUE_PATH)


def stored_size(document: object) -> int:
    """Bytes of the document as stored (JSON, UTF-8)."""
    return len(json.dumps(document, ensure_ascii=False).encode("utf-8"))


def matters_of(document: object) -> list[Any]:
    """The document's matters list (empty when it has none or is not a mapping)."""
    if isinstance(document, Mapping):
        matters = document.get("matters")
        if isinstance(matters, list):
            return matters
    return []


def with_matter(
    document: object, matter_id: str, changes: Mapping[str, Any] | None
) -> tuple[dict[str, Any], str]:
    """A copy of `document` with matter `matter_id` changed: `changes` set its fields (a
    field set to None is removed; the matter is added at the end when the document lacks
    it), or None removes the matter. Returns the new document and what was done ("add",
    "change", "remove", "unchanged"). Raises KeyError to remove a matter it lacks; ValueError
    when the changes rename the matter (its id stays: work orders keep it)."""
    if changes is not None and "id" in changes and changes["id"] != matter_id:
        raise ValueError(f"id: a matter keeps its id ({matter_id!r}); add a new matter instead")
    new: dict[str, Any] = (
        copy.deepcopy(dict(document)) if isinstance(document, Mapping) else {"matters": []}
    )
    matters = new.get("matters")
    if not isinstance(matters, list):
        matters = new["matters"] = []
    at = next(
        (i for i, m in enumerate(matters) if isinstance(m, Mapping) and m.get("id") == matter_id),
        None,
    )
    if changes is None:
        if at is None:
            raise KeyError(matter_id)
        del matters[at]
        return new, "remove"
    if at is None:
        matter = {"id": matter_id}
        matter.update({k: v for k, v in changes.items() if v is not None and k != "id"})
        matters.append(matter)
        return new, "add"
    old = dict(matters[at])
    updated = dict(old)
    for key, value in changes.items():
        if value is None:
            updated.pop(key, None)
        else:
            updated[key] = value
    matters[at] = updated
    return new, "unchanged" if updated == old else "change"


def _keyed(document: object) -> dict[str, tuple[str, Mapping[str, Any]]]:
    """Matter key -> (name, fields): keyed by id, or by position for a matter without one."""
    out: dict[str, tuple[str, Mapping[str, Any]]] = {}
    for index, raw in enumerate(matters_of(document)):
        fields = raw if isinstance(raw, Mapping) else {"": raw}
        mid = fields.get("id")
        key = mid if isinstance(mid, str) and mid and mid not in out else f"matters[{index}]"
        name = fields.get("name")
        out[key] = (name if isinstance(name, str) else "", fields)
    return out


def _field_change(old: object, new: object) -> dict[str, Any]:
    change: dict[str, Any] = {"old": old, "new": new}
    if isinstance(old, list) and isinstance(new, list):
        before = [json.dumps(v, ensure_ascii=False, sort_keys=True) for v in old]
        after = [json.dumps(v, ensure_ascii=False, sort_keys=True) for v in new]
        change["added"] = [v for v, k in zip(new, after, strict=True) if k not in before]
        change["removed"] = [v for v, k in zip(old, before, strict=True) if k not in after]
    return change


def diff_documents(old: object, new: object) -> dict[str, Any]:
    """What changed from `old` to `new`, per matter (by id): the matters added and removed,
    and for each changed matter its changed fields with old and new values (for lists also
    the items added and removed). Fields are compared in MATTER_KEYS order, then others."""
    before, after = _keyed(old), _keyed(new)
    added = [{"id": k, "name": after[k][0]} for k in after if k not in before]
    removed = [{"id": k, "name": before[k][0]} for k in before if k not in after]
    changed = []
    for key in (k for k in after if k in before):
        was, now = before[key][1], after[key][1]
        names = [*MATTER_KEYS, *sorted({*was, *now} - set(MATTER_KEYS))]
        fields = {
            name: _field_change(was.get(name), now.get(name))
            for name in names
            if was.get(name) != now.get(name)
        }
        if fields:
            changed.append({"id": key, "name": after[key][0], "fields": fields})
    return {
        "added": added,
        "removed": removed,
        "changed": changed,
        "summary": f"{len(added)} added, {len(removed)} removed, {len(changed)} changed",
    }
