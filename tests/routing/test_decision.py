"""The routing decision: rules, priorities, fallbacks, tags; the router on CallFacts."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from ivr.routing_port import CallFacts
from routing import classify
from routing.decision import (
    CallerHistory,
    OpenCase,
    RoutingRequest,
    decide,
    display_name,
    header_value,
)
from routing.roster import Assignment, Operator, Roster, Shift
from routing.router import RosterRouter, channel_variables

ALL = {
    q: 1 for q in ("intake", "multimedia", "dispatch", "callback", "intake-mongolian", "enterprise")
}
HEATING = classify("我家暖气不热，屋里才十二度，我要投诉供热公司").to_dict()


def test_heating_complaint_goes_to_intake_with_the_tag() -> None:
    d = decide(RoutingRequest(classification=HEATING), ALL)
    assert (d.queue, d.rule, d.priority) == ("intake", "default", 0)
    assert d.tags["kind"] == "complaint" and d.tags["department"] == "heating"
    assert d.tags["display"] == "投诉|供热"
    assert "kind=complaint" in header_value(d.tags) and "department=heating" in header_value(d.tags)
    assert header_value(d.tags).isascii()


def test_emergency_is_handed_over_to_the_configured_number() -> None:
    fire = classify("楼下着火了，好大的烟，快来人").to_dict()
    d = decide(RoutingRequest(classification=fire), ALL, {"119": "0471119"})
    assert d.queue == "handoff" and d.handoff_number == "0471119" and d.prompt
    assert d.rule == "emergency"


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


TZ = ZoneInfo("Asia/Shanghai")


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
    facts = CallFacts("u1", "13800138000", "张三", transcript="我家暖气不热，屋里才十二度")
    target = await make_router(datetime(2026, 12, 1, 10, tzinfo=TZ)).route(facts)
    assert target.queue == "intake" and target.tags["department"] == "heating"
    variables = channel_variables(target)
    assert (
        variables["CALLERID(name)"].endswith("供热")
        and "department=heating" in variables["HOTLINE_TAG"]
    )
    assert variables["QUEUE_PRIO"] == "0"
    mongolian = CallFacts("u2", "1", "", language="mongolian", tags={"elderly": "true"})
    day = await make_router(datetime(2026, 12, 1, 10, tzinfo=TZ)).route(mongolian)
    night = await make_router(datetime(2026, 12, 1, 20, tzinfo=TZ)).route(mongolian)
    assert day.queue == "intake-mongolian" and "fallback" not in day.tags
    assert night.queue == "intake" and night.tags["fallback"] == "intake-mongolian"
    assert day.priority > 0
