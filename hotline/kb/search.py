"""Ranking knowledge-base entries against a transcript or a typed question (pure logic).

Theory of operation: a caller's transcript is long and rambling ("我想问一下那个公积金怎么提取
啊"), so requiring every word would find nothing. The query is cut into terms: every pair of
neighbouring Chinese characters (bigrams: 公积, 积金, 提取...) and every run of other letters,
after `routing.text.normalize` (the recogniser's spaces and punctuation gone, digits as Chinese
numerals, known homophones folded). Fillers of speech (一下, 那个, 请问...), particles and
question words (啊, 的, 怎, 哪...) are word boundaries: no term reaches into them.

The database only finds candidates: entries whose full-text index holds any of the terms (an OR
of two-character phrases, `fts5_match_any` / `pg_tsquery_any`). Every entry holding a term is a
candidate, so a term's document frequency counted over the candidates is its frequency over the
whole searchable set, and the score below is computed in Python the same way on SQLite and
PostgreSQL:

    score = sum over matched terms t of idf(t) * (3 if t in question + 2 if in keywords or
            matters + 1 if in answer) + 2 * (the idf-weighted share of the question's terms
            that the query holds)

`idf` is BM25's, so a term most entries hold (办理) weighs little and a rare one (公积) much;
the share rewards the entry whose question is most fully asked, and an entry whose question
holds a telling word the caller did not say (租房) loses more than one whose missing word is
common (住房). Ties go to the lower id.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from routing.text import normalize

#: at most this many distinct terms of a query are used (the first ones)
MAX_TERMS = 200
FIELD_WEIGHTS: Mapping[str, float] = {"question": 3.0, "keywords": 2.0, "answer": 1.0}
COVERAGE_WEIGHT = 2.0

# Words of speech that say nothing about the matter. Only whole bigrams are dropped.
FILLERS = frozenset(
    """一下 那个 这个 就是 然后 我想 想问 问一 请问 你好 您好 的话 我们 你们 他们 那么 这样
    那样 是不 不是 有没 什么 怎么 一个 现在 知道 麻烦 谢谢 帮我 我要 想要 问问 这边 那边 咱们
    还是 但是 因为 所以 如果 已经 可以 能不 不能 应该 需要 我这 我那 我家 时候 多少 为啥
    为什么 这里 那里 哪里 得到 一些 有些 东西 事情 问题 情况 反正 其实 好像 感觉 觉得""".split()
)
PARTICLES = frozenset("啊呢吧嘛呀哦嗯呃哎诶哈啦喂的了吗么怎什哪谁")


def _han(char: str) -> bool:
    code = ord(char)
    return (
        0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
    )


def _runs(text: str) -> list[tuple[bool, str]]:
    """The normalised text cut into runs of Chinese characters and runs of Latin letters
    (ETC, app). Any other character only separates: both full-text engines read Han and
    ASCII letters alike, so a term is always the same words to FTS5 and PostgreSQL."""
    runs: list[tuple[bool, str]] = []
    previous: bool | None = None
    for char in normalize(text):
        kind = True if _han(char) else False if "a" <= char <= "z" else None
        if kind is not None and kind == previous:
            runs[-1] = (kind, runs[-1][1] + char)
        elif kind is not None:
            runs.append((kind, char))
        previous = kind
    return runs


def all_terms(text: str) -> list[str]:
    """Every term of `text` in order (repeats kept, nothing dropped): the entry side."""
    terms: list[str] = []
    for han, run in _runs(text):
        if han:
            terms.extend(run[i : i + 2] for i in range(len(run) - 1))
        elif len(run) >= 2:
            terms.append(run)
    return terms


def useful_terms(text: str) -> list[str]:
    """The terms of `text` that can tell entries apart, in order (repeats kept). A filler
    word or a particle marks a word boundary, so the pairs reaching into it go too:
    "公积金怎么提取" gives 公积 积金 提取, not 金怎 or 么提."""
    terms: list[str] = []
    for han, run in _runs(text):
        if not han:
            if len(run) >= 2:
                terms.append(run)
            continue
        noise = [c in PARTICLES for c in run]
        for i in range(len(run) - 1):
            if run[i : i + 2] in FILLERS:
                noise[i] = noise[i + 1] = True
        terms.extend(run[i : i + 2] for i in range(len(run) - 1) if not (noise[i] or noise[i + 1]))
    return terms


def query_terms(query: str) -> list[str]:
    """The distinct useful terms of a query, in order of first appearance, at most MAX_TERMS."""
    seen: dict[str, None] = {}
    for term in useful_terms(query):
        seen.setdefault(term, None)
        if len(seen) >= MAX_TERMS:
            break
    return list(seen)


def index_text(*fields: str) -> str:
    """An entry's text as the full-text index holds it: each Chinese character a word of its
    own (as for recordings), so a term is a two-word phrase; Latin runs whole."""
    return " ".join(" ".join(run) if han else run for f in fields for han, run in _runs(f))


def _phrase(term: str) -> list[str]:
    return list(term) if _han(term[0]) else [term]


def fts5_match_any(terms: Sequence[str]) -> str:
    """An FTS5 MATCH expression finding entries with any of `terms` (letters and digits only,
    so nothing in it is FTS syntax)."""
    return " OR ".join('"' + " ".join(_phrase(t)) + '"' for t in terms)


def pg_tsquery_any(terms: Sequence[str]) -> str:
    """The same for PostgreSQL's `to_tsquery('simple', ...)`: adjacent words joined by <->."""
    return " | ".join("(" + " <-> ".join(_phrase(t)) + ")" for t in terms)


