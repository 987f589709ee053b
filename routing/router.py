"""The router: one call in, one `Decision` out.

It classifies the transcript when nobody has done so, asks the caller's history from an
injected source, reads how many operators each queue has from an injected staffing (for
`RosterRouter` the roster at the injected clock's time; without a roster
`decision.every_queue_staffed()`) and applies `decide`, the one rule set. Storage, settings,
Asterisk and the IVR stay outside: `hotline/` passes in callables and adapts the IVR's
`Router` port to this router.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

from routing.decision import CallerHistory, Decision, RoutingRequest, decide
from routing.handoff import requested_service
from routing.roster import Roster, queue_members


class CallToRoute(Protocol):
    """What the router reads of a call (the IVR's `CallFacts` has all of it)."""

    @property
    def unique_id(self) -> str: ...
    @property
    def caller_number(self) -> str: ...
    #: "mandarin" or "mongolian"
    @property
    def language(self) -> str: ...
    #: tags gathered by the menu, e.g. {"enterprise": "true", "request": "follow_up"}
    @property
    def tags(self) -> Mapping[str, str]: ...
    @property
    def transcript(self) -> str | None: ...
    #: the classifier's taxonomy object, when the transcript was already classified
    @property
    def classification(self) -> Mapping[str, Any] | None: ...


Clock = Callable[[], datetime]
#: staffing(at) -> queue -> operators on duty and available in it
Staffing = Callable[[datetime], Mapping[str, int]]
HistorySource = Callable[[CallToRoute, datetime], Awaitable[CallerHistory]]
#: on_decision(call, decision, classification used, decision time in ms): stores the decision
#: and may return it with more tags (e.g. the work order the call became), or None
DecisionSink = Callable[
    [CallToRoute, Decision, Mapping[str, Any] | None, float], Awaitable[Decision | None]
]

_TRUE = {"1", "true", "yes", "y"}


def _default_classify(text: str) -> Any:
    from routing.classifier import classify

    return classify(text)


def utc_clock() -> datetime:
    return datetime.now(UTC)


def request_for(
    call: CallToRoute, classification: Mapping[str, Any] | None, history: CallerHistory
) -> RoutingRequest:
    """Turn a call into a routing request. Menu tags read: `enterprise`, `elderly` (or
    `senior`), `callback` (true when returning a 回访 call), `request` (`follow_up`,
    `progress` or `callback`) and `emergency_choice` (the caller's answer to the IVR's
    emergency question: `handoff` for key 1, `continue` for key 2); every menu tag travels on
    with the call. A transcript that asks for a service ("帮我转120") is a hand-off request."""
    tags = {k: v.strip().lower() for k, v in call.tags.items()}
    request = tags.get("request", "")
    choice = tags.get("emergency_choice", "")
    c = classification or {}
    suspected = str(c.get("emergency") or "110") if c.get("intent") == "emergency" else None
    asked = requested_service(call.transcript)
    confirmed = suspected if choice == "handoff" else None
    return RoutingRequest(
        classification=classification,
        language=call.language or "mandarin",
        enterprise=tags.get("enterprise", "") in _TRUE,
        follow_up=request in ("follow_up", "progress"),
        returned_callback=request == "callback" or tags.get("callback", "") in _TRUE,
        elderly=tags.get("elderly", tags.get("senior", "")) in _TRUE,
        history=history,
        tags=dict(call.tags),
        handoff=asked or confirmed,
        handoff_how="requested" if asked else "confirmed" if confirmed else "",
        emergency_declined=choice == "continue",
    )


def staffed_queues(roster: Roster, at: datetime, paused: Collection[str] = ()) -> dict[str, int]:
    """Queue -> operators on duty at `at` and not paused."""
    available = [d for d in roster.on_duty(at) if d.operator.extension not in paused]
    return {queue: len(exts) for queue, exts in queue_members(available).items()}


class CallRouter:
    def __init__(
        self,
        staffing: Staffing,
        *,
        history: HistorySource | None = None,
        clock: Clock = utc_clock,
        handoff_numbers: Mapping[str, str] | None = None,
        classify: Callable[[str], Any] | None = None,
        on_decision: DecisionSink | None = None,
    ) -> None:
        self._staffing = staffing
        self._history = history
        self.clock = clock
        self._handoff_numbers = dict(handoff_numbers or {})
        self._classify = classify
        self._on_decision = on_decision

    def classification_of(self, call: CallToRoute) -> Mapping[str, Any] | None:
        if call.classification is not None:
            return call.classification
        if call.transcript and call.transcript.strip():
            classify = self._classify or _default_classify
            try:
                result: dict[str, Any] = classify(call.transcript).to_dict()
            except ValueError:  # ClassifyError: nothing usable in the text
                return None
            return result
        return None

    def decide(
        self, call: CallToRoute, history: CallerHistory, at: datetime
    ) -> tuple[Decision, Mapping[str, Any] | None]:
        classification = self.classification_of(call)
        request = request_for(call, classification, history)
        return decide(request, self._staffing(at), self._handoff_numbers), classification

    async def route(self, call: CallToRoute) -> Decision:
        at = self.clock()
        history = await self._history(call, at) if self._history else CallerHistory()
        t0 = time.perf_counter()
        decision, classification = self.decide(call, history, at)
        elapsed_ms = (time.perf_counter() - t0) * 1000
        if self._on_decision is not None:
            decision = (
                await self._on_decision(call, decision, classification, elapsed_ms) or decision
            )
        return decision


class RosterRouter(CallRouter):
    """A `CallRouter` staffed by the roster: who is on duty at the clock's time, paused
    operators left out."""

    def __init__(
        self,
        roster: Callable[[], Roster],
        *,
        paused: Callable[[], Collection[str]] = frozenset,
        history: HistorySource | None = None,
        clock: Clock = utc_clock,
        handoff_numbers: Mapping[str, str] | None = None,
        classify: Callable[[str], Any] | None = None,
        on_decision: DecisionSink | None = None,
    ) -> None:
        super().__init__(
            lambda at: staffed_queues(roster(), at, paused()),
            history=history,
            clock=clock,
            handoff_numbers=handoff_numbers,
            classify=classify,
            on_decision=on_decision,
        )
