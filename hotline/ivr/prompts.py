"""Prompt files: uploaded recordings and synthetic placeholders, where Asterisk plays them.

Every prompt is stored as what Asterisk plays without transcoding: 8 kHz mono 16-bit WAV.
Uploads (WAV or MP3) are checked (is it audio, at most `max_seconds`, at most `max_bytes`) and
converted with ffmpeg; they land in ``<dir>/recorded/<language>/<name>.wav`` and replace any
earlier recording of that name and language. When a prompt has no recording, a placeholder is
synthesised from its text with espeak-ng (Mandarin: the ``cmn`` voice) into
``<dir>/synthetic/<language>/<name>-<hash of the text>.wav``: a version whose text changed gets
its own file, so calls still on the old version keep hearing the old words. All file work runs
in a worker thread.

Uploads come from people and may be hostile: a few megabytes of MP3 can hold hours of audio
that decode to gigabytes. So ffprobe reads the duration from the headers first and a long
file is refused before anything is decoded; ffmpeg then decodes at most `max_seconds` (plus a
little) whatever the headers claimed, both under a time limit and a memory limit. A WAV must
hold PCM (its size then bounds its length). Texts reach espeak-ng on stdin, never on its
command line, where a text starting with ``-`` would be an option (``-f<file>`` reads a file
aloud).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import re
import resource
import subprocess
import tempfile
import threading
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from hotline.core.db import utcnow
from hotline.ivr.tables import PromptRecording
from ivr.document import LANGUAGES, MenuDocument

log = logging.getLogger("hotline.ivr")

#: espeak-ng voices for placeholders. espeak-ng has no Mongolian voice; its Russian voice
#: reads Mongolian Cyrillic understandably, which is enough for a marked placeholder.
VOICES = {"mandarin": "cmn", "mongolian": "ru"}
PLACEHOLDER_SPEED = 260
#: Address space of each ffprobe/ffmpeg run: enough to map their libraries (256 MB is not)
#: and decode a prompt, not enough for a crafted file to take the machine's memory.
DECODER_MEMORY = 1 << 30
#: Asterisk's format: 8 kHz, 16-bit mono
RATE = 8000
BYTES_PER_SECOND = RATE * 2
_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")


class PromptError(ValueError):
    """An upload that cannot become a prompt; the message says why."""

    error_id = "ivr-prompt-rejected"
    status = 422


class PromptTooLarge(PromptError):
    status = 413


class PlaceholderFailed(PromptError):
    """A placeholder that espeak-ng could not make; a version that needs it is not put live."""

    error_id = "ivr-placeholder-failed"


class AudioError(ValueError):
    """ffprobe or ffmpeg could not read a file, or took too long; the message says which."""


@dataclass(frozen=True)
class Probe:
    """What the headers of an audio file say, read without decoding it."""

    codec: str
    #: None when the headers do not tell
    seconds: float | None


@dataclass(frozen=True)
class PromptInfo:
    name: str
    language: str
    synthetic: bool
    source: str
    file: str
    duration_ms: int
    size: int
    created_by: str
    created_at: str

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


class PromptStore:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        directory: Path,
        play_dir: str,
        *,
        max_bytes: int = 10_000_000,
        max_seconds: float = 60.0,
        probe_timeout: float = 10.0,
        decode_timeout: float = 30.0,
    ) -> None:
        self.sessions = sessions
        self.directory = directory
        self.play_dir = play_dir.rstrip("/")
        self.max_bytes = max_bytes
        self.max_seconds = max_seconds
        self.probe_timeout = probe_timeout
        self.decode_timeout = decode_timeout
        #: (name, language) -> file (relative, no extension) of uploaded recordings
        self.recorded: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    # -- lookups (event loop, no I/O) -------------------------------------------------
    def resolve(self, document: MenuDocument, name: str, language: str) -> str | None:
        """The name Asterisk plays for prompt `name` in `language`: the recording when one
        was uploaded, else the placeholder of this document's text (falling back to the
        default language's text), else None (nothing to play)."""
        file = self.recorded.get((name, language))
        if file is None:
            texts = document.prompts.get(name, {})
            text = texts.get(language) or ""
            if not text.strip():
                file = self.recorded.get((name, document.default_language))
                if file is None:
                    language = document.default_language
                    text = texts.get(language) or ""
            if file is None and text.strip():
                file = placeholder_file(name, language, text)
        if file is None:
            return None
        return f"{self.play_dir}/{file}"

    # -- blocking work (call from a worker thread) -------------------------------------
    def load(self) -> None:
        with self.sessions() as session:
            rows = session.scalars(
                select(PromptRecording).where(PromptRecording.synthetic.is_(False))
            ).all()
        self.recorded = {(r.name, r.language): r.file for r in rows}

    def ensure_placeholders(self, document: MenuDocument, by: str = "system") -> int:
        """Synthesise every missing placeholder of `document`; return how many were made.
        Raises PlaceholderFailed naming the first prompt whose placeholder could not be made
        (those made before it stay: they are only files and rows no version needs yet)."""
        made = 0
        with self._lock:
            for name, texts in document.prompts.items():
                for language, text in texts.items():
                    if language not in VOICES or not text.strip() or not _NAME.match(name):
                        continue
                    file = placeholder_file(name, language, text)
                    path = self.directory / f"{file}.wav"
                    if path.exists():
                        continue
                    try:
                        wav = synthesize(text, VOICES[language])
                    except Exception as exc:  # any failure: the version must not go live
                        raise PlaceholderFailed(
                            f"prompt {name!r} ({language}): no placeholder could be made from "
                            f"its text ({exc})"
                        ) from exc
                    duration_ms = _write(path, wav)
                    self._save_row(name, language, True, text, file, duration_ms, len(wav), by)
                    made += 1
        if made:
            log.info("made %d synthetic prompt placeholders", made)
        return made

    def upload(self, name: str, language: str, data: bytes, filename: str, by: str) -> PromptInfo:
        """Check, convert and store an uploaded recording. Raises PromptError."""
        if not _NAME.match(name):
            raise PromptError(
                f"prompt name {name!r}: use lower-case letters, digits, '-' and '_' (max 64)"
            )
        if language not in LANGUAGES:
            raise PromptError(f"language {language!r}: use one of {', '.join(LANGUAGES)}")
        if len(data) > self.max_bytes:
            raise PromptTooLarge(
                f"{filename}: {len(data):,} bytes is too large (at most {self.max_bytes:,})"
            )
        kind = sniff(data)
        if kind is None:
            raise PromptError(f"{filename}: not a WAV or MP3 file")
        try:
            pcm = self._decode_upload(data, kind, filename)
        except AudioError as exc:
            raise PromptError(f"{filename}: {exc}") from None
        seconds = len(pcm) / BYTES_PER_SECOND
        if seconds > self.max_seconds:
            raise PromptError(
                f"{filename}: the audio goes on longer than {self.max_seconds:g} s, longer "
                f"than its headers say (a prompt is at most {self.max_seconds:g} s)"
            )
        if seconds < 0.1:
            raise PromptError(f"{filename}: the audio is empty")
        wav = pcm_to_wav(pcm)
        file = f"recorded/{language}/{name}"
        with self._lock:
            duration_ms = _write(self.directory / f"{file}.wav", wav)
            info = self._save_row(name, language, False, filename, file, duration_ms, len(wav), by)
            self.recorded[(name, language)] = file
        return info

    def _decode_upload(self, data: bytes, kind: str, filename: str) -> bytes:
        """Probe, then decode at most `max_seconds` (and a little more) of an upload as
        Asterisk's PCM. Raises PromptError for what the probe refuses, AudioError for what
        the tools cannot read or take too long on."""
        with tempfile.TemporaryDirectory(prefix="hotline-upload-") as folder:
            source = Path(folder) / f"upload.{kind}"
            source.write_bytes(data)
            found = probe(source, kind, self.probe_timeout)
            if kind == "wav" and not found.codec.startswith("pcm_"):
                raise PromptError(
                    f"{filename}: a WAV prompt holds PCM audio, not {found.codec}; export it "
                    "as PCM WAV or as MP3"
                )
            if found.seconds is not None and found.seconds > self.max_seconds:
                raise PromptError(
                    f"{filename}: duration {found.seconds:.1f} s is too long (a prompt is at "
                    f"most {self.max_seconds:g} s)"
                )
            return decode(source, kind, self.max_seconds, self.decode_timeout)

    def files(self) -> list[PromptInfo]:
        with self.sessions() as session:
            rows = session.scalars(
                select(PromptRecording).order_by(
                    PromptRecording.name, PromptRecording.language, PromptRecording.synthetic
                )
            ).all()
        return [_info(r) for r in rows]

    def _save_row(
        self,
        name: str,
        language: str,
        synthetic: bool,
        source: str,
        file: str,
        duration_ms: int,
        size: int,
        by: str,
    ) -> PromptInfo:
        with self.sessions() as session:
            row = PromptRecording(
                name=name,
                language=language,
                synthetic=synthetic,
                source=source,
                file=file,
                duration_ms=duration_ms,
                size=size,
                created_by=by,
                created_at=utcnow(),
            )
            session.merge(row)
            session.commit()
        return _info(row)


