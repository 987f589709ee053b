"""Evaluation helpers: merging fold reports counts every row once."""

from __future__ import annotations

from routing import corpus, default_classifier
from routing.evaluate import evaluate, merge


def test_merge_equals_one_evaluation_of_all_rows() -> None:
    rows = [e for e in corpus.load() if e.split == "train"][::40]
    half = len(rows) // 2
    merged = merge(
        [
            evaluate(default_classifier(), rows[:half]),
            evaluate(default_classifier(), rows[half:]),
        ]
    )
    whole = evaluate(default_classifier(), rows)
    assert merged.rows == whole.rows == len(rows)
    assert merged.correct == whole.correct and merged.total == whole.total
    assert merged.kind_confusion == whole.kind_confusion
    assert merged.emergencies == whole.emergencies
    assert merged.ece() == whole.ece()
