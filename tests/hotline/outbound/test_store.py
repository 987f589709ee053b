"""The outbound schedule on the real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hotline.core import db
from hotline.outbound.store import OutboundError, OutboundStore

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai


@pytest.fixture
def store(database_url: str) -> OutboundStore:
    if database_url.startswith("sqlite"):
        from pathlib import Path

        Path(database_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    return OutboundStore(db.session_factory(engine), "Asia/Shanghai")


def test_a_repeated_key_updates_the_open_job(store: OutboundStore) -> None:
    first = store.schedule(
        "missed", "13800138000", due_at=T0 + timedelta(minutes=10), dedupe_key="missed:1380"
    )
    again = store.schedule(
        "missed",
        "13800138000",
        due_at=T0,
        priority=5,
        detail={"misses": 2},
        dedupe_key="missed:1380",
    )
    assert again == first
    job = store.job(first)
    assert job.priority == 5 and job.detail == {"misses": 2}
    assert job.due_at.replace(tzinfo=UTC) == T0
    total, _ = store.jobs()
    assert total == 1


def test_a_closed_job_does_not_swallow_a_new_one(store: OutboundStore) -> None:
    first = store.schedule("missed", "13800138000", due_at=T0, dedupe_key="k")
    claimed = store.claim("w1", T0)
    assert claimed is not None and claimed.job_id == first
    store.finish(claimed.attempt_id, "answered", now=T0, job_state="done")
    second = store.schedule("missed", "13800138000", due_at=T0, dedupe_key="k")
    assert second != first


def test_bad_input_is_refused_with_its_field(store: OutboundStore) -> None:
    with pytest.raises(OutboundError, match="kind"):
        store.schedule("spam", "13800138000", due_at=T0)
    with pytest.raises(OutboundError, match="number"):
        store.schedule("missed", "1380013800x", due_at=T0)
    with pytest.raises(OutboundError, match="due_at"):
        store.schedule("missed", "13800138000", due_at=datetime(2026, 1, 1))
    assert store.jobs()[0] == 0


def test_two_dialers_never_take_the_same_job(store: OutboundStore) -> None:
    store.schedule("missed", "13800138000", due_at=T0)
    first = store.claim("w1", T0)
    second = store.claim("w2", T0)
    assert first is not None and second is None


def test_priority_first_then_due_time(store: OutboundStore) -> None:
    low = store.schedule("missed", "13800000001", due_at=T0 - timedelta(hours=1))
    high = store.schedule("queue_callback", "13800000002", due_at=T0, priority=10)
    later = store.schedule("missed", "13800000003", due_at=T0 + timedelta(hours=1))
    order = []
    while (claimed := store.claim("w", T0)) is not None:
        order.append(claimed.job_id)
    assert order == [high, low]
    assert later not in order


def test_a_do_not_call_number_is_cancelled_without_a_call(store: OutboundStore) -> None:
    store.add_do_not_call("13800138000", "ops", "asked not to be called")
    job_id = store.schedule("missed", "13800138000", due_at=T0)
    assert store.claim("w", T0) is None
    job = store.job(job_id)
    assert (job.state, job.outcome) == ("cancelled", "do_not_call")
    assert store.attempts([job_id])[job_id] == []
    assert store.remove_do_not_call("13800138000")
    assert not store.on_do_not_call("13800138000")


def test_an_interrupted_attempt_is_marked_and_called_again(store: OutboundStore) -> None:
    job_id = store.schedule("missed", "13800138000", due_at=T0)
    claimed = store.claim("old-process", T0)
    assert claimed is not None
    # The process dies; the next one starts.
    later = T0 + timedelta(minutes=2)
    assert store.recover(later) == 1
    attempts = store.attempts([job_id])[job_id]
    assert [a.outcome for a in attempts] == ["interrupted"]
    again = store.claim("new-process", later)
    assert again is not None and again.job_id == job_id and again.attempt == 1
    assert again.call_id != claimed.call_id


def test_retry_now_gives_a_given_up_job_one_more_try(store: OutboundStore) -> None:
    job_id = store.schedule("missed", "13800138000", due_at=T0, max_tries=1)
    claimed = store.claim("w", T0)
    assert claimed is not None
    store.finish(claimed.attempt_id, "no_answer", now=T0, job_state="gave_up")
    with pytest.raises(OutboundError, match="no outbound job"):
        store.retry_now(999, T0, "sup")
    job = store.retry_now(job_id, T0, "sup")
    assert (job.state, job.max_tries) == ("pending", 2)
    assert store.claim("w", T0) is not None


def test_the_load_counts_calls_in_progress_and_the_last_minute(store: OutboundStore) -> None:
    for n in range(3):
        store.schedule("missed", f"1380000000{n}", due_at=T0)
    a = store.claim("w", T0)
    b = store.claim("w", T0 + timedelta(seconds=30))
    assert a is not None and b is not None
    store.finish(
        a.attempt_id, "busy", now=T0, job_state="pending", next_due=T0 + timedelta(hours=4)
    )
    assert store.load(T0 + timedelta(seconds=40)) == (1, 2)
    assert store.load(T0 + timedelta(seconds=80)) == (1, 1)
