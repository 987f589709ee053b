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
        "大人",  # 打人
        "不懂",  # 不动
        "傻了",  # 杀了
        "强了",  # 抢了
        "扎了",  # 炸了
        "到地",  # 倒地
        "道地",
        "拿到",  # 拿刀
        "敲门",  # 撬门
        "火食",  # 火势 (伙食 heard)
        "往下调",  # 往下跳
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


@lru_cache(maxsize=1)
def _phrases() -> Mapping[str, object]:
    from pypinyin.phrases_dict import phrases_dict

    return cast(Mapping[str, object], phrases_dict)


def _joins_neighbour(text: str, start: int, end: int, heard: str, word: str) -> bool:
    """True when a differing first or last character makes a word with the character next to
    the run (加强了 is not 加抢了, 有严重 is not 有烟重): it belongs to that word instead."""
    phrases = _phrases()
    if heard[0] != word[0] and start > 0 and text[start - 1] + heard[0] in phrases:
        return True
    return heard[-1] != word[-1] and end < len(text) and heard[-1] + text[end] in phrases


_Word = tuple[str, tuple[str, ...], bool]  # a key word, its syllables, exact (two characters)

# Characters so common that a key word "heard" with one of them is far more often two words
# side by side (是火苗 is not 失火苗, 燃气找谁 is not 燃气灶): no word is folded over them.
COMMON_CHARS: Final = frozenset(
    "的了是在和有不也都这那他她我你它们个一上下来去说要会能把被让请找给跟对还又再很太"
    "啥咋看走大"  # 要啥 is not 要杀, 看我 not 砍我, 走人 not 揍人, 大人 not 打人
)
# Numbers are read digit by digit (一二年 is a year, not 一二零): no word with a numeral is
# folded.
_NUMERALS: Final = frozenset("零一二三四五六七八九十幺两")


class SoundFolder:
    """Rewrites runs of a text that sound like one of `words` into that word (see header)."""

    def __init__(self, words: Iterable[str], short: Iterable[str] = ()) -> None:
        # first syllable -> (word, its syllables, exact): longest words first
        self._by_first: dict[str, list[_Word]] = {}
        short_words = {w for w in short if len(w) == 2}
        for word in sorted(set(words) | short_words, key=lambda w: (-len(w), w)):
            if len(word) < 2 or not all("\u4e00" <= ch <= "\u9fff" for ch in word):
                continue
            if set(word) & _NUMERALS:
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
        for word, _sounds, _exact in candidates:  # a key word said right is kept as it is
            if text.startswith(word, start):
                return word
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
            if set(wrong) & COMMON_CHARS or _joins_neighbour(text, start, end, heard, word):
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


# --- the words a rule pattern spells out ---------------------------------------------------------

_MAX_SPELLINGS: Final = 400  # a run with more spellings than this is cut (none of the rules has)
_Pieces = list[set[str]]  # finite runs of a pattern, each as the set of its spellings


class _PatternReader:
    """A small reader of the regular expressions the rules are written in: literals, groups,
    alternatives, `?`, character classes; everything open-ended cuts the run."""

    def __init__(self, pattern: str) -> None:
        self.p = pattern
        self.i = 0
        self.words: set[str] = set()  # every finite run
        self.whole: set[str] = set()  # the top-level alternatives that are finite throughout
        self.depth = 0

    def _peek(self) -> str:
        return self.p[self.i] if self.i < len(self.p) else ""

    def alternatives(self) -> set[str] | None:
        """Read `a|b|...` up to a `)` or the end: the full spellings if every branch is
        finite, else None (the finite runs inside are kept in `self.words`)."""
        full: set[str] | None = set()
        while True:
            pieces, whole = self.sequence()
            for piece in pieces:
                self.words |= piece
            if whole is not None and self.depth == 0:
                self.whole |= whole
            if whole is None or full is None:
                full = None
            else:
                full |= whole
            if self._peek() == "|":
                self.i += 1
                continue
            return full

    def sequence(self) -> tuple[_Pieces, set[str] | None]:
        pieces: _Pieces = []
        run: set[str] = {""}
        broken = False
        while self.i < len(self.p) and self._peek() not in "|)":
            atom = self.atom()
            quant = self._peek()
            if quant == "?":
                self.i += 1
                if atom is not None:
                    atom = atom | {""}
            elif quant in ("*", "+", "{"):
                self._skip_quantifier()
                atom = None
            if atom is None:
                pieces.append(run)
                run, broken = {""}, True
                continue
            if not atom:  # a lookaround: spells nothing
                continue
            run = {a + b for a in run for b in atom}
            if len(run) > _MAX_SPELLINGS:
                pieces.append(set())
                run, broken = {""}, True
        pieces.append(run)
        return pieces, None if broken else run

    def _skip_quantifier(self) -> None:
        if self._peek() == "{":
            self.i = self.p.index("}", self.i) + 1
        else:
            self.i += 1
        if self._peek() == "?":
            self.i += 1

    def atom(self) -> set[str] | None:
        """The spellings of one atom; None when open-ended, the empty set for a lookaround."""
        ch = self._peek()
        self.i += 1
        if ch == "(":
            look = False
            if self.p.startswith("?:", self.i):
                self.i += 2
            elif self._peek() == "?":
                look = True
                self.i = self.p.index("<", self.i) + 2 if self.p[self.i + 1] == "<" else self.i + 2
            kept = set(self.words)
            self.depth += 1
            inner = self.alternatives()
            self.depth -= 1
            self.i += 1  # the closing parenthesis
            if look:  # what a lookaround rules out is no word of the rule
                self.words = kept
                return set()
            return inner
        if ch == "[":
            end = self.p.index("]", self.i)
            body = self.p[self.i : end]
            self.i = end + 1
            if body.startswith("^") or "-" in body or "\\" in body:
                return None
            return set(body)
        if ch in ".^$\\":
            if ch == "\\":
                self.i += 1
            return None
        return {ch}


def _chinese(words: Iterable[str]) -> frozenset[str]:
    return frozenset(
        w for w in words if len(w) >= 2 and all("\u4e00" <= ch <= "\u9fff" for ch in w)
    )


def pattern_words(pattern: str, whole_only: bool = False) -> frozenset[str]:
    """The Chinese words of two or more characters a rule pattern spells out (see
    `_PatternReader`): what the pattern needs to read, so what a recogniser may mishear.
    `whole_only`: only the alternatives that are a whole match by themselves (着火, 撞了),
    not the parts of a longer one (里面 in 里面有人.{0,6}出不来)."""
    reader = _PatternReader(pattern)
    whole = reader.alternatives()
    if whole_only:
        return _chinese(reader.whole)
    return _chinese(reader.words | (whole or set()))
