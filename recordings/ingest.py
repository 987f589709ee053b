"""Ingest: from MixMonitor's file to an indexed, transcribed recording in the store.

Theory of operation: a durable job per call (kept by a `JobStore`, a database table in the
service) is created when the call starts and becomes claimable at hang-up. Workers claim one
job at a time with an atomic update, so no job is run by two workers, and run its steps in
order, recording each finished step:

    stored       the capture moved into the store, checksum and duration in the sidecar
    archived     transcoded (Opus or MP3), the copy decoded and checked, the original dropped
    transcribed  the transcript and word timings in the sidecar
    indexed      the index row written from the sidecar and the call's metadata (job done)

Every step can be repeated after a crash (moves are idempotent, the sidecar is rewritten
atomically), and a restart resumes each job from its last recorded step, so a recording is
never lost nor stored twice. Blocking work runs in a thread pool; the event loop only wakes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from recordings import media
from recordings.ids import check_recording_id
from recordings.store import RecordingStore, sha256_of

log = logging.getLogger("recordings.ingest")

STEPS = ("stored", "archived", "transcribed", "indexed")


@dataclass(frozen=True)
class IngestJob:
    unique_id: str
    capture_name: str  # file name in the monitor directory
    started_at: datetime
    ended_at: datetime | None
    step: str  # last finished step ("" for none)
    attempts: int


class JobStore(Protocol):
    def claim(self, worker: str, now: datetime) -> IngestJob | None:
        """Take the next due job for `worker` (atomically), or None."""

    def finished_step(self, unique_id: str, step: str) -> None: ...

    def postpone(self, unique_id: str, until: datetime, reason: str, attempt: bool) -> None:
        """Give the job back, due again at `until`; `attempt` counts it as a failed try."""

    def fail(self, unique_id: str, error: str) -> None: ...


class Catalogue(Protocol):
    def index(self, sidecar: dict[str, Any]) -> None:
        """Write (or rewrite) the index row of the recording the sidecar describes."""


Transcriber = Callable[[Path], dict[str, Any] | None]
"""Transcribes an audio file: {"text", "display", "words": [{word,start,end,confidence}]},
or None when no recogniser is available."""


@dataclass(frozen=True)
class IngestConfig:
    monitor_dir: Path
    archive_format: str = "opus"
    bitrate: str = "32k"
    keep_original: bool = False
    settle_seconds: float = 3.0
    missing_timeout: float = 120.0  # after hang-up, how long a missing capture is awaited
    retry_seconds: float = 1.0
    max_attempts: int = 5


class Postpone(Exception):
    """The job cannot go on yet (the capture is still being written)."""


class Ingestor:
    def __init__(
        self,
        store: RecordingStore,
        jobs: JobStore,
        catalogue: Catalogue,
        config: IngestConfig,
        transcriber: Transcriber | None = None,
        *,
        workers: int = 2,
        name: str = "ingest",
    ) -> None:
        self.store = store
        self.jobs = jobs
        self.catalogue = catalogue
        self.config = config
        self.transcriber = transcriber
        self.workers = workers
        self.name = name
        self.processed = 0
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="recordings")
        self._wake = asyncio.Event()
        self._stopping = threading.Event()
        self._tasks: list[asyncio.Task[None]] = []

    # ---- the event-loop side -----------------------------------------------------------
    def start(self) -> None:
        for n in range(self.workers):
            self._tasks.append(asyncio.create_task(self._loop(f"{self.name}-{n}")))

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        """Stop claiming jobs, wait for the steps in progress to end."""
        self._stopping.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.to_thread(self._pool.shutdown, wait=True)

    async def _loop(self, worker: str) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                did = await loop.run_in_executor(self._pool, self.run_one, worker)
            except Exception:
                # The database or the store is unavailable: the job stays where it was
                # (claims are durable); try again after a pause rather than stop ingesting.
                log.exception("ingest worker %s: a step failed; retrying later", worker)
                did = False
            if not did:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.config.retry_seconds)

    # ---- the worker side (blocking) ----------------------------------------------------
    def run_one(self, worker: str) -> bool:
        """Claim and run one job; return False when none was due."""
        if self._stopping.is_set():
            return False
        job = self.jobs.claim(worker, datetime.now(UTC))
        if job is None:
            return False
        self.process(job)
        return True

    def drain(self, worker: str = "drain") -> int:
        """Run due jobs until none is left (for the CLI and tests); return how many ran."""
        count = 0
        while self.run_one(worker):
            count += 1
        return count

    def process(self, job: IngestJob) -> None:
        try:
            check_recording_id(job.unique_id)
            done = STEPS.index(job.step) + 1 if job.step else 0
            for step in STEPS[done:]:
                getattr(self, f"_step_{step}")(job)
                self.jobs.finished_step(job.unique_id, step)
            self.processed += 1
            log.info("recording %s ingested", job.unique_id)
        except Postpone as exc:
            self.jobs.postpone(
                job.unique_id,
                datetime.now(UTC) + timedelta(seconds=self.config.retry_seconds),
                str(exc),
                attempt=False,
            )
        except Exception as exc:
            error = f"{type(exc).__name__}: {exc}"
            if job.attempts + 1 >= self.config.max_attempts:
                log.error("recording %s failed for good: %s", job.unique_id, error)
                self.jobs.fail(job.unique_id, error)
            else:
                log.warning("recording %s: %s; will retry", job.unique_id, error)
                self.jobs.postpone(
                    job.unique_id,
                    datetime.now(UTC) + timedelta(seconds=5 * 2**job.attempts),
                    error,
                    attempt=True,
                )

    def _sidecar(self, job: IngestJob) -> dict[str, Any]:
        data = self.store.read_sidecar(job.unique_id, job.started_at)
        if data is None:
            raise media.MediaError(f"{job.unique_id}: sidecar missing from the store")
        return data

    def _step_stored(self, job: IngestJob) -> None:
        source = self.config.monitor_dir / job.capture_name
        suffix = Path(job.capture_name).suffix.lower()
        if Path(job.capture_name).name != job.capture_name or suffix not in (".wav", ".gsm"):
            raise media.MediaError(f"{job.capture_name!r} is not a capture file name")
        check_recording_id(job.capture_name[: -len(suffix)])
        dest = self.store.path(job.unique_id, job.started_at, suffix)
        if not dest.exists():
            if not source.exists():
                since_end = (
                    (datetime.now(UTC) - job.ended_at).total_seconds() if job.ended_at else 0
                )
                if since_end < self.config.missing_timeout:
                    raise Postpone(f"{source.name}: not written yet")
                raise media.MediaError(f"{source}: no recording was written for this call")
            if not media.capture_finished(source, self.config.settle_seconds):
                raise Postpone(f"{source.name}: still being written")
        self.store.take(source, dest)
        info = media.probe(dest)
        self.store.write_sidecar(
            job.unique_id,
            job.started_at,
            {
                "unique_id": job.unique_id,
                "started_at": job.started_at.isoformat(),
                "ended_at": job.ended_at.isoformat() if job.ended_at else None,
                "original": dest.name,
                "original_sha256": sha256_of(dest),
                "duration": round(info.seconds, 3),
                "sample_rate": info.sample_rate,
                "channels": info.channels,
                "stored_at": datetime.now(UTC).isoformat(),
            },
        )

    def _step_archived(self, job: IngestJob) -> None:
        data = self._sidecar(job)
        suffix = media.ARCHIVE_FORMATS[self.config.archive_format][0]
        copy = self.store.path(job.unique_id, job.started_at, suffix)
        if not (copy.exists() and data.get("audio") == copy.name):
            original = self.store.path(job.unique_id, job.started_at, Path(data["original"]).suffix)
            media.transcode(original, copy, self.config.archive_format, self.config.bitrate)
        # The original stays until the copy decodes to the same length.
        media.verify_copy(copy, float(data["duration"]))
        data.update(
            audio=copy.name,
            audio_format=self.config.archive_format,
            audio_sha256=sha256_of(copy),
            audio_bytes=copy.stat().st_size,
        )
        if not self.config.keep_original:
            data["original"] = None
        self.store.write_sidecar(job.unique_id, job.started_at, data)
        if not self.config.keep_original:
            for capture_suffix in media.CAPTURE_FORMATS.values():
                self.store.path(job.unique_id, job.started_at, capture_suffix).unlink(
                    missing_ok=True
                )

    def _step_transcribed(self, job: IngestJob) -> None:
        data = self._sidecar(job)
        if self.transcriber is None:
            data["transcript"] = None
        else:
            audio = self.store.path(job.unique_id, job.started_at, Path(data["audio"]).suffix)
            data["transcript"] = self.transcriber(audio)
        self.store.write_sidecar(job.unique_id, job.started_at, data)

    def _step_indexed(self, job: IngestJob) -> None:
        self.catalogue.index(self._sidecar(job))


def capture_name(unique_id: str, capture_format: str) -> str:
    """The file name MixMonitor writes for a call (checked: it goes on the AMI wire)."""
    return check_recording_id(unique_id) + media.CAPTURE_FORMATS[capture_format]
