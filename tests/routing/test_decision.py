"""The routing decision: rules, priorities, fallbacks, tags; the router on a call."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from routing import classify
from routing.decision import (
    FALLBACKS,
    PRIORITY_ELDERLY,
    PRIORITY_EMERGENCY,
    PRIORITY_REPEAT,
    QUEUES,
    CallerHistory,
    OpenCase,
    RoutingRequest,
    decide,
    display_name,
    every_queue_staffed,
    header_value,
)
from routing.roster import Assignment, Operator, Roster, Shift
from routing.router import CallRouter, RosterRouter, request_for

ALL = every_queue_staffed()
HEATING = classify("我家暖气不热，屋里才十二度，我要投诉供热公司").to_dict()


def test_heating_complaint_goes_to_intake_with_the_tag() -> None:
    d = decide(RoutingRequest(classification=HEATING), ALL)
    assert (d.queue, d.rule, d.priority) == ("intake", "default", 0)
    assert d.tags["kind"] == "complaint" and d.tags["department"] == "heating"
    assert d.tags["display"] == "投诉|供热"
    assert "kind=complaint" in header_value(d.tags) and "department=heating" in header_value(d.tags)
    assert header_value(d.tags).isascii()


def test_a_confirmed_emergency_is_handed_over_to_the_configured_number() -> None:
    fire = classify("楼下着火了，好大的烟，快来人").to_dict()
    request = RoutingRequest(classification=fire, handoff="119", handoff_how="confirmed")
    d = decide(request, ALL, {"119": "0471119"})
    assert d.queue == "handoff" and d.handoff_number == "0471119" and d.prompt
    assert d.rule == "emergency" and d.tags["handoff"] == "confirmed"


def test_a_suspected_emergency_alone_is_never_handed_over() -> None:
    """The classifier's guess puts the call first in line for the next free operator."""
    fire = classify("楼下着火了，好大的烟，快来人").to_dict()
    d = decide(RoutingRequest(classification=fire, elderly=True), ALL, {"119": "0471119"})
    assert (d.queue, d.rule, d.handoff_number) == ("intake", "possible_emergency", None)
    assert d.priority == PRIORITY_EMERGENCY > PRIORITY_ELDERLY + PRIORITY_REPEAT
    assert d.tags["possible_emergency"] == "119" and "out_of_scope" not in d.tags
    assert d.tags["display"].startswith("疑似紧急119")
    assert "possible_emergency=119" in header_value(d.tags)
    # Nobody in intake: the first queue with someone in it, still first in line.
    d = decide(RoutingRequest(classification=fire), {"dispatch": 0, "callback": 2})
    assert (d.queue, d.priority, d.tags["fallback"]) == ("callback", PRIORITY_EMERGENCY, "intake")


def test_a_declined_emergency_is_routed_as_an_ordinary_request() -> None:
    fire = classify("楼下着火了，好大的烟，快来人").to_dict()
    d = decide(RoutingRequest(classification=fire, emergency_declined=True), ALL)
    assert (d.queue, d.rule, d.priority) == ("intake", "default", 0)
    assert d.tags["emergency_declined"] == "119" and d.tags["intent"] == "new_request"
    assert "possible_emergency" not in d.tags and "out_of_scope" not in d.tags


