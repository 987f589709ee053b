"""Recognition results: raw Vosk text, a display form, word timings and confidences; what a
speech step produced (`SpeechResult`, shared by the server and the events it publishes)."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from asr.endpoint import EndReason


def _is_cjk(char: str) -> bool:
    # Han ideographs and CJK punctuation are written without spaces between them.
    if not char:
        return False
    code = ord(char)
    return (
        0x3000 <= code <= 0x303F  # CJK symbols and punctuation
        or 0x3400 <= code <= 0x4DBF  # extension A
        or 0x4E00 <= code <= 0x9FFF  # unified ideographs
        or 0xF900 <= code <= 0xFAFF  # compatibility ideographs
        or 0xFF00 <= code <= 0xFFEF  # full-width forms
        or 0x20000 <= code <= 0x3134F  # extensions B-G
        or unicodedata.name(char, "").startswith("CJK UNIFIED IDEOGRAPH")
    )


def display_text(raw: str) -> str:
    """Join Vosk's space-separated tokens the way the language is written.

    Chinese models put a space between every word ("我 要 投诉 噪音"); people read
    "我要投诉噪音". A space is dropped only where the characters on both sides are
    Chinese, so Latin words, digits and other scripts (Korean keeps its spaces) are left
    as they are: "我 在 A 栋" becomes "我在 A 栋".
    """
    tokens = raw.split()
    if not tokens:
        return ""
    out = [tokens[0]]
    for token in tokens[1:]:
        if _is_cjk(out[-1][-1]) and _is_cjk(token[0]):
            out.append(token)
        else:
            out.append(" " + token)
    return "".join(out)


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word; times are seconds from the start of the audio."""

    text: str
    start: float
    end: float
    confidence: float


@dataclass(frozen=True, slots=True)
class Transcript:
    """What was said: `text` as Vosk produced it, `display` for people to read."""

    text: str
    display: str
    words: tuple[Word, ...] = field(default=())
    audio_seconds: float = 0.0

    @classmethod
    def from_vosk(cls, results: Iterable[Mapping[str, Any]], audio_seconds: float) -> Transcript:
        """Combine Vosk `Result()`/`FinalResult()` dictionaries of consecutive segments."""
        texts: list[str] = []
        words: list[Word] = []
        for result in results:
            text = str(result.get("text", "")).strip()
            if text:
                texts.append(text)
            for item in result.get("result", ()):
                words.append(
                    Word(
                        text=str(item["word"]),
                        start=float(item["start"]),
                        end=float(item["end"]),
                        confidence=float(item.get("conf", 1.0)),
                    )
                )
        raw = " ".join(texts)
        return cls(
            text=raw, display=display_text(raw), words=tuple(words), audio_seconds=audio_seconds
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "display": self.display,
            "audio_seconds": round(self.audio_seconds, 3),
            "words": [
                {"word": w.text, "start": w.start, "end": w.end, "confidence": w.confidence}
                for w in self.words
            ],
        }


@dataclass(frozen=True, slots=True)
class SpeechResult:
    """What a speech step produced.

    `reason` is why it ended; `digits` are keys pressed other than the end key;
    `speech_ended_at` is the audio time (seconds) of the last speech heard, or None.
    `finished_at` is the `time.monotonic()` at which the result was ready.
    """

    call_id: uuid.UUID
    transcript: Transcript
    reason: EndReason
    digits: str = ""
    speech_ended_at: float | None = None
    finished_at: float = 0.0

    @property
    def text(self) -> str:
        return self.transcript.display

    def to_dict(self) -> dict[str, Any]:
        return {
            "call_id": str(self.call_id),
            "reason": str(self.reason),
            "digits": self.digits,
            "speech_ended_at": self.speech_ended_at,
            **self.transcript.to_dict(),
        }
