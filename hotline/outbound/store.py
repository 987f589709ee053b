"""The outbound schedule in the database: the only code that writes the outbound tables
(`hotline.outbound.tables`). Blocking: call from a worker thread.

Theory of operation: `schedule` adds a job (or updates the open job with the same dedupe
key). The dialer `claim`s the most urgent due job: one conditional UPDATE moves it from
pending to calling, so of two processes only one wins, and the attempt row is written in the
same transaction before any call is placed. A number on the do-not-call list, or a survey
whose order has left `callback`, is settled there and then, without a call. `finish` writes
the attempt's outcome and the job's next state (pending again at its next slot, done,
gave_up). At start-up `recover` marks the attempts a previous process left in progress as
`interrupted` and makes their jobs due again: the schedule neither loses nor doubles a call.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import String, and_, cast, delete, exists, func, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, sessionmaker

from hotline.core.db import utcnow
from hotline.orders.tables import WorkOrder, WorkOrderEvent
from hotline.outbound.tables import (
    DoNotCall,
    OutboundAttempt,
    OutboundJob,
    OutboundSetting,
    SurveyVersion,
)

KINDS = ("survey", "missed", "queue_callback")
#: a job's states; `OPEN` ones may still place a call
STATES = ("pending", "calling", "done", "gave_up", "cancelled")
OPEN = ("pending", "calling")
#: an attempt's outcomes
OUTCOMES = (
    "in_progress",
    "answered",
    "completed",
    "busy",
    "no_answer",
    "failed",
    "interrupted",
)
#: what a number may look like: digits, a leading + (no letters, nothing for a dial string)
NUMBER = re.compile(r"^\+?[0-9]{3,20}$")
MAX_DETAIL_BYTES = 4000
MAX_PAGE = 200


class OutboundError(Exception):
    """A request the schedule refuses; `error_id` and `status` for the API."""

    def __init__(self, error_id: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.status = status


def as_utc(value: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored here is UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def check_number(number: str) -> str:
    """The number as dialled, or OutboundError: it reaches a dial string."""
    value = number.strip().replace(" ", "").replace("-", "")
    if not NUMBER.match(value):
        raise OutboundError(
            "bad_number", "number: 3 to 20 digits, optionally after a '+' (no letters)"
        )
    return value


@dataclass(frozen=True)
class Claimed:
    """A job taken by one dialer for one attempt."""

    job_id: int
    attempt_id: int
    #: the originated channel's unique id (ChannelId): unique per attempt
    call_id: str
    kind: str
    number: str
    order_id: int | None
    priority: int
    detail: dict[str, Any]
    #: the try this attempt is (1 for the first)
    attempt: int
    max_tries: int


class OutboundStore:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        timezone: str = "Asia/Shanghai",
        *,
        max_tries: Mapping[str, int] | None = None,
    ) -> None:
        self._sessions = sessions
        self.timezone = timezone
        #: tries per kind unless `schedule` names them (3 by default)
        self.max_tries = dict(max_tries or {})

    # ---- scheduling ------------------------------------------------------------------
    def schedule(
        self,
        kind: str,
        number: str,
        *,
        due_at: datetime,
        order_id: int | None = None,
        priority: int = 0,
        detail: Mapping[str, Any] | None = None,
        dedupe_key: str | None = None,
        max_tries: int | None = None,
    ) -> int:
        """Add a job to call `number` from `due_at`; return its id. An open job with the same
        `dedupe_key` is updated instead (its detail merged, the earlier due time and the
        higher priority kept; a job being called keeps its call) and its id returned.
        Raises OutboundError naming the bad value."""
        if kind not in KINDS:
            raise OutboundError("bad_kind", f"kind: one of {', '.join(KINDS)}")
        number = check_number(number)
        if due_at.tzinfo is None:
            raise OutboundError("bad_value", "due_at: a time with its time zone")
        if not -100 <= priority <= 100:
            raise OutboundError("bad_value", "priority: between -100 and 100")
        values = dict(detail or {})
        if len(repr(values)) > MAX_DETAIL_BYTES:
            raise OutboundError("bad_value", f"detail: at most {MAX_DETAIL_BYTES} characters")
        if dedupe_key is not None and not 1 <= len(dedupe_key) <= 128:
            raise OutboundError("bad_value", "dedupe_key: 1 to 128 characters")
        tries = max_tries if max_tries is not None else self.max_tries.get(kind, 3)
        if not 1 <= tries <= 20:
            raise OutboundError("bad_value", "max_tries: between 1 and 20")
        due = as_utc(due_at)
        assert due is not None
        for _ in range(3):
            if dedupe_key is not None:
                found = self._update_open(dedupe_key, due, order_id, priority, values)
                if found is not None:
                    return found
            try:
                with self._sessions() as s, s.begin():
                    now = utcnow()
                    job = OutboundJob(
                        kind=kind,
                        number=number,
                        order_id=order_id,
                        state="pending",
                        priority=priority,
                        detail=values,
                        dedupe_key=dedupe_key,
                        open_key=dedupe_key,
                        due_at=due,
                        tries=0,
                        max_tries=tries,
                        worker="",
                        outcome="",
                        note="",
                        created_at=now,
                        updated_at=now,
                    )
                    s.add(job)
                    s.flush()
                    return job.id
            except IntegrityError:
                continue  # another process opened the same key meanwhile: update that one
        raise OutboundError("busy", f"dedupe_key {dedupe_key!r}: could not be scheduled", 409)

    def _update_open(
        self,
        key: str,
        due: datetime,
        order_id: int | None,
        priority: int,
        detail: dict[str, Any],
    ) -> int | None:
        with self._sessions() as s, s.begin():
            job = s.scalar(select(OutboundJob).where(OutboundJob.open_key == key).with_for_update())
            if job is None:
                return None
            if job.state == "pending":
                current = as_utc(job.due_at)
                assert current is not None
                job.due_at = min(current, due)
                job.priority = max(job.priority, priority)
                job.detail = {**(job.detail or {}), **detail}
                if order_id is not None:
                    job.order_id = order_id
                job.updated_at = utcnow()
            return job.id

    # ---- the dialer's side -------------------------------------------------------------
    def claim(
        self,
        worker: str,
        now: datetime,
        *,
        call_prefix: str = "ob",
        queues: Collection[str] | None = None,
    ) -> Claimed | None:
        """Take the most urgent due job for one attempt (higher priority first, then the
        earliest due), or None. Jobs whose number is on the do-not-call list, or another
        job's call to the same number is in progress, are not called; a number on the list
        cancels its job, as does a survey whose order is no longer in `callback`. With
        `queues`, a call-back (every kind but survey) is taken only when the queue it joins
        (detail "queue", intake when unset) is one of them."""
        busy = aliased(OutboundJob)
        joins = func.coalesce(func.nullif(OutboundJob.detail["queue"].as_string(), ""), "intake")
        only = (
            or_(OutboundJob.kind == "survey", joins.in_(sorted(queues)))
            if queues is not None
            else literal(True)
        )
        for _ in range(10):
            with self._sessions() as s:
                candidate = s.scalar(
                    select(OutboundJob)
                    .where(OutboundJob.state == "pending", OutboundJob.due_at <= now, only)
                    .where(
                        ~exists().where(
                            and_(busy.number == OutboundJob.number, busy.state == "calling")
                        )
                    )
                    .order_by(OutboundJob.priority.desc(), OutboundJob.due_at, OutboundJob.id)
                    .limit(1)
                )
                if candidate is None:
                    return None
                reason = self._why_not(s, candidate)
                if reason is not None:
                    s.execute(
                        update(OutboundJob)
                        .where(OutboundJob.id == candidate.id, OutboundJob.state == "pending")
                        .values(
                            state="cancelled",
                            open_key=None,
                            outcome=reason,
                            note=_NOTES[reason],
                            updated_at=now,
                        )
                    )
                    s.commit()
                    continue
                taken = s.execute(
                    update(OutboundJob)
                    .where(OutboundJob.id == candidate.id, OutboundJob.state == "pending")
                    .values(state="calling", worker=worker, claimed_at=now, updated_at=now)
                )
                if taken.rowcount != 1:  # type: ignore[attr-defined]
                    s.rollback()
                    continue
                attempt = OutboundAttempt(
                    job_id=candidate.id,
                    call_id=f"{call_prefix}-{candidate.id}-{candidate.tries + 1}-{_suffix()}",
                    worker=worker,
                    started_at=now,
                    outcome="in_progress",
                    cause="",
                    keys="",
                    detail={},
                )
                s.add(attempt)
                s.flush()
                claimed = Claimed(
                    job_id=candidate.id,
                    attempt_id=attempt.id,
                    call_id=attempt.call_id,
                    kind=candidate.kind,
                    number=candidate.number,
                    order_id=candidate.order_id,
                    priority=candidate.priority,
                    detail=dict(candidate.detail or {}),
                    attempt=candidate.tries + 1,
                    max_tries=candidate.max_tries,
                )
                s.commit()
                return claimed
        return None

    def _why_not(self, s: Session, job: OutboundJob) -> str | None:
        if s.get(DoNotCall, job.number) is not None:
            return "do_not_call"
        if job.kind == "survey" and job.order_id is not None:
            status = s.scalar(select(WorkOrder.status).where(WorkOrder.id == job.order_id))
            if status != "callback":
                return "order_moved"
        return None

    def finish(
        self,
        attempt_id: int,
        outcome: str,
        *,
        now: datetime,
        job_state: str,
        next_due: datetime | None = None,
        cause: str = "",
        keys: str = "",
        detail: Mapping[str, Any] | None = None,
        result: Mapping[str, Any] | None = None,
        note: str = "",
        counts: bool = True,
    ) -> None:
        """Write attempt `attempt_id`'s outcome and move its job to `job_state` (pending:
        due again at `next_due`). `counts`: the attempt used up one of the job's tries."""
        if outcome not in OUTCOMES or job_state not in STATES or job_state == "calling":
            raise ValueError(f"outcome {outcome!r} / state {job_state!r}")
        with self._sessions() as s, s.begin():
            attempt = s.get(OutboundAttempt, attempt_id)
            if attempt is None:
                raise OutboundError("not_found", f"no attempt {attempt_id}", 404)
            attempt.outcome = outcome
            attempt.ended_at = now
            attempt.cause = cause[:64]
            attempt.keys = keys[:32]
            attempt.detail = dict(detail or {})
            job = s.get(OutboundJob, attempt.job_id)
            assert job is not None
            values: dict[str, Any] = {
                "state": job_state,
                "worker": "",
                "claimed_at": None,
                "outcome": outcome,
                "updated_at": now,
                "tries": job.tries + (1 if counts else 0),
            }
            if job_state == "pending":
                values["due_at"] = next_due or now
            else:
                values["open_key"] = None
            if result is not None:
                values["result"] = dict(result)
            if note:
                values["note"] = note[:2000]
            s.execute(update(OutboundJob).where(OutboundJob.id == job.id).values(**values))

    def recover(self, now: datetime, *, worker: str | None = None) -> int:
        """Attempts left in progress by a process that is gone (every one, or those of
        `worker`) are marked `interrupted` and their jobs made due now, the try not counted.
        Returns how many."""
        with self._sessions() as s, s.begin():
            query = select(OutboundAttempt).where(OutboundAttempt.outcome == "in_progress")
            if worker is not None:
                query = query.where(OutboundAttempt.worker == worker)
            attempts = list(s.scalars(query.with_for_update()).all())
            for attempt in attempts:
                attempt.outcome = "interrupted"
                attempt.ended_at = now
                attempt.cause = "controller stopped during the call"
            job_ids = {a.job_id for a in attempts}
            stuck = select(OutboundJob.id).where(OutboundJob.state == "calling")
            if worker is not None:
                stuck = stuck.where(OutboundJob.worker == worker)
            job_ids |= set(s.scalars(stuck).all())
            if job_ids:
                s.execute(
                    update(OutboundJob)
                    .where(OutboundJob.id.in_(job_ids), OutboundJob.state == "calling")
                    .values(
                        state="pending",
                        worker="",
                        claimed_at=None,
                        due_at=now,
                        outcome="interrupted",
                        updated_at=now,
                    )
                )
            return len(job_ids)

    def load(self, now: datetime) -> tuple[int, int]:
        """(calls in progress, attempts started in the minute before `now`)."""
        with self._sessions() as s:
            calling = s.scalar(
                select(func.count())
                .select_from(OutboundAttempt)
                .where(OutboundAttempt.outcome == "in_progress")
            )
            recent = s.scalar(
                select(func.count())
                .select_from(OutboundAttempt)
                .where(OutboundAttempt.started_at > now - timedelta(minutes=1))
            )
            return int(calling or 0), int(recent or 0)

    def next_due(self) -> datetime | None:
        with self._sessions() as s:
            return as_utc(
                s.scalar(select(func.min(OutboundJob.due_at)).where(OutboundJob.state == "pending"))
            )

    def attempt_by_call(self, call_id: str) -> tuple[OutboundAttempt, OutboundJob] | None:
        with self._sessions() as s:
            attempt = s.scalar(select(OutboundAttempt).where(OutboundAttempt.call_id == call_id))
            if attempt is None:
                return None
            job = s.get(OutboundJob, attempt.job_id)
            assert job is not None
            return attempt, job

    # ---- people's side -------------------------------------------------------------------
    def job(self, job_id: int) -> OutboundJob:
        with self._sessions() as s:
            job = s.get(OutboundJob, job_id)
        if job is None:
            raise OutboundError("not_found", f"no outbound job {job_id}", 404)
        return job

    def jobs(
        self,
        *,
        state: Sequence[str] = (),
        kind: Sequence[str] = (),
        order_id: int | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[int, list[OutboundJob]]:
        """(total, one page) of jobs, newest first."""
        for value, allowed, what in ((state, STATES, "state"), (kind, KINDS, "kind")):
            bad = sorted(set(value) - set(allowed))
            if bad:
                raise OutboundError("bad_value", f"{what}: {bad} unknown; one of {allowed}")
        if not 1 <= limit <= MAX_PAGE or offset < 0:
            raise OutboundError("bad_value", f"limit: 1 to {MAX_PAGE}; offset: 0 or more")
        query = select(OutboundJob)
        if state:
            query = query.where(OutboundJob.state.in_(state))
        if kind:
            query = query.where(OutboundJob.kind.in_(kind))
        if order_id is not None:
            query = query.where(OutboundJob.order_id == order_id)
        with self._sessions() as s:
            total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = s.scalars(
                query.order_by(OutboundJob.id.desc()).limit(limit).offset(offset)
            ).all()
            return int(total), list(rows)

    def attempts(self, job_ids: Sequence[int]) -> dict[int, list[OutboundAttempt]]:
        found: dict[int, list[OutboundAttempt]] = {job_id: [] for job_id in job_ids}
        if not job_ids:
            return found
        with self._sessions() as s:
            rows = s.scalars(
                select(OutboundAttempt)
                .where(OutboundAttempt.job_id.in_(job_ids))
                .order_by(OutboundAttempt.id)
            ).all()
        for row in rows:
            found[row.job_id].append(row)
        return found

    def retry_now(self, job_id: int, now: datetime, by: str) -> OutboundJob:
        """Make a waiting, given-up or cancelled job due now, with one more try if its tries
        are used up. Raises OutboundError: not_found, busy (being called, or another open
        job has its key), done."""
        with self._sessions() as s, s.begin():
            job = s.get(OutboundJob, job_id, with_for_update=True)
            if job is None:
                raise OutboundError("not_found", f"no outbound job {job_id}", 404)
            if job.state == "calling":
                raise OutboundError("busy", f"job {job_id} is being called now", 409)
            if job.state == "done":
                raise OutboundError("done", f"job {job_id} is done: nothing to retry", 409)
            if job.dedupe_key and job.state != "pending":
                other = s.scalar(
                    select(OutboundJob.id).where(OutboundJob.open_key == job.dedupe_key)
                )
                if other is not None:
                    raise OutboundError(
                        "busy", f"job {other} is already open for the same citizen", 409
                    )
            job.state = "pending"
            job.open_key = job.dedupe_key
            job.due_at = now
            job.max_tries = max(job.max_tries, job.tries + 1)
            job.note = f"retry asked by {by}"
            job.updated_at = now
            return job

    def cancel(self, job_id: int, by: str, now: datetime) -> OutboundJob:
        with self._sessions() as s, s.begin():
            job = s.get(OutboundJob, job_id, with_for_update=True)
            if job is None:
                raise OutboundError("not_found", f"no outbound job {job_id}", 404)
            if job.state != "pending":
                raise OutboundError("busy", f"job {job_id} is {job.state}: not cancelled", 409)
            job.state = "cancelled"
            job.open_key = None
            job.outcome = "cancelled"
            job.note = f"cancelled by {by}"
            job.updated_at = now
            return job

    def counts(self) -> dict[str, int]:
        with self._sessions() as s:
            rows = s.execute(
                select(OutboundJob.state, func.count()).group_by(OutboundJob.state)
            ).all()
            return {state: int(n) for state, n in rows}

    def survey_keys(self, order_ids: Sequence[int]) -> set[str]:
        """The dedupe keys of the survey jobs of these orders, open or not."""
        if not order_ids:
            return set()
        with self._sessions() as s:
            return {
                key
                for key in s.scalars(
                    select(OutboundJob.dedupe_key).where(
                        OutboundJob.kind == "survey", OutboundJob.order_id.in_(order_ids)
                    )
                )
                if key
            }

    def orders_to_survey(self, limit: int = 200) -> list[tuple[int, str, str]]:
        """(order id, citizen's number, dedupe key) of orders waiting in `callback` for a
        survey that has no survey job yet for this time in `callback` (the key names the
        history row that moved it there: an order reopened and back again is asked again).
        Orders whose citizen wants no call back, or without a number, are left to people."""
        latest = (
            select(WorkOrderEvent.order_id, func.max(WorkOrderEvent.id).label("event_id"))
            .join(WorkOrder, WorkOrder.id == WorkOrderEvent.order_id)
            .where(WorkOrder.status == "callback", WorkOrderEvent.to_status == "callback")
            .group_by(WorkOrderEvent.order_id)
            .subquery()
        )
        key = (
            literal("survey:") + cast(WorkOrder.id, String) + ":" + cast(latest.c.event_id, String)
        )
        asked = exists().where(
            OutboundJob.kind == "survey",
            OutboundJob.order_id == WorkOrder.id,
            OutboundJob.dedupe_key == key,
        )
        with self._sessions() as s:
            rows = s.execute(
                select(WorkOrder.id, WorkOrder.caller_number, latest.c.event_id)
                .join(latest, latest.c.order_id == WorkOrder.id)
                .where(
                    WorkOrder.status == "callback",
                    WorkOrder.needs_callback.is_(True),
                    WorkOrder.caller_number != "",
                    ~asked,
                )
                .order_by(WorkOrder.id)
                .limit(limit)
            ).all()
        return [(int(i), str(n), f"survey:{i}:{e}") for i, n, e in rows if NUMBER.match(n)]

    # ---- do-not-call list ----------------------------------------------------------------
    def do_not_call(self) -> list[DoNotCall]:
        with self._sessions() as s:
            return list(s.scalars(select(DoNotCall).order_by(DoNotCall.added_at.desc())).all())

    def add_do_not_call(self, number: str, by: str, reason: str = "") -> DoNotCall:
        """Put `number` on the list (again: its reason is updated); its open jobs are
        cancelled when the dialer reaches them."""
        number = check_number(number)
        if len(reason) > 200 or any(ch in reason for ch in "\r\n\x00"):
            raise OutboundError("bad_value", "reason: one line of at most 200 characters")
        with self._sessions() as s, s.begin():
            row = s.get(DoNotCall, number)
            if row is None:
                row = DoNotCall(number=number, reason=reason, added_by=by, added_at=utcnow())
                s.add(row)
            else:
                row.reason = reason
                row.added_by = by
            return row

    def remove_do_not_call(self, number: str) -> bool:
        number = check_number(number)
        with self._sessions() as s, s.begin():
            result = s.execute(delete(DoNotCall).where(DoNotCall.number == number))
            return bool(result.rowcount)  # type: ignore[attr-defined]

    def on_do_not_call(self, number: str) -> bool:
        with self._sessions() as s:
            return s.get(DoNotCall, number) is not None

    # ---- switches shared by every process ------------------------------------------------
    def paused(self) -> tuple[bool, str, str]:
        """(paused, by whom, why) of the dialer as people set it."""
        with self._sessions() as s:
            row = s.get(OutboundSetting, "paused")
        if row is None or not row.value:
            return False, "", ""
        _, _, reason = row.value.partition("|")
        return True, row.changed_by, reason

    def set_paused(self, paused: bool, by: str, reason: str = "") -> None:
        if len(reason) > 150 or any(ch in reason for ch in "\r\n\x00"):
            raise OutboundError("bad_value", "reason: one line of at most 150 characters")
        with self._sessions() as s, s.begin():
            row = s.get(OutboundSetting, "paused")
            if row is None:
                row = OutboundSetting(name="paused")
                s.add(row)
            row.value = f"1|{reason}" if paused else ""
            row.changed_by = by
            row.changed_at = utcnow()

    # ---- survey versions -----------------------------------------------------------------
    def survey_versions(self) -> list[SurveyVersion]:
        with self._sessions() as s:
            return list(s.scalars(select(SurveyVersion).order_by(SurveyVersion.id)).all())

    def live_survey(self) -> SurveyVersion | None:
        with self._sessions() as s:
            return s.scalar(
                select(SurveyVersion)
                .where(SurveyVersion.live_since.is_not(None))
                .order_by(SurveyVersion.live_since.desc(), SurveyVersion.id.desc())
                .limit(1)
            )

    def add_survey(
        self, document: Mapping[str, Any], by: str, comment: str = "", *, live: bool = False
    ) -> SurveyVersion:
        """Store a survey document (checked by the caller) as a new version; live at once
        when `live`."""
        with self._sessions() as s, s.begin():
            now = utcnow()
            row = SurveyVersion(
                document=dict(document),
                comment=comment[:200],
                created_by=by,
                created_at=now,
                live_since=now if live else None,
                published_by=by if live else "",
            )
            s.add(row)
            s.flush()
            return row

    def make_live(self, version: int, by: str) -> SurveyVersion:
        """Put an existing version live (publishing a draft, or rolling back to one)."""
        with self._sessions() as s, s.begin():
            row = s.get(SurveyVersion, version)
            if row is None:
                raise OutboundError("not_found", f"no survey version {version}", 404)
            row.live_since = utcnow()
            row.published_by = by
            return row


_NOTES = {
    "do_not_call": "the number is on the do-not-call list",
    "order_moved": "the work order is no longer waiting for its callback",
}


def _suffix() -> str:
    import secrets

    return secrets.token_hex(3)
