"""The interpreter and simulator on the default menu and small menus (pure logic; the channel
is the simulator's, the router the controller's routing without a roster (`decide` with every
queue staffed), the classifier the real one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from hotline.ivr.ports import classify_text, static_router
from ivr.calendar import DayKind, day_kind
from ivr.document import Calendar, MenuDocument, default_menu_text, load, parse_text
from ivr.interpreter import MAX_VISITS
from ivr.simulate import SimulationInputError, inputs_of, signature, simulate


@pytest.fixture(scope="module")
def menu() -> MenuDocument:
    return load(parse_text(default_menu_text()))


async def run(menu: MenuDocument, inputs: list[str], **kw: Any):  # type: ignore[no-untyped-def]
    return await simulate(menu, inputs, router=static_router(), classify=classify_text, **kw)


@pytest.mark.parametrize(
    ("inputs", "queue", "rule", "display"),
    [
        (["1", "1"], "enterprise", "enterprise", "来电"),
        (["1", "2"], "intake", "default", "来电"),
        (["1", "3"], "dispatch", "follow_up", "来电"),
        (["1", "4"], "callback", "returned_callback", "来电"),
        (["1", "0"], "intake", "default", "来电"),
        (["0"], "intake", "default", "来电"),
        (["2"], "intake-mongolian", "mongolian", "来电|蒙语"),
    ],
)
async def test_each_branch_of_the_default_menu(
    menu: MenuDocument, inputs: list[str], queue: str, rule: str, display: str
) -> None:
    result = await run(menu, inputs)
    assert result.outcome == "routed"
    assert result.queue == queue
    assert result.destination == ("hotline-queues", queue)
    assert f"rule={rule};queue={queue}" in result.variables["__HOTLINE_TAG"]
    assert result.variables["CALLERID(name)"] == display
    assert result.variables["QUEUE_PRIO"] == "0"
    assert result.unused_inputs == []
    assert result.prompts[0] == {"prompt": "greeting", "language": "mandarin"}
    assert result.prompts[-1]["prompt"] == "connecting"


async def test_mongolian_callers_hear_the_mongolian_prompt(menu: MenuDocument) -> None:
    result = await run(menu, ["2"])
    assert result.prompts[-1] == {"prompt": "connecting", "language": "mongolian"}


async def test_no_input_twice_goes_to_a_human(menu: MenuDocument) -> None:
    result = await run(menu, ["silence", "silence"])
    assert result.queue == "intake"
    assert [p["prompt"] for p in result.prompts] == [
        "greeting",
        "choose-language",
        "no-input",
        "choose-language",
        "connecting",
    ]
    steps = [s for s in result.path if s["step"] in ("retry", "menu_failed")]
    assert steps == [
        {"step": "retry", "node": "language", "reason": "no_input", "attempt": 2},
        {"step": "menu_failed", "node": "language", "failures": 2, "last": "no_input"},
    ]
    assert "ivr=input_failed" in result.variables["__HOTLINE_TAG"]


async def test_an_invalid_key_is_retried_then_a_valid_one_works(menu: MenuDocument) -> None:
    result = await run(menu, ["7", "1", "3"])
    assert result.queue == "dispatch"
    assert [p["prompt"] for p in result.prompts][:4] == [
        "greeting",
        "choose-language",
        "invalid-input",
        "choose-language",
    ]


async def test_spoken_request_is_classified_and_routed(menu: MenuDocument) -> None:
    result = await run(menu, ["1", "5", "say:我家暖气不热，屋里才十二度"])
    assert result.queue == "intake"
    classified = next(s for s in result.path if s["step"] == "classified")
    assert classified["department"] == "heating"
    tag = result.variables["__HOTLINE_TAG"]
    assert "department=heating" in tag
    assert result.variables["CALLERID(name)"].endswith("|供热")


async def test_a_spoken_emergency_is_handed_over_at_once(menu: MenuDocument) -> None:
    result = await run(menu, ["1", "5", "say:我家着火了，快来人"])
    assert result.outcome == "transferred"
    assert result.number == "119"
    assert result.destination == ("hotline-transfer", "119")
    assert result.prompts[-1]["prompt"] == "emergency-handoff"


async def test_speech_unavailable_falls_back_to_a_human(menu: MenuDocument) -> None:
    result = await run(menu, ["1", "5"], speech=False)
    fallback = next(s for s in result.path if s["step"] == "speech_fallback")
    assert fallback == {
        "step": "speech_fallback",
        "node": "speak",
        "reason": "speech is not enabled",
        "to": "speech-failed",
    }
    assert result.queue == "intake"
    assert [p["prompt"] for p in result.prompts][-2:] == ["speech-failed", "connecting"]


async def test_nothing_said_falls_back(menu: MenuDocument) -> None:
    result = await run(menu, ["1", "5", "silence"])
    assert any(s["step"] == "speech_fallback" for s in result.path)


def test_bad_simulator_inputs_are_refused() -> None:
    with pytest.raises(SimulationInputError, match=r"inputs\[1\] = '12'"):
        from ivr.simulate import check_inputs

        check_inputs(["1", "12"])


async def test_the_path_of_a_run_gives_back_its_inputs(menu: MenuDocument) -> None:
    result = await run(menu, ["7", "1", "5", "say:我家暖气不热"])
    assert inputs_of(result.path) == ["7", "1", "5", "say:我家暖气不热"]
    again = await run(menu, inputs_of(result.path))
    assert signature(again.path) == signature(result.path)


def small(nodes: dict[str, Any], **extra: Any) -> MenuDocument:
    return load(
        {
            "start": "start",
            "prompts": {"p": {"mandarin": "x"}},
            "nodes": nodes,
            **extra,
        }
    )


async def test_time_switch_uses_swapped_working_days() -> None:
    calendar = {
        "hours": {d: ["08:30-17:30"] for d in ("mon", "tue", "wed", "thu", "fri")},
        "holidays": ["2026-10-01"],
        "working_days": ["2026-10-10"],
    }
    menu = small(
        {
            "start": {
                "type": "time_switch",
                "calendar": "office",
                "open": "open",
                "closed": "closed",
                "holiday": "holiday",
            },
            "open": {"type": "route", "tags": {"hours": "open"}},
            "closed": {"type": "route", "tags": {"hours": "closed"}},
            "holiday": {"type": "route", "tags": {"hours": "holiday"}},
        },
        calendars={"office": calendar},
    )
    cases = {
        datetime(2026, 10, 9, 10, 0): "open",  # a Friday
        datetime(2026, 10, 10, 10, 0): "open",  # a Saturday, but a swapped working day
        datetime(2026, 10, 17, 10, 0): "closed",  # an ordinary Saturday
        datetime(2026, 10, 1, 10, 0): "holiday",  # a Thursday, National Day
        datetime(2026, 10, 9, 18, 0): "closed",  # Friday evening
    }
    for at, expected in cases.items():
        result = await simulate(menu, [], router=static_router(), at=at)
        assert f"hours={expected}" in result.variables["__HOTLINE_TAG"], at


def test_day_kind_without_working_day_hours_uses_mondays() -> None:
    calendar = Calendar(hours={"mon": ["09:00-12:00"]}, working_days=["2026-09-27"])
    assert day_kind(calendar, datetime(2026, 9, 27, 10, 0)) is DayKind.OPEN
    assert day_kind(calendar, datetime(2026, 9, 27, 13, 0)) is DayKind.CLOSED


async def test_a_caller_going_round_menus_for_ever_reaches_a_human() -> None:
    menu = small(
        {
            "start": {
                "type": "menu",
                "prompt": "p",
                "options": {"1": "again"},
                "on_failure": "human",
            },
            "again": {"type": "goto", "target": "start"},
            "human": {"type": "route"},
        }
    )
    result = await simulate(menu, ["1"] * 150, router=static_router())
    assert result.outcome == "routed"
    assert any(s["step"] == "ivr_too_many_steps" for s in result.path)
    assert sum(s["step"] == "node" for s in result.path) == MAX_VISITS


async def test_hangup_plays_the_goodbye_first_and_transfer_its_prompt() -> None:
    menu = small(
        {
            "start": {
                "type": "menu",
                "prompt": "p",
                "options": {"1": "bye", "2": "police"},
                "on_failure": "police",
            },
            "bye": {"type": "hangup", "prompt": "p"},
            "police": {"type": "transfer", "prompt": "p", "number": "110"},
        }
    )
    bye = await simulate(menu, ["1"], router=static_router())
    assert bye.outcome == "completed"
    assert [s["step"] for s in bye.path][-3:] == ["play", "hangup", "ivr_end"]
    police = await simulate(menu, ["2"], router=static_router())
    assert police.destination == ("hotline-transfer", "110")
    assert police.outcome == "transferred"


async def test_a_router_prompt_the_menu_does_not_define_is_skipped_not_fatal() -> None:
    async def classify(_text: str) -> dict[str, Any]:
        return {"intent": "emergency", "emergency": "110"}

    menu = small(
        {
            "start": {
                "type": "collect_speech",
                "prompt": "p",
                "next": "human",
                "fallback": "human",
            },
            "human": {"type": "route"},
        }
    )
    # This menu has no "emergency-handoff" prompt, which the router asks for.
    result = await simulate(menu, ["say:有人打架"], router=static_router(), classify=classify)
    assert result.destination == ("hotline-transfer", "110")
    assert {
        "step": "prompt_missing",
        "prompt": "emergency-handoff",
        "language": "mandarin",
    } in result.path


async def test_a_channel_that_returns_more_than_one_key_gives_the_menu_one_key() -> None:
    """The path (stored with the call) never holds more than the key the menu asked for."""
    from ivr.interpreter import Interpreter
    from ivr.simulate import SimulatedChannel

    class Flooding(SimulatedChannel):
        async def collect_digits(
            self, prompt: str, *, timeout: float = 5.0, max_digits: int = 1
        ) -> tuple[str, bool]:
            return "1" * 100_000, False

        async def play(self, prompt: str, escape_digits: str = "") -> str | None:
            return "2" * 1000

    menu = small(
        {
            "start": {"type": "play", "prompt": "p", "next": "menu"},
            "menu": {
                "type": "menu",
                "prompt": "p",
                "options": {"1": "human"},
                "on_failure": "human",
            },
            "human": {"type": "route"},
        }
    )
    path: list[dict[str, Any]] = []
    interpreter = Interpreter(
        menu,
        router=static_router(),
        resolve_prompt=lambda name, language: name,
        record=lambda step, **data: path.append({"step": step, **data}),
    )
    outcome = await interpreter.run(Flooding([]))
    assert outcome.kind == "routed"
    inputs = [s for s in path if s["step"] == "input"]
    assert [s["digits"] for s in inputs] == ["2", "2", "1"]
