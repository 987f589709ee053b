"""The menu document: named nodes, prompts with text per language, named calendars.

A document arrives as YAML or JSON and is parsed with pydantic. The schema here checks
shapes and types only, and leaves out-of-range values, unknown targets and missing pieces to
`ivr.validation`, which reports every problem at once: a draft with mistakes can still be
saved, only not published.

Node types: ``menu``, ``play``, ``collect_speech``, ``collect_digits``, ``route``,
``transfer``, ``set``, ``time_switch``, ``hangup``, ``goto``. ``route``, ``transfer`` and ``hangup`` end the
caller's time in the IVR; every path must reach one of them.
"""

from __future__ import annotations

import functools
import json
from typing import Annotated, Any, Literal

import yaml  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, ValidationError

LANGUAGES = ("mandarin", "mongolian")
TERMINAL_TYPES = ("route", "transfer", "hangup")


class DocumentError(ValueError):
    """The text is not a menu document at all (not YAML/JSON, or not a mapping)."""

    error_id = "ivr-document-unreadable"


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: a note for the people who edit the menu; never played
    description: str = ""


class MenuNode(_Node):
    type: Literal["menu"]
    prompt: str | None = None
    #: key pressed -> next node ("0".."9", "*", "#")
    options: dict[str, str] = Field(default_factory=dict)
    #: seconds to wait for a key after the prompt
    timeout: float = 5.0
    #: attempts after the first one before `on_failure`
    retries: int = 1
    no_input_prompt: str | None = None
    invalid_prompt: str | None = None
    #: where a caller goes when the retries run out (a human, never a hang-up)
    on_failure: str | None = None


class PlayNode(_Node):
    type: Literal["play"]
    prompt: str | None = None
    #: False for legal notices: keys pressed while it plays are ignored
    interruptible: bool = True
    next: str | None = None


#: the emergency services the classifier names, and the prompt that asks before each hand-off
EMERGENCY_SERVICES = ("110", "119", "120", "122")


def _confirm_prompts() -> dict[str, str]:
    return {service: f"confirm-{service}" for service in EMERGENCY_SERVICES}


class EmergencyConfirm(BaseModel):
    """What a speech step does when it hears a possible emergency the caller did not name as
    such ("帮我转120" is handed over at once): it asks. Key 1 hands the call over to the
    service, key 2 goes on as an ordinary request; no key within `timeout` seconds (or another
    key) puts the call before the next free operator at top priority, tagged
    ``possible_emergency=<service>``. A classifier's guess alone never hands a call over."""

    model_config = ConfigDict(extra="forbid")

    #: service (110, 119, 120, 122) -> the prompt that asks ("…按1立即转接幺幺九，按2继续反映")
    prompts: dict[str, str] = Field(default_factory=_confirm_prompts)
    #: seconds to wait for key 1 or 2 once the prompt has played
    timeout: float = 5.0


class CollectSpeechNode(_Node):
    type: Literal["collect_speech"]
    prompt: str | None = None
    max_seconds: float = 15.0
    #: trailing silence that ends the caller's turn (the # key ends it too)
    silence_ms: int = 800
    #: keys a caller may press while the prompt plays instead of speaking -> next node (e.g.
    #: "0" for a person, "9" for another language)
    options: dict[str, str] = Field(default_factory=dict)
    #: where the call goes once the request is heard and classified (usually a `route`); a
    #: possible emergency is confirmed first, an explicit request for a service is routed
    #: at once, whatever this says
    next: str | None = None
    #: where the call goes when speech is unavailable or nothing was understood
    fallback: str | None = None
    #: the question before an emergency hand-off; null: never ask, so a possible emergency
    #: goes to the next free operator at top priority
    confirm_emergency: EmergencyConfirm | None = Field(default_factory=EmergencyConfirm)


class CollectDigitsNode(_Node):
    """A number keyed in (a work-order number): the prompt, then up to `max_digits` digits
    ended by # (or by the last digit, or by `timeout` seconds without a key). The digits go
    into the menu tag `tag`; nothing keyed leaves the tag unset. Either way the call goes on
    to `next`."""

    type: Literal["collect_digits"]
    prompt: str | None = None
    #: the menu tag that receives the digits, e.g. ``order_number``
    tag: str | None = None
    max_digits: int = 20
    #: seconds to wait for the first key, and between keys
    timeout: float = 6.0
    next: str | None = None


class RouteNode(_Node):
    type: Literal["route"]
    #: played before the call is handed over ("正在为您转接")
    prompt: str | None = None
    #: tags added just before routing
    tags: dict[str, str] = Field(default_factory=dict)


class TransferNode(_Node):
    type: Literal["transfer"]
    prompt: str | None = None
    #: a fixed destination, e.g. an emergency hand-off number
    number: str | None = None


