"""The Asterisk side of an AudioSocket call, simulated: for benchmarks and tests.

`play_call` connects like Asterisk's AudioSocket application, sends the UUID frame, then
20 ms audio frames paced in real time (the utterance, then silence) while watching for
the server to end the stream. Keys and a hang-up can be sent at given audio times.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from dataclasses import dataclass, field

from telephony.audiosocket import (
    AUDIO_FRAME_BYTES,
    Audio,
    Dtmf,
    FrameParser,
    Hangup,
    ProtocolError,
    Uuid,
)

FRAME_SECONDS = 0.02


@dataclass
class CallTrace:
    """What the simulated caller saw; times are `time.monotonic()` values."""

    started_at: float = 0.0
    speech_sent_at: float | None = None  # when the last frame of the utterance was sent
    closed_at: float | None = None  # when the server sent hang-up or closed the socket
    server_hangup: bool = False
    audio_seconds_sent: float = 0.0
    late_frames: int = 0  # frames sent more than one frame period behind schedule
    frames_from_server: list[object] = field(default_factory=list)


async def play_call(
    host: str,
    port: int,
    call_id: uuid.UUID,
    speech: bytes,
    *,
    tail_seconds: float = 5.0,
    realtime: bool = True,
    keys: tuple[tuple[float, str], ...] = (),
    hangup_at: float | None = None,
) -> CallTrace:
    """Play `speech` (8 kHz 16-bit mono) then up to `tail_seconds` of silence.

    `keys` are (audio second, digit) pairs; `hangup_at` sends a hang-up frame at that
    audio second and closes. Returns when the server ends the stream or audio runs out.
    """
    trace = CallTrace(started_at=time.monotonic())
    reader, writer = await asyncio.open_connection(host, port)
    closed = asyncio.Event()

    async def watch() -> None:
        parser = FrameParser()
        try:
            while True:
                data = await reader.read(4096)
                parser.receive_data(data)
                for frame in parser:
                    trace.frames_from_server.append(frame)
                    if isinstance(frame, Hangup):
                        trace.server_hangup = True
                        return
                if not data:
                    return
        except (ConnectionError, ProtocolError):
            return
        finally:
            trace.closed_at = time.monotonic()
            closed.set()

    watcher = asyncio.create_task(watch())
    loop = asyncio.get_running_loop()
    try:
        writer.write(bytes(Uuid(call_id)))
        silence = b"\x00" * AUDIO_FRAME_BYTES
        speech_frames = (len(speech) + AUDIO_FRAME_BYTES - 1) // AUDIO_FRAME_BYTES
        total_frames = speech_frames + int(tail_seconds / FRAME_SECONDS)
        pending_keys = sorted(keys)
        start = loop.time()
        for index in range(total_frames):
            if closed.is_set():
                break
            at = index * FRAME_SECONDS
            while pending_keys and pending_keys[0][0] <= at:
                writer.write(bytes(Dtmf(pending_keys.pop(0)[1])))
            if hangup_at is not None and at >= hangup_at:
                writer.write(bytes(Hangup()))
                await writer.drain()
                break
            if index < speech_frames:
                chunk = speech[index * AUDIO_FRAME_BYTES : (index + 1) * AUDIO_FRAME_BYTES]
                chunk = chunk.ljust(AUDIO_FRAME_BYTES, b"\x00")
            else:
                chunk = silence
            writer.write(bytes(Audio(chunk)))
            trace.audio_seconds_sent += FRAME_SECONDS
            if index == speech_frames - 1:
                trace.speech_sent_at = time.monotonic()
            try:
                await writer.drain()
            except ConnectionError:
                break
            if realtime:
                due = start + (index + 1) * FRAME_SECONDS
                delay = due - loop.time()
                if delay < -FRAME_SECONDS:
                    trace.late_frames += 1
                if delay > 0:
                    await asyncio.sleep(delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(closed.wait(), 10.0)
    finally:
        writer.close()
        watcher.cancel()
        with contextlib.suppress(BaseException):
            await watcher
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    return trace


def trim_silence(pcm: bytes, sample_rate: int = 8000, threshold_dbfs: float = -45.0) -> bytes:
    """Cut leading and trailing silence (20 ms windows below `threshold_dbfs`).

    Synthesised utterances end with a few hundred ms of silence; trimming makes "end of
    speech" the end of the data, so latency after end of speech is measured honestly.
    """
    from asr.endpoint import window_dbfs

    window = int(sample_rate * FRAME_SECONDS) * 2
    loud = [
        i for i in range(0, len(pcm), window) if window_dbfs(pcm[i : i + window]) >= threshold_dbfs
    ]
    if not loud:
        return b""
    return pcm[loud[0] : loud[-1] + window]


def synthesize_speech(text: str, voice: str = "ko", speed: int = 175) -> bytes:
    """Speak `text` with espeak-ng and return 8 kHz 16-bit mono PCM (via sox).

    For tests and benchmarks. Raises RuntimeError naming the missing tool.
    """
    import shutil
    import subprocess
    import tempfile
    from pathlib import Path

    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise RuntimeError(f"{tool} is not installed; install the Debian package {tool}")
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        raw = Path(tmp) / "speech.raw"
        subprocess.run(
            ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(wav), text],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            [
                "sox",
                str(wav),
                "-r",
                "8000",
                "-b",
                "16",
                "-c",
                "1",
                "-e",
                "signed-integer",
                "-t",
                "raw",
                str(raw),
            ],
            check=True,
            capture_output=True,
        )
        return raw.read_bytes()
