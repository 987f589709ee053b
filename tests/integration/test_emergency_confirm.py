"""The emergency question on real carrier calls through the shipped speak-first menu.

The carrier calls 12345 and, when the speech step listens, plays espeak-ng speech of the
words below into the call; the hotline Asterisk streams it to the controller's AudioSocket
server, which endpoints it as on any call. The sandbox's speech model is the Korean test
model, which cannot hear Chinese: in these tests only, the speech step's recogniser is
replaced by one that returns a fixed Chinese transcript (the words the carrier played) once
the real audio step has ended. Everything else is the real call: the carrier, both
Asterisks, AMI, AGI, the real classifier, the router with the roster, the queues, the
hand-off dialled out to the carrier.

Each test prints (and the module writes to menu-timings.json in pytest's temporary
directory) the measured seconds from the answer to the route, and the seconds the question
took; no test asserts on time.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from asr.batch import write_wav
from hotline.calls.tables import Call
from hotline.devtools.carrier import Carrier
from hotline.devtools.menu_caller import MenuCall, call_through_menu, hang_up
from hotline.devtools.sandbox import Sandbox
from hotline.devtools.simcall import synthesize_speech, trim_silence
from hotline.ivr import runtime
from hotline.ivr.ports import AudioSocketListener
from hotline.roster.tables import CallRouteRow
from hotline.service import Service
from ivr.interpreter import Channel
from routing.roster import Operator, Shift
from telephony.ami_protocol import Event
from tests.conftest import wait_for

pytestmark = pytest.mark.sandbox

TZ = ZoneInfo("Asia/Shanghai")
DAYTIME = datetime(2026, 12, 1, 10, tzinfo=TZ)
FIRE = "楼下着火了，好大的烟，快来人"
#: an ordinary complaint that mentions a fire risk: 12345's work, not 119's
HAZARD = "楼道里堆满了杂物有火灾隐患，物业一直不管"
ORDINARY = "我家暖气不热，屋里才十二度"

MEASURED: list[dict[str, Any]] = []


@pytest.fixture(scope="module", autouse=True)
def timings_report(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    yield
    if MEASURED:
        path = tmp_path_factory.getbasetemp() / "menu-timings.json"
        path.write_text(json.dumps(MEASURED, ensure_ascii=False, indent=1), encoding="utf-8")
        print(f"\nmeasured menu timings ({path}):")
        for row in MEASURED:
            print(json.dumps(row, ensure_ascii=False))


@pytest.fixture(scope="module")
def sounds(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Each text as espeak-ng speech the carrier plays."""
    folder = Path(tmp_path_factory.mktemp("emergency-speech"))
    made = {}
    for name, text in (("fire", FIRE), ("hazard", HAZARD), ("ordinary", ORDINARY)):
        pcm = trim_silence(synthesize_speech(text, voice="cmn"))
        made[text] = sandbox.carrier_sound(write_wav(folder / f"{name}.wav", pcm), f"ec-{name}")
    return made


