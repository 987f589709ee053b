"""Validation of a menu document: every problem at once, each with the path of the node field.

Theory of operation: `check` runs `RULES` in order. A rule is a small function that looks at
one thing and yields a `Problem` for each mistake it finds; no rule stops the others, so an
editor sees every problem of a draft at once. The rules come in three scopes, in this order:

1. the document as a whole: its languages, `start`, the prompt table, the calendars;
2. each node: `each_node` runs the node rules on one node before moving to the next, so the
   problems of a node stay together in the report;
3. the graph walked from `start`: unreachable nodes, closed loops, prompts a caller can hear
   (these only speak when `start` is a node).

The order of `RULES` is the order of the report, which editors and version diffs rely on.
Rules share a `Context`: the document, the recorded prompts, and what is computed once
(the nodes reachable from `start`).

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
- ``out_of_range``: a timeout, retry count, duration or prompt text length outside what a
  hotline accepts;
- ``invalid_value``: a malformed key, number, tag, language, calendar or prompt name, a
  prompt text with a control character (a placeholder is synthesised from it), a
  ``collect_digits`` node without a tag to keep its digits in, or a speech step's emergency
  confirmation without a prompt for each service (110, 119, 120, 122).

Languages are followed along the paths (``set`` nodes change them), so a Mandarin-only
branch never asks for Mongolian recordings.
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Set
from dataclasses import asdict, dataclass
from functools import cached_property
from typing import Any

from pydantic import ValidationError

from ivr.calendar import calendar_problems
from ivr.document import (
    EMERGENCY_SERVICES,
    LANGUAGES,
    TERMINAL_TYPES,
    CollectDigitsNode,
    CollectSpeechNode,
    GotoNode,
    HangupNode,
    MenuDocument,
    MenuNode,
    Node,
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
#: characters in one prompt text: a minute of speech is about 300 Chinese characters
MAX_PROMPT_TEXT = 1000
#: seconds a speech step waits for key 1 or 2 after its emergency question: long enough to
#: press a key, short enough that an emergency nobody confirms still reaches a person fast
CONFIRM_TIMEOUT = (1.0, 15.0)

# (field, low, high, unit) ranges per node type
RANGES: dict[type, list[tuple[str, float, float, str]]] = {
    MenuNode: [("timeout", 1, 30, "seconds"), ("retries", 0, 5, "retries")],
    CollectSpeechNode: [("max_seconds", 2, 60, "seconds"), ("silence_ms", 200, 5000, "ms")],
    CollectDigitsNode: [("max_digits", 1, 32, "digits"), ("timeout", 1, 30, "seconds")],
}
REQUIRED_PROMPT = (
    MenuNode,
    PlayNode,
    CollectSpeechNode,
    CollectDigitsNode,
    TransferNode,
    HangupNode,
)
# why a node type needs its prompt; other types: "this node plays a prompt"
PROMPT_REASONS: dict[type, str] = {
    HangupNode: "a call is only hung up after a goodbye prompt",
    TransferNode: "the caller is told before being transferred",
}
PROMPT_FIELDS = ("prompt", "no_input_prompt", "invalid_prompt")


@dataclass(frozen=True)
class Problem:
    code: str
    path: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


@dataclass(frozen=True)
class Context:
    """What every rule looks at: the parsed document and the (prompt name, language) pairs
    that have an uploaded recording."""

    document: MenuDocument
    recorded: Set[tuple[str, str]] = frozenset()

    @property
    def has_start(self) -> bool:
        return self.document.start in self.document.nodes

    @cached_property
    def reachable(self) -> set[str]:
        """Ids of the nodes a path from `start` reaches (none when `start` is not a node)."""
        return _reachable(self.document) if self.has_start else set()


#: a rule of the whole document: the problems it finds, in a stable order
Rule = Callable[[Context], Iterable[Problem]]
#: a rule of one node, given its id: `each_node` turns a list of them into a `Rule`
NodeRule = Callable[[Context, str, Node], Iterable[Problem]]


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


def check(document: MenuDocument, recorded: Set[tuple[str, str]]) -> list[Problem]:
    """Every problem of a parsed document: those of each rule of `RULES`, in order."""
    context = Context(document, recorded)
    return [problem for rule in RULES for problem in rule(context)]


def each_node(*rules: NodeRule) -> Rule:
    """A rule that runs `rules` in order on one node after the other, in document order."""

    def on_every_node(context: Context) -> Iterator[Problem]:
        for node_id, node in context.document.nodes.items():
            for rule in rules:
                yield from rule(context, node_id, node)

    return on_every_node


# -- the document as a whole ------------------------------------------------------------


def languages_are_known(context: Context) -> Iterator[Problem]:
    """Every language the menu offers is one the hotline has prompts and speech for."""
    for i, language in enumerate(context.document.languages):
        if language not in LANGUAGES:
            yield Problem(
                "invalid_value",
                f"languages.{i}",
                f"unknown language {language!r} (known: {', '.join(LANGUAGES)})",
            )


def default_language_is_offered(context: Context) -> Iterator[Problem]:
    """The default language is one of the menu's languages."""
    document = context.document
    if document.default_language not in document.languages:
        yield Problem(
            "invalid_value",
            "default_language",
            f"{document.default_language!r} is not one of the menu's languages "
            f"{document.languages}",
        )