@dataclass(frozen=True)
class Candidate:
    id: int
    question: str
    #: the keywords and matter names
    keywords: tuple[str, ...]
    answer: str


@dataclass(frozen=True)
class Ranked:
    id: int
    score: float
    #: the query's terms the entry holds, joined where they overlap (公积 积金 -> 公积金)
    matched: list[str]


def _idf(total: int, df: int) -> float:
    return math.log(1.0 + (total - df + 0.5) / (df + 0.5))


def _spans(terms: Sequence[str], matched: set[str]) -> list[str]:
    """The matched terms in query order, overlapping bigrams merged into words."""
    out: list[str] = []
    for term in terms:
        if term not in matched:
            continue
        if out and _han(term[0]) and len(term) == 2 and out[-1].endswith(term[0]):
            out[-1] += term[1]
        else:
            out.append(term)
    return out


def rank(query: str, candidates: Iterable[Candidate], total: int, limit: int) -> list[Ranked]:
    """The candidates holding any of the query's terms, best first, at most `limit`.
    `total` is how many entries were searchable (candidates or not)."""
    terms = query_terms(query)
    wanted = set(terms)
    fields: list[tuple[Candidate, dict[str, set[str]], set[str]]] = []
    df: dict[str, int] = dict.fromkeys(terms, 0)
    #: how many candidates hold each term at all (for the weight of a question's terms)
    seen_in: Counter[str] = Counter()
    for c in candidates:
        sets = {
            "question": set(all_terms(c.question)),
            "keywords": {t for k in c.keywords for t in all_terms(k)},
            "answer": set(all_terms(c.answer)),
        }
        held = wanted & (sets["question"] | sets["keywords"] | sets["answer"])
        if not held:
            continue  # a phrase matched across two fields or sentences, not a term
        for term in held:
            df[term] += 1
        seen_in.update(sets["question"] | sets["keywords"] | sets["answer"])
        fields.append((c, sets, held))
    total = max(total, len(fields))
    idf = {t: _idf(total, n) for t, n in df.items()}
    ranked: list[Ranked] = []
    for c, sets, held in fields:
        score = sum(
            idf[t] * sum(w for name, w in FIELD_WEIGHTS.items() if t in sets[name]) for t in held
        )
        own = {t: _idf(total, seen_in[t]) for t in set(useful_terms(c.question))}
        if own:
            asked = sum(w for t, w in own.items() if t in wanted)
            score += COVERAGE_WEIGHT * asked / sum(own.values())
        ranked.append(Ranked(c.id, round(score, 6), _spans(terms, held)))
    ranked.sort(key=lambda r: (-r.score, r.id))
    return ranked[:limit]
