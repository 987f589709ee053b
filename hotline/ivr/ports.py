"""The IVR's ports, implemented over the domain packages.

The IVR defines what it calls: the `Router` of `ivr.routing_port` (`CallFacts` in,
`RouteTarget` out), and the `Classify` and `Listen` callables of `ivr.interpreter`. It
imports neither `routing` nor `asr`; this module is the other side of those ports:

- `IvrRouter` answers the IVR's `Router` with routing's `CallRouter`, whose `decide` is the
  only place that picks a queue; the service wraps the roster router in it;
- `static_router` is the same router without a roster, every queue staffed (the menu
  simulator, `hotline ivr simulate`, calls when no roster router is configured);
- `classify_text` runs `routing.classify` in a worker thread (of the calls' pool, when
  given one);
- `requested_service` is routing's reading of an explicit request for an emergency service
  ("帮我转120"), which the speech step hands over without asking;
- `AudioSocketListener` streams a caller's audio to the AudioSocket speech server.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import Mapping
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any

from asr import AudioSocketServer, DecodersBusy, SpeechStepError
from hotline.core.workers import in_worker
from ivr.interpreter import Channel, SpeechUnavailable
from ivr.routing_port import CallFacts, RouteTarget
from routing.decision import Decision, every_queue_staffed, header_value
from routing.handoff import requested_service
from routing.router import CallRouter
from telephony.agi import AGICommandError, AGISession

if TYPE_CHECKING:
    from routing import Classifier

__all__ = [
    "AudioSocketListener",
    "IvrRouter",
    "channel_variables",
    "classify_text",
    "requested_service",
    "send_to_queue",
    "static_router",
    "to_target",
]


class IvrRouter:
    """The IVR's `Router` port over routing's `CallRouter`."""

    def __init__(self, router: CallRouter) -> None:
        self.router = router

    async def route(self, facts: CallFacts) -> RouteTarget:
        return to_target(await self.router.route(facts))


def static_router(handoff_numbers: Mapping[str, str] | None = None) -> IvrRouter:
    """Routing without a roster: `decide` with someone on duty in every queue, no caller
    history, nothing stored."""
    return IvrRouter(CallRouter(lambda _at: every_queue_staffed(), handoff_numbers=handoff_numbers))


def to_target(decision: Decision) -> RouteTarget:
    return RouteTarget(
        queue=decision.queue,
        priority=decision.priority,
        tags=dict(decision.tags),
        reason=decision.explanation,
        handoff_number=decision.handoff_number,
        prompt=decision.prompt,
    )


def channel_variables(target: RouteTarget) -> dict[str, str]:
    """What the IVR sets on the channel before `continue_in_dialplan("hotline-queues",
    target.queue)`: the SIP header value, the name shown on the operator's phone, the queue
    priority."""
    return {
        "HOTLINE_TAG": header_value(target.tags),
        "CALLERID(name)": target.tags.get("display", ""),
        "QUEUE_PRIO": str(target.priority),
    }


async def send_to_queue(session: AGISession, target: RouteTarget) -> None:
    """Tag the channel and leave AGI into the target's queue (what the IVR's `route` step
    does; for flows that route without a menu)."""
    for name, value in channel_variables(target).items():
        await session.set_variable("__HOTLINE_TAG" if name == "HOTLINE_TAG" else name, value)
    await session.continue_in_dialplan("hotline-queues", target.queue)


async def classify_text(
    text: str, executor: Executor | None = None, classifier: Classifier | None = None
) -> dict[str, Any] | None:
    """The taxonomy object for `text` (None when there is nothing to classify); the model
    runs in a worker thread of `executor` (default: the loop's), so its first load never
    stalls other calls. `classifier`: the live model version's (default: the shipped one)."""
    from routing import ClassifyError, classify

    run = classifier.classify if classifier is not None else classify
    try:
        classification = await in_worker(executor, run, text)
    except ClassifyError:
        return None
    data: dict[str, Any] = classification.model_dump(mode="json")
    return data


class AudioSocketListener:
    """The `Listen` the interpreter receives when speech is enabled: it reserves a decoder
    (refused at once when all are busy), asks Asterisk to stream the caller's audio with
    ``EXEC AudioSocket`` and returns the transcript. Anything that keeps the step from running
    becomes `SpeechUnavailable`, and the menu falls back to its DTMF path or a human."""

    def __init__(
        self, server: AudioSocketServer, *, connect_host: str, no_input_seconds: float = 6
    ):
        self.server = server
        #: the address Asterisk connects to (as Asterisk sees it)
        self.connect_host = connect_host
        self.no_input_seconds = no_input_seconds

    async def __call__(self, channel: Channel, max_seconds: float, silence_ms: int) -> str | None:
        if not hasattr(channel, "audiosocket"):
            raise SpeechUnavailable("this channel cannot stream audio")
        call_id = uuid.uuid4()
        try:
            step = self.server.expect(
                call_id,
                max_seconds=max_seconds,
                silence_ms=silence_ms,
                no_input_seconds=min(self.no_input_seconds, max_seconds),
            )
        except DecodersBusy:
            raise SpeechUnavailable("all speech decoders are busy") from None
        streaming = asyncio.ensure_future(
            channel.audiosocket(
                str(call_id), self.connect_host, self.server.port, timeout=max_seconds + 30
            )
        )
        try:
            result = await step
        except SpeechStepError as exc:
            streaming.cancel()
            with contextlib.suppress(BaseException):
                await streaming
            raise SpeechUnavailable(str(exc)) from None
        except BaseException:
            step.cancel()
            streaming.cancel()
            raise
        try:
            await streaming  # returns once the server closed the socket
        except AGICommandError as exc:
            raise SpeechUnavailable(str(exc)) from None
        return result.text
