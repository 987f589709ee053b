"""The IVR on real calls: the carrier dials 12345, waits for the prompts (their real
durations, read from the files Asterisk plays) and sends DTMF; the controller runs the
published menu; the call joins the queue in the hotline Asterisk. The simulator, given the
inputs a call recorded, must produce the same path. The default menu speaks first; without
speech (these controllers run without it unless a test says so) its key menu follows the
greeting."""

from __future__ import annotations

import asyncio
import gc
import uuid
import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from asr.batch import write_wav
from hotline.calls.tables import Call
from hotline.core.auth import create_user
from hotline.devtools.carrier import Carrier
from hotline.devtools.sandbox import Sandbox
from hotline.devtools.simcall import synthesize_speech, trim_silence
from hotline.ivr.ports import classify_text, requested_service
from hotline.service import Service
from hotline.web.app import create_app
from ivr.document import CollectDigitsNode, default_menu_text, load, parse_text
from ivr.simulate import inputs_of, signature, simulate
from telephony.ami_protocol import Event
from tests.conftest import wait_for
from tests.support.speech import SPOKEN, word_overlap

pytestmark = pytest.mark.sandbox


def calls(service: Service) -> dict[str, Call]:
    with service.sessions() as session:
        return {c.caller_number: c for c in session.scalars(select(Call))}


def ended(service: Service, number: str) -> Callable[[], bool]:
    def check() -> bool:
        call = calls(service).get(number)
        return call is not None and call.ended_at is not None

    return check


def seconds(service: Service, prompt: str, language: str = "mandarin") -> float:
    live = service.ivr.live
    assert live is not None
    path = service.ivr.prompts.resolve(live.document, prompt, language)
    host = service.ivr.prompts.directory / (
        path.removeprefix(service.ivr.prompts.play_dir + "/") + ".wav"
    )
    with wave.open(str(host)) as w:
        return w.getnframes() / w.getframerate()


def number_wait(service: Service) -> float:
    """How long the progress branch (key 3) asks for a work order's number before a caller
    who keys nothing goes on to dispatch: its prompt and the step's timeout."""
    live = service.ivr.live
    assert live is not None
    step = live.document.nodes["order-number"]
    assert isinstance(step, CollectDigitsNode)
    return seconds(service, "enter-order-number") + step.timeout


def script(service: Service, *keys: str) -> str:
    """Keys for successive menus: the first one second into the key menu (after the
    greeting, which keys cannot interrupt), then one every 1.5 s."""
    t = seconds(service, "greeting") + 1.0
    entries = []
    for key in keys:
        entries.append(f"{t:.2f}:{key}")
        t += 1.5
    return "|".join(entries)


def queue_joins(service: Service) -> dict[str, str]:
    """caller number -> the queue the hotline Asterisk put the call in."""
    joined: dict[str, str] = {}

    def on_join(event: Event) -> None:
        joined[event.get("CallerIDNum", "") or ""] = event.get("Queue", "") or ""

    service.ami.on_event("QueueCallerJoin", on_join)
    return joined


async def agrees_with_simulator(service: Service, call: Call) -> None:
    live = service.ivr.live
    assert live is not None
    version = next(s["version"] for s in call.path if s["step"] == "ivr_start")
    row = await asyncio.to_thread(service.ivr.store.get, version)
    document = load(row.document)
    result = await simulate(
        document,
        inputs_of(call.path),
        router=service.ivr.router,
        classify=classify_text,
        version=version,
        caller_number=call.caller_number,
        resolve_prompt=lambda name, language: service.ivr.prompts.resolve(document, name, language),
        requested_service=requested_service,
        speech=service.ivr.speech() is not None,
    )
    real = [s for s in signature(call.path) if s["step"] not in ("answer",)]
    assert signature(result.path) == real


def use_static_router(service: Service) -> None:
    # These tests are about the menu's branches: route with every queue staffed, not by who
    # is on duty (the same rules; the roster router has its own tests).
    service.ivr.configured_router = lambda: None


BRANCHES = {
    "13500000001": (("1",), "enterprise", "set-enterprise"),
    "13500000002": (("2",), "intake", "set-personal"),
    "13500000003": (("3",), "dispatch", "set-follow-up"),
    "13500000004": (("4",), "callback", "set-callback"),
    "13500000005": (("0",), "intake", "operator"),
    "13500000007": (("9",), "intake-mongolian", "set-mongolian"),
}


