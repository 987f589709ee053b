"""Prompt files against hostile input: texts that look like espeak-ng options, and uploads that
expand to hours of audio (real espeak-ng, ffprobe and ffmpeg; SQLite or PostgreSQL)."""

from __future__ import annotations

import io
import subprocess
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest

from hotline.core import db
from hotline.ivr import prompts
from hotline.ivr.prompts import PromptError, PromptStore, synthesize


def seconds_of(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as w:
        return w.getnframes() / w.getframerate()


# -- placeholders: a text is read aloud, never taken as an option --------------------------


def test_a_text_naming_a_file_as_an_option_is_read_as_words(tmp_path: Path) -> None:
    """`-f<file>` would make espeak-ng read the file aloud into a prompt callers hear."""
    secret = tmp_path / "secret.txt"
    text = f"-f{secret}"
    secret.write_text("the first secret words", encoding="utf-8")
    first = synthesize(text, "cmn")
    secret.write_text("entirely different words, and many more of them", encoding="utf-8")
    assert synthesize(text, "cmn") == first, "the audio must not depend on the file"
    assert seconds_of(first) > 0.5


@pytest.mark.parametrize("text", ["--help", "-vxx", "--version"])
def test_texts_that_look_like_options_become_speech(text: str) -> None:
    assert seconds_of(synthesize(text, "cmn")) > 0.1


# -- uploads: the duration is probed before anything is decoded ----------------------------


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[PromptStore]:
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    yield PromptStore(db.session_factory(engine), tmp_path / "prompts", "/prompts")
    engine.dispose()


@pytest.fixture
def audio_tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ffmpeg and ffprobe behind shims that log each run to the returned file (whoever
    starts them, however), then run the real tool."""
    shims = tmp_path / "shims"
    shims.mkdir()
    runs = tmp_path / "runs.log"
    runs.touch()
    for tool in ("ffmpeg", "ffprobe"):
        shim = shims / tool
        shim.write_text(f'#!/bin/sh\necho {tool} >> "{runs}"\nexec /usr/bin/{tool} "$@"\n')
        shim.chmod(0o755)
    monkeypatch.setenv("PATH", f"{shims}:/usr/bin:/bin")
    return runs


def silent_mp3(tmp_path: Path, seconds: int) -> bytes:
    """`seconds` of silence as an 8 kbit/s MP3 (1 kB a second): ten seconds encoded once,
    their frames repeated, with no header that states the length."""
    unit = tmp_path / "unit.mp3"
    subprocess.run(
        ["/usr/bin/ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono"]
        + ["-t", "10", "-b:a", "8k", "-write_xing", "0", "-id3v2_version", "0", str(unit)],
        check=True,
    )
    return unit.read_bytes() * (seconds // 10)


def test_two_hours_of_compressed_silence_are_refused_by_the_probe(
    store: PromptStore, audio_tools: Path, tmp_path: Path
) -> None:
    bomb = silent_mp3(tmp_path, 7200)
    assert len(bomb) < store.max_bytes  # small enough to pass the size check
    with pytest.raises(PromptError, match=r"^bomb\.mp3: duration 7\d\d\d\.\d s is too long"):
        store.upload("greeting", "mandarin", bomb, "bomb.mp3", "olga")
    assert audio_tools.read_text().split() == ["ffprobe"], "nothing may be decoded"
    assert store.files() == []


def test_audio_longer_than_its_header_says_is_cut_off_while_decoding(
    store: PromptStore, tmp_path: Path
) -> None:
    """Three seconds at a high bit rate, then five minutes at 8 kbit/s: the probe estimates
    the length from the first frames (under a minute); the decoder stops after the limit."""
    loud = tmp_path / "loud.mp3"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=8000"]
        + ["-t", "3", "-b:a", "160k", "-write_xing", "0", "-id3v2_version", "0", str(loud)],
        check=True,
    )
    liar = tmp_path / "liar.mp3"
    liar.write_bytes(loud.read_bytes() + silent_mp3(tmp_path, 300))
    claimed = prompts.probe(liar, "mp3", timeout=10).seconds
    assert claimed is not None and claimed < 60  # the probe is fooled: the decoder must not be

    decoded = prompts.decode(liar, "mp3", max_seconds=60, timeout=30)
    assert 60 < len(decoded) / 16_000 <= 61

    with pytest.raises(PromptError, match=r"^liar\.mp3: .*longer than 60 s"):
        store.upload("greeting", "mandarin", liar.read_bytes(), "liar.mp3", "olga")


def test_decoding_has_a_time_limit(database_url: str, tmp_path: Path) -> None:
    db.upgrade(database_url)
    engine = db.make_engine(database_url)
    slow = PromptStore(
        db.session_factory(engine), tmp_path / "prompts", "/prompts", decode_timeout=0.001
    )
    with pytest.raises(PromptError, match=r"^s\.mp3: decoding took longer than 0\.001 s"):
        slow.upload("greeting", "mandarin", silent_mp3(tmp_path, 10), "s.mp3", "olga")
    engine.dispose()


def test_a_wav_must_hold_pcm(store: PromptStore, tmp_path: Path) -> None:
    """WAV can carry compressed codecs: two hours of FLAC silence take a megabyte."""
    packed = tmp_path / "packed.wav"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "anullsrc=r=8000:cl=mono"]
        + ["-t", "30", "-c:a", "flac", "-f", "wav", str(packed)],
        check=True,
    )
    with pytest.raises(PromptError, match=r"^packed\.wav: a WAV prompt holds PCM audio"):
        store.upload("greeting", "mandarin", packed.read_bytes(), "packed.wav", "olga")


def test_a_short_upload_still_becomes_a_prompt(store: PromptStore, tmp_path: Path) -> None:
    info = store.upload("greeting", "mandarin", silent_mp3(tmp_path, 10), "ok.mp3", "olga")
    assert 9_500 <= info.duration_ms <= 10_500
    with wave.open(str(tmp_path / "prompts" / f"{info.file}.wav")) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
