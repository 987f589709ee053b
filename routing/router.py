"""The roster-aware router: `CallFacts` in, `RouteTarget` out (the IVR's `Router` port).

It classifies the transcript when the IVR has not done so, reads who is on duty from the
roster at the injected clock's time, asks the caller's history from an injected source and
applies `decide`. Storage, settings and Asterisk stay outside: `hotline/` passes in callables.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from ivr.routing_port import CallFacts, RouteTarget
from routing.decision import CallerHistory, Decision, RoutingRequest, decide, header_value
from routing.roster import Roster, queue_members

Clock = Callable[[], datetime]
HistorySource = Callable[[CallFacts, datetime], Awaitable[CallerHistory]]
DecisionSink = Callable[[CallFacts, Decision, float], Awaitable[None]]

_TRUE = {"1", "true", "yes", "y"}


def _default_classify(text: str) -> Any:
    from routing.classifier import classify

    return classify(text)


def utc_clock() -> datetime:
    return datetime.now(UTC)


def request_from_facts(
    facts: CallFacts, classification: Mapping[str, Any] | None, history: CallerHistory
) -> RoutingRequest:
    """Turn the IVR's facts into a routing request. Menu tags read: `enterprise`, `elderly`
    (or `senior`), `callback` (true when returning a 回访 call) and `request` (`follow_up`,
    `progress` or `callback`)."""
    tags = {k: v.strip().lower() for k, v in facts.tags.items()}
    request = tags.get("request", "")
    return RoutingRequest(
        classification=classification,
        language=facts.language or "mandarin",
        enterprise=tags.get("enterprise", "") in _TRUE,
        follow_up=request in ("follow_up", "progress"),
        returned_callback=request == "callback" or tags.get("callback", "") in _TRUE,
        elderly=tags.get("elderly", tags.get("senior", "")) in _TRUE,
        history=history,
    )


def staffed_queues(roster: Roster, at: datetime, paused: Collection[str] = ()) -> dict[str, int]:
    """Queue -> operators on duty at `at` and not paused."""
    available = [d for d in roster.on_duty(at) if d.operator.extension not in paused]
    return {queue: len(exts) for queue, exts in queue_members(available).items()}


class RosterRouter:
    def __init__(
        self,
        roster: Callable[[], Roster],
        *,
        history: HistorySource | None = None,
        clock: Clock = utc_clock,
        paused: Callable[[], Collection[str]] = frozenset,
        handoff_numbers: Mapping[str, str] | None = None,
        classify: Callable[[str], Any] | None = None,
        on_decision: DecisionSink | None = None,
    ) -> None:
        self._roster = roster
        self._history = history
        self.clock = clock
        self._paused = paused
        self._handoff_numbers = dict(handoff_numbers or {})
        self._classify = classify
        self._on_decision = on_decision

    def classification_of(self, facts: CallFacts) -> Mapping[str, Any] | None:
        if facts.classification is not None:
            return facts.classification
        if facts.transcript and facts.transcript.strip():
            classify = self._classify or _default_classify
            try:
                result: dict[str, Any] = classify(facts.transcript).to_dict()
            except ValueError:  # ClassifyError: nothing usable in the text
                return None
            return result
        return None

    def decide(
        self, facts: CallFacts, history: CallerHistory, at: datetime
    ) -> tuple[Decision, Mapping[str, Any] | None]:
        classification = self.classification_of(facts)
        request = request_from_facts(facts, classification, history)
        staffed = staffed_queues(self._roster(), at, self._paused())
        return decide(request, staffed, self._handoff_numbers), classification

    async def route(self, facts: CallFacts) -> RouteTarget:
        at = self.clock()
        history = await self._history(facts, at) if self._history else CallerHistory()
        t0 = time.perf_counter()
        decision, classification = self.decide(facts, history, at)
        elapsed_ms = (time.perf_counter() - t0) * 1000
        if self._on_decision is not None:
            facts_used = facts
            if classification is not None and facts.classification is None:
                facts_used = replace(facts, classification=dict(classification))
            await self._on_decision(facts_used, decision, elapsed_ms)
        return to_target(decision)


def to_target(decision: Decision) -> RouteTarget:
    tags = dict(decision.tags)
    return RouteTarget(
        queue=decision.queue,
        priority=decision.priority,
        tags=tags,
        reason=decision.explanation,
        handoff_number=decision.handoff_number,
        prompt=decision.prompt,
    )


def channel_variables(target: RouteTarget) -> dict[str, str]:
    """What the IVR sets on the channel before `continue_in_dialplan("hotline-queues",
    target.queue)`: the SIP header value, the name shown on the operator's phone, the queue
    priority."""
    return {
        "HOTLINE_TAG": header_value(target.tags),
        "CALLERID(name)": target.tags.get("display", ""),
        "QUEUE_PRIO": str(target.priority),
    }
