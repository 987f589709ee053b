"""Calls become work orders, and follow-ups find their order: the roster router of the
service with its real stores (SQLite and PostgreSQL), a call at a time."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from hotline.core import db
from hotline.orders.feature import OrdersFeature
from hotline.orders.store import NewOrder, OrderStore
from hotline.orders.tables import WorkOrder, WorkOrderEvent
from hotline.roster.feature import RoutingFeature
from ivr.routing_port import CallFacts
from routing.decision import Decision
from routing.roster import Operator, Shift
from telephony.ami_client import AMIClient

TZ = ZoneInfo("Asia/Shanghai")
DAYTIME = datetime(2026, 12, 1, 10, tzinfo=TZ)
CALLER = "13800138000"
HEATING = "我家暖气不热，屋里才十二度，我要投诉"


class Hotline:
    """The service's routing and orders features over one database, at 10:00 on a day when
    intake (7001) and dispatch (7003) are on duty."""

    def __init__(self, database_url: str, pool: ThreadPoolExecutor) -> None:
        db.upgrade(database_url)
        self.engine = db.make_engine(database_url)
        sessions = db.session_factory(self.engine)
        self.orders = OrdersFeature(sessions, timezone="Asia/Shanghai", executor=pool)
        self.routing = RoutingFeature(
            sessions,
            AMIClient("127.0.0.1", 1, "nobody", "unused"),  # never connected
            timezone="Asia/Shanghai",
            emergency_numbers={},
            executor=pool,
            caller_orders=self.orders.intake.caller_orders,
            on_routed=self.orders.on_routed,
        )
        self.routing.clock = lambda: DAYTIME
        roster = self.routing.store
        roster.put_operator(Operator("7001", "王芳", "intake"))
        roster.put_operator(Operator("7003", "李强", "dispatch"))
        roster.put_shift(Shift("day", time(8), time(20)))
        for ext in ("7001", "7003"):
            roster.add_assignment(date(2026, 12, 1), "day", ext)
        self.calls = 0

    async def call(
        self, text: str | None = None, number: str = CALLER, **tags: str
    ) -> tuple[CallFacts, Decision]:
        self.calls += 1
        facts = CallFacts(
            unique_id=f"hotline-{self.calls}.1",
            caller_number=number,
            caller_name="张三",
            tags=dict(tags),
            transcript=text,
        )
        return facts, await self.routing.router.route(facts)

    def orders_of(self, number: str = CALLER) -> list[WorkOrder]:
        with self.orders.store.sessions() as s:
            return list(
                s.scalars(
                    select(WorkOrder)
                    .where(WorkOrder.caller_number == number)
                    .order_by(WorkOrder.id)
                )
            )

    def history(self, order: WorkOrder) -> list[WorkOrderEvent]:
        with self.orders.store.sessions() as s:
            return list(
                s.scalars(
                    select(WorkOrderEvent)
                    .where(WorkOrderEvent.order_id == order.id)
                    .order_by(WorkOrderEvent.id)
                )
            )

    def stored_tags(self, unique_id: str) -> dict[str, Any]:
        row = self.routing.store.decision_of(unique_id)
        assert row is not None
        tags: dict[str, Any] = row.tags
        return tags


@pytest.fixture
def hotline(database_url: str) -> Iterator[Hotline]:
    with ThreadPoolExecutor(2) as pool:
        made = Hotline(database_url, pool)
        try:
            yield made
        finally:
            made.engine.dispose()


async def test_a_routed_call_becomes_a_draft_and_carries_its_number(hotline: Hotline) -> None:
    facts, decision = await hotline.call(HEATING)
    assert (decision.queue, decision.rule) == ("intake", "default")
    [order] = hotline.orders_of()
    assert (order.status, order.channel, order.queue) == ("draft", "phone", "intake")
    assert (order.caller_number, order.caller_name) == (CALLER, "张三")
    assert order.call_unique_id == facts.unique_id and order.transcript == HEATING
    assert order.classification is not None and order.classification["department"] == "heating"
    assert (order.kind, order.department, order.follow_ups) == ("complaint", "heating", 0)
    # The operator's phone and the stored decision show the number; the display is untouched.
    assert decision.tags["order"] == order.number and decision.tags["display"] == "投诉|供热"
    assert hotline.stored_tags(facts.unique_id)["order"] == order.number
    assert [e.action for e in hotline.history(order)] == ["create"]
    # The same call routed again (a retried step) keeps its one order.
    again = await hotline.routing.router.route(facts)
    assert again.tags["order"] == order.number and len(hotline.orders_of()) == 1


async def test_a_keyed_number_links_the_call_to_its_order(hotline: Hotline) -> None:
    _, first = await hotline.call(HEATING)
    number = first.tags["order"]
    # Another phone, another day's matter: the number is what counts.
    facts, decision = await hotline.call(
        number="13900139000", request="follow_up", order_number=number
    )
    assert (decision.queue, decision.rule) == ("dispatch", "follow_up")
    assert number in decision.explanation
    assert decision.tags["order"] == number and decision.tags["order_status"] == "draft"
    assert "order_number" not in decision.tags
    assert hotline.orders_of("13900139000") == []  # no second order
    [order] = hotline.orders_of()
    assert order.follow_ups == 1 and order.version == 1
    follow = hotline.history(order)[-1]
    assert (follow.action, follow.note, follow.actor) == (
        "follow_up",
        facts.unique_id,
        "controller",
    )
    assert follow.changes == {"follow_ups": [0, 1]} and follow.to_status == "draft"
    assert hotline.stored_tags(facts.unique_id)["order"] == number
    # Counted once per call, however often the call is routed.
    await hotline.routing.router.route(facts)
    assert hotline.orders_of()[0].follow_ups == 1


async def test_a_number_read_out_links_too_and_the_due_time_is_shown(hotline: Hotline) -> None:
    store: OrderStore = hotline.orders.store
    made = store.create(NewOrder(channel="phone", caller_number="13700137000"))
    due = datetime(2026, 12, 8, 9, 30, tzinfo=UTC)  # 17:30 in the hotline's time zone
    with store.sessions() as s, s.begin():
        s.get_one(WorkOrder, made.id).due_at = due
        s.get_one(WorkOrder, made.id).status = "dispatched"
    spoken = " ".join(made.number.translate(str.maketrans("0123456789", "零幺两三四五六七八九")))
    _, decision = await hotline.call(f"我的工单号是 {spoken} 现在怎么样了")
    assert (decision.queue, decision.rule) == ("dispatch", "follow_up")
    assert decision.tags["order"] == made.number
    assert decision.tags["order_status"] == "dispatched"
    assert decision.tags["order_due"] == "2026-12-08T17:30"
    assert hotline.orders_of() == []


async def test_a_number_that_names_no_order_is_a_follow_up_tagged_not_found(
    hotline: Hotline,
) -> None:
    facts, decision = await hotline.call(request="follow_up", order_number="2026120199999")
    assert (decision.queue, decision.rule) == ("dispatch", "follow_up")
    assert decision.tags["order_not_found"] == "2026120199999"
    # The call is a request like any other: it gets its own draft.
    [order] = hotline.orders_of()
    assert decision.tags["order"] == order.number and order.queue == "dispatch"
    assert order.call_unique_id == facts.unique_id


async def test_calling_again_about_the_same_matter_follows_up_the_open_order(
    hotline: Hotline,
) -> None:
    _, first = await hotline.call(HEATING)
    # A new request about the same matter (not a chase, which the follow-up rule takes).
    _, again = await hotline.call("家里暖气不热，晚上冻得睡不着")
    assert (again.queue, again.rule) == ("dispatch", "open_case")
    assert again.tags["order"] == first.tags["order"]
    [order] = hotline.orders_of()
    assert order.follow_ups == 1
    # Another matter from the same number is a new order.
    _, water = await hotline.call("我们小区停水三天了")
    assert water.rule == "default" and water.tags["order"] != order.number
    assert len(hotline.orders_of()) == 2


async def test_a_progress_enquiry_without_a_number_links_the_only_open_order(
    hotline: Hotline,
) -> None:
    _, first = await hotline.call(HEATING)
    _, enquiry = await hotline.call(request="follow_up")
    assert (enquiry.rule, enquiry.tags["order"]) == ("follow_up", first.tags["order"])
    assert len(hotline.orders_of()) == 1 and hotline.orders_of()[0].follow_ups == 1
    await hotline.call("我们小区停水三天了")
    # Two open orders: which one is for the operator to ask; the enquiry is a draft of its own.
    _, unsure = await hotline.call(request="follow_up")
    assert unsure.tags["open_cases"] == "2" and "order_status" not in unsure.tags
    assert len(hotline.orders_of()) == 3
    assert [o.follow_ups for o in hotline.orders_of()] == [1, 0, 0]


async def test_an_emergency_makes_no_order(hotline: Hotline) -> None:
    # (the caller confirmed the hand-off with key 1: only then is a call handed over)
    _, decision = await hotline.call("楼下着火了，好大的烟，快来人", emergency_choice="handoff")
    assert decision.queue == "handoff" and "order" not in decision.tags
    assert hotline.orders_of() == []


async def test_an_order_that_cannot_be_made_never_fails_the_call(
    hotline: Hotline, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OperationalError("INSERT INTO work_orders", {"caller_number": CALLER}, Exception())

    monkeypatch.setattr(hotline.orders.store, "create", refuse)
    with caplog.at_level(logging.INFO):
        facts, decision = await hotline.call(HEATING)
    assert decision.queue == "intake" and "order" not in decision.tags
    assert hotline.stored_tags(facts.unique_id)["queue"] == "intake"  # the decision is kept
    assert "no work order for call hotline-1.1: OperationalError" in caplog.text
    assert CALLER not in caplog.text and "暖气" not in caplog.text
