"""Merging duplicate requests (并单) on a real database: twenty calls about one burst water
main become one parent and nineteen children; what is not the same matter, place or time is
not proposed; a merge is all or nothing; children follow their parent's reply, callback and
close."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from hotline.core import db
from hotline.orders.merge import (
    MergeError,
    Merger,
    Request,
    follow_parent,
    likeness,
    words_similarity,
)
from hotline.orders.store import Act, NewOrder, OrderStore
from hotline.orders.tables import WorkOrder, WorkOrderEvent
from routing.place import parse_place
from routing.text import normalize

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)

#: what twenty callers said about one burst main at 胜利路 / 阳光小区
BURST = [
    "胜利路阳光小区门口的自来水管爆了，水哗哗往外冒",
    "阳光 小区 那个 门口 水管 爆 了 水 冒 得 老高",
    "我们阳光小区三号楼前面自来水管子爆了，路上全是水",
    "胜利路一二三号阳光小区这里水管破了，马路都淹了",
    "阳光小区五栋这边停水了，说是门口的管子爆了",
]


@pytest.fixture
def store(database_url: str) -> OrderStore:
    db.upgrade(database_url)
    return OrderStore(db.session_factory(db.make_engine(database_url)), "Asia/Shanghai")


def make(
    store: OrderStore,
    transcript: str,
    *,
    at: datetime = T0,
    department: str | None = "water_supply",
    matter: str | None = "water_main_burst",
    place: str | None = None,
    status: str = "draft",
    **values: Any,
) -> WorkOrder:
    """An order as intake leaves it: created from a call, with the operator's fields set."""
    order = store.create(NewOrder(channel="phone", transcript=transcript), at=at)
    fields = {
        "department": department,
        "matter": matter,
        "status": status,
        "place": parse_place(transcript).text if place is None else place,
        **values,
    }
    with store.sessions() as s, s.begin():
        s.execute(update(WorkOrder).where(WorkOrder.id == order.id).values(**fields))
    found = store.by_number(order.number)
    assert found is not None
    return found


def history(store: OrderStore, number: str) -> list[WorkOrderEvent]:
    with store.sessions() as s:
        order_id = s.scalar(select(WorkOrder.id).where(WorkOrder.number == number))
        return list(
            s.scalars(
                select(WorkOrderEvent)
                .where(WorkOrderEvent.order_id == order_id)
                .order_by(WorkOrderEvent.id)
            )
        )


def numbers(orders: Sequence[WorkOrder]) -> list[str]:
    return [o.number for o in orders]


# ---- likeness (pure) ----------------------------------------------------------------------
def request(text: str, *, hours: float = 0, department: str = "", matter: str = "") -> Request:
    return Request(
        "2026120100001",
        T0 + timedelta(hours=hours),
        department or None,
        matter or None,
        parse_place(text),
        normalize(text),
    )


def test_same_matter_at_one_place_within_a_day_is_proposed() -> None:
    a = request(BURST[0], matter="water_main_burst")
    b = request(BURST[2], hours=3, matter="water_main_burst")
    alike = likeness(a, b)
    assert alike.proposed()
    assert alike.place.matched == ("community",)
    assert (alike.matter, alike.hours_apart) == ("matter", 3.0)
    assert 0 < alike.score <= 1
    assert likeness(b, a) == alike


def test_what_is_not_one_matter_at_one_place_in_the_window_is_not_proposed() -> None:
    base = request(BURST[0], department="water_supply")
    # another community
    assert not likeness(base, request("北苑小区门口水管爆了", department="water_supply")).proposed()
    # the same place, another matter in other words
    noise = request("阳光小区楼下烧烤店半夜太吵了", department="urban_management")
    assert not likeness(base, noise).proposed()
    # a day and a half later
    late = request(BURST[1], hours=36, department="water_supply")
    assert not likeness(base, late).proposed()
    assert likeness(base, late).proposed(window=timedelta(hours=48))


def test_similar_words_stand_in_for_an_unset_matter() -> None:
    a = request("阳光小区门口自来水管爆了，水往外冒")
    b = request("阳光小区门口的自来水管爆了，水一直往外冒")
    assert likeness(a, b).matter == ""
    assert likeness(a, b).proposed()
    assert words_similarity("", "水管") == 0.0
    assert words_similarity("自来水管爆了", "自来水管爆了") == 1.0


