"""The IVR's ports over the domain packages: the router is routing's one rule set (`decide`),
the classifier routing's classifier."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.ivr.ports import IvrRouter, channel_variables, classify_text, static_router
from ivr.routing_port import CallFacts
from routing.decision import CallerHistory, decide, every_queue_staffed
from routing.router import CallRouter, request_for


def facts(**kw: Any) -> CallFacts:
    return CallFacts(unique_id="u", caller_number="13800138000", caller_name="", **kw)


CASES = {
    "nothing": facts(),
    "enterprise": facts(tags={"enterprise": "true"}),
    "menu follow-up": facts(tags={"request": "follow_up"}),
    "spoken follow-up": facts(classification={"intent": "follow_up"}),
    "menu callback": facts(tags={"request": "callback"}),
    "returned callback": facts(tags={"callback": "true"}),
    "mongolian": facts(language="mongolian"),
    "mongolian enterprise": facts(language="mongolian", tags={"enterprise": "true"}),
    "mongolian follow-up": facts(language="mongolian", tags={"request": "follow_up"}),
    "enterprise follow-up": facts(tags={"enterprise": "true", "request": "follow_up"}),
    "enterprise callback": facts(tags={"enterprise": "true", "request": "callback"}),
    "elderly": facts(tags={"elderly": "true"}),
    "menu failed": facts(tags={"ivr": "input_failed"}),
}


@pytest.mark.parametrize("name", CASES)
async def test_the_static_router_is_decide_with_every_queue_staffed(name: str) -> None:
    call = CASES[name]
    target = await static_router().route(call)
    decision = decide(
        request_for(call, call.classification, CallerHistory()), every_queue_staffed()
    )
    assert (target.queue, target.priority, target.tags, target.reason) == (
        decision.queue,
        decision.priority,
        decision.tags,
        decision.explanation,
    )
    assert "fallback" not in target.tags


async def test_the_rules_in_order_without_a_roster() -> None:
    async def queue(name: str) -> str:
        return (await static_router().route(CASES[name])).queue

    assert await queue("nothing") == "intake"
    assert await queue("enterprise") == "enterprise"
    assert await queue("menu follow-up") == await queue("spoken follow-up") == "dispatch"
    assert await queue("menu callback") == await queue("returned callback") == "callback"
    assert await queue("mongolian") == await queue("mongolian enterprise") == "intake-mongolian"
    # A progress enquiry or a returned callback comes before language and enterprise.
    assert await queue("mongolian follow-up") == "dispatch"
    assert await queue("enterprise follow-up") == "dispatch"
    assert await queue("enterprise callback") == "callback"


async def test_a_confirmed_emergency_is_handed_over_to_the_configured_number() -> None:
    suspected = {"intent": "emergency", "emergency": "119"}
    fire = facts(classification=suspected, tags={"emergency_choice": "handoff"})
    target = await static_router({"119": "0471119"}).route(fire)
    assert (target.queue, target.handoff_number, target.prompt) == (
        "handoff",
        "0471119",
        "emergency-handoff",
    )
    target = await static_router().route(fire)
    assert target.handoff_number == "119"
    # Without the caller's key 1: the next free operator, first in line, tagged.
    unconfirmed = facts(classification=suspected, tags={"emergency_choice": "no_key"})
    target = await static_router({"119": "0471119"}).route(unconfirmed)
    assert (target.queue, target.handoff_number) == ("intake", None)
    variables = channel_variables(target)
    assert "possible_emergency=119" in variables["HOTLINE_TAG"]
    assert int(variables["QUEUE_PRIO"]) > 5


async def test_the_menu_tags_reach_the_channel_with_the_decision() -> None:
    target = await static_router().route(
        facts(transcript="我家暖气不热，屋里才十二度", tags={"ivr": "input_failed"})
    )
    variables = channel_variables(target)
    assert variables["CALLERID(name)"].endswith("|供热")
    header = variables["HOTLINE_TAG"]
    assert header.startswith("rule=default;queue=intake;")
    assert "department=heating" in header and "ivr=input_failed" in header
    assert header.isascii() and variables["QUEUE_PRIO"] == "0"


async def test_the_ivr_router_passes_the_facts_to_routing_and_its_decision_back() -> None:
    seen: list[Any] = []

    async def sink(call: Any, decision: Any, classification: Any, elapsed_ms: float) -> None:
        seen.append((call, decision, classification))

    router = IvrRouter(CallRouter(lambda _at: {"intake": 1}, on_decision=sink))
    call = facts(language="mongolian", tags={"elderly": "true"})
    target = await router.route(call)
    [(passed, decision, classification)] = seen
    assert passed is call and classification is None
    assert (target.queue, target.priority, target.reason) == (
        "intake",
        decision.priority,
        decision.explanation,
    )
    assert target.tags["fallback"] == "intake-mongolian" and target.priority > 0


async def test_classify_text_gives_the_taxonomy_object_or_none() -> None:
    result = await classify_text("我家暖气不热，屋里才十二度")
    assert result is not None and result["department"] == "heating"
    assert await classify_text("，。") is None