def test_the_router_reads_the_callers_answer_and_explicit_requests() -> None:
    fire = classify("楼下着火了，好大的烟，快来人").to_dict()

    @dataclass
    class Call:
        transcript: str | None
        tags: dict[str, str]
        unique_id: str = "u"
        caller_number: str = "13800138000"
        language: str = "mandarin"
        classification: Mapping[str, Any] | None = None

    def request(call: Call) -> RoutingRequest:
        return request_for(call, call.classification, CallerHistory())

    said = "楼下着火了，好大的烟，快来人"
    confirmed = request(Call(said, {"emergency_choice": "handoff"}, classification=fire))
    assert (confirmed.handoff, confirmed.handoff_how) == ("119", "confirmed")
    declined = request(Call(said, {"emergency_choice": "continue"}, classification=fire))
    assert declined.handoff is None and declined.emergency_declined
    silent = request(Call(said, {"emergency_choice": "no_key"}, classification=fire))
    assert silent.handoff is None and not silent.emergency_declined
    asked = request(Call("帮我转一二零", {}))
    assert (asked.handoff, asked.handoff_how) == ("120", "requested")
    # Key 1 names no service of its own: without a suspected emergency nothing is handed over.
    assert (
        request(
            Call("我家暖气不热", {"emergency_choice": "handoff"}, classification=HEATING)
        ).handoff
        is None
    )


def test_rules_in_order() -> None:
    follow = classify("我上周反映的工单现在处理到哪一步了").to_dict()
    assert decide(RoutingRequest(classification=follow), ALL).queue == "dispatch"
    assert decide(RoutingRequest(follow_up=True), ALL).rule == "follow_up"
    assert decide(RoutingRequest(returned_callback=True, follow_up=True), ALL).queue == "callback"
    assert decide(RoutingRequest(language="mongolian", classification=HEATING), ALL).queue == (
        "intake-mongolian"
    )
    assert decide(RoutingRequest(enterprise=True), ALL).queue == "enterprise"


def test_open_case_about_the_same_department_goes_to_dispatch() -> None:
    history = CallerHistory(open_cases=(OpenCase("GD-2026-001", "heating"),))
    d = decide(RoutingRequest(classification=HEATING, history=history), ALL)
    assert (d.queue, d.rule) == ("dispatch", "open_case")
    assert "GD-2026-001" in d.explanation
    other = CallerHistory(open_cases=(OpenCase("GD-2026-002", "water_supply"),))
    assert decide(RoutingRequest(classification=HEATING, history=other), ALL).queue == "intake"
    # Nothing said, an open case: most likely about it.
    assert decide(RoutingRequest(history=other), ALL).rule == "open_case"


ORDER = OpenCase("2026120100123", "heating", "dispatched", "2026-12-08T17:30")


def test_a_number_given_links_the_call_to_that_order_and_tags_it() -> None:
    history = CallerHistory(named_number=ORDER.reference, named_order=ORDER)
    # Whatever the caller chose in the menu or said, the number names the matter.
    for request in (
        RoutingRequest(history=history),
        RoutingRequest(classification=HEATING, history=history, enterprise=True),
        RoutingRequest(follow_up=True, history=history),
    ):
        d = decide(request, ALL)
        assert (d.queue, d.rule, d.order) == ("dispatch", "follow_up", ORDER.reference)
        assert ORDER.reference in d.explanation
        assert d.tags["order"] == ORDER.reference
        assert d.tags["order_status"] == "dispatched"
        assert d.tags["order_due"] == "2026-12-08T17:30"
        assert "order=2026120100123;order_status=dispatched" in header_value(d.tags)
    # The menu's own tag never stands in for the decision's.
    forged = RoutingRequest(tags={"order": "2026120100999", "order_number": "x"})
    d = decide(forged, ALL)
    assert "order" not in d.tags and "order_number" not in d.tags and d.order is None


def test_a_number_that_names_no_order_is_a_follow_up_tagged_not_found() -> None:
    history = CallerHistory(
        open_cases=(OpenCase("2026110300007", "heating", "dispatched"),),
        named_number="2026120100999",
    )
    d = decide(RoutingRequest(classification=HEATING, history=history), ALL)
    assert (d.queue, d.rule, d.order) == ("dispatch", "follow_up", None)
    assert d.tags["order_not_found"] == "2026120100999" and "order" not in d.tags
    assert "not found" in d.explanation


