"""Work orders on `/metrics`: how many are overdue and how many are due by the end of today.

Counted when Prometheus scrapes (two counts over the (status, due_at) index; `/metrics` runs
the collection in a worker thread, not on the loop that drives calls). A database that does
not answer leaves the two series out of that scrape, and says so in the log, rather than
failing the whole page.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.exc import SQLAlchemyError

from hotline.orders.store import OrderStore

log = logging.getLogger("hotline.orders")


class OrderMetrics(Collector):
    def __init__(self, store: OrderStore) -> None:
        self.store = store

    def _families(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        return (
            GaugeMetricFamily(
                "hotline_orders_overdue",
                "Work orders dispatched to a department and past their due time",
            ),
            GaugeMetricFamily(
                "hotline_orders_due_today",
                "Work orders dispatched to a department, not overdue, due by the end of today",
            ),
        )

    def describe(self) -> Iterator[Metric]:
        # Registration asks for the names only: no database query before the service starts.
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        try:
            counts = self.store.due_counts()
        except SQLAlchemyError as exc:
            log.warning("work-order counts left out of /metrics: %s", type(exc).__name__)
            return
        overdue, today = self._families()
        overdue.add_metric([], counts["overdue"])
        today.add_metric([], counts["today"])
        yield overdue
        yield today
