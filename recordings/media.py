"""Audio facts and transcoding (pydub over ffmpeg). Everything here blocks.

MixMonitor writes the WAV header's sizes only when it closes the file, so a WAV whose RIFF
size matches the file's size is a finished recording; other capture formats are taken as
finished once they have not changed for a while.
"""

from __future__ import annotations

import os
import struct
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ARCHIVE_FORMATS = {
    # archive format -> (file suffix, ffmpeg format, codec, MIME type)
    "opus": (".opus", "opus", "libopus", "audio/ogg"),
    "mp3": (".mp3", "mp3", "libmp3lame", "audio/mpeg"),
}
CAPTURE_FORMATS = {"wav": ".wav", "gsm": ".gsm"}
MIME_TYPES = {
    ".opus": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".gsm": "audio/x-gsm",
}


class MediaError(RuntimeError):
    """Audio could not be read, written or verified; the message names the file."""

    error_id = "recording-media-failed"


@dataclass(frozen=True)
class AudioInfo:
    seconds: float
    sample_rate: int
    channels: int


def _audio_segment() -> Any:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
        from pydub import AudioSegment  # type: ignore[import-untyped,unused-ignore]
    return AudioSegment


# ffmpeg's demuxer names, where they differ from the file suffix.
_DEMUXERS = {"opus": "ogg", "wav": "wav", "mp3": "mp3", "gsm": "gsm"}


def _load(path: Path) -> Any:
    try:
        fmt = _DEMUXERS.get(path.suffix.lstrip(".").lower())
        return _audio_segment().from_file(str(path), format=fmt)
    except Exception as exc:
        lines = [line for line in str(exc).strip().splitlines() if line.strip()]
        raise MediaError(
            f"{path}: cannot decode ({type(exc).__name__}: {lines[-1] if lines else ''})"
        ) from exc


def probe(path: Path) -> AudioInfo:
    """Decode `path` completely and return its length, rate and channels."""
    segment = _load(path)
    return AudioInfo(len(segment) / 1000.0, int(segment.frame_rate), int(segment.channels))


def capture_finished(path: Path, settle_seconds: float = 3.0, now: float | None = None) -> bool:
    """True when the capture file is complete (see the module note)."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return False
    if path.suffix.lower() == ".wav":
        with open(path, "rb") as handle:
            header = handle.read(12)
        if len(header) == 12 and header[:4] == b"RIFF" and header[8:12] == b"WAVE":
            (riff_size,) = struct.unpack("<I", header[4:8])
            if riff_size + 8 == stat.st_size:
                return True
    return (now if now is not None else time.time()) - stat.st_mtime >= settle_seconds


def transcode(source: Path, dest: Path, archive_format: str, bitrate: str) -> None:
    """Write `source` as `archive_format` to `dest` (through `dest`.part, renamed when done)."""
    _suffix, fmt, codec, _mime = ARCHIVE_FORMATS[archive_format]
    partial = dest.with_name(dest.name + ".part")
    segment = _load(source)
    try:
        segment.export(str(partial), format=fmt, codec=codec, bitrate=bitrate).close()
    except Exception as exc:
        partial.unlink(missing_ok=True)
        raise MediaError(f"{source}: cannot encode as {archive_format} ({exc})") from exc
    os.chmod(partial, 0o600)  # a recording: the controller's user only
    partial.replace(dest)


def verify_copy(copy: Path, expected_seconds: float) -> AudioInfo:
    """Decode the archival copy and check it is as long as the original (encoders pad or
    trim a few tens of milliseconds). Raises MediaError when it is not."""
    info = probe(copy)
    tolerance = max(0.15, expected_seconds * 0.01)
    if abs(info.seconds - expected_seconds) > tolerance:
        raise MediaError(
            f"{copy}: archival copy lasts {info.seconds:.2f} s, the original "
            f"{expected_seconds:.2f} s"
        )
    return info
