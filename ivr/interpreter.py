"""The per-call interpreter: walks one published menu document for one call.

Theory of operation: a call's task creates one `Interpreter` with the menu version it
started on (it keeps it to the end: a publish never touches a call in progress) and calls
`run(channel)`. Each node is one small step against the channel (a prompt, a key, a
transcript, a hand-over); every visit, input, timing and outcome goes through `record`, the
one place where transitions are logged (the call's path in the database, and the
simulator's answer). The same class drives the simulator: only the channel differs.

A call leaves the IVR through `route` (the router picks a queue), `transfer` (a fixed number)
or `hangup` (after a goodbye). A call that hangs up raises the channel's hang-up error out
of `run`; the caller's task ends there.
"""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from ivr.calendar import DayKind, day_kind
from ivr.document import (
    CollectDigitsNode,
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
)
from ivr.routing_port import CallFacts, Router, RouteTarget

log = logging.getLogger("ivr.interpreter")

ALL_KEYS = "0123456789*#"
#: a caller pressing keys round a menu for ever still reaches a human in the end
MAX_VISITS = 200
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Channel(Protocol):
    """What the interpreter needs of a call (an `AGISession` has all of it)."""

    @property
    def unique_id(self) -> str: ...
    @property
    def caller_number(self) -> str: ...
    @property
    def caller_name(self) -> str: ...

    async def answer(self) -> None: ...
    async def play(self, prompt: str, escape_digits: str = "") -> str | None: ...
    async def collect_digits(
        self, prompt: str, *, timeout: float = 5.0, max_digits: int = 1
    ) -> tuple[str, bool]: ...
    async def set_variable(self, name: str, value: str) -> None: ...
    async def continue_in_dialplan(self, context: str, exten: str, priority: int = 1) -> None: ...
    async def hangup(self) -> None: ...


class SpeechUnavailable(Exception):
    """No speech step can run now (speech disabled, all decoders busy, stream failed)."""


#: listen(channel, max_seconds, silence_ms) -> what the caller said ("" or None: nothing)
Listen = Callable[[Channel, float, int], Awaitable[str | None]]
#: classify(transcript) -> the taxonomy object, or None when it could not be classified
Classify = Callable[[str], Awaitable[dict[str, Any] | None]]
#: resolve(prompt name, language) -> what the channel plays (a sound file name), or None when
#: the prompt has no file (e.g. a router's prompt the menu does not define)
ResolvePrompt = Callable[[str, str], str | None]
#: what a menu plays when its prompt has no file: a tone, so the caller knows to press a key
NO_PROMPT = "beep"
#: requested_service(transcript) -> the emergency service the caller explicitly asked to be
#: put through to ("帮我转120" -> "120"), or None
RequestedService = Callable[[str], str | None]
#: the answers to a speech step's emergency question (any other key, or none: "no_key")
CONFIRM_KEYS = {"1": "handoff", "2": "continue"}
Record = Callable[..., None]


@dataclass
class Outcome:
    #: "routed", "transferred" or "completed" (hung up after a goodbye)
    kind: str
    queue: str | None = None
    number: str | None = None
    node: str | None = None


@dataclass
class CallState:
    language: str
    tags: dict[str, str] = field(default_factory=dict)
    transcript: str | None = None
    classification: dict[str, Any] | None = None
    #: a key pressed during an interruptible prompt, kept for the next menu
    pending_key: str | None = None
    visits: int = 0


@dataclass
class Dialplan:
    """Where hand-overs go in the dialplan."""

    queues_context: str = "hotline-queues"
    transfer_context: str = "hotline-transfer"