def start_is_a_node(context: Context) -> Iterator[Problem]:
    """The menu has nodes, and `start` names one of them."""
    document = context.document
    if not document.nodes:
        yield Problem("dead_end", "nodes", "the menu has no nodes")
    elif document.start not in document.nodes:
        yield Problem("unknown_target", "start", f"start node {document.start!r} does not exist")


def prompt_table_is_well_formed(context: Context) -> Iterator[Problem]:
    """Prompt names can name files, and prompt texts are in known languages."""
    for name, texts in context.document.prompts.items():
        if not PROMPT_NAME.match(name):
            yield Problem(
                "invalid_value",
                f"prompts.{name}",
                "prompt names use lower-case letters, digits, '-' and '_' (they name files)",
            )
        for language in texts:
            if language not in LANGUAGES:
                yield Problem(
                    "invalid_value", f"prompts.{name}.{language}", f"unknown language {language!r}"
                )


def prompt_texts_are_speakable(context: Context) -> Iterator[Problem]:
    """Prompt texts are plain text of a length a caller would listen to: placeholders are
    synthesised from them, and a control character (NUL, escape) has no place in speech."""
    for name, texts in context.document.prompts.items():
        for language, text in texts.items():
            path = f"prompts.{name}.{language}"
            control = next((i for i, c in enumerate(text) if _is_control(c)), None)
            if control is not None:
                yield Problem(
                    "invalid_value",
                    path,
                    f"the text of prompt {name!r} holds a control character "
                    f"(U+{ord(text[control]):04X} at character {control + 1}); write plain text",
                )
            if len(text) > MAX_PROMPT_TEXT:
                yield Problem(
                    "out_of_range",
                    path,
                    f"the text of prompt {name!r} is {len(text):,} characters long; a prompt "
                    f"text is at most {MAX_PROMPT_TEXT:,}",
                )


def _is_control(character: str) -> bool:
    """C0 and C1 control characters other than tab and line breaks."""
    return character not in "\t\n\r" and unicodedata.category(character) == "Cc"


def calendars_are_well_formed(context: Context) -> Iterator[Problem]:
    """Every calendar's hours, holidays and swapped working days parse."""
    for name, calendar in context.document.calendars.items():
        for path, message in calendar_problems(calendar):
            yield Problem("invalid_value", f"calendars.{name}.{path}", message)


# -- each node ----------------------------------------------------------------------------


