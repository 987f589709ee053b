"""The menu simulator: walk a menu with a list of inputs, without a phone.

Inputs, one per thing the caller does when the menu waits for them: a key (``"1"``; a key
a speech step offers, e.g. ``"0"``, is pressed during its prompt), or ``"silence"`` (pressed
nothing), or ``"say:<what the caller says>"`` for a speech step, or
``"digits:<keys>"`` for a number keyed into a `collect_digits` step (``"digits:2026120100123#"``;
a single key works there too). The
real `Interpreter` runs against `SimulatedChannel`, so the path and prompts are exactly what a
call with the same inputs produces; `signature` strips the timings to compare the two.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ivr.document import MenuDocument
from ivr.interpreter import ALL_KEYS, Classify, Interpreter, RequestedService, SpeechUnavailable
from ivr.routing_port import Router

SILENCE = "silence"
SAY = "say:"
DIGITS = "digits:"
#: keys in one "digits:" input (a collect_digits step takes at most 32, then #)
MAX_DIGITS_INPUT = 33
#: fields of a path step that vary from run to run (times), left out of comparisons
VOLATILE = frozenset({"t", "waited", "seconds", "at"})


class SimulationInputError(ValueError):
    error_id = "ivr-simulation-input"


def check_inputs(inputs: list[str]) -> None:
    for i, item in enumerate(inputs):
        if item == SILENCE or (item.startswith(SAY) and item[len(SAY) :].strip()):
            continue
        if len(item) == 1 and item in "0123456789*#":
            continue
        keys = item[len(DIGITS) :]
        if (
            item.startswith(DIGITS)
            and 0 < len(keys) <= MAX_DIGITS_INPUT
            and all(k in "0123456789*#" for k in keys)
        ):
            continue
        raise SimulationInputError(
            f"inputs[{i}] = {item!r}: use one key (0-9, * or #), 'silence', 'say:<words>', "
            f"or 'digits:<up to {MAX_DIGITS_INPUT} keys>'"
        )


@dataclass(frozen=True)
class Pace:
    """How a simulated caller takes their time, for the simulated clock (`Simulation.seconds`)."""

    #: seconds from the end of a menu's prompt (or the start of a prompt that takes keys) to
    #: the key
    think: float = 1.0
    #: seconds between the keys of a number
    key_gap: float = 0.6
    #: seconds of speech per character said (about 4 characters a second)
    per_character: float = 0.25
    #: a speech step that hears nothing gives up after this long (the listener's no-input)
    no_input: float = 6.0


#: seconds of the tone before a speech step listens (Asterisk's beep)
BEEP_SECONDS = 0.3


@dataclass
class SimulatedChannel:
    inputs: list[str]
    unique_id: str = "simulated"
    caller_number: str = "13800138000"
    caller_name: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    played: list[str] = field(default_factory=list)
    destination: tuple[str, str] | None = None
    hung_up: bool = False
    speech_enabled: bool = True
    #: seconds a played file lasts (None: prompts take no time)
    durations: Callable[[str], float] | None = None
    pace: Pace = field(default_factory=Pace)
    #: the simulated time since the answer
    clock: float = 0.0
    #: the simulated time at which the call left the IVR (joined a queue, was transferred)
    left_at: float | None = None

    def _next(self) -> str:
        return self.inputs.pop(0) if self.inputs else SILENCE

    def _length(self, file: str) -> float:
        if file == "beep":
            return BEEP_SECONDS
        return self.durations(file) if self.durations is not None else 0.0

    async def answer(self) -> None:
        return None

    async def play(self, prompt: str, escape_digits: str = "") -> str | None:
        self.played.append(prompt)
        # A prompt that takes only some keys (a speech step's: "0" for a person) takes the
        # next input when it is one of them; prompts that take any key never do (the key is
        # given to the menu that follows, as a real caller's is).
        if escape_digits and set(escape_digits) != set(ALL_KEYS):
            if self.inputs and len(self.inputs[0]) == 1 and self.inputs[0] in escape_digits:
                self.clock += min(self.pace.think, self._length(prompt))
                return self.inputs.pop(0)
        self.clock += self._length(prompt)
        return None

    async def collect_digits(
        self, prompt: str, *, timeout: float = 5.0, max_digits: int = 1
    ) -> tuple[str, bool]:
        self.played.append(prompt)
        self.clock += self._length(prompt)
        item = self._next()
        if item == SILENCE or item.startswith(SAY):
            self.clock += timeout
            return "", True
        keys = item.removeprefix(DIGITS)
        self.clock += self.pace.think + self.pace.key_gap * (len(keys) - 1)
        return keys, False

    async def listen(self, _channel: Any, max_seconds: float, silence_ms: int) -> str | None:
        if not self.speech_enabled:
            raise SpeechUnavailable("speech is not enabled")
        item = self._next()
        if not item.startswith(SAY):
            self.clock += min(self.pace.no_input, max_seconds)
            return None
        said = item[len(SAY) :].strip()
        spoken = min(max_seconds, len(said) * self.pace.per_character)
        self.clock += min(max_seconds, spoken + silence_ms / 1000)
        return said

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    async def continue_in_dialplan(self, context: str, exten: str, priority: int = 1) -> None:
        self.destination = (context, exten)
        self.left_at = self.clock

    async def hangup(self) -> None:
        self.hung_up = True


@dataclass
class Simulation:
    path: list[dict[str, Any]]
    prompts: list[dict[str, str]]
    outcome: str
    queue: str | None
    number: str | None
    destination: tuple[str, str] | None
    variables: dict[str, str]
    unused_inputs: list[str]
    #: simulated seconds from the answer to leaving the IVR (a queue or a transfer), from
    #: the prompts' lengths and the caller's `Pace`; None when it hung up or prompts had no
    #: lengths
    seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "prompts": self.prompts,
            "outcome": self.outcome,
            "queue": self.queue,
            "number": self.number,
            "destination": list(self.destination) if self.destination else None,
            "variables": self.variables,
            "unused_inputs": self.unused_inputs,
        }


async def simulate(
    document: MenuDocument,
    inputs: list[str],
    *,
    router: Router,
    classify: Classify | None = None,
    at: datetime | None = None,
    speech: bool = True,
    version: int | None = None,
    resolve_prompt: Callable[[str, str], str | None] | None = None,
    caller_number: str = "13800138000",
    requested_service: RequestedService | None = None,
    durations: Callable[[str], float] | None = None,
    pace: Pace | None = None,
) -> Simulation:
    """Walk `document` with `inputs`; raises SimulationInputError for a malformed input.
    With `durations` (seconds of a played file, as `resolve_prompt` names it) the result
    tells how long the caller spent in the IVR."""
    check_inputs(inputs)
    channel = SimulatedChannel(
        list(inputs),
        unique_id=f"simulated-{uuid.uuid4().hex[:12]}",
        caller_number=caller_number,
        speech_enabled=speech,
        durations=durations,
        pace=pace or Pace(),
    )
    path: list[dict[str, Any]] = []

    def record(step: str, **data: Any) -> None:
        path.append({"step": step, **data})

    when = at or datetime.now()
    interpreter = Interpreter(
        document,
        router=router,
        resolve_prompt=resolve_prompt
        or (lambda name, language: _by_text(document, name, language)),
        record=record,
        # as on a call without speech: the step falls back before its prompt plays
        listen=channel.listen if speech else None,
        classify=classify,
        now=lambda: when,
        version=version,
        requested_service=requested_service,
    )
    outcome = await interpreter.run(channel)
    prompts = [
        {"prompt": step["prompt"], "language": step["language"]}
        for step in path
        if step["step"] == "play"
    ]
    return Simulation(
        path=path,
        prompts=prompts,
        outcome=outcome.kind,
        queue=outcome.queue,
        number=outcome.number,
        destination=channel.destination,
        variables=channel.variables,
        unused_inputs=channel.inputs,
        seconds=round(channel.left_at, 2)
        if durations is not None and channel.left_at is not None
        else None,
    )


def _by_text(document: MenuDocument, name: str, language: str) -> str | None:
    """Without a prompt store: a prompt plays when the document has a text for it."""
    texts = document.prompts.get(name, {})
    if (texts.get(language) or texts.get(document.default_language) or "").strip():
        return f"{language}/{name}"
    return None


def signature(path: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A path without its timings, for comparing a real call with a simulation."""
    return [{k: v for k, v in step.items() if k not in VOLATILE} for step in path]


def inputs_of(path: list[dict[str, Any]]) -> list[str]:
    """The caller's inputs recorded in a call's path, as simulator inputs."""
    inputs = []
    for step in path:
        if step["step"] == "input" and step.get("during") != "prompt":
            digits = step.get("digits") or ""
            inputs.append(f"{DIGITS}{digits}" if len(digits) > 1 else digits or SILENCE)
        elif step["step"] == "speech":
            inputs.append(f"{SAY}{step['text']}" if step.get("text") else SILENCE)
    return inputs
