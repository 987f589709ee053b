"""Work-order numbers: readable, sortable by day, never issued twice, even when several
processes create orders at the same moment."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest

from hotline.core import db
from hotline.orders.store import NewOrder, OrderError, OrderStore, format_number


@pytest.fixture
def store(database_url: str) -> OrderStore:
    db.upgrade(database_url)
    return OrderStore(db.session_factory(db.make_engine(database_url)), "Asia/Shanghai")


def test_numbers_are_the_local_day_and_a_sequence(store: OrderStore) -> None:
    # 2026-12-01 17:00 UTC is already 2 December in Shanghai.
    late = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
    first = store.create(NewOrder(channel="phone", caller_number="13800000001"), at=late)
    second = store.create(NewOrder(channel="web", transcript="路灯不亮"), at=late)
    assert (first.number, second.number) == ("2026120200001", "2026120200002")
    assert store.by_number("2026120200002") is not None
    assert store.by_number("2026120200003") is None
    assert [o.number for o in store.open_for_caller("13800000001")] == ["2026120200001"]


def test_unknown_channel_is_refused_and_nothing_is_stored(store: OrderStore) -> None:
    with pytest.raises(OrderError, match="channel 'fax'"):
        store.create(NewOrder(channel="fax"))
    assert store.create(NewOrder(channel="phone")).number.endswith("00001")


def test_a_day_has_99999_numbers() -> None:
    with pytest.raises(OrderError, match="no work-order numbers left"):
        format_number(datetime(2026, 12, 1).date(), 100_000)


def test_parallel_creates_never_share_a_number(database_url: str, store: OrderStore) -> None:
    # Separate engines: as two controllers or API workers would be.
    stores = [
        OrderStore(db.session_factory(db.make_engine(database_url)), "Asia/Shanghai")
        for _ in range(4)
    ]
    at = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)

    def create(i: int) -> str:
        return stores[i % 4].create(NewOrder(channel="phone"), at=at).number

    with ThreadPoolExecutor(8) as pool:
        numbers = list(pool.map(create, range(200)))
    assert len(set(numbers)) == 200
    assert sorted(numbers) == [f"20261202{n:05d}" for n in range(1, 201)]