class SetNode(_Node):
    type: Literal["set"]
    tags: dict[str, str] = Field(default_factory=dict)
    language: str | None = None
    next: str | None = None


class TimeSwitchNode(_Node):
    type: Literal["time_switch"]
    calendar: str | None = None
    open: str | None = None
    closed: str | None = None
    #: optional: where to go on a public holiday (otherwise `closed`)
    holiday: str | None = None


class HangupNode(_Node):
    type: Literal["hangup"]
    #: the goodbye played before hanging up (required)
    prompt: str | None = None


class GotoNode(_Node):
    type: Literal["goto"]
    target: str | None = None


Node = Annotated[
    MenuNode
    | PlayNode
    | CollectSpeechNode
    | CollectDigitsNode
    | RouteNode
    | TransferNode
    | SetNode
    | TimeSwitchNode
    | HangupNode
    | GotoNode,
    Field(discriminator="type"),
]


class Calendar(BaseModel):
    """Opening hours by weekday, public holidays, and China's swapped working days (调休):
    a date in `working_days` is a working day even on a weekend, with `working_day_hours`."""

    model_config = ConfigDict(extra="forbid")

    #: "mon".."sun" -> ["08:30-12:00", "13:30-17:30"]; a missing day is closed
    hours: dict[str, list[str]] = Field(default_factory=dict)
    #: ISO dates closed all day
    holidays: list[str] = Field(default_factory=list)
    #: ISO dates that are working days although they fall on a weekend
    working_days: list[str] = Field(default_factory=list)
    #: hours on those swapped working days (default: Monday's)
    working_day_hours: list[str] | None = None


class MenuDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = "menu"
    #: languages the menu offers callers; every prompt a caller can hear needs a recording or
    #: a text in the language the caller has at that point
    languages: list[str] = Field(default_factory=lambda: ["mandarin"])
    default_language: str = "mandarin"
    start: str = "start"
    #: prompt name -> language -> text (the text a placeholder is synthesised from, and what
    #: a recording should say)
    prompts: dict[str, dict[str, str]] = Field(default_factory=dict)
    calendars: dict[str, Calendar] = Field(default_factory=dict)
    nodes: dict[str, Node] = Field(default_factory=dict)

    def prompt_refs(self) -> list[tuple[str, str, str]]:
        """(node id, field, prompt name) for every prompt a node refers to."""
        refs = []
        for node_id, node in self.nodes.items():
            for field in ("prompt", "no_input_prompt", "invalid_prompt"):
                value = getattr(node, field, None)
                if value:
                    refs.append((node_id, field, value))
            confirm = getattr(node, "confirm_emergency", None)
            if confirm is not None:
                for service, name in confirm.prompts.items():
                    if name:
                        refs.append((node_id, f"confirm_emergency.prompts.{service}", name))
        return refs


def targets_of(node: Any) -> list[tuple[str, str | None]]:
    """(field path inside the node, target) for every edge leaving `node`; None is a target
    left empty."""
    if isinstance(node, MenuNode):
        return [(f"options.{key}", target) for key, target in node.options.items()] + [
            ("on_failure", node.on_failure)
        ]
    if isinstance(node, PlayNode | SetNode | CollectDigitsNode):
        return [("next", node.next)]
    if isinstance(node, CollectSpeechNode):
        return [(f"options.{key}", target) for key, target in node.options.items()] + [
            ("next", node.next),
            ("fallback", node.fallback),
        ]
    if isinstance(node, TimeSwitchNode):
        edges: list[tuple[str, str | None]] = [("open", node.open), ("closed", node.closed)]
        if node.holiday is not None:
            edges.append(("holiday", node.holiday))
        return edges
    if isinstance(node, GotoNode):
        return [("target", node.target)]
    return []


#: A menu is a few kilobytes; the cap keeps a pasted file from holding a worker for long.
MAX_TEXT_CHARS = 200_000
#: Levels of nesting (the document itself is level 1); a menu needs about six.
MAX_DEPTH = 20


