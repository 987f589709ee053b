"""The store's changes on a real database: each action one transaction with its history row,
illegal ones refused with nothing changed, stale edits refused with the current order, lists
by status, department, due time and caller."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from hotline.core import db
from hotline.kb.store import KbStore
from hotline.orders.store import (
    Act,
    NewOrder,
    OrderError,
    OrderFilter,
    OrderStore,
    VersionConflict,
    as_utc,
)
from hotline.orders.tables import WorkOrder
from routing.roster import HolidayCalendar

TZ = ZoneInfo("Asia/Shanghai")
# Thursday 3 December 2026, 10:00 in Shanghai
MORNING = datetime(2026, 12, 3, 10, 0, tzinfo=TZ)


@pytest.fixture
def store(database_url: str) -> OrderStore:
    db.upgrade(database_url)
    calendar = HolidayCalendar({date(2026, 12, 7): "holiday"})
    return OrderStore(
        db.session_factory(db.make_engine(database_url)), "Asia/Shanghai", calendar=lambda: calendar
    )


def new(store: OrderStore, **values: object) -> str:
    order = store.create(
        NewOrder(channel="phone", caller_number="13800000001", transcript="楼道灯坏了", **values),  # type: ignore[arg-type]
        at=MORNING,
    )
    return order.number


def test_dispatch_sets_the_department_and_due_time_and_writes_history(store: OrderStore) -> None:
    number = new(store)
    order = store.act(
        number, Act("dispatch", "li.qiang", department="housing_urban_rural"), at=MORNING
    )
    assert (order.status, order.department, order.deadline_class) == (
        "dispatched",
        "housing_urban_rural",
        "general",
    )
    # Fri 4, (Mon 7 is a holiday), Tue 8, Wed 9, Thu 10, Fri 11 -> the end of Friday 11.
    assert order.due_at == datetime(2026, 12, 12, 0, 0, tzinfo=TZ)
    assert order.version == 2
    again = store.get(number)
    assert again.status == "dispatched" and again.version == 2
    events = store.history(order.id)
    assert [(e.action, e.from_status, e.to_status, e.actor) for e in events] == [
        ("create", None, "draft", "controller"),
        ("dispatch", "draft", "dispatched", "li.qiang"),
    ]
    assert events[1].changes["department"] == [None, "housing_urban_rural"]
    # Only what changed: the class was "general" before and stays so.
    assert "deadline_class" not in events[1].changes
    assert events[1].changes["due_at"][1] == "2026-12-11T16:00:00+00:00"


def test_utilities_are_due_in_24_hours(store: OrderStore) -> None:
    number = new(store)
    order = store.act(number, Act("dispatch", "d", department="heating"), at=MORNING)
    assert order.deadline_class == "utilities"
    assert order.due_at == MORNING + timedelta(hours=24)


def test_an_illegal_action_is_refused_and_nothing_changes(store: OrderStore) -> None:
    number = new(store)
    before = store.get(number)
    with pytest.raises(OrderError) as caught:
        store.act(number, Act("reply", "water-dept", text="已修复"))
    assert caught.value.status == 409
    assert f"work order {number} is draft" in str(caught.value)
    assert "allowed: answer, dispatch" in str(caught.value)
    after = store.get(number)
    assert (after.status, after.version, after.reply) == ("draft", before.version, "")
    assert len(store.history(after.id)) == 1


def test_a_bad_value_changes_nothing(store: OrderStore) -> None:
    number = new(store)
    with pytest.raises(OrderError, match="department 'fire'"):
        store.act(number, Act("dispatch", "d", department="fire"))
    with pytest.raises(OrderError, match="dispatch to which department"):
        store.act(number, Act("dispatch", "d"))
    store.act(number, Act("dispatch", "d", department="education"), at=MORNING)
    with pytest.raises(OrderError, match="the reply is required"):
        store.act(number, Act("reply", "edu", text="   "))
    with pytest.raises(OrderError, match="at most 5000"):
        store.act(number, Act("reply", "edu", text="好" * 5001))
    order = store.get(number)
    assert (order.status, order.version) == ("dispatched", 2)


def test_the_whole_way_with_a_return_an_extension_and_a_callback(store: OrderStore) -> None:
    number = new(store)
    store.act(number, Act("dispatch", "d", department="education"), at=MORNING)
    store.act(number, Act("return", "edu", text="不属于本单位职责，应由住建局办理"))
    order = store.act(number, Act("dispatch", "d", department="housing_urban_rural"), at=MORNING)
    store.act(number, Act("extend", "d", text="需要现场勘查"))
    with pytest.raises(OrderError, match="extended once already") as caught:
        store.act(number, Act("extend", "d", text="再延一次"))
    assert caught.value.status == 409
    due = store.get(number).due_at
    assert due is not None and as_utc(due) == datetime(2026, 12, 19, 0, 0, tzinfo=TZ)
    store.act(number, Act("reply", "housing", text="已更换楼道灯"))
    store.act(number, Act("to_callback", "callback.zhang"))
    with pytest.raises(OrderError, match="needs its result"):
        store.act(number, Act("close", "callback.zhang"))
    closed = store.act(
        number,
        Act(
            "close",
            "callback.zhang",
            callback_result={"solved": True, "satisfaction": "satisfied"},
        ),
    )
    assert closed.status == "closed" and closed.closed_at is not None
    assert closed.return_reason.startswith("不属于本单位")
    history = store.history(order.id)
    assert [e.action for e in history] == [
        "create",
        "dispatch",
        "return",
        "dispatch",
        "extend",
        "reply",
        "to_callback",
        "close",
    ]
    assert history[4].note == "需要现场勘查" and history[4].changes["extended"] == [False, True]
    assert closed.version == len(history)


def test_a_stale_edit_is_refused_with_the_current_order(store: OrderStore) -> None:
    number = new(store)
    first = store.patch(number, 1, {"summary": "3号楼楼道灯不亮", "place": "幸福小区3号楼"}, "wang")
    assert first.version == 2
    with pytest.raises(VersionConflict) as caught:
        store.patch(number, 1, {"summary": "别的内容"}, "li")
    assert caught.value.current.version == 2
    assert caught.value.current.summary == "3号楼楼道灯不亮"
    assert store.get(number).summary == "3号楼楼道灯不亮"
    # The same values again: nothing changes, no version, no history row.
    same = store.patch(number, 2, {"summary": "3号楼楼道灯不亮"}, "wang")
    assert same.version == 2 and len(store.history(same.id)) == 2
    assert store.history(same.id)[1].changes == {
        "summary": ["", "3号楼楼道灯不亮"],
        "place": ["", "幸福小区3号楼"],
    }


def test_edits_are_checked_field_by_field(store: OrderStore) -> None:
    number = new(store)
    for changes, message in (
        ({"kind": "gossip"}, "kind 'gossip'"),
        ({"status": "closed"}, "status: not editable"),
        ({"in_scope": False}, "out_of_scope_reason: required"),
        ({"out_of_scope_reason": "privacy"}, "only for an order that is not in scope"),
        ({"place": "一行\n两行"}, "place: one line"),
        ({"needs_callback": "yes"}, "needs_callback: true or false"),
        ({"matter": "lights.broken"}, "matter 'lights.broken': not in the dispatch catalogue"),
    ):
        with pytest.raises(OrderError, match=message):
            store.patch(number, 1, changes, "wang")
    assert store.get(number).version == 1
    order = store.patch(number, 1, {"in_scope": False, "out_of_scope_reason": "privacy"}, "wang")
    with pytest.raises(OrderError, match="out of the hotline's scope"):
        store.act(number, Act("dispatch", "d", department="education"))
    order = store.patch(number, order.version, {"in_scope": True}, "wang")
    assert order.out_of_scope_reason is None
    order = store.patch(number, order.version, {"matter": "housing.elevator_install"}, "wang")
    dispatched = store.act(number, Act("dispatch", "d", department="housing_urban_rural"))
    assert dispatched.deadline_class == "complex"
    with pytest.raises(OrderError, match="department change only while the hotline holds it"):
        store.patch(number, order.version + 1, {"department": "health"}, "wang")


def test_a_department_sees_only_what_was_dispatched_to_it(store: OrderStore) -> None:
    mine, drafted, other = new(store), new(store), new(store)
    store.act(mine, Act("dispatch", "d", department="education"), at=MORNING)
    store.patch(drafted, 1, {"department": "education"}, "wang")
    store.act(other, Act("dispatch", "d", department="health"), at=MORNING)
    listed = store.list_orders(OrderFilter(scope="education"))
    assert [o.number for o in listed] == [mine]
    assert store.get(mine, scope="education").number == mine
    for number in (drafted, other):
        with pytest.raises(OrderError, match=f"no work order {number}") as caught:
            store.get(number, scope="education")
        assert caught.value.status == 404
        with pytest.raises(OrderError, match="no work order"):
            store.act(number, Act("reply", "edu", text="已处理"), scope="education")


def test_overdue_and_due_today_lists_and_counts(store: OrderStore) -> None:
    late, today, later, replied = (new(store) for _ in range(4))
    store.act(late, Act("dispatch", "d", department="heating"), at=MORNING)
    store.act(today, Act("dispatch", "d", department="heating"), at=MORNING + timedelta(hours=10))
    store.act(later, Act("dispatch", "d", department="education"), at=MORNING)
    store.act(replied, Act("dispatch", "d", department="heating"), at=MORNING)
    store.act(replied, Act("reply", "heat", text="已恢复供暖"))
    # Friday 4 December, 12:00: the first is 2 h past its 24 h; the second is due at 20:00.
    now = datetime(2026, 12, 4, 12, 0, tzinfo=TZ)
    overdue = store.list_orders(OrderFilter(due="overdue"), now=now)
    assert [o.number for o in overdue] == [late]
    assert [o.number for o in store.list_orders(OrderFilter(due="today"), now=now)] == [today]
    assert store.due_counts(now) == {"overdue": 1, "today": 1}
    assert store.due_counts(datetime(2026, 12, 20, tzinfo=UTC)) == {"overdue": 3, "today": 0}


def test_lists_filter_and_page(store: OrderStore) -> None:
    numbers = [new(store) for _ in range(5)]
    store.create(
        NewOrder(channel="web", caller_number="13900000002"), at=MORNING + timedelta(days=2)
    )
    store.act(numbers[0], Act("dispatch", "d", department="education"), at=MORNING)
    by_caller = store.list_orders(OrderFilter(caller_number="13800000001"), limit=2)
    assert len(by_caller) == 2
    rest = store.list_orders(OrderFilter(caller_number="13800000001"), limit=200, offset=2)
    assert len(rest) == 3
    assert [o.status for o in store.list_orders(OrderFilter(status=("dispatched",)))] == [
        "dispatched"
    ]
    day = OrderFilter(created_from=date(2026, 12, 5), created_to=date(2026, 12, 5))
    assert [o.caller_number for o in store.list_orders(day)] == ["13900000002"]
    assert len(store.list_orders(OrderFilter(created_to=date(2026, 12, 3)))) == 5
    with pytest.raises(OrderError, match="limit is 1 to 200"):
        store.list_orders(OrderFilter(), limit=201)


def test_an_order_changed_meanwhile_is_not_overwritten(store: OrderStore) -> None:
    number = new(store)
    # Another worker changes the row between this one's read and its write.
    with store.sessions() as s, s.begin():
        row = s.scalar(select(WorkOrder).where(WorkOrder.number == number))
        assert row is not None
        row.version = 7
    with pytest.raises(VersionConflict) as caught:
        store.act(number, Act("dispatch", "d", department="education", version=1))
    assert caught.value.current.version == 7
    assert store.get(number).status == "draft"


def test_a_consultation_answered_from_the_knowledge_base_and_an_accepted_return(
    store: OrderStore,
) -> None:
    kb = KbStore(store.sessions)
    kb.ensure_starter()
    entry = kb.entries(limit=20)[1][16]["id"]
    consult = new(store)
    with pytest.raises(OrderError, match="kb_entry_id 99999: no such knowledge-base entry"):
        store.act(consult, Act("answer", "wang", text="按政策答复", kb_entry_id=99999))
    assert store.get(consult).status == "draft"
    answered = store.act(consult, Act("answer", "wang", text="按政策答复", kb_entry_id=entry))
    assert (answered.status, answered.kb_entry_id) == ("answered", entry)
    assert store.history(answered.id)[-1].changes == {"kb_entry_id": [None, entry]}
    returned = new(store)
    store.act(returned, Act("dispatch", "d", department="education"), at=MORNING)
    store.act(returned, Act("return", "edu", text="属于法院审理中的事项"))
    with pytest.raises(OrderError, match="the answer given to the citizen is required"):
        store.act(returned, Act("accept_return", "d"))
    accepted = store.act(returned, Act("accept_return", "d", text="已告知市民依法通过诉讼解决"))
    assert accepted.status == "answered"
    assert store.history(accepted.id)[-1].note == "已告知市民依法通过诉讼解决"


def test_a_written_message_keeps_its_paragraphs_and_its_place(store: OrderStore) -> None:
    text = "标题：阳光小区3号楼下水道堵塞\n\n正文：从上周起\x00污水外溢，\t物业不处理。"
    order = store.create(NewOrder(channel="web", transcript=text))
    assert (
        order.transcript == "标题：阳光小区3号楼下水道堵塞\n\n正文：从上周起污水外溢， 物业不处理。"
    )
    assert "阳光小区" in order.place and "3号楼" in order.place
