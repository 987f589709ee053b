"""Work orders from real calls: the carrier calls 12345 and acts as each step of the default
menu listens (the hotline's AMI tells when: `hotline.devtools.menu_caller`), the controller
routes with the roster and makes the call's order; a second call from the same number keys
the order's number in and is linked to it; then dispatch sends the order to a department,
whose user replies through the API, and the order goes to the callback group."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from asr.batch import write_wav
from hotline.calls.tables import Call
from hotline.core.auth import create_user
from hotline.devtools.carrier import Carrier
from hotline.devtools.menu_caller import MenuCall, call_through_menu, hang_up
from hotline.devtools.sandbox import Sandbox
from hotline.devtools.simcall import synthesize_speech, trim_silence
from hotline.orders.tables import WorkOrder, WorkOrderEvent
from hotline.service import Service
from hotline.web.app import create_app
from routing.roster import Operator, Shift
from tests.conftest import wait_for
from tests.support.speech import SPOKEN, word_overlap

pytestmark = pytest.mark.sandbox

TZ = ZoneInfo("Asia/Shanghai")
DAYTIME = datetime(2026, 12, 1, 10, tzinfo=TZ)
CALLER = "13500000101"


@pytest.fixture(scope="module")
def spoken_audio(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> str:
    pcm = trim_silence(synthesize_speech(SPOKEN))
    path = Path(tmp_path_factory.mktemp("orders-speech")) / "spoken.wav"
    return sandbox.carrier_sound(write_wav(path, pcm), "orders-spoken")


def staff(service: Service) -> None:
    """At the test's 10:00, intake (7001) and dispatch (7003) have someone on duty."""
    service.routing.clock = lambda: DAYTIME
    store = service.routing.store
    store.put_operator(Operator("7001", "王芳", "intake"))
    store.put_operator(Operator("7003", "李强", "dispatch"))
    store.put_shift(Shift("day", time(8), time(20)))
    for ext in ("7001", "7003"):
        store.add_assignment(date(2026, 12, 1), "day", ext)


def records(service: Service) -> list[Call]:
    with service.sessions() as s:
        return list(
            s.scalars(select(Call).where(Call.caller_number == CALLER).order_by(Call.started_at))
        )


def orders(service: Service) -> list[WorkOrder]:
    with service.sessions() as s:
        return list(
            s.scalars(
                select(WorkOrder).where(WorkOrder.caller_number == CALLER).order_by(WorkOrder.id)
            )
        )


def history(service: Service, order: WorkOrder) -> list[WorkOrderEvent]:
    with service.sessions() as s:
        return list(
            s.scalars(
                select(WorkOrderEvent)
                .where(WorkOrderEvent.order_id == order.id)
                .order_by(WorkOrderEvent.id)
            )
        )


def route_step(call: Call) -> dict[str, Any]:
    return next(s for s in call.path if s["step"] == "route")


async def channel_tag(service: Service, call: MenuCall) -> str:
    """What the operator's phone receives (X-Hotline-Tag), read off the caller's channel."""
    response = await service.ami.action(
        "Getvar", {"Channel": call.hotline_channel, "Variable": "HOTLINE_TAG"}
    )
    return response.get("Value") or ""


async def through_menu(service: Service, carrier: Carrier, **kw: Any) -> tuple[MenuCall, str]:
    progress: list[str] = []
    call = await call_through_menu(
        carrier,
        service.ami,
        number=CALLER,
        name="张三",
        timeout=120,
        on_progress=progress.append,
        **kw,
    )
    try:
        assert call.queue is not None and not call.degraded, (call, progress)
        return call, await channel_tag(service, call)
    finally:
        await hang_up(carrier, call)


async def api(
    service: Service, user: str, role: str, method: str, path: str, **kw: Any
) -> httpx.Response:
    department = kw.pop("department", None)
    token = await asyncio.to_thread(
        create_user, service.sessions, f"{user}-{uuid.uuid4().hex[:6]}", role, 90, department
    )
    transport = httpx.ASGITransport(app=create_app(service))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        return await client.request(
            method, path, headers={"Authorization": f"Bearer {token}"}, **kw
        )


async def test_a_call_becomes_a_work_order_and_a_second_call_keying_its_number_follows_it_up(
    start_service, carrier: Carrier, spoken_audio: str
) -> None:
    service = await start_service(speech=True)
    await asyncio.to_thread(staff, service)

    # 1. The caller says what they need (the menu speaks first).
    first, tag = await through_menu(service, carrier, keys="", speech=spoken_audio)
    assert first.queue == "intake" and first.spoke
    await wait_for(
        lambda: len(records(service)) == 1 and records(service)[0].ended_at, 30, "call 1"
    )
    call = records(service)[0]
    heard = next(s for s in call.path if s["step"] == "speech")
    assert word_overlap(SPOKEN, heard["text"]) >= 0.5, heard
    classified = next(s for s in call.path if s["step"] == "classified")
    [order] = orders(service)
    assert (order.status, order.channel, order.queue) == ("draft", "phone", "intake")
    assert (order.call_unique_id, order.caller_name) == (call.unique_id, "张三")
    assert order.transcript == heard["text"]
    assert order.classification is not None
    for label in ("intent", "kind", "department"):
        assert order.classification.get(label) == classified[label], label
    # The operator's phone and the call's record carry the number.
    assert f"order={order.number}" in tag.split(";")
    assert route_step(call)["tags"]["order"] == order.number

    # 2. Again from the same number, saying nothing: the key menu, progress (3), and the
    # order's number keyed with #.
    second, tag = await through_menu(service, carrier, keys=["3", f"{order.number}#"])
    assert second.queue == "dispatch", second
    assert second.menus[-1].rsplit("-", 1)[0] == "enter-order-number"
    await wait_for(
        lambda: len(records(service)) == 2 and records(service)[1].ended_at, 30, "call 2"
    )
    again = records(service)[1]
    keyed = [s for s in again.path if s["step"] == "input" and s.get("node") == "order-number"]
    assert [s["digits"] for s in keyed] == [order.number]
    route = route_step(again)
    assert (route["queue"], route["tags"]["rule"]) == ("dispatch", "follow_up")
    assert order.number in route["reason"]
    assert {"order": order.number, "order_status": "draft"}.items() <= route["tags"].items()
    assert {f"order={order.number}", "order_status=draft", "rule=follow_up"} <= set(tag.split(";"))
    [linked] = orders(service)  # no second order
    assert linked.follow_ups == 1
    follow = history(service, linked)[-1]
    assert (follow.action, follow.note) == ("follow_up", again.unique_id)

    # 3. Dispatch sends it to the heating company; the department replies; to callback.
    number = order.number
    sent = await api(
        service,
        "dispatch",
        "operator",
        "POST",
        f"/api/work-orders/{number}/dispatch",
        json={"department": "heating"},
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "dispatched"
    replied = await api(
        service,
        "heat",
        "department",
        "POST",
        f"/api/work-orders/{number}/reply",
        json={"text": "已上门检修，暖气已恢复正常"},
        department="heating",
    )
    assert replied.status_code == 200, replied.text
    assert replied.json()["status"] == "replied"
    callback = await api(
        service, "dispatch", "operator", "POST", f"/api/work-orders/{number}/to_callback"
    )
    assert callback.status_code == 200, callback.text
    [done] = orders(service)
    assert (done.status, done.reply, done.department) == (
        "callback",
        "已上门检修，暖气已恢复正常",
        "heating",
    )
    assert [e.action for e in history(service, done)] == [
        "create",
        "follow_up",
        "dispatch",
        "reply",
        "to_callback",
    ]
