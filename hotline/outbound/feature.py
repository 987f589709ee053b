"""Outbound calls wired into the controller: the store, the dialer, the survey.

`Service` builds one `OutboundFeature`, starts it after the AMI client and sends it the
AsyncAGI sessions it `owns` (the answered survey calls, whose unique id is the attempt's
`call_id`). At start the attempts a previous run left in progress are marked interrupted and
called again, and the shipped survey is published on a new database. Three loops run: the
dialer, the survey finder (orders that reached `callback` get a survey job) and the queue
watcher (inbound queues read by AMI so outbound pauses while callers wait).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.settings import Settings
from hotline.ivr.prompts import VOICES, PromptStore, placeholder_file, synthesize
from hotline.orders.store import Act, OrderError, OrderStore
from hotline.orders.tables import WorkOrder
from hotline.outbound.dialer import (
    SURVEY_CONTEXT,
    AttemptEnd,
    Dialer,
    DialerConfig,
    OutboundCounters,
    watch_queues,
)
from hotline.outbound.rules import CallingHours, Limits, parse_delays
from hotline.outbound.store import Claimed, OutboundStore
from hotline.outbound.survey import (
    DEFAULT_SURVEY,
    SurveyAnswers,
    SurveyDocument,
    callback_result,
    parse_survey,
    reopen_reason,
    run_survey,
    verdict,
)
from routing.roster import HolidayCalendar
from telephony.agi import AGISession
from telephony.ami_client import AMIClient
from telephony.ami_protocol import Event

log = logging.getLogger("hotline.outbound")

#: who closes or reopens an order after a survey, in its history
ACTOR = "outbound-survey"


def dialer_config(settings: Settings) -> DialerConfig:
    """The dialer's rules from the settings; ValueError says which setting is wrong."""
    try:
        hours = CallingHours.parse(settings.outbound_hours, settings.outbound_on_holidays)
    except ValueError as exc:
        raise ValueError(f"HOTLINE_OUTBOUND_HOURS: {exc}") from None
    try:
        delays = parse_delays(settings.outbound_retry_delays)
    except ValueError as exc:
        raise ValueError(f"HOTLINE_OUTBOUND_RETRY_DELAYS: {exc}") from None
    if "{number}" not in settings.outbound_dial:
        raise ValueError("HOTLINE_OUTBOUND_DIAL: must contain {number}")
    return DialerConfig(
        hours=hours,
        limits=Limits(
            at_once=settings.outbound_at_once,
            per_minute=settings.outbound_per_minute,
            queue_waiting=settings.outbound_pause_queue_waiting,
        ),
        delays=delays,
        ring_seconds=settings.outbound_ring_seconds,
        dial=settings.outbound_dial,
        caller_id=settings.outbound_caller_id,
        poll=settings.outbound_poll_interval,
    )


class SurveyPrompts:
    """Survey prompts where Asterisk plays them: an uploaded recording of the prompt's name
    (the menus' prompt uploads), else an espeak-ng placeholder of its text."""

    def __init__(self, prompts: PromptStore) -> None:
        self.prompts = prompts

    def ensure(self, doc: SurveyDocument) -> None:
        """Make the placeholders `doc` needs (blocking). Raises ValueError naming a prompt
        whose placeholder cannot be made."""
        self.prompts.load()
        for name in doc.prompt_names():
            text = doc.prompts[name][doc.language]
            file = placeholder_file(name, doc.language, text)
            path = self.prompts.directory / f"{file}.wav"
            if path.exists() or (name, doc.language) in self.prompts.recorded:
                continue
            try:
                wav = synthesize(text, VOICES[doc.language])
            except Exception as exc:
                raise ValueError(f"prompts.{name}: no placeholder could be made ({exc})") from exc
            path.parent.mkdir(parents=True, exist_ok=True)
            Path(f"{path}.tmp").write_bytes(wav)
            Path(f"{path}.tmp").replace(path)

    def resolve(self, doc: SurveyDocument, name: str) -> str | None:
        file = self.prompts.recorded.get((name, doc.language))
        if file is None:
            text = doc.prompts.get(name, {}).get(doc.language, "")
            if not text.strip():
                return None
            file = placeholder_file(name, doc.language, text)
        return f"{self.prompts.play_dir}/{file}"