class _MenuLoader(yaml.SafeLoader):  # type: ignore[misc]
    """YAML's safe loader without anchors and aliases, and with a nesting limit.

    An alias shares a value, and nine of them nested nine deep make a few hundred bytes that
    expand to gigabytes once the document is copied ("billion laughs"); a menu has no use for
    them. PyYAML's composer recurses once per level, so the depth is checked there, before
    Python's own recursion limit is reached."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        if anchor is not None:
            raise DocumentError(
                f"line {event.start_mark.line + 1}: YAML anchors and aliases (&{anchor}, "
                f"*{anchor}) are not accepted in a menu document; write each value out"
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _too_deep()
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_text(text: str) -> dict[str, Any]:
    """YAML or JSON text -> the raw mapping, as plain JSON values. Raises DocumentError: the
    text is too long, not YAML or JSON, nested too deeply, uses YAML aliases, or is not a
    mapping."""
    if len(text) > MAX_TEXT_CHARS:
        raise DocumentError(
            f"the document is {len(text):,} characters long; a menu is at most {MAX_TEXT_CHARS:,}"
        )
    try:
        if text.lstrip().startswith("{"):
            data = json.loads(text)
        else:
            data = yaml.load(text, Loader=_MenuLoader)  # noqa: S506 - a safe loader
    except DocumentError:
        raise
    except RecursionError:
        # json's decoder recurses per level; its limit is Python's (about 1,000 levels).
        raise _too_deep() from None
    except (ValueError, yaml.YAMLError) as exc:
        # ValueError: JSON syntax, and numbers too long to convert (JSON or YAML)
        raise DocumentError(f"not valid YAML or JSON: {exc}") from None
    return parse_data(data)


def parse_data(data: Any) -> dict[str, Any]:
    """An already parsed value (YAML, or a JSON object an API received) -> the raw mapping,
    as plain JSON values. Raises DocumentError: nested too deeply, or not a mapping."""
    _check_depth(data)
    if not isinstance(data, dict):
        raise DocumentError(
            f"a menu document is a mapping (name, languages, start, prompts, nodes); "
            f"got {type(data).__name__}"
        )
    # Round-trip through JSON: the stored form must be plain JSON (YAML dates become text).
    try:
        stored = json.dumps(data, default=str, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise DocumentError(f"the document cannot be stored as JSON: {exc}") from None
    if len(stored) > MAX_TEXT_CHARS:
        # The same cap as for text: a JSON object sent to the API is held to it too.
        raise DocumentError(
            f"the document is {len(stored):,} characters long as JSON; "
            f"a menu is at most {MAX_TEXT_CHARS:,}"
        )
    plain: dict[str, Any] = json.loads(stored)
    return plain


def _check_depth(data: Any) -> None:
    """Raise DocumentError when lists and mappings nest more than MAX_DEPTH levels. Walks
    without recursion: the value may come from a parser with a higher limit than ours."""
    pending: list[tuple[Any, int]] = [(data, 1)] if isinstance(data, dict | list) else []
    while pending:
        value, depth = pending.pop()
        if depth > MAX_DEPTH:
            raise _too_deep()
        children = value.values() if isinstance(value, dict) else value
        pending.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _too_deep() -> DocumentError:
    return DocumentError(f"the document is nested more than {MAX_DEPTH} levels deep")


def load(data: dict[str, Any]) -> MenuDocument:
    """Raw mapping -> MenuDocument. Raises pydantic's ValidationError on wrong shapes."""
    return MenuDocument.model_validate(with_shipped_confirmations(data))


def with_shipped_confirmations(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with the shipped texts of the emergency confirmation prompts that a speech
    step asks by default but the document does not have.

    A menu written before speech steps asked before a hand-off names no confirmation: its
    speech steps take the default (`confirm-110` ... `confirm-122`), which its prompts lack.
    Such a menu keeps running after an upgrade, with the shipped questions; ops may word
    them otherwise by adding the prompts. A step that names its own confirmation prompts
    (or turns the question off) is left as written."""
    nodes, prompts = data.get("nodes"), data.get("prompts")
    if not isinstance(nodes, dict) or not isinstance(prompts, (dict, type(None))):
        return data
    asks_by_default = any(
        isinstance(node, dict)
        and node.get("type") == "collect_speech"
        and "confirm_emergency" not in node
        for node in nodes.values()
    )
    missing = [name for name in _confirm_prompts().values() if name not in (prompts or {})]
    if not asks_by_default or not missing:
        return data
    shipped = _shipped_prompts()
    added = {name: shipped[name] for name in missing if name in shipped}
    return {**data, "prompts": {**(prompts or {}), **added}}


@functools.cache
def _shipped_prompts() -> dict[str, Any]:
    prompts: dict[str, Any] = parse_text(default_menu_text()).get("prompts") or {}
    return prompts


def schema_problems(exc: ValidationError) -> list[tuple[str, str]]:
    """pydantic errors as (path, message) pairs."""
    problems = []
    for err in exc.errors():
        path = ".".join(str(part) for part in err["loc"])
        problems.append((path, err["msg"]))
    return problems


def dump_yaml(data: dict[str, Any]) -> str:
    text: str = yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)
    return text


def default_menu_text() -> str:
    """The shipped default 12345 menu (YAML)."""
    from importlib.resources import files

    text: str = files("ivr").joinpath("default_menu.yaml").read_text(encoding="utf-8")
    return text
