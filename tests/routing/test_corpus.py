"""The corpus: size, coverage, an honest held-out split, deterministic generation."""

from __future__ import annotations

from collections import Counter

from routing import corpus
from routing.taxonomy import CLASSIFIER_OOS_REASONS, DEPARTMENTS, EMERGENCY_NUMBERS, KINDS


def test_generator_reproduces_the_committed_corpus() -> None:
    assert corpus.generate() == corpus.load()


def test_size_and_asr_copy() -> None:
    rows = corpus.load()
    clean = [e for e in rows if e.source == "clean"]
    asr = [e for e in rows if e.source == "asr"]
    assert len(clean) >= 1500
    assert len(asr) == len(clean)
    assert all(" " in e.text and "，" not in e.text for e in asr)


def test_every_label_in_both_splits() -> None:
    for split in ("train", "heldout"):
        rows = [e for e in corpus.load() if e.split == split]
        assert {e.department for e in rows} >= set(DEPARTMENTS)
        assert {e.kind for e in rows} >= set(KINDS)
        assert {e.out_of_scope_reason for e in rows} >= set(CLASSIFIER_OOS_REASONS)
        assert {e.emergency for e in rows} >= set(EMERGENCY_NUMBERS)
        assert any(e.enterprise for e in rows) and any(e.intent == "follow_up" for e in rows)


def test_held_out_templates_and_texts_never_reach_training() -> None:
    rows = corpus.load()
    train_templates = {e.template for e in rows if e.split == "train"}
    held_templates = {e.template for e in rows if e.split == "heldout"}
    assert not train_templates & held_templates
    train_texts = {e.text for e in rows if e.split == "train"}
    assert not train_texts & {e.text for e in rows if e.split == "heldout"}
    held = Counter(e.split for e in rows)
    assert 0.15 < held["heldout"] / len(rows) < 0.3


def test_training_only_templates_stay_in_training() -> None:
    rows = [e for e in corpus.load() if e.template.startswith(corpus.TRAIN_ONLY_PREFIX)]
    assert rows
    assert {e.split for e in rows} == {"train"}