class OutboundFeature:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        ami: AMIClient,
        *,
        orders: OrderStore,
        prompts: PromptStore,
        calendar: Callable[[], HolidayCalendar],
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.settings = settings
        self.sessions = sessions
        self.ami = ami
        self.orders = orders
        self.calendar = calendar
        self.enabled = settings.outbound_enabled
        self.store = OutboundStore(
            sessions, settings.timezone, max_tries={"survey": settings.outbound_tries}
        )
        self.counters = OutboundCounters(registry)
        self.prompts = SurveyPrompts(prompts)
        self.dialer = Dialer(
            ami,
            self.store,
            dialer_config(settings),
            timezone=settings.timezone,
            is_holiday=self.is_holiday,
            after_answer=self.after_answer,
            counters=self.counters,
        )
        #: the live survey (version, document), read at start and after a publish
        self.survey: tuple[int, SurveyDocument] | None = None
        #: answered survey calls: call_id -> their answers once the survey has run
        self._surveys: dict[str, asyncio.Future[SurveyAnswers]] = {}
        self._started: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._unsubscribe: Callable[[], None] | None = None

    def is_holiday(self, day: date) -> bool:
        try:
            return self.calendar().days.get(day) == "holiday"
        except Exception:  # a roster that cannot load must not stop the calls
            log.exception("holiday calendar not readable; treating %s as a working day", day)
            return False

    # ---- lifecycle ---------------------------------------------------------------------
    async def start(self) -> None:
        recovered = await asyncio.to_thread(self.store.recover, self.dialer.clock())
        if recovered:
            log.warning(
                "%d outbound calls were cut short by the last stop: calling again", recovered
            )
        await self.reload_survey()
        self._unsubscribe = self.ami.on_event("Hangup", self._on_hangup)
        if not self.enabled:
            return
        self.dialer.start()
        self._tasks = [asyncio.create_task(self._find_surveys(), name="outbound-survey-finder")]
        if self.dialer.config.limits.queue_waiting:
            watch = watch_queues(self.dialer, self.settings.outbound_poll_interval)
            self._tasks.append(asyncio.create_task(watch, name="outbound-queue-watch"))

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.dialer.stop()
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    async def reload_survey(self) -> tuple[int, SurveyDocument] | None:
        """Read the live survey (publishing the shipped one on a new database) and make its
        placeholders. A live version that cannot be used leaves the previous one running."""
        try:
            self.survey = await asyncio.to_thread(self._load_survey)
        except Exception:
            log.exception("the live survey cannot be used; surveys keep the previous version")
        return self.survey

    def _load_survey(self) -> tuple[int, SurveyDocument]:
        row = self.store.live_survey()
        if row is None:
            doc = parse_survey(DEFAULT_SURVEY)
            self.prompts.ensure(doc)
            row = self.store.add_survey(
                DEFAULT_SURVEY, "system", "the shipped satisfaction survey", live=True
            )
        doc = parse_survey(row.document)
        self.prompts.ensure(doc)
        return row.id, doc

    def publish_survey(self, data: Any, by: str, comment: str = "") -> int:
        """Check `data`, make its prompts and put it live as a new version (blocking).
        Raises SurveyDocumentError or ValueError (a prompt); nothing is stored then."""
        doc = parse_survey(data)
        self.prompts.ensure(doc)
        return self.store.add_survey(doc.model_dump(), by, comment, live=True).id

    async def _find_surveys(self) -> None:
        while True:
            try:
                made = await asyncio.to_thread(self.schedule_surveys)
                if made:
                    self.dialer.wake()
            except Exception:
                log.exception("could not look for orders waiting for their callback")
            await asyncio.sleep(self.settings.outbound_survey_poll_interval)

    def schedule_surveys(self) -> int:
        """A survey job for every order waiting in `callback` without one (blocking);
        returns how many were added."""
        made = 0
        now = self.dialer.clock()
        for order_id, number, key in self.store.orders_to_survey():
            self.store.schedule("survey", number, due_at=now, order_id=order_id, dedupe_key=key)
            made += 1
        return made

    # ---- the survey call ---------------------------------------------------------------
    def owns(self, session: AGISession) -> bool:
        """Whether an AsyncAGI session is an outbound survey call (not an inbound call)."""
        return session.env.get("context") == SURVEY_CONTEXT

    async def handle_call(self, session: AGISession) -> None:
        """Run the survey on an answered survey call and hand the answers to its attempt."""
        call_id = session.unique_id
        future = self._survey_future(call_id)
        self._started.add(call_id)
        answers = SurveyAnswers()
        try:
            found = await asyncio.to_thread(self.store.attempt_by_call, call_id)
            if found is None or self.survey is None or future.done():
                log.warning("survey call %s belongs to no attempt in progress: hanging up", call_id)
                await session.hangup()
                return
            _, job = found
            version, doc = self.survey
            tag = f"survey_transfer_{job.order_id or 0}"
            answers = await run_survey(
                session, doc, lambda name: self.prompts.resolve(doc, name), tag
            )
            answers_version = version
            log.info("survey %s (version %d): keys %s", call_id, answers_version, answers.keys)
        finally:
            self._started.discard(call_id)
            if not future.done():
                future.set_result(answers)

    def _survey_future(self, call_id: str) -> asyncio.Future[SurveyAnswers]:
        future = self._surveys.get(call_id)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._surveys[call_id] = future
        return future

    def _on_hangup(self, event: Event) -> None:
        # A citizen who hangs up before the survey starts: the attempt need not wait.
        call_id = event.get("Uniqueid") or ""
        future = self._surveys.get(call_id)
        if future is not None and call_id not in self._started and not future.done():
            future.set_result(SurveyAnswers(hung_up=True))

    async def after_answer(self, claimed: Claimed) -> AttemptEnd:
        """The dialer's hook once a survey call is answered: wait for the survey, then file
        the answers on the order."""
        future = self._survey_future(claimed.call_id)
        try:
            answers = await asyncio.wait_for(future, self.dialer.config.survey_seconds)
        except TimeoutError:
            answers = SurveyAnswers(hung_up=True)
        finally:
            self._surveys.pop(claimed.call_id, None)
        return await asyncio.to_thread(self.file_answers, claimed, answers)

    def file_answers(self, claimed: Claimed, answers: SurveyAnswers) -> AttemptEnd:
        """Close or reopen the order from the answers (blocking)."""
        outcome = verdict(answers)
        detail = answers.to_dict()
        if outcome in ("no_key", "incomplete"):
            return AttemptEnd("no_answer", False, answers.keys, detail, note=outcome)
        result = callback_result(answers)
        if result is not None:
            self.counters.satisfaction.labels(
                "yes" if result["solved"] else "no", result["satisfaction"]
            ).inc()
        if outcome == "transferred":
            return AttemptEnd(
                "completed",
                True,
                answers.keys,
                detail,
                result=detail,
                note="the citizen asked for the callback group in person",
            )
        number = self._order_number(claimed.order_id)
        note = "closed" if outcome == "close" else "reopened for dispatch"
        if number is None:
            note = "answers kept; the work order no longer exists"
        else:
            act = (
                Act("close", ACTOR, callback_result=result)
                if outcome == "close"
                else Act("reopen", ACTOR, text=reopen_reason(answers), callback_result=result)
            )
            try:
                self.orders.act(number, act)
            except OrderError as exc:
                note = f"answers kept; the order was not changed: {exc}"
                log.warning("survey of order %s not filed: %s", number, exc)
        return AttemptEnd("completed", True, answers.keys, detail, result=detail, note=note)

    def _order_number(self, order_id: int | None) -> str | None:
        if order_id is None:
            return None
        with self.sessions() as s:
            return s.scalar(select(WorkOrder.number).where(WorkOrder.id == order_id))
