"""The `collect_digits` step: a number keyed in after a prompt, ended by #, kept in a menu tag
the router reads. The channel is a stand-in that answers what a caller keyed; the router
records what it was asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from hotline.ivr.ports import static_router
from ivr.document import MenuDocument, default_menu_text, load, parse_text
from ivr.interpreter import Interpreter
from ivr.routing_port import CallFacts, RouteTarget
from ivr.simulate import SimulatedChannel, inputs_of, signature, simulate
from ivr.validation import check

NUMBER = "2026120100123"


@dataclass
class Keypad:
    """A channel whose caller keys `entry` into every GET DATA; it records what was asked."""

    entry: str
    unique_id: str = "hotline-1.1"
    caller_number: str = "13800138000"
    caller_name: str = ""
    asked: list[tuple[str, float, int]] = field(default_factory=list)
    played: list[str] = field(default_factory=list)
    variables: dict[str, str] = field(default_factory=dict)

    async def answer(self) -> None:
        return None

    async def play(self, prompt: str, escape_digits: str = "") -> str | None:
        self.played.append(prompt)
        return "5" if escape_digits else None  # the caller starts keying during a prompt

    async def collect_digits(
        self, prompt: str, *, timeout: float = 5.0, max_digits: int = 1
    ) -> tuple[str, bool]:
        self.asked.append((prompt, timeout, max_digits))
        return self.entry, not self.entry

    async def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    async def continue_in_dialplan(self, context: str, exten: str, priority: int = 1) -> None:
        return None

    async def hangup(self) -> None:
        return None


class Recorder:
    def __init__(self) -> None:
        self.asked: list[CallFacts] = []

    async def route(self, facts: CallFacts) -> RouteTarget:
        self.asked.append(facts)
        return RouteTarget(queue="dispatch", tags={"rule": "follow_up"})


def menu(**node: Any) -> MenuDocument:
    return load(
        {
            "start": "hello",
            "prompts": {"p": {"mandarin": "请输入工单编号，以井号键结束"}},
            "nodes": {
                "hello": {"type": "play", "prompt": "p", "next": "number"},
                "number": {
                    "type": "collect_digits",
                    "prompt": "p",
                    "tag": "order_number",
                    "next": "human",
                    **node,
                },
                "human": {"type": "route", "tags": {"request": "follow_up"}},
            },
        }
    )


async def run(document: MenuDocument, channel: Keypad) -> tuple[Recorder, list[dict[str, Any]]]:
    router, path = Recorder(), []
    interpreter = Interpreter(
        document,
        router=router,
        resolve_prompt=lambda name, language: f"{language}/{name}",
        record=lambda step, **data: path.append({"step": step, **data}),
    )
    await interpreter.run(channel)
    return router, path


@pytest.mark.parametrize(
    ("keyed", "kept"),
    [
        (NUMBER, NUMBER),  # Asterisk leaves the # out
        (NUMBER + "#", NUMBER),
        ("2026#999", "2026"),  # what follows a # is not part of the number
        ("*20*26", "2026"),
        ("1" * 40, "1" * 20),  # never more than max_digits
    ],
)
async def test_the_keyed_number_goes_to_the_router_in_the_tag(keyed: str, kept: str) -> None:
    channel = Keypad(keyed)
    router, path = await run(menu(), channel)
    assert channel.asked == [("mandarin/p", 6.0, 20)]
    [facts] = router.asked
    assert facts.tags == {"order_number": kept, "request": "follow_up"}
    entered = [s for s in path if s["step"] == "input" and s.get("node") == "number"]
    assert [s["digits"] for s in entered] == [kept]


@pytest.mark.parametrize("keyed", ["", "#", "*"])
async def test_nothing_keyed_goes_on_without_the_tag(keyed: str) -> None:
    router, path = await run(menu(), Keypad(keyed))
    assert router.asked[0].tags == {"request": "follow_up"}
    entered = [s for s in path if s["step"] == "input" and s.get("node") == "number"]
    assert [(s.get("input"), s.get("digits")) for s in entered] == [("silence", None)]


async def test_limits_and_the_prompt_come_from_the_node() -> None:
    channel = Keypad(NUMBER)
    await run(menu(max_digits=13, timeout=4), channel)
    assert channel.asked == [("mandarin/p", 4.0, 13)]
    assert channel.played == ["mandarin/p"]  # the play node; GET DATA plays the node's own


async def test_a_key_pressed_during_the_prompt_before_is_not_part_of_the_number() -> None:
    # Keypad answers "5" to the interruptible greeting: the number is what GET DATA got.
    router, _ = await run(menu(), Keypad(NUMBER))
    assert router.asked[0].tags["order_number"] == NUMBER


@pytest.fixture(scope="module")
def default_menu() -> MenuDocument:
    return load(parse_text(default_menu_text()))


def test_the_default_menu_is_valid(default_menu: MenuDocument) -> None:
    assert check(default_menu, set()) == []


@pytest.mark.parametrize(
    ("inputs", "tags", "number"),
    [
        (["silence", "3", f"digits:{NUMBER}#"], "rule=follow_up;queue=dispatch", NUMBER),
        (["silence", "3", "digits:#"], "rule=follow_up;queue=dispatch", None),
        (["silence", "3", "silence"], "rule=follow_up;queue=dispatch", None),
        (["silence", "3"], "rule=follow_up;queue=dispatch", None),
    ],
)
async def test_the_default_menus_progress_key_asks_for_the_number(
    default_menu: MenuDocument, inputs: list[str], tags: str, number: str | None
) -> None:
    result = await simulate(default_menu, inputs, router=static_router())
    assert (result.outcome, result.queue) == ("routed", "dispatch")
    assert tags in result.variables["__HOTLINE_TAG"]
    # Routing without the orders' history (the simulator's) says nothing of any order.
    assert "order" not in result.variables["__HOTLINE_TAG"]
    prompts = [p["prompt"] for p in result.prompts]
    assert prompts[-2:] == ["enter-order-number", "connecting"]
    keyed = [
        s.get("digits")
        for s in result.path
        if s["step"] == "input" and s.get("node") == "order-number"
    ]
    assert keyed == ([number] if number else [None])
    assert result.unused_inputs == []


async def test_a_keyed_number_in_the_path_gives_back_its_input(
    default_menu: MenuDocument,
) -> None:
    # nothing said at the speech step: the key menu, 3, the number
    result = await simulate(
        default_menu, ["silence", "3", f"digits:{NUMBER}#"], router=static_router()
    )
    assert inputs_of(result.path) == ["silence", "3", f"digits:{NUMBER}"]
    again = await simulate(default_menu, inputs_of(result.path), router=static_router())
    assert signature(again.path) == signature(result.path)


async def test_the_simulated_channel_hands_over_what_was_keyed() -> None:
    channel = SimulatedChannel(["digits:12#", "7", "say:x", "silence"])
    assert await channel.collect_digits("p", max_digits=20) == ("12#", False)
    assert await channel.collect_digits("p") == ("7", False)
    assert await channel.collect_digits("p") == ("", True)
    assert await channel.collect_digits("p") == ("", True)


def test_the_diagram_draws_the_step_and_its_tag(default_menu: MenuDocument) -> None:
    from ivr.diagram import mermaid

    text = mermaid(default_menu)
    assert '  n_order_number[["order-number<br/>collect_digits<br/>' in text
    assert "digits into order_number" in text
    assert '  n_set_follow_up -->|"next"| n_order_number' in text
    assert '  n_order_number -->|"next"| n_connect' in text


def test_the_diagram_shows_the_speech_steps_keys_and_its_emergency_question(
    default_menu: MenuDocument,
) -> None:
    from ivr.diagram import mermaid

    text = mermaid(default_menu)
    assert "emergency? key 1: hand-off, key 2: go on, no key in 5 s: operator first" in text
    assert '  n_speak -->|"0"| n_operator' in text
    assert '  n_speak -->|"9"| n_set_mongolian' in text
    assert '  n_speak -->|"fallback"| n_main' in text
