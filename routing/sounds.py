"""Words heard by sound: a recogniser's homophones of the words that decide routing.

Theory of operation: a recogniser writes what it hears, so a key word can come back with a
character of the same or a near sound (着伙 for 着火, 公积经 for 公积金). Instead of a table of
known confusions (which would only ever know the confusions someone thought of), every key word
is indexed by its syllables, and a run of the text whose syllables match a key word is read as
that word when most of its characters are right already: a third of the characters of a word
of three or more may differ. Syllables are compared toneless and through the usual "fuzzy"
pairs of Mandarin as southern and northern speakers and recognisers blur them (zh/z, ch/c,
sh/s, n/l, in/ing, en/eng, an/ang), so 经 (jing) still reads as 金 (jin). Two-character words
collide with everyday words far too often by fuzzy sound (护士 and 互是); only the few given as
`short` words (the emergency words) are folded, and only on the exact toneless syllables.

A real word that happens to sound like a key word is never rewritten: `REAL_WORDS` lists those
that matter (抽出 is not 抽搐, 无业 is not 物业). The readings come from pypinyin's character
table, the reading of a key word from pypinyin's phrase reading (行 in 银行 is hang).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Final, cast

# Everyday words that sound like a key word with one character off: left as they are.
REAL_WORDS: Final = frozenset(
    {
        "抽出",  # 抽搐
        "无业",  # 物业
        "没气",  # 煤气
        "期货",  # 起火
        "一包",  # 医保
        "报销",
        "举办",
        "工作",
        "公布",
        "公司",
        "事故",
        "时候",
        "社会",
        "小区",
        "医院",
        "以前",
        "已经",
        "停车",
        "中午",
        "之前",
        "火车",
        "货车",
        "毒品",
    }
)
_INITIALS: Final = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
_FINALS: Final = (("ing", "in"), ("eng", "en"), ("ang", "an"))


def _toneless(reading: str) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFD", reading) if not unicodedata.combining(ch)
    )


def fuzzy(syllable: str) -> str:
    """The syllable with the fuzzy pairs merged (`zhang` -> `zan`, `jing` -> `jin`)."""
    for long, short in _INITIALS:
        if syllable.startswith(long):
            syllable = short + syllable[len(long) :]
            break
    for long, short in _FINALS:
        if syllable.endswith(long):
            syllable = syllable[: -len(long)] + short
            break
    return syllable


@lru_cache(maxsize=1)
def _table() -> Mapping[int, str]:
    from pypinyin.pinyin_dict import pinyin_dict

    return cast(Mapping[int, str], pinyin_dict)


@lru_cache(maxsize=65_536)
def readings(ch: str, fuzzy_pairs: bool = True) -> tuple[str, ...]:
    """Every toneless reading of a character (fuzzy pairs merged unless told not to); anything
    else stands for itself."""
    found = _table().get(ord(ch))
    if not found:
        return (ch,)
    toneless = (_toneless(r) for r in found.split(","))
    return tuple(dict.fromkeys(fuzzy(r) if fuzzy_pairs else r for r in toneless))


def word_sounds(word: str, fuzzy_pairs: bool = True) -> tuple[str, ...]:
    """The syllables of a word (fuzzy pairs merged unless told not to), each character read as
    it is in the word."""
    from pypinyin import Style, lazy_pinyin

    said = lazy_pinyin(word, style=Style.TONE)
    if len(said) != len(word):
        return tuple(readings(ch, fuzzy_pairs)[0] for ch in word)
    return tuple(fuzzy(_toneless(s)) if fuzzy_pairs else _toneless(s) for s in said)


def _heard(ch: str, exact: bool) -> tuple[str, ...]:
    """The readings a character can stand for: its first plain one for the exact (two-
    character) words, every fuzzy one for the others."""
    return readings(ch, False)[:1] if exact else readings(ch)


def _allowed_wrong(length: int) -> int:
    return max(1, length // 3)


_Word = tuple[str, tuple[str, ...], bool]  # a key word, its syllables, exact (two characters)

# Characters so common that a key word "heard" with one of them is far more often two words
# side by side (是火苗 is not 失火苗, 燃气找谁 is not 燃气灶): no word is folded over them.
_COMMON: Final = frozenset(
    "的了是在和有不也都这那他她我你它们个一上下来去说要会能把被让请找给跟对还又再很太"
)


class SoundFolder:
    """Rewrites runs of a text that sound like one of `words` into that word (see header)."""

    def __init__(self, words: Iterable[str], short: Iterable[str] = ()) -> None:
        # first syllable -> (word, its syllables, exact): longest words first
        self._by_first: dict[str, list[_Word]] = {}
        short_words = {w for w in short if len(w) == 2}
        for word in sorted(set(words) | short_words, key=lambda w: (-len(w), w)):
            if len(word) < 2 or not all("\u4e00" <= ch <= "\u9fff" for ch in word):
                continue
            if len(word) == 2 and word not in short_words:
                continue
            exact = len(word) == 2
            sounds = word_sounds(word, fuzzy_pairs=not exact)
            self._by_first.setdefault(sounds[0], []).append((word, sounds, exact))
        # first character -> second character or syllable -> candidate words, longest first
        self._candidates: dict[str, dict[str, tuple[_Word, ...]]] = {}

    def _candidates_of(self, ch: str) -> dict[str, tuple[_Word, ...]]:
        """The words whose first syllable `ch` can be read as (exact words: its first
        reading only, so a rare reading of a polyphone does not make a word), keyed by what
        their second character must be (`c:` the character, `s:` its syllable)."""
        found = self._candidates.get(ch)
        if found is None:
            fuzzy_firsts = set(readings(ch))
            plain_first = readings(ch, False)[0]
            words = {
                entry
                for first in sorted(fuzzy_firsts | set(readings(ch, False)))
                for entry in self._by_first.get(first, ())
                if entry[0][0] == ch
                or ((first == plain_first) if entry[2] else (first in fuzzy_firsts))
            }
            keyed: dict[str, list[_Word]] = {}
            for entry in sorted(words, key=lambda e: (-len(e[0]), e[0])):
                keyed.setdefault("c:" + entry[0][1], []).append(entry)
                keyed.setdefault(("x:" if entry[2] else "s:") + entry[1][1], []).append(entry)
            found = {key: tuple(entries) for key, entries in keyed.items()}
            self._candidates[ch] = found
        return found

    def _match_at(self, text: str, start: int) -> str | None:
        if start + 1 >= len(text):
            return None
        by_second = self._candidates_of(text[start])
        if not by_second:
            return None
        second = text[start + 1]
        keys = ["c:" + second, "x:" + readings(second, False)[0]]
        keys += ["s:" + r for r in readings(second)]
        unique = {e[0]: e for key in keys for e in by_second.get(key, ())}
        candidates = sorted(unique.values(), key=lambda e: (-len(e[0]), e[0]))
        for word, sounds, exact in candidates:
            end = start + len(word)
            if end > len(text):
                continue
            heard = text[start:end]
            if heard == word:
                return word
            wrong = [a for a, b in zip(heard, word, strict=True) if a != b]
            if len(wrong) > _allowed_wrong(len(word)) or heard in REAL_WORDS:
                continue
            if set(wrong) & _COMMON:
                continue
            if all(
                c == w or s in _heard(c, exact)
                for s, c, w in zip(sounds[1:], heard[1:], word[1:], strict=True)
            ):
                return word
        return None

    def fold(self, text: str) -> str:
        """`text` with every run that sounds like a key word written as that word; longest
        word first at each position, left to right, never overlapping (a key word written
        right is kept whole, so nothing inside it is read again)."""
        out: list[str] = []
        i = 0
        n = len(text)
        while i < n:
            word = self._match_at(text, i) if "\u4e00" <= text[i] <= "\u9fff" else None
            if word is None:
                out.append(text[i])
                i += 1
            else:
                out.append(word)
                i += len(word)
        return "".join(out)