async def test_each_branch_of_the_key_menu_by_dtmf(start_service, carrier: Carrier) -> None:
    service = await start_service()
    use_static_router(service)
    joined = queue_joins(service)
    hold = seconds(service, "connecting") + 3 + number_wait(service)
    await asyncio.gather(
        *(
            carrier.call(number=number, name="市民", script=script(service, *keys), hold=hold)
            for number, (keys, _, _) in BRANCHES.items()
        )
    )
    await wait_for(
        lambda: all(ended(service, n)() for n in BRANCHES), 60, "every branch call to end"
    )
    await wait_for(lambda: len(joined) == len(BRANCHES), 10, "every call to join a queue")
    found = calls(service)
    for number, (keys, queue, node) in BRANCHES.items():
        call = found[number]
        assert call.outcome == "routed", (number, call.detail, call.path)
        assert call.detail == f"queue {queue}"
        nodes = [s["node"] for s in call.path if s["step"] == "node"]
        assert node in nodes and nodes[-1] == "connect", (number, nodes)
        inputs = [s.get("digits") or s.get("input") for s in call.path if s["step"] == "input"]
        # The progress branch asks for an order's number; nothing keyed, on to dispatch.
        number_step = ["silence"] if node == "set-follow-up" else []
        assert inputs == [*keys, *number_step], number
        assert joined[number] == queue, number
        await agrees_with_simulator(service, call)
    mongolian = found["13500000007"]
    assert {"step": "play", "prompt": "connecting", "language": "mongolian"} in [
        {k: s.get(k) for k in ("step", "prompt", "language")} for s in mongolian.path
    ]


async def test_no_input_is_retried_then_a_human_takes_the_call(
    start_service, carrier: Carrier
) -> None:
    service = await start_service()
    use_static_router(service)
    joined = queue_joins(service)
    # (the key menu's prompt is long: two rounds of it and its wait take about 40 s)
    await carrier.call(number="13500000011", delay=1, hold=70)
    await wait_for(ended(service, "13500000011"), 80, "the silent call to be routed")
    call = calls(service)["13500000011"]
    steps = [s["step"] for s in call.path]
    assert steps.count("retry") == 1 and "menu_failed" in steps
    prompts = [s["prompt"] for s in call.path if s["step"] == "play"]
    assert prompts == ["greeting", "main-menu", "no-input", "main-menu", "connecting"]
    waits = [s["waited"] for s in call.path if s["step"] == "input"]
    # Each attempt played the prompt and then waited the menu's 5 s for a key.
    assert len(waits) == 2 and all(w >= seconds(service, "main-menu") + 4.5 for w in waits)
    assert call.outcome == "routed" and joined.get("13500000011") == "intake"
    await agrees_with_simulator(service, call)


async def test_invalid_keys_are_retried(start_service, carrier: Carrier) -> None:
    service = await start_service()
    use_static_router(service)
    g = seconds(service, "greeting")
    retry = g + 1.0 + seconds(service, "invalid-input") + 1.0
    # 7 is no option: "invalid input", the key menu again, then 3 works.
    recovered = f"{g + 1:.2f}:7|{retry:.2f}:3"
    # Two wrong keys: a human.
    failed = f"{g + 1:.2f}:7|{retry:.2f}:8"
    hold = seconds(service, "connecting") + 3 + number_wait(service)
    await asyncio.gather(
        carrier.call(number="13500000021", script=recovered, hold=hold),
        carrier.call(number="13500000022", script=failed, hold=hold),
    )
    await wait_for(
        lambda: ended(service, "13500000021")() and ended(service, "13500000022")(),
        60,
        "both calls to end",
    )
    found = calls(service)
    first = found["13500000021"]
    assert [s.get("digits") or s.get("input") for s in first.path if s["step"] == "input"] == [
        "7",
        "3",
        "silence",  # no order number keyed
    ]
    assert [s["reason"] for s in first.path if s["step"] == "retry"] == ["invalid"]
    assert first.detail == "queue dispatch"
    second = found["13500000022"]
    assert [s["last"] for s in second.path if s["step"] == "menu_failed"] == ["invalid"]
    assert second.detail == "queue intake"
    for call in (first, second):
        await agrees_with_simulator(service, call)


async def api(service: Service, method: str, path: str, **kw: Any) -> httpx.Response:
    name = f"ops-{uuid.uuid4().hex[:8]}"
    token = await asyncio.to_thread(create_user, service.sessions, name, "ops")
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(
            method, path, headers={"Authorization": f"Bearer {token}"}, **kw
        )


