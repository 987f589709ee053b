"""What the IVR hands to the routing engine, and what it gets back.

The IVR's `route` node (and `collect_speech`, once a transcript is classified) builds
`CallFacts` and asks a `Router` where the call goes. The IVR defines this port and never
imports `routing`: `hotline/ivr/ports.py` implements it with routing's router (one rule set;
rosters, priorities, fallbacks), and the controller passes it in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class CallFacts:
    unique_id: str
    caller_number: str
    caller_name: str
    #: "mandarin" or "mongolian" (menu `set` nodes choose it)
    language: str = "mandarin"
    #: tags gathered by the menu, e.g. {"enterprise": "true", "request": "follow_up"}
    tags: dict[str, str] = field(default_factory=dict)
    #: what the caller said, when a speech step ran
    transcript: str | None = None
    #: the classifier's taxonomy JSON object, when the transcript was classified
    classification: dict[str, Any] | None = None


@dataclass(frozen=True)
class RouteTarget:
    #: an Asterisk queue (intake, multimedia, dispatch, callback, intake-mongolian,
    #: enterprise) or "handoff" for an emergency hand-off to `handoff_number`
    queue: str
    #: queue priority: higher is answered first
    priority: int = 0
    #: the tag that travels with the call (SIP header, caller name on the operator's phone)
    tags: dict[str, str] = field(default_factory=dict)
    #: which rule fired, in words, stored with the call
    reason: str = ""
    handoff_number: str | None = None
    #: a prompt to play before the transfer (e.g. the emergency hand-off notice)
    prompt: str | None = None


class Router(Protocol):
    async def route(self, facts: CallFacts) -> RouteTarget: ...
