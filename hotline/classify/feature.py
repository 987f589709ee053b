"""The live classifier model in the controller.

`LiveModel.current` is the classifier every call and written request is classified with: the
live version's model (hotline.classify.store), or the shipped one (version 0). The controller
loads it at start and then reads the one-row live table every `poll_seconds` (5 s): a
`hotline classify use N` on any machine reaches every controller sharing the database within
a few seconds, with no signal or API between them. A version is loaded in a worker thread and
swapped in whole (one attribute), so a call in progress keeps the classifier it started a step
with. A version that cannot be loaded (damaged, from another release) is logged once and the
classifier in use stays; the database being away keeps it too. A city version decides
departments with the dispatch catalogue the default classifier was given (the catalogue
feature's live version), checked at every poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy.orm import Session, sessionmaker

from hotline.classify.store import SHIPPED, ModelStore, VersionError
from routing import Classifier, default_classifier

log = logging.getLogger("hotline.classify")

POLL_SECONDS = 5.0


def follow_catalogue(classifier: Classifier) -> None:
    """Give a city version the dispatch catalogue the default classifier has: the catalogue
    feature hands its live version to the default classifier only (hotline.catalogue)."""
    shipped = default_classifier()
    if classifier is shipped:
        return
    catalogue = getattr(shipped, "catalogue", None)
    use = getattr(classifier, "use_catalogue", None)
    if use is not None and getattr(classifier, "catalogue", None) is not catalogue:
        use(catalogue)


class LiveModel:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        poll_seconds: float = POLL_SECONDS,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.store = ModelStore(sessions)
        self.poll_seconds = poll_seconds
        self._classifier: Classifier | None = None
        #: the version `current` classifies with (None before the first load: shipped)
        self.version: int | None = None
        self._refused: int | None = None  # a live version that could not be loaded
        self._task: asyncio.Task[None] | None = None
        self._gauge = (
            Gauge(
                "hotline_classifier_model_version",
                "The classifier model version in use (0: the shipped model)",
                registry=registry,
            )
            if registry is not None
            else None
        )

    @property
    def current(self) -> Classifier:
        return self._classifier if self._classifier is not None else default_classifier()

    def refresh(self) -> bool:
        """Load the live version if it changed (blocking: run it in a worker thread).
        Returns whether the classifier in use changed."""
        live = self.store.live().version
        if self._classifier is not None:
            follow_catalogue(self._classifier)
        if live == self.version or live == self._refused:
            return False
        if live == SHIPPED:
            classifier = default_classifier()
        else:
            try:
                classifier = Classifier(self.store.model(live))
                follow_catalogue(classifier)
            except VersionError as exc:
                self._refused = live
                log.error("%s; the classifier stays on version %s", exc, self.version or 0)
                return False
        self._classifier, self.version, self._refused = classifier, live, None
        if self._gauge is not None:
            self._gauge.set(live)
        log.info("classifier model version %d is live", live)
        return True

    async def start(self) -> None:
        """Load the live version now, then follow changes."""
        try:
            await asyncio.to_thread(self.refresh)
        except Exception:  # calls go on with the shipped model
            log.exception("could not read the live classifier version; using the shipped one")
        self._task = asyncio.create_task(self._follow(), name="classifier-live-version")

    async def _follow(self) -> None:
        while True:
            await asyncio.sleep(self.poll_seconds)
            try:
                await asyncio.to_thread(self.refresh)
            except Exception:
                log.warning("could not read the live classifier version", exc_info=True)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
