"""A call's steps have worker threads of their own: API work that fills the default thread pool
(slow uploads, big searches) never holds up routing or classifying a live call."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from hotline.core import db
from hotline.core.settings import Settings
from hotline.service import Service
from ivr.routing_port import CallFacts


@pytest.fixture
async def busy_default_pool() -> AsyncIterator[threading.Event]:
    """The loop's default thread pool, every thread of it stuck in slow work."""
    loop = asyncio.get_running_loop()
    pool = ThreadPoolExecutor(max_workers=2)
    loop.set_default_executor(pool)
    release = threading.Event()
    stuck = [loop.run_in_executor(None, release.wait) for _ in range(6)]
    try:
        yield release
    finally:
        release.set()
        await asyncio.gather(*stuck)


async def test_routing_and_classifying_a_call_do_not_wait_for_the_api(
    settings: Settings, busy_default_pool: threading.Event
) -> None:
    db.upgrade(settings.database_url)
    service = Service(settings.model_copy(update={"call_workers": 2}))
    try:
        facts = CallFacts("hotline-1.1", "13800138000", "张三", transcript="我家暖气不热")
        target = await asyncio.wait_for(service.router.route(facts), 10)
        assert target.queue == "intake"
        classification = await asyncio.wait_for(service.ivr.classify("我家暖气不热"), 10)
        assert classification is not None and classification["intent"]
    finally:
        busy_default_pool.set()  # stopping uses the default pool
        await service.stop()


async def test_work_in_the_calls_pool_keeps_the_call_id_for_the_log() -> None:
    from hotline.core.workers import in_worker
    from telephony.agi import current_call_id

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        current_call_id.set("hotline-1.7")
        assert await in_worker(pool, current_call_id.get) == "hotline-1.7"
    finally:
        pool.shutdown()
