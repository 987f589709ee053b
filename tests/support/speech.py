"""Test helpers shared by the speech tests."""

from __future__ import annotations

# espeak-ng's Korean voice is far from natural speech; these words are ones the small
# Korean model recognises from it reliably at telephone rate (8 kHz).
SPOKEN = "네 엄마 엄마 네"


def word_overlap(spoken: str, recognised: str) -> float:
    """Share of spoken words found in the recognised text (each match used once)."""
    heard = recognised.split()
    found = 0
    for word in spoken.split():
        if word in heard:
            heard.remove(word)
            found += 1
    return found / len(spoken.split())