def test_a_follow_up_without_a_number_links_the_callers_only_open_order() -> None:
    one = CallerHistory(open_cases=(ORDER,))
    d = decide(RoutingRequest(follow_up=True, history=one), ALL)
    assert (d.rule, d.order, d.tags["order"]) == ("follow_up", ORDER.reference, ORDER.reference)
    two = CallerHistory(open_cases=(ORDER, OpenCase("2026110300007", "water_supply")))
    d = decide(RoutingRequest(follow_up=True, history=two), ALL)
    # Of several, the operator asks which: none is linked, the tag counts them.
    assert (d.queue, d.order) == ("dispatch", None)
    assert d.tags["open_cases"] == "2" and "order" not in d.tags
    assert decide(RoutingRequest(follow_up=True), ALL).order is None


def test_an_open_case_about_the_same_matter_is_linked() -> None:
    d = decide(RoutingRequest(classification=HEATING, history=CallerHistory((ORDER,))), ALL)
    assert (d.rule, d.order, d.tags["order_status"]) == ("open_case", ORDER.reference, "dispatched")
    water = CallerHistory((OpenCase("2026110300007", "water_supply"),))
    d = decide(RoutingRequest(classification=HEATING, history=water), ALL)
    assert (d.rule, d.order) == ("default", None) and "order" not in d.tags


def test_an_emergency_is_handed_over_even_with_an_order_number() -> None:
    fire = classify("楼下着火了，好大的烟，快来人").to_dict()
    history = CallerHistory(named_number=ORDER.reference, named_order=ORDER)
    d = decide(RoutingRequest(classification=fire, history=history, handoff="119"), ALL)
    assert d.queue == "handoff" and d.order is None
    # Unconfirmed, it is still the emergency and not the order that decides the queue.
    d = decide(RoutingRequest(classification=fire, history=history), ALL)
    assert (d.queue, d.rule, d.order) == ("intake", "possible_emergency", None)


def test_elderly_and_repeated_callers_get_higher_priority() -> None:
    plain = decide(RoutingRequest(classification=HEATING), ALL).priority
    elderly = decide(RoutingRequest(classification=HEATING, elderly=True), ALL)
    repeated = decide(
        RoutingRequest(classification=HEATING, history=CallerHistory(calls_today=2)), ALL
    )
    both = decide(
        RoutingRequest(classification=HEATING, elderly=True, history=CallerHistory(calls_today=3)),
        ALL,
    )
    assert plain < repeated.priority < elderly.priority < both.priority
    assert "老人" in elderly.tags["display"] and "重复" in repeated.tags["display"]
    once = decide(RoutingRequest(classification=HEATING, history=CallerHistory(calls_today=1)), ALL)
    assert once.priority == plain


def test_fallback_when_nobody_is_on_duty_is_tagged() -> None:
    staffed = {**ALL, "intake-mongolian": 0}
    d = decide(RoutingRequest(language="mongolian", classification=HEATING), staffed)
    assert (d.wanted, d.queue, d.fell_back) == ("intake-mongolian", "intake", True)
    assert d.tags["fallback"] == "intake-mongolian" and "fallback=intake-mongolian" in header_value(
        d.tags
    )
    assert "nobody on duty in intake-mongolian" in d.explanation
    # intake empty too: the next queue in the chain that has someone.
    d = decide(RoutingRequest(language="mongolian"), {"callback": 2})
    assert d.queue == "callback"


def test_nobody_on_duty_anywhere_still_queues_the_call() -> None:
    d = decide(RoutingRequest(classification=HEATING), {})
    assert d.queue == "intake" and d.tags["fallback"] == "nobody_on_duty"
    assert "nobody on duty in any queue" in d.explanation


def test_display_name_of_a_follow_up_without_kind() -> None:
    assert display_name({"intent": "follow_up"}) == "催办"


def test_every_queue_staffed_is_every_queue_of_asterisk_once() -> None:
    conf = Path(__file__).resolve().parents[2] / "asterisk-conf" / "hotline" / "queues.conf"
    sections = re.findall(r"^\[([a-z-]+)\]\(queue-defaults\)", conf.read_text(), re.MULTILINE)
    assert QUEUES == tuple(sections)
    assert ALL == {q: 1 for q in QUEUES}
    assert set(FALLBACKS) == set(QUEUES)