def node_id_is_well_formed(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """A node id is 1 to 64 letters, digits, '-' and '_'."""
    if not NODE_ID.match(node_id):
        yield Problem(
            "invalid_value", f"nodes.{node_id}", "node ids use letters, digits, '-' and '_'"
        )


def values_are_in_range(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """Timeouts, retries and speech limits lie within `RANGES`."""
    for field, low, high, unit in RANGES.get(type(node), []):
        value = getattr(node, field)
        if not low <= value <= high:
            yield Problem(
                "out_of_range",
                f"nodes.{node_id}.{field}",
                f"{field} is {value:g} {unit}; it must be between {low:g} and {high:g}",
            )


def prompt_is_present(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """A menu, play, collect_speech, transfer or hangup node has a prompt to play."""
    if isinstance(node, REQUIRED_PROMPT) and not node.prompt:
        why = PROMPT_REASONS.get(type(node), "this node plays a prompt")
        yield Problem("dead_end", f"nodes.{node_id}.prompt", f"prompt is missing: {why}")


def prompt_names_are_well_formed(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """The prompts a node names are well-formed prompt names."""
    for field in PROMPT_FIELDS:
        ref: str | None = getattr(node, field, None)
        if ref and not PROMPT_NAME.match(ref):
            yield Problem(
                "invalid_value",
                f"nodes.{node_id}.{field}",
                f"{ref!r} is not a prompt name (lower-case letters, digits, '-', '_')",
            )


def menu_has_keys(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """A menu offers at least one key."""
    if isinstance(node, MenuNode) and not node.options:
        yield Problem("dead_end", f"nodes.{node_id}.options", "a menu needs at least one key")


def menu_keys_are_phone_keys(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """A menu's keys, and those a speech step takes during its prompt, are keys of a phone:
    0-9, * and #."""
    if isinstance(node, MenuNode | CollectSpeechNode):
        for key in node.options:
            if key not in DTMF_KEYS:
                yield Problem(
                    "invalid_value",
                    f"nodes.{node_id}.options.{key}",
                    f"{key!r} is not a phone key (one of 0-9, * and #)",
                )


def transfer_has_a_number(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """A transfer names the number it dials."""
    if isinstance(node, TransferNode) and not node.number:
        yield Problem("dead_end", f"nodes.{node_id}.number", "transfer needs a number to dial")


def transfer_number_is_digits(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """A transfer's number is 3 to 20 digits (it goes into a dial string)."""
    if isinstance(node, TransferNode) and node.number and not NUMBER.match(node.number):
        yield Problem(
            "invalid_value",
            f"nodes.{node_id}.number",
            f"{node.number!r} is not a phone number (3 to 20 digits)",
        )


def tags_are_safe(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """Tag names and values can travel in a channel variable without breaking it."""
    if isinstance(node, SetNode | RouteNode):
        for key, value in node.tags.items():
            if not TAG_KEY.match(key):
                yield Problem(
                    "invalid_value",
                    f"nodes.{node_id}.tags.{key}",
                    "tag names use lower-case letters, digits and '_'",
                )
            if not TAG_VALUE.match(str(value)):
                yield Problem(
                    "invalid_value",
                    f"nodes.{node_id}.tags.{key}",
                    f"tag value {value!r} must be 1 to 64 characters without line "
                    "breaks, '|', ';' or ','",
                )


def digits_have_a_tag(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """A `collect_digits` node names the menu tag its digits go into, well-formed."""
    if not isinstance(node, CollectDigitsNode):
        return
    path = f"nodes.{node_id}.tag"
    if not node.tag:
        yield Problem("invalid_value", path, "collect_digits needs a tag to keep the digits in")
    elif not TAG_KEY.match(node.tag):
        yield Problem(
            "invalid_value", path, f"{node.tag!r}: tag names use lower-case letters, digits and '_'"
        )


def emergency_confirmation_is_complete(
    context: Context, node_id: str, node: Node
) -> Iterator[Problem]:
    """A speech step that confirms emergencies has a well-formed prompt for each service and
    waits a sensible time for the answer."""
    if not isinstance(node, CollectSpeechNode) or node.confirm_emergency is None:
        return
    confirm = node.confirm_emergency
    path = f"nodes.{node_id}.confirm_emergency"
    for service, name in confirm.prompts.items():
        if service not in EMERGENCY_SERVICES:
            yield Problem(
                "invalid_value",
                f"{path}.prompts.{service}",
                f"{service!r} is not an emergency service ({', '.join(EMERGENCY_SERVICES)})",
            )
        elif not PROMPT_NAME.match(name or ""):
            yield Problem(
                "invalid_value",
                f"{path}.prompts.{service}",
                f"{name!r} is not a prompt name (lower-case letters, digits, '-', '_')",
            )
    for service in EMERGENCY_SERVICES:
        if service not in confirm.prompts:
            yield Problem(
                "invalid_value",
                f"{path}.prompts",
                f"no prompt for {service}: a possible {service} emergency could not be "
                "confirmed (it would go to an operator without asking)",
            )
    low, high = CONFIRM_TIMEOUT
    if not low <= confirm.timeout <= high:
        yield Problem(
            "out_of_range",
            f"{path}.timeout",
            f"timeout is {confirm.timeout:g} seconds; it must be between {low:g} and {high:g}",
        )


def set_language_is_offered(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """A `set` node switches only to one of the menu's languages."""
    languages = context.document.languages
    if isinstance(node, SetNode) and node.language is not None and node.language not in languages:
        yield Problem(
            "invalid_value",
            f"nodes.{node_id}.language",
            f"{node.language!r} is not one of the menu's languages {languages}",
        )


def time_switch_has_a_calendar(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """A `time_switch` names the calendar it follows."""
    if isinstance(node, TimeSwitchNode) and not node.calendar:
        yield Problem("dead_end", f"nodes.{node_id}.calendar", "time_switch needs a calendar")


def time_switch_calendar_exists(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """The calendar a `time_switch` names is defined in the document."""
    calendars = context.document.calendars
    if isinstance(node, TimeSwitchNode) and node.calendar and node.calendar not in calendars:
        yield Problem(
            "unknown_target",
            f"nodes.{node_id}.calendar",
            f"calendar {node.calendar!r} does not exist "
            f"(defined: {', '.join(calendars) or 'none'})",
        )


def edges_lead_to_nodes(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """Every edge of a node is filled in and names an existing node."""
    for field, target in targets_of(node):
        if target is None:
            yield Problem(
                "dead_end",
                f"nodes.{node_id}.{field}",
                f"{field} is empty: the path ends here without route, transfer or hangup",
            )
        elif target not in context.document.nodes:
            yield Problem(
                "unknown_target",
                f"nodes.{node_id}.{field}",
                f"{field} goes to {target!r}, which is not a node",
            )


def menu_failure_leaves_the_menu(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """A menu's `on_failure` does not go back to the same menu."""
    if isinstance(node, MenuNode) and node.on_failure == node_id:
        yield Problem(
            "loop_without_exit",
            f"nodes.{node_id}.on_failure",
            "on_failure goes back to the same menu: a caller who presses nothing "
            "would never reach a human",
        )


def menu_failure_reaches_a_human(context: Context, node_id: str, node: Node) -> Iterator[Problem]:
    """A menu's `on_failure` does not lead straight to a hang-up."""
    if (
        isinstance(node, MenuNode)
        and node.on_failure is not None
        and _leads_to_hangup(context.document, node.on_failure)
    ):
        yield Problem(
            "hangup_on_no_input",
            f"nodes.{node_id}.on_failure",
            "on_failure leads to a hang-up: a caller whose input failed must reach "
            "a human (route or transfer)",
        )


# -- the graph from `start` ---------------------------------------------------------------


def every_node_is_reachable(context: Context) -> Iterator[Problem]:
    """Some path from `start` reaches every node."""
    if not context.has_start:
        return
    for node_id in context.document.nodes:
        if node_id not in context.reachable:
            yield Problem(
                "unreachable",
                f"nodes.{node_id}",
                f"no path from the start node {context.document.start!r} reaches this node",
            )


def every_loop_has_an_exit(context: Context) -> Iterator[Problem]:
    """No reachable cycle is closed: each has an edge out of it or a terminal node in it."""
    for component in _closed_cycles(context.document, context.reachable):
        yield Problem(
            "loop_without_exit",
            f"nodes.{component[0]}",
            f"these nodes form a loop with no way out: {' -> '.join(component)}",
        )


def prompts_can_be_heard(context: Context) -> Iterator[Problem]:
    """A prompt a caller hears has a recording or a text in each language they can have."""
    document = context.document
    at = languages_at(document) if context.has_start else {}
    for node_id, field, name in document.prompt_refs():
        node = document.nodes[node_id]
        # A set node's language applies after it; prompts are never on set nodes.
        for language in sorted(at.get(node_id, set())):
            if (name, language) in context.recorded:
                continue
            if document.prompts.get(name, {}).get(language, "").strip():
                continue
            yield Problem(
                "missing_prompt",
                f"nodes.{node_id}.{field}",
                f"prompt {name!r} has no recording and no text in {language} "
                f"(callers reach this {node.type} node in {language})",
            )


#: every rule, in the order of the report (see the module header)
RULES: tuple[Rule, ...] = (
    languages_are_known,
    default_language_is_offered,
    start_is_a_node,
    prompt_table_is_well_formed,
    prompt_texts_are_speakable,
    calendars_are_well_formed,
    each_node(
        node_id_is_well_formed,
        values_are_in_range,
        prompt_is_present,
        prompt_names_are_well_formed,
        menu_has_keys,
        menu_keys_are_phone_keys,
        transfer_has_a_number,
        transfer_number_is_digits,
        tags_are_safe,
        digits_have_a_tag,
        emergency_confirmation_is_complete,
        set_language_is_offered,
        time_switch_has_a_calendar,
        time_switch_calendar_exists,
        edges_lead_to_nodes,
        menu_failure_leaves_the_menu,
        menu_failure_reaches_a_human,
    ),
    every_node_is_reachable,
    every_loop_has_an_exit,
    prompts_can_be_heard,
)


# -- graph helpers --------------------------------------------------------------------------
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
