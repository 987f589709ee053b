"""Full-text search text and queries, shared by the SQLite (FTS5) and PostgreSQL paths.

Chinese recogniser output has a space between words but people search with none
("暖气不热"), and a word boundary guessed by the recogniser may differ from the user's.
So both the indexed text and the query put every Han character on its own; a query word
becomes a phrase of its characters, which matches wherever those characters stand together.
Other scripts (Korean, Latin, digits) stay whole words.
"""

from __future__ import annotations

import re
import unicodedata

_TERM_LIMIT = 16


def _is_han(char: str) -> bool:
    code = ord(char)
    return (
        0x3400 <= code <= 0x4DBF
        or 0x4E00 <= code <= 0x9FFF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3134F
    )


def search_text(text: str) -> str:
    """The form of a transcript that goes into the full-text index."""
    text = unicodedata.normalize("NFKC", text).lower()
    out: list[str] = []
    for char in text:
        if _is_han(char):
            out.append(f" {char} ")
        elif char.isalnum() or char in "'-":
            out.append(char)
        else:
            out.append(" ")
    return " ".join("".join(out).split())


def query_phrases(query: str) -> list[str]:
    """The user's query as phrases that must all occur (at most 16; empty ones dropped)."""
    phrases = [search_text(word) for word in query.split()]
    return [p for p in phrases if p][:_TERM_LIMIT]


def fts5_match(query: str) -> str:
    """An FTS5 MATCH expression: every phrase quoted, so no user text is FTS syntax."""
    return " AND ".join('"' + p.replace('"', '""') + '"' for p in query_phrases(query))


def pg_tsquery(query: str) -> str:
    """A PostgreSQL tsquery in the `to_tsquery('simple', ...)` syntax: phrases joined by <->,
    ANDed together. Only letters and digits survive `search_text`, so nothing is syntax."""
    parts = []
    for phrase in query_phrases(query):
        words = [re.sub(r"[^\w]", "", w) for w in phrase.split()]
        words = [w for w in words if w]
        if words:
            parts.append("(" + " <-> ".join(words) + ")")
    return " & ".join(parts)
