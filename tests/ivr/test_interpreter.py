"""The interpreter and simulator on the default menu and small menus (pure logic; the channel
is the simulator's, the router the controller's routing without a roster (`decide` with every
queue staffed), the classifier the real one)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from hotline.ivr.ports import classify_text, requested_service, static_router
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
        (["1"], "enterprise", "enterprise", "来电"),
        (["2"], "intake", "default", "来电"),
        (["3"], "dispatch", "follow_up", "来电"),
        (["4"], "callback", "returned_callback", "来电"),
        (["0"], "intake", "default", "来电"),
        (["9"], "intake-mongolian", "mongolian", "来电|蒙语"),
    ],
)
async def test_each_branch_of_the_key_menu_without_speech(
    menu: MenuDocument, inputs: list[str], queue: str, rule: str, display: str
) -> None:
    """Speech off: the caller hears the greeting and then the key menu, nothing else."""
    result = await run(menu, inputs, speech=False)
    assert result.outcome == "routed"
    assert result.queue == queue
    assert result.destination == ("hotline-queues", queue)
    assert f"rule={rule};queue={queue}" in result.variables["__HOTLINE_TAG"]
    assert result.variables["CALLERID(name)"] == display
    assert result.variables["QUEUE_PRIO"] == "0"
    assert result.unused_inputs == []
    assert [p["prompt"] for p in result.prompts][:2] == ["greeting", "main-menu"]
    assert result.prompts[-1]["prompt"] == "connecting"


@pytest.mark.parametrize(
    ("key", "queue", "node"),
    [("0", "intake", "operator"), ("9", "intake-mongolian", "set-mongolian")],
)
async def test_a_key_during_the_speech_prompt_reaches_a_person_or_mongolian(
    menu: MenuDocument, key: str, queue: str, node: str
) -> None:
    result = await run(menu, [key])
    assert result.queue == queue and result.unused_inputs == []
    assert [p["prompt"] for p in result.prompts] == ["greeting", "speak-request", "connecting"]
    assert node in [s["node"] for s in result.path if s["step"] == "node"]
    assert not any(s["step"] == "speech" for s in result.path), "nobody listened"


async def test_mongolian_callers_hear_the_mongolian_prompt(menu: MenuDocument) -> None:
    result = await run(menu, ["9"])
    assert result.prompts[-1] == {"prompt": "connecting", "language": "mongolian"}


async def test_no_input_twice_goes_to_a_human(menu: MenuDocument) -> None:
    result = await run(menu, ["silence", "silence"], speech=False)
    assert result.queue == "intake"
    assert [p["prompt"] for p in result.prompts] == [
        "greeting",
        "main-menu",
        "no-input",
        "main-menu",
        "connecting",
    ]
    steps = [s for s in result.path if s["step"] in ("retry", "menu_failed")]
    assert steps == [
        {"step": "retry", "node": "main", "reason": "no_input", "attempt": 2},
        {"step": "menu_failed", "node": "main", "failures": 2, "last": "no_input"},
    ]
    assert "ivr=input_failed" in result.variables["__HOTLINE_TAG"]


async def test_an_invalid_key_is_retried_then_a_valid_one_works(menu: MenuDocument) -> None:
    result = await run(menu, ["7", "3"], speech=False)
    assert result.queue == "dispatch"
    assert [p["prompt"] for p in result.prompts][:4] == [
        "greeting",
        "main-menu",
        "invalid-input",
        "main-menu",
    ]


async def test_spoken_request_is_classified_and_routed(menu: MenuDocument) -> None:
    result = await run(menu, ["say:我家暖气不热，屋里才十二度"])
    assert result.queue == "intake"
    assert [p["prompt"] for p in result.prompts] == ["greeting", "speak-request", "connecting"]
    classified = next(s for s in result.path if s["step"] == "classified")
    assert classified["department"] == "heating"
    tag = result.variables["__HOTLINE_TAG"]
    assert "department=heating" in tag
    assert result.variables["CALLERID(name)"].endswith("|供热")


FIRE = "say:我家着火了，快来人"


async def test_a_spoken_emergency_is_confirmed_then_key_1_hands_it_over(
    menu: MenuDocument,
) -> None:
    result = await run(menu, [FIRE, "1"])
    assert result.outcome == "transferred"
    assert result.number == "119"
    assert result.destination == ("hotline-transfer", "119")
    prompts = [p["prompt"] for p in result.prompts]
    assert prompts == ["greeting", "speak-request", "confirm-119", "emergency-handoff"]
    confirm = next(s for s in result.path if s["step"] == "emergency_confirm")
    assert (confirm["service"], confirm["choice"]) == ("119", "handoff")


async def test_key_2_goes_on_as_an_ordinary_request_tagged(menu: MenuDocument) -> None:
    result = await run(menu, [FIRE, "2"])
    assert (result.outcome, result.queue) == ("routed", "intake")
    assert result.variables["QUEUE_PRIO"] == "0"
    tag = result.variables["__HOTLINE_TAG"]
    assert "emergency_declined=119" in tag and "possible_emergency" not in tag
    assert "intent=new_request" in tag
    assert [p["prompt"] for p in result.prompts][-2:] == ["confirm-119", "connecting"]


@pytest.mark.parametrize("answer", ["silence", "7"])
async def test_no_answer_puts_the_call_first_for_the_next_operator(
    menu: MenuDocument, answer: str
) -> None:
    result = await run(menu, [FIRE, answer])
    assert (result.outcome, result.queue) == ("routed", "intake")
    assert result.variables["QUEUE_PRIO"] == "10"
    assert "possible_emergency=119" in result.variables["__HOTLINE_TAG"]
    assert result.variables["CALLERID(name)"].startswith("疑似紧急119")
    route = next(s for s in result.path if s["step"] == "route")
    assert route["tags"]["possible_emergency"] == "119" and route["handoff"] is None


@pytest.mark.parametrize(
    ("said", "number"),
    [("帮我转120", "120"), ("给我接一下幺幺零", "110"), ("帮 我 转 一 一 九", "119")],
)
async def test_an_explicit_request_is_handed_over_without_a_question(
    menu: MenuDocument, said: str, number: str
) -> None:
    result = await run(menu, [f"say:{said}"], requested_service=requested_service)
    assert (result.outcome, result.number) == ("transferred", number)
    assert not any(p["prompt"].startswith("confirm-") for p in result.prompts)
    assert result.unused_inputs == []


async def test_without_the_question_a_suspected_emergency_is_never_handed_over() -> None:
    data = parse_text(default_menu_text())
    data["nodes"]["speak"]["confirm_emergency"] = None
    result = await run(load(data), [FIRE])
    assert (result.outcome, result.queue) == ("routed", "intake")
    assert result.variables["QUEUE_PRIO"] == "10"
    confirm = next(s for s in result.path if s["step"] == "emergency_confirm")
    assert confirm["choice"] == "not_asked"


async def test_speech_unavailable_falls_back_to_the_key_menu(menu: MenuDocument) -> None:
    result = await run(menu, ["2"], speech=False)
    fallback = next(s for s in result.path if s["step"] == "speech_fallback")
    assert fallback == {
        "step": "speech_fallback",
        "node": "speak",
        "reason": "speech is not enabled",
        "to": "main",
    }
    assert result.queue == "intake"
    assert [p["prompt"] for p in result.prompts] == ["greeting", "main-menu", "connecting"]


async def test_nothing_said_falls_back_to_the_key_menu(menu: MenuDocument) -> None:
    result = await run(menu, ["silence", "3"])
    assert any(s["step"] == "speech_fallback" for s in result.path)
    assert result.queue == "dispatch"
    assert [p["prompt"] for p in result.prompts][:3] == ["greeting", "speak-request", "main-menu"]


def test_bad_simulator_inputs_are_refused() -> None:
    with pytest.raises(SimulationInputError, match=r"inputs\[1\] = '12'"):
        from ivr.simulate import check_inputs

        check_inputs(["1", "12"])


@pytest.mark.parametrize(
    "inputs", [["silence", "7", "1"], [FIRE, "2"], [FIRE, "silence"], ["0"], ["say:我家暖气不热"]]
)
async def test_the_path_of_a_run_gives_back_its_inputs(
    menu: MenuDocument, inputs: list[str]
) -> None:
    result = await run(menu, inputs)
    assert inputs_of(result.path) == inputs
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
                "confirm_emergency": {"prompts": dict.fromkeys(("110", "119", "120", "122"), "p")},
            },
            "human": {"type": "route"},
        }
    )
    # This menu has no "emergency-handoff" prompt, which the router asks for once the caller
    # confirmed (key 1).
    result = await simulate(menu, ["say:有人打架", "1"], router=static_router(), classify=classify)
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