class Interpreter:
    def __init__(
        self,
        document: MenuDocument,
        *,
        router: Router,
        resolve_prompt: ResolvePrompt,
        record: Record,
        listen: Listen | None = None,
        classify: Classify | None = None,
        now: Callable[[], datetime] = datetime.now,
        dialplan: Dialplan | None = None,
        counters: Counter[str] | None = None,
        version: int | None = None,
        requested_service: RequestedService | None = None,
    ) -> None:
        self.document = document
        self.router = router
        self.resolve_prompt = resolve_prompt
        self.record = record
        self.listen = listen
        self.classify = classify
        self.now = now
        self.dialplan = dialplan or Dialplan()
        self.counters = counters if counters is not None else Counter()
        self.version = version
        self.requested_service = requested_service
        self.state = CallState(language=document.default_language)
        self._steps: dict[str, Callable[[str, Any], Awaitable[str | Outcome]]] = {
            "menu": self._menu,
            "play": self._play,
            "collect_speech": self._collect_speech,
            "collect_digits": self._collect_digits,
            "route": self._route_node,
            "transfer": self._transfer,
            "set": self._set,
            "time_switch": self._time_switch,
            "hangup": self._hangup,
            "goto": self._goto,
        }

    # -- the walk ---------------------------------------------------------------------
    async def run(self, channel: Channel) -> Outcome:
        self.channel = channel
        self.record("ivr_start", version=self.version, menu=self.document.name)
        node_id = self.document.start
        while True:
            self.state.visits += 1
            if self.state.visits > MAX_VISITS:
                self.record("ivr_too_many_steps", node=node_id)
                return await self._route(node_id, {"ivr": "too_many_steps"}, None)
            node = self.document.nodes[node_id]
            self.record("node", node=node_id, type=node.type)
            result: str | Outcome = await self._steps[node.type](node_id, node)
            if isinstance(result, Outcome):
                self.record("ivr_end", outcome=result.kind, node=node_id)
                return result
            node_id = result

    # -- node types -------------------------------------------------------------------
    async def _play(self, node_id: str, node: PlayNode) -> str:
        assert node.prompt and node.next
        key = await self._play_prompt(node.prompt, interruptible=node.interruptible)
        if key is not None:
            self.state.pending_key = key
        return node.next

    async def _menu(self, node_id: str, node: MenuNode) -> str:
        assert node.prompt and node.on_failure
        failures = 0
        prompt = node.prompt
        while True:
            if self.state.pending_key is not None:
                digits, timed_out = self.state.pending_key, False
                self.state.pending_key = None
                self.record("input", node=node_id, digits=digits, during="prompt")
            else:
                started = time.monotonic()
                digits, timed_out = await self.channel.collect_digits(
                    self._file(prompt) or NO_PROMPT, timeout=node.timeout, max_digits=1
                )
                digits = _one_key(digits)
                waited = round(time.monotonic() - started, 3)
                self._played(prompt)
                if digits:
                    self.record("input", node=node_id, digits=digits, waited=waited)
                else:
                    self.record("input", node=node_id, input="silence", waited=waited)
            if digits and digits in node.options:
                return node.options[digits]
            failures += 1
            kind = "no_input" if not digits else "invalid"
            self.counters[f"menu_{kind}"] += 1
            if failures > node.retries:
                self.record("menu_failed", node=node_id, failures=failures, last=kind)
                return node.on_failure
            self.record("retry", node=node_id, reason=kind, attempt=failures + 1)
            extra = node.no_input_prompt if kind == "no_input" else node.invalid_prompt
            if extra:
                key = await self._play_prompt(extra, interruptible=True)
                if key is not None:
                    self.state.pending_key = key

    async def _collect_speech(self, node_id: str, node: CollectSpeechNode) -> str | Outcome:
        assert node.prompt and node.next and node.fallback
        if self.listen is None:
            return self._speech_fallback(node_id, node, "speech is not enabled")
        # The keys the step offers (a person, a language) are taken while the prompt plays.
        keys = "".join(node.options)
        key = await self._speech_prompt(node_id, node.prompt, keys)
        if key is None:
            key = await self._speech_prompt(node_id, None, keys)
        if key is not None:
            return node.options[key]
        started = time.monotonic()
        try:
            text = await self.listen(self.channel, node.max_seconds, node.silence_ms)
        except SpeechUnavailable as exc:
            return self._speech_fallback(node_id, node, str(exc))
        text = (text or "").strip()
        self.record("speech", node=node_id, text=text, seconds=round(time.monotonic() - started, 3))
        if not text:
            return self._speech_fallback(node_id, node, "nothing was understood")
        self.state.transcript = text
        if self.classify is not None:
            self.state.classification = await self.classify(text)
            c = self.state.classification or {}
            self.record(
                "classified",
                node=node_id,
                intent=c.get("intent"),
                emergency=c.get("emergency"),
                kind=c.get("kind"),
                department=c.get("department"),
            )
        requested = self.requested_service(text) if self.requested_service else None
        if requested:
            # "帮我转120": the caller asked for the service; the router hands the call over.
            self.record("handoff_requested", node=node_id, service=requested)
            return await self._route(node_id, {}, None)
        c = self.state.classification or {}
        if c.get("intent") == "emergency":
            return await self._confirm_emergency(node_id, node, str(c.get("emergency") or ""))
        return node.next

    async def _speech_prompt(self, node_id: str, prompt: str | None, keys: str) -> str | None:
        """Play the speech step's prompt (None: the tone after it); the key of `keys` the
        caller pressed meanwhile, or None."""
        file = self._file(prompt) if prompt else "beep"
        if file is None:
            self.record("prompt_missing", prompt=prompt, language=self.state.language)
            return None
        key = _one_key(await self.channel.play(file, keys))
        if prompt:
            self._played(prompt)
        if key and key in keys:
            self.record("input", node=node_id, digits=key)
            return key
        return None

    async def _confirm_emergency(
        self, node_id: str, node: CollectSpeechNode, service: str
    ) -> str | Outcome:
        """A possible emergency: ask before any hand-over. Key 1 hands the call over, key 2
        goes on to `next` as an ordinary request; anything else (no key within the timeout,
        another key, no question to ask) goes to the next free operator at top priority.
        The answer travels as the menu tag `emergency_choice`; the router decides from it."""
        confirm = node.confirm_emergency
        prompt = confirm.prompts.get(service) if confirm is not None else None
        file = self._file(prompt) if prompt else None
        if confirm is None or prompt is None or file is None:
            if prompt is not None:
                self.record("prompt_missing", prompt=prompt, language=self.state.language)
            self.record("emergency_confirm", node=node_id, service=service, choice="not_asked")
            return await self._route(node_id, {"emergency_choice": "not_asked"}, None)
        self.state.pending_key = None
        started = time.monotonic()
        keyed, _ = await self.channel.collect_digits(file, timeout=confirm.timeout, max_digits=1)
        digits = _one_key(keyed)
        waited = round(time.monotonic() - started, 3)
        self._played(prompt)
        if digits:
            self.record("input", node=node_id, digits=digits, waited=waited)
        else:
            self.record("input", node=node_id, input="silence", waited=waited)
        choice = CONFIRM_KEYS.get(digits, "no_key")
        self.counters[f"emergency_{choice}"] += 1
        self.record("emergency_confirm", node=node_id, service=service, choice=choice)
        if choice == "continue":
            self.state.tags["emergency_choice"] = choice
            return node.next or ""
        return await self._route(node_id, {"emergency_choice": choice}, None)

    async def _collect_digits(self, node_id: str, node: CollectDigitsNode) -> str:
        assert node.prompt and node.tag and node.next
        # A key pressed during an earlier prompt belongs to that prompt, not to this number.
        self.state.pending_key = None
        started = time.monotonic()
        keyed, _ = await self.channel.collect_digits(
            self._file(node.prompt) or NO_PROMPT,
            timeout=node.timeout,
            max_digits=node.max_digits,
        )
        digits = _entry(keyed, node.max_digits)
        waited = round(time.monotonic() - started, 3)
        self._played(node.prompt)
        if digits:
            self.state.tags[node.tag] = digits
            self.record("input", node=node_id, digits=digits, waited=waited)
        else:
            self.record("input", node=node_id, input="silence", waited=waited)
        return node.next

    def _speech_fallback(self, node_id: str, node: CollectSpeechNode, why: str) -> str:
        assert node.fallback
        self.counters["speech_fallback"] += 1
        log.warning("speech step at %s fell back to %s: %s", node_id, node.fallback, why)
        self.record("speech_fallback", node=node_id, reason=why, to=node.fallback)
        return node.fallback

    async def _route(self, node_id: str, tags: dict[str, str], prompt: str | None) -> Outcome:
        self.state.tags.update(tags)
        if prompt:
            await self._play_prompt(prompt, interruptible=False)
        facts = CallFacts(
            unique_id=self.channel.unique_id,
            caller_number=self.channel.caller_number,
            caller_name=self.channel.caller_name,
            language=self.state.language,
            tags=dict(self.state.tags),
            transcript=self.state.transcript,
            classification=self.state.classification,
        )
        target = await self.router.route(facts)
        self.record(
            "route",
            node=node_id,
            queue=target.queue,
            priority=target.priority,
            reason=target.reason,
            tags=dict(target.tags),
            handoff=target.handoff_number,
        )
        if target.queue == "handoff":
            if not target.handoff_number:
                raise ValueError(f"router chose a hand-off without a number ({target.reason})")
            if target.prompt:
                await self._play_prompt(target.prompt, interruptible=False)
            return await self._transfer_to(node_id, target.handoff_number)
        if target.prompt:
            await self._play_prompt(target.prompt, interruptible=False)
        await self._tag_channel(target)
        await self.channel.continue_in_dialplan(self.dialplan.queues_context, target.queue)
        return Outcome("routed", queue=target.queue, node=node_id)

    async def _tag_channel(self, target: RouteTarget) -> None:
        tags = {k: _clean(v) for k, v in target.tags.items()}
        header = ";".join(f"{k}={v}" for k, v in tags.items() if k != "display" and v.isascii())
        display = tags.get("display") or "|".join(v for k, v in tags.items() if v)[:40]
        # Inherited (__) so the operator's channel sees the tag too.
        await self.channel.set_variable("__HOTLINE_TAG", header or target.queue)
        if display:
            await self.channel.set_variable("CALLERID(name)", display)
        await self.channel.set_variable("QUEUE_PRIO", str(int(target.priority)))

    async def _transfer(self, node_id: str, node: TransferNode) -> Outcome:
        assert node.prompt and node.number
        await self._play_prompt(node.prompt, interruptible=False)
        return await self._transfer_to(node_id, node.number)

    async def _transfer_to(self, node_id: str, number: str) -> Outcome:
        self.record("transfer", node=node_id, number=number)
        await self.channel.set_variable("__HOTLINE_TAG", f"transfer={number}")
        await self.channel.continue_in_dialplan(self.dialplan.transfer_context, number)
        return Outcome("transferred", number=number, node=node_id)

    async def _route_node(self, node_id: str, node: RouteNode) -> Outcome:
        return await self._route(node_id, dict(node.tags), node.prompt)

    async def _set(self, node_id: str, node: SetNode) -> str:
        assert node.next
        self.state.tags.update(node.tags)
        if node.language:
            self.state.language = node.language
        self.record("set", node=node_id, tags=dict(node.tags), language=node.language)
        return node.next

    async def _time_switch(self, node_id: str, node: TimeSwitchNode) -> str:
        assert node.calendar and node.open and node.closed
        at = self.now()
        kind = day_kind(self.document.calendars[node.calendar], at)
        if kind is DayKind.OPEN:
            target = node.open
        elif kind is DayKind.HOLIDAY and node.holiday:
            target = node.holiday
        else:
            target = node.closed
        self.record("time", node=node_id, calendar=node.calendar, at=at.isoformat(), kind=kind)
        return target

    async def _hangup(self, node_id: str, node: HangupNode) -> Outcome:
        assert node.prompt
        await self._play_prompt(node.prompt, interruptible=False)
        self.record("hangup", node=node_id)
        await self.channel.hangup()
        return Outcome("completed", node=node_id)

    async def _goto(self, node_id: str, node: GotoNode) -> str:
        assert node.target
        return node.target

    # -- prompts ----------------------------------------------------------------------
    def _file(self, prompt: str) -> str | None:
        return self.resolve_prompt(prompt, self.state.language)

    def _played(self, prompt: str) -> None:
        self.record("play", prompt=prompt, language=self.state.language)

    async def _play_prompt(self, prompt: str, *, interruptible: bool) -> str | None:
        file = self._file(prompt)
        if file is None:
            self.record("prompt_missing", prompt=prompt, language=self.state.language)
            return None
        key = await self.channel.play(file, ALL_KEYS if interruptible else "")
        key = _one_key(key) or None
        self._played(prompt)
        if key is not None:
            self.record("input", digits=key, during="prompt", prompt=prompt)
        return key


def _one_key(value: str | None) -> str:
    """The first key in what a channel reported, or "": a menu takes one key, and the call's
    path (stored) holds no more than that, whatever a channel returns."""
    for ch in value or "":
        if ch in ALL_KEYS:
            return ch
    return ""


def _entry(value: str | None, max_digits: int) -> str:
    """The digits keyed before a # (or the end), at most `max_digits`: what the caller entered,
    whatever else a channel reported (Asterisk leaves the # out; a simulator may not)."""
    entered = (value or "").partition("#")[0]
    return "".join(ch for ch in entered if ch in "0123456789")[:max_digits]


def _clean(value: str) -> str:
    return _CONTROL.sub(" ", str(value)).strip()


__all__ = [
    "Channel",
    "Classify",
    "Dialplan",
    "Interpreter",
    "Listen",
    "Outcome",
    "RequestedService",
    "ResolvePrompt",
    "SpeechUnavailable",
]