def test_menu_tags_travel_with_the_call_but_never_replace_the_decisions() -> None:
    d = decide(
        RoutingRequest(
            classification=HEATING,
            tags={"ivr": "input_failed", "queue": "enterprise", "kind": "praise", "display": "x"},
        ),
        ALL,
    )
    assert d.queue == "intake"
    assert d.tags["ivr"] == "input_failed" and "ivr=input_failed" in header_value(d.tags)
    assert (d.tags["queue"], d.tags["kind"], d.tags["display"]) == (
        "intake",
        "complaint",
        "投诉|供热",
    )


TZ = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class Call:
    unique_id: str
    caller_number: str
    language: str = "mandarin"
    tags: Mapping[str, str] = field(default_factory=dict)
    transcript: str | None = None
    classification: Mapping[str, Any] | None = None


def make_router(moment: datetime) -> RosterRouter:
    operators = [
        Operator("7001", "王芳", "intake"),
        Operator("7002", "巴特尔", "intake", frozenset({"mandarin", "mongolian"})),
    ]
    shifts = [Shift("day", time(8), time(16)), Shift("night", time(16), time(8))]
    assignments = [
        Assignment(date(2026, 12, 1), "day", "7001"),
        Assignment(date(2026, 12, 1), "day", "7002"),
        Assignment(date(2026, 12, 1), "night", "7001"),
    ]
    roster = Roster(operators, shifts, assignments, tz=TZ)
    return RosterRouter(lambda: roster, clock=lambda: moment)


async def test_router_classifies_the_transcript_and_uses_the_menu_tags() -> None:
    call = Call("u1", "13800138000", transcript="我家暖气不热，屋里才十二度")
    decision = await make_router(datetime(2026, 12, 1, 10, tzinfo=TZ)).route(call)
    assert decision.queue == "intake" and decision.tags["department"] == "heating"
    assert decision.tags["display"].endswith("供热")
    assert decision.priority == 0
    mongolian = Call("u2", "1", language="mongolian", tags={"elderly": "true"})
    day = await make_router(datetime(2026, 12, 1, 10, tzinfo=TZ)).route(mongolian)
    night = await make_router(datetime(2026, 12, 1, 20, tzinfo=TZ)).route(mongolian)
    assert day.queue == "intake-mongolian" and "fallback" not in day.tags
    assert night.queue == "intake" and night.tags["fallback"] == "intake-mongolian"
    assert day.priority > 0


def test_menu_tags_become_the_request() -> None:
    def request(**tags: str) -> RoutingRequest:
        return request_for(Call("u", "1", tags=tags), None, CallerHistory())

    assert request(enterprise="true").enterprise
    assert request(request="follow_up").follow_up and request(request="progress").follow_up
    assert request(request="callback").returned_callback
    assert request(callback="true").returned_callback
    assert request(elderly="yes").elderly and request(senior="1").elderly
    assert request(ivr="input_failed").tags == {"ivr": "input_failed"}


async def test_the_router_hands_its_decision_and_classification_to_the_sink() -> None:
    seen: list[tuple[str, str, Mapping[str, Any] | None]] = []

    async def sink(
        call: Any, decision: Any, classification: Mapping[str, Any] | None, elapsed_ms: float
    ) -> None:
        assert elapsed_ms >= 0
        seen.append((call.unique_id, decision.queue, classification))

    router = CallRouter(lambda _at: ALL, on_decision=sink)
    await router.route(Call("u3", "1", transcript="我家暖气不热，屋里才十二度"))
    [(unique_id, queue, classification)] = seen
    assert (unique_id, queue) == ("u3", "intake")
    assert classification is not None and classification["department"] == "heating"