async def test_a_publish_does_not_touch_a_call_in_progress_and_a_rollback_restores(
    start_service, carrier: Carrier
) -> None:
    service = await start_service()
    use_static_router(service)
    keys = script(service, "3")  # progress enquiry: dispatch in version 1
    hold = seconds(service, "connecting") + 3 + number_wait(service)

    # Call A starts on version 1.
    await carrier.call(number="13500000031", script=keys, hold=hold)
    # (the call's row is written when it starts and again when it ends)
    await wait_for(lambda: service.agi.active_calls == 1, 15, "call A to start in the IVR")
    await asyncio.sleep(1.0)
    # Version 2, published while A listens to the greeting: key 3 now means a callback.
    data = parse_text(default_menu_text())
    data["nodes"]["main"]["options"]["3"] = "set-callback"
    # Nothing reaches these now: validation would refuse them.
    del data["nodes"]["set-follow-up"], data["nodes"]["order-number"]
    created = await api(service, "POST", "/api/ivr/versions", json={"document": data})
    assert created.status_code == 201, created.text
    version = created.json()["version"]
    published = await api(service, "POST", f"/api/ivr/versions/{version}/publish")
    assert published.status_code == 200, published.text
    assert not ended(service, "13500000031")(), "call A ended before the publish"

    # Call B starts after the publish.
    await carrier.call(number="13500000032", script=keys, hold=hold)
    await wait_for(
        lambda: ended(service, "13500000031")() and ended(service, "13500000032")(),
        60,
        "calls A and B to end",
    )
    found = calls(service)
    a, b = found["13500000031"], found["13500000032"]
    assert next(s["version"] for s in a.path if s["step"] == "ivr_start") == 1
    assert a.detail == "queue dispatch"
    assert next(s["version"] for s in b.path if s["step"] == "ivr_start") == version
    assert b.detail == "queue callback"

    # Roll back in one step: the next call is on version 1 again.
    rolled = await api(service, "POST", "/api/ivr/rollback", json={})
    assert rolled.status_code == 200 and rolled.json()["version"] == 1
    await carrier.call(number="13500000033", script=keys, hold=hold)
    await wait_for(ended(service, "13500000033"), 40, "call C to end")
    c = calls(service)["13500000033"]
    assert next(s["version"] for s in c.path if s["step"] == "ivr_start") == 1
    assert c.detail == "queue dispatch"
    for call in (a, b, c):
        await agrees_with_simulator(service, call)


async def test_a_transfer_node_dials_the_fixed_number(start_service, carrier: Carrier) -> None:
    service = await start_service()
    data = parse_text(default_menu_text())
    data["prompts"]["police"] = {"mandarin": "正在为您转接一一零。"}
    data["nodes"]["main"]["options"]["8"] = "police"
    data["nodes"]["police"] = {"type": "transfer", "prompt": "police", "number": "110"}
    created = await api(service, "POST", "/api/ivr/versions", json={"document": data})
    version = created.json()["version"]
    assert (await api(service, "POST", f"/api/ivr/versions/{version}/publish")).status_code == 200
    answered: list[Event] = []
    carrier.ami.on_event(
        "UserEvent",
        lambda e: answered.append(e) if e.get("UserEvent") == "CarrierAnswered" else None,
    )
    await carrier.call(number="13500000041", script=script(service, "8"), hold=8)
    await wait_for(lambda: bool(answered), 30, "the carrier to answer the transfer")
    assert answered[0].get("Exten") == "110"
    await wait_for(ended(service, "13500000041"), 10, "the call to leave the IVR")
    call = calls(service)["13500000041"]
    assert call.outcome == "transferred" and call.detail == "transferred to 110"


async def test_a_caller_hanging_up_in_a_menu_ends_the_call_cleanly(
    start_service, carrier: Carrier, caplog: pytest.LogCaptureFixture
) -> None:
    service = await start_service()
    # The caller hangs up while the key menu listens.
    await carrier.call(number="13500000051", delay=0, hold=seconds(service, "greeting") + 2)
    await wait_for(ended(service, "13500000051"), 30, "the call to end")
    call = calls(service)["13500000051"]
    assert call.outcome == "caller_hung_up"
    assert [s["node"] for s in call.path if s["step"] == "node"][-1] == "main"
    assert service.agi.handler_failures == 0
    await wait_for(lambda: service.agi.active_calls == 0, 10, "the call task to end")
    # No command's error was left for asyncio to report when its future is collected.
    gc.collect()
    assert "never retrieved" not in caplog.text


@pytest.fixture(scope="module")
def spoken_audio(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> str:
    pcm = trim_silence(synthesize_speech(SPOKEN))
    path = Path(tmp_path_factory.mktemp("ivr-speech")) / "spoken.wav"
    return sandbox.carrier_sound(write_wav(path, pcm), "ivr-spoken")


async def test_speak_your_request_is_transcribed_classified_and_routed(
    start_service, carrier: Carrier, spoken_audio: str
) -> None:
    service = await start_service(speech=True)
    use_static_router(service)
    # The menu speaks first: the greeting, the speech prompt and its tone, then the words.
    speak = seconds(service, "greeting") + seconds(service, "speak-request") + 0.3 + 1.0
    keys = f"{speak:.2f}:@{spoken_audio}"
    await carrier.call(number="13500000061", script=keys, hold=12)
    await wait_for(ended(service, "13500000061"), 60, "the spoken call to be routed")
    call = calls(service)["13500000061"]
    speech = next(s for s in call.path if s["step"] == "speech")
    assert word_overlap(SPOKEN, speech["text"]) >= 0.5, speech
    assert any(s["step"] == "classified" for s in call.path)
    assert call.outcome == "routed" and call.detail == "queue intake"
    await agrees_with_simulator(service, call)