def _info(row: PromptRecording) -> PromptInfo:
    return PromptInfo(
        name=row.name,
        language=row.language,
        synthetic=row.synthetic,
        source=row.source,
        file=row.file,
        duration_ms=row.duration_ms,
        size=row.size,
        created_by=row.created_by,
        created_at=row.created_at.isoformat(),
    )


def placeholder_file(name: str, language: str, text: str) -> str:
    digest = hashlib.sha256(text.strip().encode()).hexdigest()[:10]
    return f"synthetic/{language}/{name}-{digest}"


def sniff(data: bytes) -> str | None:
    """'wav' or 'mp3' from the first bytes, or None."""
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "mp3"
    return None


def synthesize(text: str, voice: str) -> bytes:
    """espeak-ng speech for `text` as Asterisk's WAV (8 kHz mono 16-bit). The text goes in on
    stdin: on the command line, one starting with '-' would be read as an option. Raises
    RuntimeError."""
    from pydub import AudioSegment

    proc = subprocess.run(
        ["espeak-ng", "-v", voice, "-s", str(PLACEHOLDER_SPEED), "--stdout", "--stdin"],
        input=text.encode(),
        capture_output=True,
        timeout=60,
        check=False,
    )
    if proc.returncode != 0 or not proc.stdout:
        raise RuntimeError(f"espeak-ng failed: {proc.stderr.decode(errors='replace')[:200]}")
    return to_asterisk_wav(AudioSegment.from_file(io.BytesIO(proc.stdout), format="wav"))


