"""The end of a work order's retention: the citizen's number, name and words leave every
table (history and the text index included); the order's figures stay for reports; orders
still open or finished recently keep everything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from hotline.core import db
from hotline.orders.retention import expired, purge_expired
from hotline.orders.search import search_orders
from hotline.orders.store import Act, NewOrder, OrderStore
from hotline.orders.tables import WorkOrder
from tests.support.database import every_row

NUMBER = "13912345678"
NAME = "张秀兰"
WORDS = "幸福里小区七号楼的化粪池满溢到楼道"
REPLY = "已联系吸污车于周三清掏"
LONG_AGO = datetime(2023, 3, 1, 2, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
CLASSIFICATION = {
    "intent": "new_request",
    "emergency": None,
    "in_scope": True,
    "out_of_scope_reason": None,
    "kind": "complaint",
    "domain": "public_services",
    "department": "housing_urban_rural",
    "enterprise": False,
    "confidence": 0.8,
    "route": {"group": "intake", "skills": ["mandarin"], "priority": 0},
    "explanation": f"heard: {WORDS}",
}


@pytest.fixture
def store(database_url: str) -> OrderStore:
    db.upgrade(database_url)
    return OrderStore(db.session_factory(db.make_engine(database_url)), "Asia/Shanghai")


def finished_order(store: OrderStore, at: datetime) -> str:
    order = store.create(
        NewOrder(
            channel="phone",
            caller_number=NUMBER,
            caller_name=NAME,
            transcript=WORDS,
            classification=CLASSIFICATION,
        ),
        at=at,
    )
    store.patch(order.number, 1, {"summary": f"市民反映{WORDS}"}, "wang", at=at)
    store.act(order.number, Act("dispatch", "li"), at=at)
    store.act(order.number, Act("reply", "housing", text=REPLY), at=at)
    store.act(order.number, Act("to_callback", "zhao"), at=at)
    store.act(
        order.number,
        Act("close", "zhao", callback_result={"solved": True, "satisfaction": "satisfied"}),
        at=at,
    )
    return order.number


def test_a_finished_order_past_its_retention_keeps_no_personal_data(
    store: OrderStore, database_url: str
) -> None:
    old = finished_order(store, LONG_AGO)
    recent = finished_order(store, NOW - timedelta(days=10))
    still_open = store.create(
        NewOrder(channel="phone", caller_number=NUMBER, transcript=WORDS),
        at=NOW - timedelta(days=30),
    ).number
    # A draft nobody touched for the whole retention goes too.
    abandoned = store.create(
        NewOrder(channel="phone", caller_number=NUMBER, transcript=WORDS), at=LONG_AGO
    ).number

    assert purge_expired(store.sessions, expired(NOW, 1095)) == [old, abandoned]

    with store.sessions() as s:
        purged = s.scalar(select(WorkOrder).where(WorkOrder.number == old))
        assert purged is not None
        assert (purged.caller_number, purged.caller_name, purged.transcript) == ("", "", "")
        assert (purged.summary, purged.reply, purged.place) == ("", "", "")
        # What reports count stays.
        assert (purged.status, purged.kind, purged.department) == (
            "closed",
            "complaint",
            "housing_urban_rural",
        )
        assert purged.callback_result == {"solved": True, "satisfaction": "satisfied"}
        assert purged.classification is not None
        assert purged.classification["department"] == "housing_urban_rural"
        assert "explanation" not in purged.classification
        assert [o.number for o in search_orders(s, "化粪池")] == [still_open, recent]
    # The other orders keep theirs; the words are still stored for them, not for `old`.
    rows = every_row(store.sessions.kw["bind"])
    history = " ".join(rows["work_order_history"])
    assert REPLY in history  # the recent order's reply
    for order_number in (recent, still_open):
        assert store.get(order_number).transcript == WORDS
    # Purging again finds nothing more to do.
    assert purge_expired(store.sessions, expired(NOW, 1095)) == []


def test_no_word_of_a_purged_order_stays_in_the_database_files(
    store: OrderStore, database_url: str
) -> None:
    finished_order(store, LONG_AGO)
    purge_expired(store.sessions, expired(NOW, 1095))
    engine = store.sessions.kw["bind"]
    everything = " ".join(" ".join(rows) for rows in every_row(engine).values())
    for secret in (NUMBER, NAME, "化粪池", "吸污车"):
        assert secret not in everything
    if database_url.startswith("sqlite"):
        # Read while the controller's connections are open: the WAL file is still there.
        path = Path(database_url.removeprefix("sqlite:///"))
        raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*"))
        # the text index keeps pairs of characters: "粪池" is one of its terms
        for secret in (NUMBER, NAME, "化粪池", "吸污车", "粪池"):
            assert secret.encode() not in raw
