"""The routing decision: which queue a call joins, at which priority, with which tag.

Theory of operation: the first rule that applies picks the wanted queue (emergency hand-off,
possible emergency, returned callback, follow-up, open case, Mongolian, enterprise, the
default). A call is handed over to 110/119/120/122 only when the caller asked for the
service or confirmed the IVR's question (`RoutingRequest.handoff`); an emergency the
classifier suspects and nobody confirmed goes to the next free operator at top priority,
tagged ``possible_emergency=<service>``. Priority is then
raised for elderly and repeated callers. Finally the wanted queue is checked against who is on
duty: when it has nobody, the call falls back along that queue's chain to the first queue that
has someone, and the tags say so. Only when nobody at all is on duty does a call join the
intake queue anyway (tagged `nobody_on_duty`), because a queue still holds it and plays music
rather than dropping it.

This is the only place that picks a queue. Everything here is pure and fast (no I/O): the
caller's history and the staffed queues are inputs; routing without a roster (the menu
simulator) is the same rules over `every_queue_staffed()`. Asterisk queue priority: higher is
answered first; 0 is an ordinary call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from routing.taxonomy import DEPARTMENT_ZH

KIND_ZH: Final = {
    "consult": "咨询",
    "help": "求助",
    "complaint": "投诉",
    "report": "举报",
    "suggestion": "建议",
    "praise": "表扬",
}
INTENT_ZH: Final = {"follow_up": "催办", "new_request": "来电", "emergency": "紧急"}

#: the hotline's queues (asterisk-conf/hotline/queues.conf)
QUEUES: Final = ("intake", "multimedia", "dispatch", "callback", "intake-mongolian", "enterprise")

#: where a queue's calls go when it has nobody on duty, in order of preference
FALLBACKS: Final[dict[str, tuple[str, ...]]] = {
    "intake-mongolian": ("intake", "dispatch", "callback", "multimedia"),
    "enterprise": ("intake", "dispatch", "callback", "multimedia"),
    "intake": ("dispatch", "callback", "multimedia"),
    "dispatch": ("intake", "callback", "multimedia"),
    "callback": ("dispatch", "intake", "multimedia"),
    "multimedia": ("intake", "dispatch", "callback"),
}

#: a possible emergency the caller did not confirm: before every other call in the queue
PRIORITY_EMERGENCY: Final = 10
PRIORITY_ELDERLY: Final = 3
PRIORITY_REPEAT: Final = 2
#: earlier calls today from the same number that make a caller "repeated"
REPEAT_CALLS_TODAY: Final = 2

HANDOFF_PROMPT: Final = "emergency-handoff"

#: the tags only the decision sets (a menu tag of the same name is left out)
DECISION_TAGS: Final = frozenset(
    {
        "rule",
        "queue",
        "intent",
        "kind",
        "department",
        "out_of_scope",
        "language",
        "priority",
        "elderly",
        "repeat",
        "open_cases",
        "fallback",
        "display",
        "order",
        "order_status",
        "order_due",
        "order_not_found",
        # the keyed number itself: `order` or `order_not_found` says what it named
        "order_number",
        "possible_emergency",
        "emergency_declined",
        "handoff",
    }
)


@dataclass(frozen=True)
class OpenCase:
    """A work order as routing sees it: its number, department, status and due time."""

    reference: str
    department: str | None = None
    status: str = ""
    #: when it is due, as the operator reads it (local time, e.g. ``2026-12-08T17:30``)
    due: str = ""


@dataclass(frozen=True)
class CallerHistory:
    #: work orders still open for this number, newest first
    open_cases: tuple[OpenCase, ...] = ()
    #: calls from this number earlier today (in the hotline's time zone), this one excluded
    calls_today: int = 0
    #: the order number the call names (keyed in the menu or read out), "" when none
    named_number: str = ""
    #: the order of that number, whatever its status (None: no such order)
    named_order: OpenCase | None = None


@dataclass(frozen=True)
class RoutingRequest:
    #: the classifier's taxonomy object (None when nothing was said or classified)
    classification: Mapping[str, Any] | None = None
    language: str = "mandarin"
    #: the caller chose the enterprise option in the menu
    enterprise: bool = False
    #: the caller chose "progress of my case" in the menu
    follow_up: bool = False
    #: the caller is returning a call from the callback group (回访)
    returned_callback: bool = False
    elderly: bool = False
    history: CallerHistory = field(default_factory=CallerHistory)
    #: tags the menu gave the call (e.g. ``ivr=input_failed``); they travel with the call's
    #: tag, but never in place of one the decision sets
    tags: Mapping[str, str] = field(default_factory=dict)
    #: the emergency service (110/119/120/122) the caller asked for ("帮我转120") or confirmed
    #: (key 1 at the IVR's question): the only calls that are handed over
    handoff: str | None = None
    #: how: "requested" or "confirmed"
    handoff_how: str = ""
    #: the caller answered the IVR's emergency question with "go on as an ordinary request"
    emergency_declined: bool = False


@dataclass(frozen=True)
class Decision:
    queue: str
    priority: int
    tags: dict[str, str]
    #: the rule that picked the wanted queue
    rule: str
    #: the rule in words, with the fallback when there was one
    explanation: str
    wanted: str
    handoff_number: str | None = None
    prompt: str | None = None
    #: the existing work order this call follows up (no new order is made for it)
    order: str | None = None

    @property
    def fell_back(self) -> bool:
        return self.queue != self.wanted

    def to_dict(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "priority": self.priority,
            "tags": dict(self.tags),
            "rule": self.rule,
            "explanation": self.explanation,
            "wanted": self.wanted,
            "handoff_number": self.handoff_number,
            "prompt": self.prompt,
            "order": self.order,
        }


def every_queue_staffed() -> dict[str, int]:
    """`staffed` for routing without a roster (the menu simulator, tests): someone in every
    queue, so the rules alone pick the queue and no call falls back."""
    return dict.fromkeys(QUEUES, 1)


def decide(
    request: RoutingRequest,
    staffed: Mapping[str, int],
    handoff_numbers: Mapping[str, str] | None = None,
) -> Decision:
    """Route one call. `staffed` maps queue -> operators on duty and available in it
    (`every_queue_staffed()` without a roster); `handoff_numbers` maps an emergency service
    (110/119/120/122) to the number to dial."""
    c = request.classification or {}
    intent = c.get("intent")
    history = request.history

    if request.handoff:
        return _handoff(request.handoff, request.handoff_how, handoff_numbers)
    # A classifier's emergency is a suspicion, never a hand-off: unconfirmed, the call goes
    # to the next free operator before everyone else; declined, it is an ordinary request.
    possible = declined = ""
    if intent == "emergency":
        # The classifier puts emergencies out of scope; the operator takes this one.
        c = {**c, "in_scope": True, "out_of_scope_reason": None}
        if request.emergency_declined:
            declined = str(c.get("emergency") or "110")
            c = {**c, "intent": "new_request", "emergency": None}
        else:
            possible = str(c.get("emergency") or "110")
    if possible:
        wanted = "intake-mongolian" if request.language == "mongolian" else "intake"
        rule, order = "possible_emergency", None
        why = f"possible emergency ({possible}) not confirmed by the caller: {wanted}"
    else:
        wanted, rule, why, order = _wanted_queue(request, c)
    priority = 0
    reasons = [why]
    elderly = request.elderly
    repeated = history.calls_today >= REPEAT_CALLS_TODAY
    if elderly:
        priority += PRIORITY_ELDERLY
        reasons.append(f"elderly caller: priority +{PRIORITY_ELDERLY}")
    if repeated:
        priority += PRIORITY_REPEAT
        reasons.append(f"{history.calls_today} earlier calls today: priority +{PRIORITY_REPEAT}")
    if possible:
        priority = PRIORITY_EMERGENCY
        reasons.append(f"top priority {PRIORITY_EMERGENCY}")
    if declined:
        reasons.append(f"the caller declined the hand-off to {declined}")

    queue = wanted
    if staffed.get(wanted, 0) <= 0:
        queue = next((q for q in FALLBACKS.get(wanted, ()) if staffed.get(q, 0) > 0), "")
        if queue:
            reasons.append(f"nobody on duty in {wanted}: fell back to {queue}")
        else:
            queue = "intake"
            reasons.append("nobody on duty in any queue: waiting in intake")

    tags = _tags(c, request, wanted, queue, rule, priority, elderly, repeated)
    tags.update(_order_tags(request.history, order))
    if possible or declined:
        tags.update(
            {"possible_emergency": possible} if possible else {"emergency_declined": declined}
        )
        tags["display"] = display_name(tags)
    if staffed.get(queue, 0) <= 0:
        tags["fallback"] = "nobody_on_duty"
        tags["display"] = display_name(tags)
    return Decision(
        queue=queue,
        priority=priority,
        tags=tags,
        rule=rule,
        explanation="; ".join(reasons),
        wanted=wanted,
        order=order.reference if order else None,
    )


def _handoff(service: str, how: str, handoff_numbers: Mapping[str, str] | None) -> Decision:
    number = (handoff_numbers or {}).get(service, service)
    asked = "asked for by the caller" if how == "requested" else "confirmed by the caller"
    return Decision(
        queue="handoff",
        priority=0,
        tags={
            "intent": "emergency",
            "emergency": service,
            "rule": "emergency",
            "handoff": how or "confirmed",
        },
        rule="emergency",
        explanation=f"emergency ({service}) {asked}: handed over to {number}",
        wanted="handoff",
        handoff_number=number,
        prompt=HANDOFF_PROMPT,
    )


def _wanted_queue(
    request: RoutingRequest, c: Mapping[str, Any]
) -> tuple[str, str, str, OpenCase | None]:
    """(wanted queue, rule, why, the existing order the call follows up)."""
    intent = c.get("intent")
    history = request.history
    cases = history.open_cases
    if request.returned_callback:
        return "callback", "returned_callback", "returned a callback: callback group", None
    if history.named_number:
        if history.named_order is not None:
            ref = history.named_order.reference
            why = f"progress enquiry about order {ref} (number given): dispatch group"
            return "dispatch", "follow_up", why, history.named_order
        why = f"progress enquiry about order {history.named_number}, not found: dispatch group"
        return "dispatch", "follow_up", why, None
    if request.follow_up or intent == "follow_up":
        source = "menu choice" if request.follow_up else "the request"
        # Without a number the caller's one open order is the one asked about; of several,
        # the operator asks which (the tag counts them).
        if len(cases) == 1:
            why = f"progress enquiry ({source}) about open order {cases[0].reference}"
            return "dispatch", "follow_up", why + ": dispatch group", cases[0]
        return "dispatch", "follow_up", f"progress enquiry ({source}): dispatch group", None
    if cases:
        department = c.get("department")
        same = [case for case in cases if department and case.department == department]
        if same or not c:
            case = (same or list(cases))[0]
            why = f"caller has open case {case.reference} about this: dispatch group"
            return "dispatch", "open_case", why, case
    mongolian = request.language == "mongolian" or "mongolian" in (
        (c.get("route") or {}).get("skills") or ()
    )
    if mongolian:
        why = "Mongolian speaker: intake, Mongolian-speaking"
        return "intake-mongolian", "mongolian", why, None
    if request.enterprise or c.get("enterprise"):
        return "enterprise", "enterprise", "enterprise caller: enterprise desk", None
    return "intake", "default", "new request: intake group", None


def _order_tags(history: CallerHistory, order: OpenCase | None) -> dict[str, str]:
    """What the operator's phone shows of the order a call follows up: its number, status
    and due time; or that the number the caller gave names no order."""
    if order is not None:
        tags = {"order": order.reference}
        if order.status:
            tags["order_status"] = order.status
        if order.due:
            tags["order_due"] = order.due
        return tags
    if history.named_number:
        return {"order_not_found": history.named_number}
    return {}


def _tags(
    c: Mapping[str, Any],
    request: RoutingRequest,
    wanted: str,
    queue: str,
    rule: str,
    priority: int,
    elderly: bool,
    repeated: bool,
) -> dict[str, str]:
    tags: dict[str, str] = {"rule": rule, "queue": queue}
    for key in ("intent", "kind", "department"):
        if c.get(key):
            tags[key] = str(c[key])
    if c and not c.get("in_scope", True) and c.get("out_of_scope_reason"):
        tags["out_of_scope"] = str(c["out_of_scope_reason"])
    if request.language != "mandarin":
        tags["language"] = request.language
    if priority:
        tags["priority"] = str(priority)
    if elderly:
        tags["elderly"] = "true"
    if repeated:
        tags["repeat"] = str(request.history.calls_today)
    if request.history.open_cases:
        tags["open_cases"] = str(len(request.history.open_cases))
    if queue != wanted:
        tags["fallback"] = wanted
    for key, value in request.tags.items():
        if key not in DECISION_TAGS:
            tags[key] = value
    tags["display"] = display_name(tags)
    return tags


def display_name(tags: Mapping[str, str]) -> str:
    """What the operator's phone shows as the caller's name, e.g. ``投诉|供热``."""
    parts = [
        KIND_ZH.get(tags.get("kind", ""), "")
        or INTENT_ZH.get(tags.get("intent", ""), "")
        or "来电",
    ]
    if tags.get("possible_emergency"):
        # first, so a phone that shows only a few characters still shows it
        parts.insert(0, f"疑似紧急{tags['possible_emergency']}")
    if tags.get("department"):
        parts.append(DEPARTMENT_ZH.get(tags["department"], tags["department"]))
    if tags.get("language") == "mongolian":
        parts.append("蒙语")
    if tags.get("out_of_scope"):
        parts.append("非受理")
    if tags.get("elderly"):
        parts.append("老人")
    if tags.get("repeat"):
        parts.append("重复")
    if tags.get("fallback"):
        parts.append("兜底")
    return "|".join(parts)


def header_value(tags: Mapping[str, str]) -> str:
    """The `X-Hotline-Tag` SIP header: ``key=value`` pairs joined by ``;`` (ASCII only; the
    Chinese display text travels in the caller name)."""
    return ";".join(f"{k}={v}" for k, v in tags.items() if k != "display" and v.isascii())
