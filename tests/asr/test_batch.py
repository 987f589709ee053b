"""Batch transcription of finished recordings with the real model and espeak-ng speech."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from asr import AudioFileError, LoadedModel, transcribe_file, transcribe_pcm
from asr.batch import write_wav
from tests.support.speech import SPOKEN, word_overlap


def assert_understood(text: str) -> None:
    # A listener would notice: the repeated "엄마" (mum) and most of the words are there.
    assert "엄마" in text.split(), text
    assert word_overlap(SPOKEN, text) >= 0.5, text


def test_telephone_rate_wav(model: LoadedModel, speech: bytes, tmp_path: Path) -> None:
    seen: list[tuple[float, float]] = []
    result = transcribe_file(
        model, write_wav(tmp_path / "call.wav", speech), progress=lambda d, t: seen.append((d, t))
    )
    assert_understood(result.transcript.text)
    assert result.transcript.audio_seconds == pytest.approx(len(speech) / 16000, abs=0.01)
    words = result.transcript.words
    assert words and all(
        0 <= w.start <= w.end <= result.transcript.audio_seconds + 0.1 for w in words
    )
    assert all(0 < w.confidence <= 1 for w in words)
    assert seen and seen[-1][0] == pytest.approx(seen[-1][1])
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)


@pytest.mark.parametrize(
    ("name", "sox_args"),
    [
        ("mulaw.wav", ["-r", "8000", "-e", "mu-law"]),
        ("stereo-44k.wav", ["-r", "44100", "-c", "2", "-b", "16"]),
        ("alaw.wav", ["-r", "8000", "-e", "a-law"]),
    ],
)
def test_other_rates_and_encodings(
    model: LoadedModel, speech: bytes, tmp_path: Path, name: str, sox_args: list[str]
) -> None:
    source = write_wav(tmp_path / "source.wav", speech)
    target = tmp_path / name
    subprocess.run(["sox", str(source), *sox_args, str(target)], check=True)
    assert_understood(transcribe_file(model, target).transcript.text)


def test_silence_gives_an_empty_transcript(model: LoadedModel) -> None:
    transcript = transcribe_pcm(model, b"\x00\x00" * 16000)
    assert transcript.text == "" and transcript.words == () and transcript.audio_seconds == 1.0


def test_unreadable_files_name_the_file(model: LoadedModel, tmp_path: Path) -> None:
    with pytest.raises(AudioFileError, match="missing.wav: no such file"):
        transcribe_file(model, tmp_path / "missing.wav")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not audio")
    with pytest.raises(AudioFileError, match="junk.wav: not a readable audio file"):
        transcribe_file(model, junk)
