"""Deciding when a caller's turn to speak is over, from audio and keys alone (no I/O).

The step ends on the first of: trailing silence after speech, the maximum duration,
an end key (``#`` by default), the caller hanging up, or (optionally) no speech at all
within a time limit. Time is counted in audio received, not wall-clock time, so the
decision is the same however the audio is delayed or batched on its way here.

Speech versus silence is decided per 20 ms window by energy against an adaptive noise
floor: a window is speech when it is louder than both ``speech_dbfs`` and the noise floor
plus ``speech_margin_db``. The floor follows quiet windows down at once and rises slowly,
so steady line noise does not count as speech for long. Short clicks do not start speech:
``min_speech_ms`` of speech windows are needed (or the recogniser reporting words).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass

import numpy as np


class EndReason(enum.StrEnum):
    SILENCE = "silence"
    MAX_DURATION = "max_duration"
    DTMF = "dtmf"
    HANGUP = "hangup"
    NO_INPUT = "no_input"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class EndpointConfig:
    """How a speech step ends; validated where it is built."""

    silence_ms: int = 500
    max_seconds: float = 30.0
    end_digits: str = "#"
    no_input_seconds: float | None = None
    min_speech_ms: int = 100
    speech_dbfs: float = -45.0
    speech_margin_db: float = 12.0

    def __post_init__(self) -> None:
        if self.silence_ms <= 0:
            raise ValueError(f"silence_ms must be positive, got {self.silence_ms}")
        if not self.max_seconds > 0:
            raise ValueError(f"max_seconds must be positive, got {self.max_seconds}")
        if self.no_input_seconds is not None and not self.no_input_seconds > 0:
            raise ValueError(f"no_input_seconds must be positive, got {self.no_input_seconds}")
        if self.min_speech_ms < 0:
            raise ValueError(f"min_speech_ms must not be negative, got {self.min_speech_ms}")


_WINDOW_SECONDS = 0.02
_FLOOR_RISE_DB = 0.05  # per window: about 2.5 dB per second
_SILENT_DBFS = -96.0


def window_dbfs(pcm: bytes) -> float:
    """Level of 16-bit little-endian PCM in dB relative to full scale."""
    samples = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")
    if samples.size == 0:
        return _SILENT_DBFS
    rms = math.sqrt(float(np.mean(samples.astype(np.float64) ** 2)))
    if rms < 1.0:
        return _SILENT_DBFS
    return 20.0 * math.log10(rms / 32768.0)


#: keys kept from one speech step (a peer sending DTMF frames for a minute is not a reason
#: to hold them all)
MAX_DIGITS = 32


class Endpointer:
    """Feed audio, keys and hang-ups; read `reason` once the step has ended."""

    def __init__(self, config: EndpointConfig, sample_rate: int = 8000) -> None:
        self.config = config
        self._window_bytes = int(sample_rate * _WINDOW_SECONDS) * 2
        self._bytes_per_second = sample_rate * 2
        self._pending = b""
        self._noise_dbfs = config.speech_dbfs - config.speech_margin_db
        self._speech_seconds = 0.0
        self.audio_seconds = 0.0
        self.speech_started = False
        self.speech_ended_at: float | None = None  # audio time of the last speech window's end
        self.digits = ""
        self.reason: EndReason | None = None

    @property
    def ended(self) -> bool:
        return self.reason is not None

    def audio(self, pcm: bytes) -> int:
        """Account for received audio; return how many of its bytes belong to the step.

        Audio after the end point is not counted (the returned length is shorter).
        """
        if self.reason is not None:
            return 0
        prefix = len(self._pending)
        data = self._pending + pcm
        used = 0
        while len(data) - used >= self._window_bytes and self.reason is None:
            self._window(data[used : used + self._window_bytes])
            used += self._window_bytes
        if self.reason is None:
            self._pending = data[used:]
            return len(pcm)
        self._pending = b""
        return max(0, used - prefix)

    def _window(self, window: bytes) -> None:
        cfg = self.config
        self.audio_seconds += len(window) / self._bytes_per_second
        level = window_dbfs(window)
        if level < self._noise_dbfs:
            self._noise_dbfs = level
        else:
            self._noise_dbfs += _FLOOR_RISE_DB
        if level >= max(cfg.speech_dbfs, self._noise_dbfs + cfg.speech_margin_db):
            self._speech_seconds += _WINDOW_SECONDS
            self.speech_ended_at = self.audio_seconds
            if self._speech_seconds * 1000 >= cfg.min_speech_ms:
                self.speech_started = True
        if (
            self.speech_started
            and self.speech_ended_at is not None
            and (self.audio_seconds - self.speech_ended_at) * 1000 >= cfg.silence_ms
        ):
            self.reason = EndReason.SILENCE
        elif self.audio_seconds >= cfg.max_seconds:
            self.reason = EndReason.MAX_DURATION
        elif (
            cfg.no_input_seconds is not None
            and not self.speech_started
            and self.audio_seconds >= cfg.no_input_seconds
        ):
            self.reason = EndReason.NO_INPUT

    def decodable_seconds(self, keep_seconds: float) -> float:
        """How much of the audio so far the recogniser needs, in seconds from the start.

        Before speech starts, all of it. After, everything up to `keep_seconds` past the last
        speech: a silence that goes on may be the end of the turn, and decoding it would
        only delay the transcript. If the caller speaks again, the bound moves past the
        pause and the held audio is decoded after all, in order.
        """
        if not self.speech_started or self.speech_ended_at is None:
            return self.audio_seconds
        return min(self.audio_seconds, self.speech_ended_at + keep_seconds)

    def words_heard(self) -> None:
        """The recogniser produced text: speech has certainly started."""
        if not self.speech_started:
            self.speech_started = True
            if self.speech_ended_at is None:
                self.speech_ended_at = self.audio_seconds

    def key(self, digit: str) -> None:
        if self.reason is not None:
            return
        if digit in self.config.end_digits:
            self.reason = EndReason.DTMF
        elif len(self.digits) < MAX_DIGITS:
            self.digits += digit

    def end(self, reason: EndReason) -> None:
        """End for a reason outside the audio (hang-up, error, wall-clock limit)."""
        if self.reason is None:
            self.reason = reason
