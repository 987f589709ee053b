"""Wiring of the dispatch catalogue: its store, and the one compiled catalogue that is live.

`CatalogueFeature.live()` is the catalogue calls are classified with and work-order deadlines
read (`deadline_class_of`); before `start` it is the shipped one. `start` installs the shipped
catalogue as version 1 in an empty database, then makes the live version run. Publishing or
rolling back through the feature compiles the version first (a few seconds: the matcher's
tries, sounds included) in a worker thread, and only a version that compiled goes live: the
feature's reference is swapped and the default classifier is told
(`routing.classifier.use_catalogue`), so a call being classified keeps the catalogue it began
with and the next one gets the new one.

Another process (`hotline catalogue import --publish`) can publish too: `refresh` (run every
`poll_interval` seconds while started) notices a newer live version with one small query.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from hotline.catalogue.document import shipped_document
from hotline.catalogue.store import SYSTEM, Actor, CatalogueStore
from hotline.catalogue.tables import CatalogueVersion
from hotline.core.workers import in_worker
from routing.catalogue import Catalogue, DeadlineClass, default_catalogue

log = logging.getLogger("hotline.catalogue")

#: told of each catalogue that goes live
OnLive = Callable[[Catalogue], None]


@dataclass(frozen=True)
class LiveCatalogue:
    version: int | None  # None: the shipped catalogue, before the database was read
    catalogue: Catalogue


def compile_document(document: Any) -> Catalogue:
    """The runnable catalogue of a document; the shipped one when it is the shipped file
    unchanged (already compiled for the classifier). Raises CatalogueError."""
    if document == shipped_document():
        return default_catalogue()
    return Catalogue.from_data(document)


def tell_classifier(catalogue: Catalogue) -> None:
    """Hand `catalogue` to the default classifier, when routing offers the port."""
    from routing import classifier

    use = getattr(classifier, "use_catalogue", None)
    if use is None:  # an older routing: its classifier keeps the shipped catalogue
        log.warning("the classifier cannot take a catalogue version; it keeps the shipped one")
        return
    use(catalogue)


class CatalogueFeature:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        executor: Executor | None = None,
        on_live: OnLive | None = tell_classifier,
        poll_interval: float = 30.0,
    ) -> None:
        self.store = CatalogueStore(sessions)
        self.executor = executor
        self.on_live = on_live
        self.poll_interval = poll_interval
        self._live: LiveCatalogue | None = None
        self._poller: asyncio.Task[None] | None = None
        self._switching = asyncio.Lock()

    # ---- what runs --------------------------------------------------------------------------

    def live(self) -> Catalogue:
        """The catalogue that is live (the shipped one until `start` has read the database)."""
        return self._live.catalogue if self._live is not None else default_catalogue()

    @property
    def live_version(self) -> int | None:
        return self._live.version if self._live is not None else None

    def deadline_class_of(self, matter_id: str) -> DeadlineClass | None:
        """The live catalogue's deadline class of a matter; None for one it lacks. For the
        work orders' deadline table (`DeadlineTable.catalogue`)."""
        return self.live().deadline_class_of(matter_id)

    async def _go_live(self, version: int | None, catalogue: Catalogue) -> None:
        self._live = LiveCatalogue(version, catalogue)
        if self.on_live is not None:
            # In a worker: telling the classifier can load its model the first time.
            try:
                await in_worker(self.executor, self.on_live, catalogue)
            except Exception:  # the version is live all the same; calls go on
                log.exception("could not hand catalogue version %s to the classifier", version)
        log.info("dispatch catalogue version %s is live (%d matters)", version, len(catalogue))

    # ---- start, stop, refresh ---------------------------------------------------------------

    async def start(self) -> None:
        """Install the shipped catalogue in an empty database, make the live version run and
        watch for versions published by another process."""
        try:
            await in_worker(self.executor, self._install_shipped)
        except Exception:
            # The shipped catalogue still runs from the package; editing waits for a database.
            log.exception("could not install the shipped dispatch catalogue")
        await self.refresh()
        if self.poll_interval > 0 and self._poller is None:
            self._poller = asyncio.create_task(self._poll(), name="catalogue-refresh")

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    def _install_shipped(self) -> None:
        if self.store.ensure_shipped(shipped_document(), SYSTEM) is not None:
            log.info("the shipped dispatch catalogue is version 1")

    async def refresh(self) -> None:
        """Make the database's live version run if another one runs now. A version that no
        longer compiles (a stricter release) is logged and the running one kept."""
        async with self._switching:
            version = await in_worker(self.executor, self.store.live_id)
            if version is None or version == self.live_version:
                if self._live is None:
                    await self._go_live(None, await in_worker(self.executor, default_catalogue))
                return
            try:
                row = await in_worker(self.executor, self.store.get, version)
                catalogue = await in_worker(self.executor, compile_document, row.document)
            except Exception:
                log.exception("dispatch catalogue version %s cannot run; keeping the last", version)
                if self._live is None:
                    await self._go_live(None, await in_worker(self.executor, default_catalogue))
                return
            await self._go_live(version, catalogue)

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self.refresh()
            except Exception:  # a database hiccup: try again next time
                log.exception("could not check the live dispatch catalogue")

    # ---- changes that go live -----------------------------------------------------------------

    async def publish(self, revision: int, actor: Actor) -> CatalogueVersion:
        """Publish the draft read at `revision` and make it run. Raises CatalogueStoreError."""
        async with self._switching:
            row, catalogue = await in_worker(
                self.executor, self.store.publish, revision, actor, compile_document
            )
            await self._go_live(row.id, catalogue)
            return row

    async def rollback(self, actor: Actor, to: int | None = None) -> CatalogueVersion:
        """Make an earlier published version live again. Raises CatalogueStoreError."""
        async with self._switching:
            row, catalogue = await in_worker(
                self.executor, self.store.rollback, actor, compile_document, to
            )
            await self._go_live(row.id, catalogue)
            return row
