"""Wiring of work orders for the service: the store, the intake, and the hook routing calls.

`OrdersFeature.on_routed` is given to the routing feature: once a call's queue is decided it
makes the call's order (or counts a follow-up) and returns the decision with the order's
tags, so the operator's phone and the call's record show the number. It never holds up or
fails a call: the database work runs in the calls' worker pool, waits at most
`budget` seconds, and a failure is logged (the call's id and the error's type, nothing the
caller said) while the call goes on without the tag. An order still being written when the
budget runs out is written all the same; the call's record then lacks its number only.

`start()` runs the retention purge (`hotline.orders.retention`) every `purge_interval`
seconds, in a worker thread; `stop()` cancels it and waits.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import Mapping
from concurrent.futures import Executor
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.db import utcnow
from hotline.core.workers import in_worker
from hotline.orders import retention
from hotline.orders.intake import OrderIntake
from hotline.orders.store import OrderStore
from routing.decision import Decision
from routing.router import CallToRoute

log = logging.getLogger("hotline.orders")

#: seconds a call waits for its order before going on without the tag
INTAKE_BUDGET = 2.0


class OrdersFeature:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        timezone: str,
        executor: Executor | None = None,
        budget: float = INTAKE_BUDGET,
        store: OrderStore | None = None,
        retention_days: int = 1095,
        purge_interval: float = 3600.0,
    ) -> None:
        self.store = store or OrderStore(sessions, timezone)
        self.intake = OrderIntake(self.store)
        #: where a call's database work runs (the service's pool for calls; None: the loop's)
        self.executor = executor
        self.budget = budget
        self.retention_days = retention_days
        self.purge_interval = purge_interval
        self._purger: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._purger = asyncio.create_task(self._purge_loop(), name="orders-retention")

    async def stop(self) -> None:
        if self._purger is not None:
            self._purger.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._purger
            self._purger = None

    async def purge(self) -> list[str]:
        """Take the personal data out of orders past their retention (see `retention`)."""
        before = retention.expired(utcnow(), self.retention_days)
        return await asyncio.to_thread(retention.purge_expired, self.store.sessions, before)

    async def _purge_loop(self) -> None:
        while True:
            try:
                await self.purge()
            except Exception as exc:  # the next round tries again
                log.error("work-order retention purge failed: %s", type(exc).__name__)
            await asyncio.sleep(self.purge_interval)

    async def on_routed(
        self,
        call: CallToRoute,
        decision: Decision,
        classification: Mapping[str, Any] | None,
    ) -> Decision:
        """The decision with the tags of the order the call made or follows up."""
        if decision.queue == "handoff":
            return decision
        try:
            async with asyncio.timeout(self.budget):
                taken = await in_worker(
                    self.executor, self.intake.take, call, decision, classification
                )
        except TimeoutError:
            log.warning(
                "the work order of call %s took over %g s: the call goes on without its number",
                call.unique_id,
                self.budget,
            )
            return decision
        except Exception as exc:  # an order not made never fails the call
            # Only the error's type: its text can quote the row (the caller's words).
            log.error("no work order for call %s: %s", call.unique_id, type(exc).__name__)
            return decision
        if taken is None:
            return decision
        log.info(
            "call %s: %s work order",
            call.unique_id,
            "followed up" if taken.action == "follow_up" else "made",
            extra={"personal": {"order": taken.number}},
        )
        return dataclasses.replace(decision, tags={**decision.tags, **taken.tags()})