def probe(path: Path, kind: str, timeout: float) -> Probe:
    """The codec and duration of the first audio stream of `path`, read by ffprobe from the
    headers (`kind` is 'wav' or 'mp3': no other demuxer is tried). Nothing is decoded; an MP3
    without a length header is estimated from its first frames. Raises AudioError."""
    out = _run_tool(
        ["ffprobe", "-v", "error", "-f", kind, "-select_streams", "a:0"]
        + ["-show_entries", "stream=codec_name,duration:format=duration", "-of", "json"]
        + [str(path)],
        timeout,
        kind,
        "reading its headers",
    )
    try:
        found = json.loads(out)
        stream = found["streams"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        raise AudioError(f"not readable as {kind.upper()} audio (no audio stream)") from None
    seconds = _seconds(stream.get("duration")) or _seconds(found.get("format", {}).get("duration"))
    return Probe(codec=str(stream.get("codec_name", "unknown")), seconds=seconds)


def decode(path: Path, kind: str, max_seconds: float, timeout: float) -> bytes:
    """At most `max_seconds` + 0.5 s of `path` as 8 kHz mono 16-bit PCM: ffmpeg stops there
    whatever the headers claimed, so the caller can tell a file that is too long without
    holding all of it. Raises AudioError."""
    return _run_tool(
        ["ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-f", kind, "-i", str(path)]
        + ["-map", "0:a:0", "-t", f"{max_seconds + 0.5:g}", "-ac", "1", "-ar", str(RATE)]
        + ["-f", "s16le", "-"],
        timeout,
        kind,
        "decoding",
    )


def _run_tool(argv: list[str], timeout: float, kind: str, doing: str) -> bytes:
    """Run ffprobe or ffmpeg with a time limit and a memory limit; return its output."""
    with subprocess.Popen(
        argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        # Limit the child's memory from here: a `preexec_fn` is not safe in a threaded
        # program. The tool is still loading its libraries when the limit lands.
        try:
            resource.prlimit(proc.pid, resource.RLIMIT_AS, (DECODER_MEMORY, DECODER_MEMORY))
        except (ProcessLookupError, PermissionError):
            pass  # it has already ended
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise AudioError(f"{doing} took longer than {timeout:g} s") from None
    if proc.returncode != 0:
        lines = err.decode(errors="replace").strip().splitlines()
        detail = lines[-1][:200] if lines else f"{argv[0]} exited with {proc.returncode}"
        raise AudioError(f"not readable as {kind.upper()} audio ({detail})")
    return out


def _seconds(value: Any) -> float | None:
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if seconds >= 0 else None


def pcm_to_wav(pcm: bytes) -> bytes:
    """8 kHz mono 16-bit PCM as a WAV file."""
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(pcm)
    return out.getvalue()


def to_asterisk_wav(audio: Any) -> bytes:
    out = io.BytesIO()
    audio.set_channels(1).set_frame_rate(8000).set_sample_width(2).export(out, format="wav")
    return out.getvalue()


def _write(path: Path, wav: bytes) -> int:
    """Write atomically (a call may be playing the old file); return the duration in ms.
    Folders and files are made readable by all (0755, 0644), whatever the umask: Asterisk,
    which plays them, may run as another user."""
    for folder in reversed([p for p in (path.parent, *path.parent.parents) if not p.exists()]):
        folder.mkdir(exist_ok=True)
        os.chmod(folder, 0o755)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(wav)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
    # 8 kHz, 16-bit mono: 16 bytes per millisecond after the 44-byte header.
    return max(0, (len(wav) - 44) // 16)
