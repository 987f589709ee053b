"""A routing decision is stored whatever number the phone network sent."""

from __future__ import annotations

from sqlalchemy import select

from hotline.core import db
from hotline.core.settings import Settings
from hotline.roster.store import RosterStore
from hotline.roster.tables import CallRouteRow
from ivr.routing_port import CallFacts
from routing.decision import RoutingRequest, decide, every_queue_staffed


def test_a_number_longer_than_its_column_or_with_a_nul_is_stored_cut_and_clean(
    settings: Settings,
) -> None:
    db.upgrade(settings.database_url)
    engine = db.make_engine(settings.database_url)
    store = RosterStore(db.session_factory(engine), settings.timezone)
    number = "1380013\x008000" + "9" * 100  # PostgreSQL refuses NUL; the column holds 64
    call = CallFacts(unique_id="hotline-1.1", caller_number=number, caller_name="")
    try:
        store.save_decision(call, decide(RoutingRequest(), every_queue_staffed()), None, 0.1)
        with store._sessions() as s:
            row = s.scalar(select(CallRouteRow).where(CallRouteRow.unique_id == "hotline-1.1"))
    finally:
        engine.dispose()
    assert row is not None
    assert row.caller_number == ("13800138000" + "9" * 100)[:64]
