"""The held-out split stays out of every rule and word list.

A cue word, lexicon entry, rule alternative or catalogue term that matches held-out rows but no
training row can only have come from reading the held-out split: it would make the held-out
figures a second training score. Each such term fails here, named with where it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from functools import lru_cache

import pytest

from routing import corpus, cues, emergency, lexicon, scope
from routing.catalogue import default_catalogue
from routing.text import normalize


@lru_cache(maxsize=1)
def _texts() -> tuple[tuple[str, ...], tuple[str, ...]]:
    rows = corpus.load()
    train = tuple(normalize(e.text) for e in rows if e.split == "train")
    held = tuple(normalize(e.text) for e in rows if e.split == "heldout")
    return train, held


def alternatives(pattern: str) -> list[str]:
    """The top-level alternatives of a regular expression (`a|b(c|d)` -> `a`, `b(c|d)`)."""
    out: list[str] = []
    depth = 0
    current: list[str] = []
    escaped = False
    in_class = False
    for ch in pattern:
        if escaped:
            current.append(ch)
            escaped = False
            continue
        if ch == "\\":
            escaped = True
        elif ch == "[":
            in_class = True
        elif ch == "]":
            in_class = False
        elif not in_class and ch == "(":
            depth += 1
        elif not in_class and ch == ")":
            depth -= 1
        elif not in_class and ch == "|" and depth == 0:
            out.append("".join(current))
            current = []
            continue
        current.append(ch)
    out.append("".join(current))
    return [a for a in out if a]


def _words(source: str, table: dict[str, tuple[str, ...]]) -> Iterator[tuple[str, str]]:
    for label, words in table.items():
        for word in words:
            yield f"{source}[{label}]", re.escape(normalize(word))


def _patterns() -> Iterator[tuple[str, str]]:
    for number, concept, pattern in emergency.EVENTS:
        for alt in alternatives(pattern):
            yield f"emergency.EVENTS[{number} {concept}]", alt
    for name in ("GENERIC", "NOW"):
        for alt in alternatives(getattr(emergency, name).pattern):
            yield f"emergency.{name}", alt
    for reason, pattern in scope.RULES:
        for alt in alternatives(pattern):
            yield f"scope.RULES[{reason}]", alt
    for name in ("FOLLOW_UP", "ENTERPRISE"):
        for alt in alternatives(getattr(cues, name).pattern):
            yield f"cues.{name}", alt
    yield from _words("lexicon.DEPARTMENT_WORDS", lexicon.DEPARTMENT_WORDS)
    yield from _words("lexicon.KIND_WORDS", lexicon.KIND_WORDS)
    yield from _words("lexicon.KIND_CUES", lexicon.KIND_CUES)


def _catalogue_terms() -> Iterator[tuple[str, str]]:
    for matter in default_catalogue().matters:
        for _kind, term in matter.terms():
            key = normalize(term)
            if key:
                yield f"catalogue[{matter.id}]", re.escape(key)


def held_out_only(terms: Iterable[tuple[str, str]]) -> list[str]:
    train, held = _texts()
    found = []
    for where, pattern in terms:
        compiled = re.compile(pattern)
        if any(compiled.search(t) for t in held) and not any(compiled.search(t) for t in train):
            found.append(f"{where}: {pattern}")
    return found


def test_alternatives_split_at_the_top_level_only() -> None:
    assert alternatives(r"a|b(c|d)|[|x]e") == ["a", "b(c|d)", "[|x]e"]


def test_no_rule_or_cue_word_matches_only_held_out_rows() -> None:
    assert held_out_only(_patterns()) == []


def test_no_catalogue_term_matches_only_held_out_rows() -> None:
    assert held_out_only(_catalogue_terms()) == []


@pytest.mark.parametrize("split", ["train", "heldout"])
def test_the_check_can_fail(split: str) -> None:
    """A term made of one held-out text is found; one made of a training text is not."""
    rows = [e for e in corpus.load() if e.split == split]
    term = re.escape(normalize(rows[0].text))
    assert bool(held_out_only([("probe", term)])) == (split == "heldout")
