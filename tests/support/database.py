"""Every row of a test database, as text: to check that something is nowhere in it."""

from __future__ import annotations

import json
import re

from sqlalchemy import Engine, inspect, text


def cell_text(value: object) -> str:
    """A value as text; JSON kept as text (SQLite's JSON columns are, with \\u escapes) is
    decoded first, so a word is found however it was stored."""
    if isinstance(value, bytes | memoryview):
        value = bytes(value).decode("utf-8", errors="ignore")
    if isinstance(value, str) and value[:1] in ("[", "{", '"'):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    return json.dumps(value, default=str, ensure_ascii=False)


def every_row(engine: Engine) -> dict[str, list[str]]:
    """table -> its rows, each as the JSON text of its values (sorted). Every table of the
    schema counts, SQLite's full-text index and its shadow tables too."""
    with engine.connect() as connection:
        names = inspect(connection).get_table_names()
        if connection.dialect.name == "sqlite":
            names = [
                row[0]
                for row in connection.execute(
                    text("SELECT name FROM sqlite_master WHERE type = 'table'")
                )
            ]
        return {
            name: sorted(
                "[" + ", ".join(cell_text(v) for v in row) + "]"
                for row in connection.execute(text(f'SELECT * FROM "{name}"'))
            )
            for name in names
        }


def places_of(engine: Engine, words: str) -> list[str]:
    """The tables whose rows hold `words` (white space ignored: the full-text index keeps
    Han characters one by one, `十 二 度`)."""
    needle = re.sub(r"\s+", "", words)
    return [
        table
        for table, rows in every_row(engine).items()
        if any(needle in re.sub(r"\s+", "", row) for row in rows)
    ]
