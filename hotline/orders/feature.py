"""Wiring of work orders for the service: the store, the intake, and the hook routing calls.

`OrdersFeature.on_routed` is given to the routing feature: once a call's queue is decided it
makes the call's order (or counts a follow-up) and returns the decision with the order's
tags, so the operator's phone and the call's record show the number. It never holds up or
fails a call: the database work runs in the calls' worker pool, waits at most
`budget` seconds, and a failure is logged (the call's id and the error's type, nothing the
caller said) while the call goes on without the tag. An order still being written when the
budget runs out is written all the same; the call's record then lacks its number only.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Mapping
from concurrent.futures import Executor
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.core.workers import in_worker
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
    ) -> None:
        self.store = store or OrderStore(sessions, timezone)
        self.intake = OrderIntake(self.store)
        #: where a call's database work runs (the service's pool for calls; None: the loop's)
        self.executor = executor
        self.budget = budget

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
