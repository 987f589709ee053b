"""Finding orders from the console: a number read out, a day's numbers, Chinese words typed
without spaces; the index follows the orders' text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from hotline.core import db
from hotline.orders.search import SearchError, index_order, reindex_orders, search_orders
from hotline.orders.store import NewOrder, OrderStore
from hotline.orders.tables import WorkOrder

TEXTS = (
    "我 家 暖气 不 热 屋里 才 十二 度",  # recogniser output: spaces between words
    "小区门口有人占道经营，晚上很吵",
    "我想问一下公积金怎么提取",
    "暖气费怎么交，暖气片漏水了",
    "Wifi 信号 in the library is down",
)


@pytest.fixture
def store(database_url: str) -> OrderStore:
    db.upgrade(database_url)
    store = OrderStore(db.session_factory(db.make_engine(database_url)), "Asia/Shanghai")
    at = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    for i, transcript in enumerate(TEXTS):
        store.create(NewOrder(channel="phone", transcript=transcript), at=at + timedelta(hours=i))
    # the next day in Shanghai
    store.create(NewOrder(channel="web", transcript="路灯不亮"), at=at + timedelta(days=1))
    return store


def numbers(store: OrderStore, q: str, **kw: int) -> list[str]:
    with store.sessions() as s:
        return [o.number for o in search_orders(s, q, **kw)]


def test_words_without_spaces_find_recogniser_text_newest_first(store: OrderStore) -> None:
    assert numbers(store, "暖气不热") == ["2026120100001"]
    assert numbers(store, "暖气") == ["2026120100004", "2026120100001"]
    # every word must occur; the characters of a word must stand together
    assert numbers(store, "暖气 漏水") == ["2026120100004"]
    assert numbers(store, "气暖") == []
    assert numbers(store, "占道经营") == ["2026120100002"]
    assert numbers(store, "WIFI library") == ["2026120100005"]
    # FTS syntax in the box is only text
    assert numbers(store, '暖气" OR "路灯') == []
    assert numbers(store, "NEAR(暖气 路灯)") == []


def test_numbers_and_days(store: OrderStore) -> None:
    assert numbers(store, "2026120100003") == ["2026120100003"]
    assert numbers(store, " 2026120200001 ") == ["2026120200001"]
    assert numbers(store, "2026120100099") == []
    assert numbers(store, "20261201") == [f"20261201{n:05d}" for n in (5, 4, 3, 2, 1)]
    assert numbers(store, "20261201", limit=2) == ["2026120100005", "2026120100004"]
    assert numbers(store, "20261130") == []


def test_pages_follow_each_other(store: OrderStore) -> None:
    with store.sessions() as s:
        first = search_orders(s, "暖气", limit=1)
        second = search_orders(s, "暖气", limit=1, before_id=first[-1].id)
        third = search_orders(s, "暖气", limit=1, before_id=second[-1].id)
    assert [o.number for o in (*first, *second)] == ["2026120100004", "2026120100001"]
    assert third == []


@pytest.mark.parametrize(
    ("q", "code"),
    [
        ("", "empty_query"),
        ("   ", "empty_query"),
        ("x" * 201, "query_too_long"),
        ("20261332", "bad_day"),
        ("，。！", "no_words"),
    ],
)
def test_bad_queries_say_what_is_wrong(store: OrderStore, q: str, code: str) -> None:
    with store.sessions() as s, pytest.raises(SearchError) as caught:
        search_orders(s, q)
    assert caught.value.code == code


def test_limit_is_bounded(store: OrderStore) -> None:
    with store.sessions() as s:
        for limit in (0, 101):
            with pytest.raises(SearchError, match="limit: 1 to 100"):
                search_orders(s, "暖气", limit=limit)


def test_changed_text_is_found_by_its_new_words_only(store: OrderStore) -> None:
    with store.sessions() as s, s.begin():
        order = s.scalars(select(WorkOrder).where(WorkOrder.number == "2026120200001")).one()
        order.transcript = ""
        order.summary = "主干道路灯损坏"
        order.place = "新华大街"
        index_order(s, order)
    assert numbers(store, "路灯不亮") == []
    assert numbers(store, "新华大街 路灯") == ["2026120200001"]


def test_reindex_rebuilds_the_index(store: OrderStore) -> None:
    with store.sessions() as s, s.begin():
        assert reindex_orders(s, batch=4) == 6
    assert numbers(store, "暖气") == ["2026120100004", "2026120100001"]
    assert numbers(store, "路灯") == ["2026120200001"]


def test_orders_made_before_the_index_existed_are_found(database_url: str) -> None:
    db.upgrade(database_url, "0004_orders")
    sessions = db.session_factory(db.make_engine(database_url))
    at = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    with sessions() as s, s.begin():
        s.add(
            WorkOrder(
                number="2026120100001",
                status="draft",
                channel="phone",
                created_at=at,
                updated_at=at,
                transcript="下水道堵了",
                classification=None,
                summary="",
                place="",
                reply="",
                return_reason="",
            )
        )
    db.upgrade(database_url)
    with sessions() as s:
        assert [o.number for o in search_orders(s, "下水道")] == ["2026120100001"]


def test_one_character_finds_it_anywhere(store: OrderStore) -> None:
    # 度 ends a run, 漏 starts a pair, 热 is in the middle of a run and at its end
    assert numbers(store, "度") == ["2026120100001"]
    assert numbers(store, "漏") == ["2026120100004"]
    assert numbers(store, "热") == ["2026120100001"]
    assert numbers(store, "灯 不亮") == ["2026120200001"]


def test_newest_first_across_the_search_windows(
    store: OrderStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Windows of one and two ids: the search widens until a page is full or ids run out.
    monkeypatch.setattr("hotline.orders.search.WINDOWS", (1, 2, None))
    assert numbers(store, "暖气") == ["2026120100004", "2026120100001"]
    assert numbers(store, "暖气", limit=1) == ["2026120100004"]
    with store.sessions() as s:
        first = search_orders(s, "暖气", limit=1)
        assert [o.number for o in search_orders(s, "暖气", before_id=first[0].id)] == [
            "2026120100001"
        ]
    assert numbers(store, "占道经营") == ["2026120100002"]