# ---- proposals and merging ----------------------------------------------------------------
def test_twenty_calls_about_one_burst_main_become_one_parent_and_nineteen_children(
    store: OrderStore,
) -> None:
    calls = [
        make(store, BURST[i % len(BURST)], at=T0 + timedelta(minutes=7 * i)) for i in range(20)
    ]
    # what must not be proposed: another community, another matter at the same place, the
    # day before yesterday, a closed order, an order merged elsewhere
    make(store, "北苑小区门口水管爆了", at=T0 + timedelta(minutes=5))
    make(
        store,
        "阳光小区楼下烧烤店半夜太吵了",
        department="urban_management",
        matter="noise",
        at=T0 + timedelta(minutes=9),
    )
    make(store, BURST[0], at=T0 - timedelta(hours=40))
    make(store, BURST[0], at=T0 + timedelta(minutes=3), status="closed")
    merger = Merger(store.sessions)
    parent = calls[0]

    proposal = merger.candidates(parent.number)
    assert sorted(numbers([c.order for c in proposal.candidates])) == numbers(calls[1:])
    best = proposal.candidates[0].likeness
    assert best.place.same and best.matter == "matter"

    merged = merger.merge(parent.number, numbers(calls[1:]), parent.version, actor="dispatch1")
    assert merged.parent.version == parent.version + 1
    assert numbers(merged.children) == numbers(calls[1:])
    assert all(c.parent_id == parent.id for c in merged.children)
    # a history row on every order, in the merge's transaction
    last = history(store, parent.number)[-1]
    assert (last.action, last.actor) == ("merge", "dispatch1")
    assert last.changes == {"children": [[], numbers(calls[1:])]}
    for child in calls[1:]:
        row = history(store, child.number)[-1]
        assert (row.action, row.changes) == ("merge", {"parent": [None, parent.number]})
    # nothing left to propose; the children are listed with the parent
    after = merger.candidates(parent.number)
    assert after.candidates == []
    assert numbers(after.children) == numbers(calls[1:])
    # a child is no parent
    with pytest.raises(MergeError, match=f"merged into {parent.number}") as child_error:
        merger.candidates(calls[5].number)
    assert child_error.value.code == "is_child"


def test_a_merge_is_all_or_nothing(store: OrderStore) -> None:
    parent, a, b = (make(store, BURST[i]) for i in range(3))
    closed = make(store, BURST[3], status="closed")
    elsewhere, taken = make(store, BURST[4]), make(store, BURST[0])
    merger = Merger(store.sessions)
    merger.merge(elsewhere.number, [taken.number], elsewhere.version, actor="d")

    def refused(children: list[str], version: int, code: str, status: int) -> MergeError:
        with pytest.raises(MergeError) as caught:
            merger.merge(parent.number, children, version, actor="d")
        assert (caught.value.code, caught.value.status) == (code, status), caught.value
        return caught.value

    refused([a.number, closed.number], parent.version, "not_open", 409)
    refused([a.number, taken.number], parent.version, "already_merged", 409)
    refused([a.number, elsewhere.number], parent.version, "has_children", 409)
    refused([a.number, "2026120199999"], parent.version, "not_found", 404)
    refused([a.number, a.number], parent.version, "bad_children", 422)
    refused([parent.number], parent.version, "bad_children", 422)
    refused([], parent.version, "bad_children", 422)
    stale = refused([a.number, b.number], parent.version + 1, "stale_version", 409)
    assert stale.current == {
        "number": parent.number,
        "version": parent.version,
        "status": "draft",
        "children": [],
    }
    # nothing was changed by any of these
    for order in (parent, a, b):
        now = store.by_number(order.number)
        assert now is not None and (now.parent_id, now.version) == (None, order.version)
        assert [e.action for e in history(store, order.number)] == ["create"]
    # only open orders are parents
    with pytest.raises(MergeError, match="only open orders") as not_open:
        merger.merge(closed.number, [a.number], closed.version, actor="d")
    assert not_open.value.code == "not_open"


def test_unmerge_takes_children_out(store: OrderStore) -> None:
    parent, a, b, other = (make(store, BURST[i]) for i in range(4))
    merger = Merger(store.sessions)
    merged = merger.merge(parent.number, [a.number, b.number], parent.version, actor="d")
    with pytest.raises(MergeError) as stale:
        merger.unmerge(parent.number, [a.number], parent.version, actor="d")
    assert stale.value.code == "stale_version"
    with pytest.raises(MergeError, match=f"{other.number} is not merged into") as stranger:
        merger.unmerge(parent.number, [a.number, other.number], merged.parent.version, "d")
    assert stranger.value.code == "not_a_child"
    result = merger.unmerge(parent.number, [a.number], merged.parent.version, actor="sup")
    assert numbers(result.children) == [b.number]
    a_now = store.by_number(a.number)
    assert a_now is not None and a_now.parent_id is None
    assert history(store, a.number)[-1].changes == {"parent": [parent.number, None]}
    assert history(store, parent.number)[-1].action == "unmerge"


