"""Speech for `collect_speech` nodes: the AudioSocket listener and the classifier adapter.

`AudioSocketListener` is the `Listen` the interpreter receives when speech is enabled: it
reserves a decoder (refused at once when all are busy), asks Asterisk to stream the caller's
audio with ``EXEC AudioSocket`` and returns the transcript. Anything that keeps the step from
running becomes `SpeechUnavailable`, and the menu falls back to its DTMF path or a human.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any, Protocol

from asr import AudioSocketServer, DecodersBusy, SpeechStepError
from ivr.interpreter import Channel, SpeechUnavailable
from telephony.agi import AGICommandError


class AudioSocketChannel(Channel, Protocol):
    async def audiosocket(
        self, stream_id: str, host: str, port: int, *, timeout: float = 600
    ) -> None: ...


class AudioSocketListener:
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


async def classify_text(text: str) -> dict[str, Any] | None:
    """The taxonomy object for `text` (None when there is nothing to classify); the model
    runs in a worker thread so its first load never stalls other calls."""
    from routing import ClassifyError, classify

    try:
        classification = await asyncio.to_thread(classify, text)
    except ClassifyError:
        return None
    data: dict[str, Any] = classification.model_dump(mode="json")
    return data
