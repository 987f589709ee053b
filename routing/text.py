"""Text normalisation shared by the rules, the model features and the corpus.

Theory of operation: callers reach the classifier either as clean text (web, WeChat) or as raw
recogniser output, which has spaces between words, no punctuation, Chinese numerals instead of
digits and some wrong homophones. `normalize` maps both to one canonical form, so the rules and
the model only ever see one spelling:

* Unicode NFKC (full-width letters and digits become ASCII), lower case;
* every character that is not a letter or digit (spaces, punctuation, control bytes) is dropped;
* ASCII digits become Chinese numerals, digit by digit (`120` -> `一二零`), the way a recogniser
  spells a number read out digit by digit;
* a key word a recogniser wrote with a wrong character of the same sound (着伙, 公积经) is
  read back by sound (routing.sounds: pinyin, not a table of known confusions).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Final

from routing.sounds import SoundFolder

_DIGITS: Final = str.maketrans("0123456789", "零一二三四五六七八九")

# Key words read back by sound when a recogniser wrote one of their characters wrong: the
# emergency words, the departments' matters, the out-of-scope rules' words and the words that
# say what a caller wants.
_SERVICE_WORDS: Final = (
    "投诉",
    "举报",
    "工单",
    "催办",
    "反映",
    "回电",
    "供暖",
    "暖气",
    "停电",
    "停水",
)


@lru_cache(maxsize=1)
def _folder() -> SoundFolder:
    from routing.emergency import NOT_NOW, NOT_NOW_AFTER, SHORT_SOUND_WORDS, SOUND_WORDS
    from routing.lexicon import DEPARTMENT_WORDS
    from routing.scope import RULES
    from routing.sounds import pattern_words

    words = [w for ws in DEPARTMENT_WORDS.values() for w in ws]
    # the out-of-scope rules' words of three or more characters (结婚证, 少交税, 天气怎么样)
    scope = sorted({w for _r, p in RULES for w in pattern_words(p) if len(w) > 2})
    # the words that set an emergency word aside (前几天, 不是现在, 可能会), three or more long
    aside = (NOT_NOW.pattern, NOT_NOW_AFTER.pattern)
    context = sorted({w for p in aside for w in pattern_words(p) if len(w) > 2})
    return SoundFolder(
        (*SOUND_WORDS, *words, *scope, *context, *_SERVICE_WORDS), short=SHORT_SOUND_WORDS
    )


def _keep(ch: str) -> bool:
    cat = unicodedata.category(ch)
    return cat[0] in ("L", "N")


# Every character that is not a letter or a digit: one regex pass instead of a call per
# character (`[\W_]` is exactly "not `_keep`", checked over every code point by a test).
_NOT_KEPT: Final = re.compile(r"[\W_]+")


def canonical(text: str) -> str:
    """`text` without spaces and punctuation, NFKC, lower case, digits as numerals: the
    canonical form before any word is read by sound (for matchers that read sounds
    themselves, as routing.catalogue does); never raises on a `str`."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _NOT_KEPT.sub("", text).translate(_DIGITS)


def read_by_sound(canonical_text: str) -> str:
    """A canonical text with the key words a recogniser misheard read back by sound."""
    return _folder().fold(canonical_text)


def normalize(text: str) -> str:
    """Return the canonical form of `text` with the key words read back by sound (see the
    module header); never raises on a `str`."""
    return read_by_sound(canonical(text))


def han_count(text: str) -> int:
    """How many CJK ideographs `text` holds."""
    return sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf")


def has_mongolian(text: str) -> bool:
    """True when `text` holds traditional Mongolian script."""
    return any("\u1800" <= ch <= "\u18af" for ch in text)


_SENTENCE_END: Final = frozenset("。！？!?；;\n\r…")
MAX_SENTENCES: Final = 400


def sentences(text: str) -> list[str]:
    """The sentences of a written text (split after 。！？；, a line break or an ellipsis),
    blank ones dropped; at most MAX_SENTENCES, the rest joined to the last."""
    out: list[str] = []
    current: list[str] = []
    for ch in text:
        current.append(ch)
        if ch in _SENTENCE_END:
            out.append("".join(current))
            current = []
    out.append("".join(current))
    kept = [s for s in out if s.strip(" \t\u3000。！？!?；;\n\r…")]
    if len(kept) > MAX_SENTENCES:
        kept = kept[: MAX_SENTENCES - 1] + ["".join(kept[MAX_SENTENCES - 1 :])]
    return kept
