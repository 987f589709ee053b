"""Pure logic: display text, Vosk result assembly, end-of-speech decisions."""

from __future__ import annotations

import math
import struct

import pytest

from asr import EndpointConfig, EndReason, Transcript, display_text
from asr.endpoint import Endpointer


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("我 要 投诉 噪音", "我要投诉噪音"),
        ("我 在 A 栋 三 楼", "我在 A 栋三楼"),
        ("电话 是 12345", "电话是 12345"),
        ("네 엄마 엄마 네", "네 엄마 엄마 네"),
        ("turn left", "turn left"),
        ("", ""),
    ],
)
def test_display_text(raw: str, shown: str) -> None:
    assert display_text(raw) == shown


def test_transcript_joins_segments_with_word_times() -> None:
    transcript = Transcript.from_vosk(
        [
            {
                "text": "我 要",
                "result": [
                    {"word": "我", "start": 0.1, "end": 0.3, "conf": 0.9},
                    {"word": "要", "start": 0.3, "end": 0.5, "conf": 0.8},
                ],
            },
            {"text": ""},
            {"text": "投诉", "result": [{"word": "投诉", "start": 1.0, "end": 1.4, "conf": 1.0}]},
        ],
        audio_seconds=2.0,
    )
    assert transcript.text == "我 要 投诉"
    assert transcript.display == "我要投诉"
    assert [w.text for w in transcript.words] == ["我", "要", "投诉"]
    assert transcript.words[2].start == 1.0 and transcript.words[1].confidence == 0.8
    assert transcript.to_dict()["audio_seconds"] == 2.0


def tone(seconds: float, dbfs: float = -20.0) -> bytes:
    amplitude = 32767 * 10 ** (dbfs / 20) * math.sqrt(2)
    count = int(8000 * seconds)
    return struct.pack(
        f"<{count}h",
        *(int(amplitude * math.sin(2 * math.pi * 440 * i / 8000)) for i in range(count)),
    )


def silence(seconds: float) -> bytes:
    return b"\x00\x00" * int(8000 * seconds)


def test_ends_after_trailing_silence_following_speech() -> None:
    endpointer = Endpointer(EndpointConfig(silence_ms=400))
    endpointer.audio(silence(1.0) + tone(0.5))
    assert not endpointer.ended and endpointer.speech_started
    endpointer.audio(silence(0.3))
    assert not endpointer.ended
    used = endpointer.audio(silence(0.5))
    assert endpointer.reason is EndReason.SILENCE
    assert endpointer.speech_ended_at == pytest.approx(1.5)
    assert endpointer.audio_seconds == pytest.approx(1.9)
    assert used == 2 * int(8000 * 0.1)  # audio after the end point is not part of the step


def test_silence_before_speech_does_not_end_the_step() -> None:
    endpointer = Endpointer(EndpointConfig(silence_ms=300, max_seconds=10))
    endpointer.audio(silence(5.0))
    assert not endpointer.ended


def test_a_click_is_not_speech() -> None:
    endpointer = Endpointer(EndpointConfig(silence_ms=300, min_speech_ms=100))
    endpointer.audio(tone(0.04) + silence(1.0))
    assert not endpointer.ended and not endpointer.speech_started


def test_line_noise_is_not_speech_and_counts_as_silence_after_it() -> None:
    endpointer = Endpointer(EndpointConfig(silence_ms=300))
    endpointer.audio(tone(3.0, dbfs=-50))
    assert not endpointer.speech_started and not endpointer.ended
    endpointer.audio(tone(0.5, dbfs=-15))
    assert endpointer.speech_started
    endpointer.audio(tone(0.2, dbfs=-50))
    assert not endpointer.ended
    endpointer.audio(tone(0.2, dbfs=-50))
    assert endpointer.reason is EndReason.SILENCE


def test_max_duration_no_input_and_keys() -> None:
    endpointer = Endpointer(EndpointConfig(max_seconds=1.0))
    endpointer.audio(tone(3.0))
    assert endpointer.reason is EndReason.MAX_DURATION
    assert endpointer.audio_seconds == pytest.approx(1.0)

    endpointer = Endpointer(EndpointConfig(no_input_seconds=2.0))
    endpointer.audio(silence(2.5))
    assert endpointer.reason is EndReason.NO_INPUT

    endpointer = Endpointer(EndpointConfig())
    endpointer.key("1")
    endpointer.key("2")
    endpointer.key("#")
    assert endpointer.reason is EndReason.DTMF and endpointer.digits == "12"


def test_config_is_checked_where_built() -> None:
    with pytest.raises(ValueError, match="silence_ms must be positive"):
        EndpointConfig(silence_ms=0)
    with pytest.raises(ValueError, match="max_seconds"):
        EndpointConfig(max_seconds=-1)


def test_keys_pressed_during_a_speech_step_are_bounded() -> None:
    from asr.endpoint import MAX_DIGITS

    endpointer = Endpointer(EndpointConfig(), 8000)
    for _ in range(100_000):
        endpointer.key("1")
    assert endpointer.digits == "1" * MAX_DIGITS
    assert MAX_DIGITS <= 64
    assert not endpointer.ended
    endpointer.key("#")
    assert endpointer.reason is EndReason.DTMF
