"""How long each path of the default menu keeps a caller before a queue (or a hand-off).

GB/T 33358 asks that calls to a government hotline be answered within 15 s; the IVR's share
of that is the time from the answer to the call joining a queue. `menu_timings` walks each
path of `PATHS` with the simulator on a simulated clock: prompts last what `seconds_of`
says (the synthesised files' lengths, or text length x a speaking rate: the caller of this
module chooses and says which), and the caller takes the time `Pace` gives (a second to
press a key, four characters of speech a second, the menu's timeout when pressing nothing).
Measured figures come from real calls in the sandbox (`tests/integration/
test_emergency_confirm.py` writes them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ivr.document import MenuDocument
from ivr.interpreter import Classify, RequestedService
from ivr.routing_port import Router
from ivr.simulate import Pace, simulate

#: a Chinese prompt spoken at a hotline's pace: about 4.5 characters a second
SECONDS_PER_CHARACTER = 0.22

_ORDINARY = "say:我家暖气不热，屋里才十二度"
_FIRE = "say:楼下着火了，好大的烟，快来人"


@dataclass(frozen=True)
class MenuPath:
    name: str
    inputs: tuple[str, ...]
    #: False: the controller runs without speech (or every decoder is busy)
    speech: bool = True


#: the paths of the shipped default menu (speech on, then the key menu without speech)
PATHS: tuple[MenuPath, ...] = (
    MenuPath("speak: an ordinary request", (_ORDINARY,)),
    MenuPath("speak: emergency, key 1 (hand-off)", (_FIRE, "1")),
    MenuPath("speak: emergency, key 2 (go on)", (_FIRE, "2")),
    MenuPath("speak: emergency, no key", (_FIRE, "silence")),
    MenuPath("speak: 帮我转120 (explicit)", ("say:帮我转120",)),
    MenuPath("0 during the speech prompt", ("0",)),
    MenuPath("9 during the speech prompt (Mongolian)", ("9",)),
    MenuPath("nothing said, then key 2", ("silence", "2")),
    MenuPath("no speech: 1 enterprise", ("1",), speech=False),
    MenuPath("no speech: 2 personal", ("2",), speech=False),
    MenuPath("no speech: 3 progress + number", ("3", "digits:2026120100123#"), speech=False),
    MenuPath("no speech: 3 progress, no number", ("3", "silence"), speech=False),
    MenuPath("no speech: 4 callback", ("4",), speech=False),
    MenuPath("no speech: 9 Mongolian", ("9",), speech=False),
    MenuPath("no speech: 0 a person", ("0",), speech=False),
    MenuPath("no speech: no key twice", ("silence", "silence"), speech=False),
)


@dataclass(frozen=True)
class PathTiming:
    path: MenuPath
    outcome: str
    #: the queue, or the number a hand-off dialled
    destination: str
    #: seconds from the answer to the queue (or the hand-off's dial)
    seconds: float | None
    #: the prompts' full lengths (a prompt a key interrupted counts in full)
    prompt_seconds: float
    prompts: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path.name,
            "inputs": list(self.path.inputs),
            "speech": self.path.speech,
            "outcome": self.outcome,
            "destination": self.destination,
            "seconds": self.seconds,
            "prompt_seconds": self.prompt_seconds,
            "prompts": self.prompts,
        }


async def menu_timings(
    document: MenuDocument,
    seconds_of: Callable[[str, str], float],
    *,
    router: Router,
    classify: Classify | None = None,
    requested_service: RequestedService | None = None,
    paths: tuple[MenuPath, ...] = PATHS,
    pace: Pace | None = None,
) -> list[PathTiming]:
    """Each path walked on the simulated clock; `seconds_of(prompt name, language)` is how
    long a prompt plays."""
    timings = []
    for path in paths:
        result = await simulate(
            document,
            list(path.inputs),
            router=router,
            classify=classify,
            speech=path.speech,
            requested_service=requested_service,
            resolve_prompt=lambda name, language: f"{language}/{name}",
            durations=lambda file: seconds_of(*reversed(file.split("/", 1))),
            pace=pace,
        )
        played = [f"{p['prompt']}" for p in result.prompts]
        heard = sum(seconds_of(p["prompt"], p["language"]) for p in result.prompts)
        timings.append(
            PathTiming(
                path=path,
                outcome=result.outcome,
                destination=result.queue or result.number or "",
                seconds=result.seconds,
                prompt_seconds=round(heard, 2),
                prompts=played,
            )
        )
    return timings


def estimated_seconds(document: MenuDocument) -> Callable[[str, str], float]:
    """Prompt lengths from their texts: characters x `SECONDS_PER_CHARACTER`."""

    def seconds(name: str, language: str) -> float:
        texts = document.prompts.get(name, {})
        text = texts.get(language) or texts.get(document.default_language) or ""
        return len(text.strip()) * SECONDS_PER_CHARACTER

    return seconds


def table(timings: list[PathTiming], limit: float = 15.0) -> str:
    """The timings as a text table, with whether each path reaches its queue within `limit`
    seconds."""
    rows = [("path", "to", "answer->queue s", f"<= {limit:g} s", "prompts heard")]
    for t in timings:
        within = "" if t.seconds is None else ("yes" if t.seconds <= limit else "no")
        total = "-" if t.seconds is None else f"{t.seconds:.1f}"
        rows.append((t.path.name, t.destination, total, within, " ".join(t.prompts)))
    widths = [max(_width(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for row in rows:
        cells = [cell + " " * (widths[i] - _width(cell)) for i, cell in enumerate(row)]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines) + "\n"


def _width(text: str) -> int:
    """Columns a terminal gives `text` (a Chinese character takes two)."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)
