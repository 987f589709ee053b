"""Transcribing finished recordings (the recordings archive, `hotline asr transcribe`).

pydub reads plain PCM WAV files itself and decodes anything else (mu-law or A-law WAV,
MP3, Opus...) through ffmpeg. Audio is mixed to mono, made
16-bit and resampled to the model's rate before decoding.

Everything here blocks: call it from a worker thread or process, not the event loop.
"""

from __future__ import annotations

import os
import warnings
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from asr.engine import _new_recogniser
from asr.model import LoadedModel
from asr.results import Transcript

ProgressCallback = Callable[[float, float], None]
"""Called as progress(seconds_done, seconds_total) while a file is decoded."""


class AudioFileError(Exception):
    """A recording could not be read or decoded; the message names the file."""

    error_id = "asr-audio-unreadable"


@dataclass(frozen=True, slots=True)
class FileTranscript:
    path: Path
    transcript: Transcript

    def to_dict(self) -> dict[str, Any]:
        return {"file": str(self.path), **self.transcript.to_dict()}


def write_wav(path: str | os.PathLike[str], pcm: bytes, sample_rate: int = 8000) -> Path:
    """Write 16-bit mono PCM as a WAV file (as Asterisk plays and records it); returns the path."""
    with wave.open(os.fspath(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(sample_rate)
        wav.writeframes(pcm)
    return Path(path)


def load_pcm(path: str | os.PathLike[str], sample_rate: int) -> bytes:
    """Read any audio file as 16-bit little-endian mono PCM at `sample_rate`.

    Raises AudioFileError naming the file and the problem.
    """
    file = Path(path)
    if not file.is_file():
        raise AudioFileError(f"{file}: no such file")
    try:
        with warnings.catch_warnings():
            # pydub imports the deprecated audioop module; that is pydub's concern.
            warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
            from pydub import AudioSegment  # type: ignore[import-untyped,unused-ignore]

        # pydub reads plain PCM WAV itself and hands every other format to ffmpeg.
        segment = AudioSegment.from_file(str(file))
    except FileNotFoundError as exc:
        raise AudioFileError(
            f"{file}: decoding this format needs ffmpeg, which was not found ({exc})"
        ) from exc
    except Exception as exc:
        raise AudioFileError(f"{file}: not a readable audio file ({exc})") from exc
    segment = segment.set_channels(1).set_sample_width(2).set_frame_rate(sample_rate)
    return bytes(segment.raw_data)


def transcribe_pcm(
    model: LoadedModel,
    pcm: bytes,
    *,
    sample_rate: int | None = None,
    progress: ProgressCallback | None = None,
    chunk_seconds: float = 1.0,
) -> Transcript:
    """Decode 16-bit mono PCM (at the model's rate unless `sample_rate` says otherwise)."""
    import json

    rate = sample_rate or model.sample_rate
    recogniser = _new_recogniser(model.model, rate)
    bytes_per_second = rate * 2
    chunk = max(2, int(chunk_seconds * rate) * 2)
    total = len(pcm) / bytes_per_second
    segments: list[dict[str, Any]] = []
    for start in range(0, len(pcm), chunk):
        if recogniser.AcceptWaveform(pcm[start : start + chunk]):
            segments.append(json.loads(recogniser.Result()))
        if progress is not None:
            progress(min(len(pcm), start + chunk) / bytes_per_second, total)
    segments.append(json.loads(recogniser.FinalResult()))
    if progress is not None and not pcm:
        progress(0.0, 0.0)
    return Transcript.from_vosk(segments, total)


def transcribe_file(
    model: LoadedModel,
    path: str | os.PathLike[str],
    *,
    progress: ProgressCallback | None = None,
) -> FileTranscript:
    """Transcribe one recording of any rate, channel count or ffmpeg-readable format."""
    pcm = load_pcm(path, model.sample_rate)
    return FileTranscript(Path(path), transcribe_pcm(model, pcm, progress=progress))