def fixed_transcript(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    """The speech step runs for real (the audio is streamed and endpointed); its recogniser
    is replaced by one that heard `text`."""

    class Heard(AudioSocketListener):
        async def __call__(self, channel: Channel, max_seconds: float, silence_ms: int) -> str:
            await super().__call__(channel, max_seconds, silence_ms)
            return text

    monkeypatch.setattr(runtime, "AudioSocketListener", Heard)


def staff(service: Service) -> None:
    """At the test's 10:00, intake (7001) has someone on duty."""
    service.routing.clock = lambda: DAYTIME
    store = service.routing.store
    store.put_operator(Operator("7001", "王芳", "intake"))
    store.put_shift(Shift("day", time(8), time(20)))
    store.add_assignment(date(2026, 12, 1), "day", "7001")


async def started(start_service, monkeypatch: pytest.MonkeyPatch, text: str) -> Service:  # type: ignore[no-untyped-def]
    fixed_transcript(monkeypatch, text)
    service: Service = await start_service(speech=True)
    await asyncio.to_thread(staff, service)
    return service


def record_of(service: Service, number: str) -> Call | None:
    with service.sessions() as session:
        return session.scalar(select(Call).where(Call.caller_number == number))


def route_row(service: Service, unique_id: str) -> CallRouteRow | None:
    with service.sessions() as session:
        return session.get(CallRouteRow, unique_id)


async def ended(service: Service, number: str) -> Call:
    def done() -> bool:
        call = record_of(service, number)
        return call is not None and call.ended_at is not None

    await wait_for(done, 40, f"the record of {number}'s call to be closed")
    call = record_of(service, number)
    assert call is not None
    return call


async def variable(service: Service, call: MenuCall, name: str) -> str:
    response = await service.ami.action(
        "Getvar", {"Channel": call.hotline_channel, "Variable": name}
    )
    return response.get("Value") or ""


def measure(name: str, call: Call) -> None:
    steps = {s["step"]: s["t"] for s in call.path}
    row: dict[str, Any] = {
        "path": name,
        "answer_to_route_s": round(steps["route"] - steps["answer"], 2),
    }
    if "emergency_confirm" in steps:
        row["question_s"] = round(steps["emergency_confirm"] - steps["classified"], 2)
    MEASURED.append(row)
    print(json.dumps(row, ensure_ascii=False))


def steps_named(call: Call, name: str) -> list[dict[str, Any]]:
    return [s for s in call.path if s["step"] == name]


async def test_a_spoken_emergency_is_asked_and_key_1_reaches_the_carriers_119(
    start_service, carrier: Carrier, sounds: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await started(start_service, monkeypatch, FIRE)
    answered: list[Event] = []
    carrier.ami.on_event(
        "UserEvent",
        lambda e: answered.append(e) if e.get("UserEvent") == "CarrierAnswered" else None,
    )
    caller = asyncio.create_task(
        call_through_menu(
            carrier, service.ami, number="13500000301", keys="1", speech=sounds[FIRE], timeout=60
        )
    )
    try:
        await wait_for(lambda: bool(answered), 60, "the carrier to answer the hand-off")
    finally:
        # (the caller waits for a queue that a handed-over call never joins)
        caller.cancel()
        await asyncio.gather(caller, return_exceptions=True)
    assert answered[0].get("Exten") == "119"
    record = await ended(service, "13500000301")
    assert record.outcome == "transferred" and record.detail == "transferred to 119"
    # The caller heard the question, pressed 1, and only then was handed over.
    played = [s["prompt"] for s in steps_named(record, "play")]
    assert played == ["greeting", "speak-request", "confirm-119", "emergency-handoff"]
    [confirm] = steps_named(record, "emergency_confirm")
    assert (confirm["service"], confirm["choice"]) == ("119", "handoff")
    [route] = steps_named(record, "route")
    assert route["tags"]["handoff"] == "confirmed" and route["handoff"] == "119"
    measure("speak: emergency, key 1 (hand-off)", record)


async def test_an_ordinary_complaint_that_mentions_a_hazard_reaches_intake_without_a_question(
    start_service, carrier: Carrier, sounds: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await started(start_service, monkeypatch, HAZARD)
    call = await call_through_menu(
        carrier, service.ami, number="13500000302", keys="", speech=sounds[HAZARD], timeout=60
    )
    await hang_up(carrier, call)
    record = await ended(service, "13500000302")
    assert call.spoke and call.queue == "intake", (call, record.path)
    assert not steps_named(record, "emergency_confirm"), "the caller was asked about 119"
    assert not any(m.startswith("confirm-") for m in call.menus)
    [route] = steps_named(record, "route")
    assert "possible_emergency" not in route["tags"] and route["priority"] == 0
    measure("speak: a complaint mentioning a hazard", record)


async def test_key_2_goes_on_as_an_ordinary_request_tagged(
    start_service, carrier: Carrier, sounds: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await started(start_service, monkeypatch, FIRE)
    call = await call_through_menu(
        carrier, service.ami, number="13500000303", keys="2", speech=sounds[FIRE], timeout=60
    )
    try:
        assert call.queue == "intake", call
        assert [m.rsplit("-", 1)[0] for m in call.menus] == ["confirm-119"]
        tag = await variable(service, call, "HOTLINE_TAG")
        assert "emergency_declined=119" in tag and "possible_emergency" not in tag
        assert await variable(service, call, "QUEUE_PRIO") == "0"
    finally:
        await hang_up(carrier, call)
    record = await ended(service, "13500000303")
    [confirm] = steps_named(record, "emergency_confirm")
    assert confirm["choice"] == "continue"
    measure("speak: emergency, key 2 (go on)", record)


async def test_no_key_puts_the_call_first_for_the_next_operator_tagged(
    start_service, carrier: Carrier, sounds: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await started(start_service, monkeypatch, FIRE)
    call = await call_through_menu(
        carrier, service.ami, number="13500000304", keys="", speech=sounds[FIRE], timeout=60
    )
    try:
        assert call.queue == "intake", call
        # What the operator's phone receives: the SIP header, the name shown, the priority.
        assert "possible_emergency=119" in await variable(service, call, "HOTLINE_TAG")
        assert (await variable(service, call, "CALLERID(name)")).startswith("疑似紧急119")
        assert await variable(service, call, "QUEUE_PRIO") == "10"
    finally:
        await hang_up(carrier, call)
    record = await ended(service, "13500000304")
    [confirm] = steps_named(record, "emergency_confirm")
    assert confirm["choice"] == "no_key"
    # The call's record and the routing decision kept the tag.
    [route] = steps_named(record, "route")
    assert route["tags"]["possible_emergency"] == "119" and route["handoff"] is None
    row = await asyncio.to_thread(route_row, service, record.unique_id)
    assert row is not None and row.rule == "possible_emergency" and row.priority == 10
    assert row.tags["possible_emergency"] == "119"
    measure("speak: emergency, no key", record)


async def test_an_ordinary_spoken_request_is_routed_without_a_question(
    start_service, carrier: Carrier, sounds: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    service = await started(start_service, monkeypatch, ORDINARY)
    call = await call_through_menu(
        carrier, service.ami, number="13500000305", keys="", speech=sounds[ORDINARY], timeout=60
    )
    await hang_up(carrier, call)
    assert call.queue == "intake" and call.menus == [], call
    record = await ended(service, "13500000305")
    [route] = steps_named(record, "route")
    assert route["tags"]["department"] == "heating"
    measure("speak: an ordinary request", record)