# ---- children follow their parent ---------------------------------------------------------
def test_children_follow_the_parents_reply_callback_and_close(store: OrderStore) -> None:
    parent = make(store, BURST[0], status="dispatched")
    waiting = make(store, BURST[1], status="dispatched")
    no_callback = make(store, BURST[2], status="draft", needs_callback=False)
    bystander = make(store, BURST[3], status="dispatched")
    Merger(store.sessions).merge(
        parent.number, [waiting.number, no_callback.number], parent.version, actor="d"
    )

    def step(status: str, action: str, **values: Any) -> None:
        # as the store changes the parent: its row, its history row, then follow_parent
        with store.sessions() as s, s.begin():
            row = s.scalar(select(WorkOrder).where(WorkOrder.id == parent.id))
            assert row is not None
            event = WorkOrderEvent(
                order_id=row.id,
                at=T0,
                actor="water-company",
                action=action,
                from_status=row.status,
                to_status=status,
                changes={},
                note="",
            )
            row.status = status
            for key, value in values.items():
                setattr(row, key, value)
            s.add(event)
            follow_parent(s, row, event)

    def state(order: WorkOrder) -> tuple[str, str]:
        now = store.by_number(order.number)
        assert now is not None
        return now.status, now.reply

    reply = "已派人抢修，预计今晚八点恢复供水"
    step("replied", "reply", reply=reply)
    assert state(waiting) == state(no_callback) == ("replied", reply)
    assert state(bystander) == ("dispatched", "")
    row = history(store, waiting.number)[-1]
    assert (row.action, row.from_status, row.to_status) == (
        "follow_parent",
        "dispatched",
        "replied",
    )
    assert row.changes == {"reply": ["", reply], "status": ["dispatched", "replied"]}
    assert row.note == f"reply of {parent.number}"

    step("callback", "to_callback")
    assert state(waiting)[0] == state(no_callback)[0] == "callback"

    # an edit of the parent is not followed
    versions = [store.by_number(o.number).version for o in (waiting, no_callback)]  # type: ignore[union-attr]
    step("callback", "edit", summary="抢修完毕")
    assert [store.by_number(o.number).version for o in (waiting, no_callback)] == versions  # type: ignore[union-attr]

    # the parent's citizen was called back: children not yet called stay in callback
    step("closed", "close", closed_at=T0)
    assert state(waiting)[0] == "callback"
    assert state(no_callback)[0] == "closed"
    assert [e.action for e in history(store, waiting.number)].count("follow_parent") == 2


def test_children_follow_a_reply_made_through_the_store(store: OrderStore) -> None:
    parent = make(store, BURST[0], status="dispatched")
    child = make(store, BURST[1], status="dispatched")
    merged = Merger(store.sessions).merge(parent.number, [child.number], parent.version, "d")
    reply = "管道已修复"
    store.act(
        parent.number, Act("reply", "water-company", text=reply, version=merged.parent.version)
    )
    now = store.by_number(child.number)
    assert now is not None and (now.status, now.reply) == ("replied", reply)
    store.act(parent.number, Act("to_callback", "callback1"))
    now = store.by_number(child.number)
    assert now is not None and now.status == "callback"
    # the callback group calls each citizen: the child is closed with its own result
    store.act(
        child.number,
        Act("close", "callback1", callback_result={"solved": True, "satisfaction": "satisfied"}),
    )
    now = store.by_number(child.number)
    assert now is not None and now.status == "closed"
    assert [e.action for e in history(store, child.number)] == [
        "create",
        "merge",
        "follow_parent",
        "follow_parent",
        "close",
    ]


def test_two_desks_merging_one_child_at_once_leave_it_with_one_parent(
    database_url: str, store: OrderStore
) -> None:
    # Separate engines, as two API workers: each claims the child at the version it read.
    first, second, child = (make(store, BURST[i]) for i in range(3))
    mergers = [Merger(db.session_factory(db.make_engine(database_url))) for _ in range(2)]

    def merge(i: int) -> str:
        parent = (first, second)[i]
        try:
            mergers[i].merge(parent.number, [child.number], parent.version, actor=f"d{i}")
        except MergeError as exc:
            return exc.code
        return "merged"

    for round_ in range(5):
        with ThreadPoolExecutor(2) as pool:
            outcomes = sorted(pool.map(merge, range(2)))
        now = store.by_number(child.number)
        assert now is not None
        merges = [e for e in history(store, child.number) if e.action == "merge"]
        if outcomes == ["merged", "merged"]:
            pytest.fail(f"both merges went through: {outcomes}")
        assert outcomes[1] == "merged" and outcomes[0] in ("already_merged", "changed")
        assert len(merges) == round_ + 1
        assert now.parent_id in (first.id, second.id)
        # start again: take the child out of whichever parent won
        winner = first if now.parent_id == first.id else second
        fresh = store.by_number(winner.number)
        assert fresh is not None
        Merger(store.sessions).unmerge(winner.number, [child.number], fresh.version, "d")
        first, second = (store.by_number(o.number) for o in (first, second))  # type: ignore[assignment]
