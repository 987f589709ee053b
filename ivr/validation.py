"""Validation of a menu document: every problem at once, each with the path of the node field.

Problem classes (`Problem.code`):

- ``schema``: wrong shape or type (pydantic), e.g. an unknown node type;
- ``unknown_target``: an edge names a node that does not exist;
- ``dead_end``: an edge left empty, so the path ends without route/transfer/hangup;
- ``unreachable``: no path from `start` reaches the node;
- ``loop_without_exit``: a cycle with no edge leaving it (a caller would go round for ever);
- ``hangup_on_no_input``: a menu's `on_failure` leads to a hang-up (a caller who pressed
  nothing goes to a human instead);
- ``missing_prompt``: a prompt a caller can hear has neither a recording nor a text in the
  language the caller has at that node;
- ``out_of_range``: a timeout, retry count or duration outside what a hotline accepts;
- ``invalid_value``: a malformed key, number, tag, language, calendar or prompt name.

Languages are followed along the paths (``set`` nodes change them), so a Mandarin-only
branch never asks for Mongolian recordings.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import ValidationError

from ivr.calendar import calendar_problems
from ivr.document import (
    LANGUAGES,
    TERMINAL_TYPES,
    CollectSpeechNode,
    GotoNode,
    HangupNode,
    MenuDocument,
    MenuNode,
    PlayNode,
    RouteNode,
    SetNode,
    TimeSwitchNode,
    TransferNode,
    load,
    schema_problems,
    targets_of,
)

DTMF_KEYS = set("0123456789*#")
PROMPT_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
NODE_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")
TAG_KEY = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
TAG_VALUE = re.compile(r"^[^\x00-\x1f\x7f|;,]{1,64}$")
NUMBER = re.compile(r"^[0-9]{3,20}$")

# (field, low, high, unit) ranges per node type
RANGES: dict[type, list[tuple[str, float, float, str]]] = {
    MenuNode: [("timeout", 1, 30, "seconds"), ("retries", 0, 5, "retries")],
    CollectSpeechNode: [("max_seconds", 2, 60, "seconds"), ("silence_ms", 200, 5000, "ms")],
}
REQUIRED_PROMPT = (MenuNode, PlayNode, CollectSpeechNode, TransferNode, HangupNode)


@dataclass(frozen=True)
class Problem:
    code: str
    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


def validate(
    data: dict[str, Any], recorded: Iterable[tuple[str, str]] = ()
) -> tuple[MenuDocument | None, list[Problem]]:
    """Check a raw document. `recorded` is the (prompt name, language) pairs that have an
    uploaded recording. Returns the parsed document (None when its shape is wrong) and every
    problem found, in a stable order."""
    try:
        document = load(data)
    except ValidationError as exc:
        return None, [Problem("schema", path, msg) for path, msg in schema_problems(exc)]
    return document, check(document, set(recorded))


def check(document: MenuDocument, recorded: set[tuple[str, str]]) -> list[Problem]:
    problems: list[Problem] = []
    add = problems.append
    nodes = document.nodes

    # -- the document as a whole ------------------------------------------------------
    for i, language in enumerate(document.languages):
        if language not in LANGUAGES:
            add(
                Problem(
                    "invalid_value",
                    f"languages.{i}",
                    f"unknown language {language!r} (known: {', '.join(LANGUAGES)})",
                )
            )
    if document.default_language not in document.languages:
        add(
            Problem(
                "invalid_value",
                "default_language",
                f"{document.default_language!r} is not one of the menu's languages "
                f"{document.languages}",
            )
        )
    if not nodes:
        add(Problem("dead_end", "nodes", "the menu has no nodes"))
    elif document.start not in nodes:
        add(Problem("unknown_target", "start", f"start node {document.start!r} does not exist"))
    for name, texts in document.prompts.items():
        if not PROMPT_NAME.match(name):
            add(
                Problem(
                    "invalid_value",
                    f"prompts.{name}",
                    "prompt names use lower-case letters, digits, '-' and '_' (they name files)",
                )
            )
        for language in texts:
            if language not in LANGUAGES:
                add(
                    Problem(
                        "invalid_value",
                        f"prompts.{name}.{language}",
                        f"unknown language {language!r}",
                    )
                )
    for name, calendar in document.calendars.items():
        for path, message in calendar_problems(calendar):
            add(Problem("invalid_value", f"calendars.{name}.{path}", message))

    # -- each node ----------------------------------------------------------------------
    for node_id, node in nodes.items():
        base = f"nodes.{node_id}"
        if not NODE_ID.match(node_id):
            add(Problem("invalid_value", base, "node ids use letters, digits, '-' and '_'"))
        for field, low, high, unit in RANGES.get(type(node), []):
            value = getattr(node, field)
            if not low <= value <= high:
                add(
                    Problem(
                        "out_of_range",
                        f"{base}.{field}",
                        f"{field} is {value:g} {unit}; it must be between {low:g} and {high:g}",
                    )
                )
        if isinstance(node, REQUIRED_PROMPT) and not node.prompt:
            why: str = {
                HangupNode: "a call is only hung up after a goodbye prompt",
                TransferNode: "the caller is told before being transferred",
            }.get(type(node)) or "this node plays a prompt"
            add(Problem("dead_end", f"{base}.prompt", f"prompt is missing: {why}"))
        for field in ("prompt", "no_input_prompt", "invalid_prompt"):
            ref: str | None = getattr(node, field, None)
            if ref and not PROMPT_NAME.match(ref):
                add(
                    Problem(
                        "invalid_value",
                        f"{base}.{field}",
                        f"{ref!r} is not a prompt name (lower-case letters, digits, '-', '_')",
                    )
                )
        if isinstance(node, MenuNode):
            if not node.options:
                add(Problem("dead_end", f"{base}.options", "a menu needs at least one key"))
            for key in node.options:
                if key not in DTMF_KEYS:
                    add(
                        Problem(
                            "invalid_value",
                            f"{base}.options.{key}",
                            f"{key!r} is not a phone key (one of 0-9, * and #)",
                        )
                    )
        if isinstance(node, TransferNode):
            if not node.number:
                add(Problem("dead_end", f"{base}.number", "transfer needs a number to dial"))
            elif not NUMBER.match(node.number):
                add(
                    Problem(
                        "invalid_value",
                        f"{base}.number",
                        f"{node.number!r} is not a phone number (3 to 20 digits)",
                    )
                )
        if isinstance(node, SetNode | RouteNode):
            for key, value in node.tags.items():
                if not TAG_KEY.match(key):
                    add(
                        Problem(
                            "invalid_value",
                            f"{base}.tags.{key}",
                            "tag names use lower-case letters, digits and '_'",
                        )
                    )
                if not TAG_VALUE.match(str(value)):
                    add(
                        Problem(
                            "invalid_value",
                            f"{base}.tags.{key}",
                            f"tag value {value!r} must be 1 to 64 characters without line "
                            "breaks, '|', ';' or ','",
                        )
                    )
        if isinstance(node, SetNode) and node.language is not None:
            if node.language not in document.languages:
                add(
                    Problem(
                        "invalid_value",
                        f"{base}.language",
                        f"{node.language!r} is not one of the menu's languages "
                        f"{document.languages}",
                    )
                )
        if isinstance(node, TimeSwitchNode):
            if not node.calendar:
                add(Problem("dead_end", f"{base}.calendar", "time_switch needs a calendar"))
            elif node.calendar not in document.calendars:
                add(
                    Problem(
                        "unknown_target",
                        f"{base}.calendar",
                        f"calendar {node.calendar!r} does not exist "
                        f"(defined: {', '.join(document.calendars) or 'none'})",
                    )
                )
        for field, target in targets_of(node):
            if target is None:
                add(
                    Problem(
                        "dead_end",
                        f"{base}.{field}",
                        f"{field} is empty: the path ends here without route, transfer or hangup",
                    )
                )
            elif target not in nodes:
                add(
                    Problem(
                        "unknown_target",
                        f"{base}.{field}",
                        f"{field} goes to {target!r}, which is not a node",
                    )
                )
        if isinstance(node, MenuNode) and node.on_failure in nodes:
            if node.on_failure == node_id:
                add(
                    Problem(
                        "loop_without_exit",
                        f"{base}.on_failure",
                        "on_failure goes back to the same menu: a caller who presses nothing "
                        "would never reach a human",
                    )
                )
            elif _leads_to_hangup(document, node.on_failure):
                add(
                    Problem(
                        "hangup_on_no_input",
                        f"{base}.on_failure",
                        "on_failure leads to a hang-up: a caller whose input failed must reach "
                        "a human (route or transfer)",
                    )
                )

    # -- the graph ------------------------------------------------------------------------
    if document.start in nodes:
        reachable = _reachable(document)
        for node_id in nodes:
            if node_id not in reachable:
                add(
                    Problem(
                        "unreachable",
                        f"nodes.{node_id}",
                        f"no path from the start node {document.start!r} reaches this node",
                    )
                )
        for component in _closed_cycles(document, reachable):
            first = component[0]
            add(
                Problem(
                    "loop_without_exit",
                    f"nodes.{first}",
                    f"these nodes form a loop with no way out: {' -> '.join(component)}",
                )
            )
        problems.extend(_prompt_problems(document, recorded))
    return problems


def _edges(document: MenuDocument, node_id: str) -> list[str]:
    node = document.nodes[node_id]
    return [t for _, t in targets_of(node) if t is not None and t in document.nodes]


def _reachable(document: MenuDocument) -> set[str]:
    seen = {document.start}
    queue = deque([document.start])
    while queue:
        for target in _edges(document, queue.popleft()):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def _leads_to_hangup(document: MenuDocument, node_id: str) -> bool:
    """Whether the straight path from `node_id` (through play/set/goto) ends at a hangup."""
    seen: set[str] = set()
    while node_id in document.nodes and node_id not in seen:
        seen.add(node_id)
        node = document.nodes[node_id]
        if isinstance(node, HangupNode):
            return True
        if isinstance(node, PlayNode | SetNode) and node.next:
            node_id = node.next
        elif isinstance(node, GotoNode) and node.target:
            node_id = node.target
        else:
            return False
    return False


def _closed_cycles(document: MenuDocument, reachable: set[str]) -> list[list[str]]:
    """Strongly connected components (of reachable nodes) that contain a cycle and have no
    edge, valid or broken, leaving them."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0

    def connect(start: str) -> None:
        # Iterative Tarjan, so a long menu cannot exhaust the recursion limit.
        nonlocal counter
        work = [(start, iter(_edges(document, start)))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node_id, edges = work[-1]
            advanced = False
            for target in edges:
                if target not in index:
                    index[target] = low[target] = counter
                    counter += 1
                    stack.append(target)
                    on_stack.add(target)
                    work.append((target, iter(_edges(document, target))))
                    advanced = True
                    break
                if target in on_stack:
                    low[node_id] = min(low[node_id], index[target])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node_id])
            if low[node_id] == index[node_id]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node_id:
                        break
                components.append(component)

    for node_id in sorted(reachable):
        if node_id not in index:
            connect(node_id)

    closed = []
    for component in components:
        members = set(component)
        cyclic = len(component) > 1 or component[0] in _edges(document, component[0])
        if not cyclic:
            continue
        leaves = False
        for member in component:
            node = document.nodes[member]
            if node.type in TERMINAL_TYPES:
                leaves = True
            for _, target in targets_of(node):
                if target is None or target not in members:
                    leaves = True
        if not leaves:
            closed.append(sorted(component))
    return sorted(closed)


def languages_at(document: MenuDocument) -> dict[str, set[str]]:
    """node id -> the languages a caller can have when reaching it."""
    at: dict[str, set[str]] = {}
    queue = deque([(document.start, document.default_language)])
    while queue:
        node_id, language = queue.popleft()
        if node_id not in document.nodes or language in at.setdefault(node_id, set()):
            continue
        at[node_id].add(language)
        node = document.nodes[node_id]
        after = node.language if isinstance(node, SetNode) and node.language else language
        for target in _edges(document, node_id):
            queue.append((target, after))
    return at


def _prompt_problems(document: MenuDocument, recorded: set[tuple[str, str]]) -> list[Problem]:
    problems = []
    at = languages_at(document)
    for node_id, field, name in document.prompt_refs():
        node = document.nodes[node_id]
        # A set node's language applies after it; prompts are never on set nodes.
        for language in sorted(at.get(node_id, set())):
            if (name, language) in recorded:
                continue
            if document.prompts.get(name, {}).get(language, "").strip():
                continue
            problems.append(
                Problem(
                    "missing_prompt",
                    f"nodes.{node_id}.{field}",
                    f"prompt {name!r} has no recording and no text in {language} "
                    f"(callers reach this {node.type} node in {language})",
                )
            )
    return problems
