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
    listed = [e for e in rows if not e.template.startswith(corpus.TRAINING_ONLY_PREFIXES)]
    held = Counter(e.split for e in listed)
    assert 0.15 < held["heldout"] / len(listed) < 0.3


def test_training_only_templates_stay_in_training() -> None:
    for prefix in corpus.TRAINING_ONLY_PREFIXES:
        rows = [e for e in corpus.load() if e.template.startswith(prefix)]
        assert rows
        assert {e.split for e in rows} == {"train"}


def test_the_split_is_a_hash_of_the_template_id_not_its_position() -> None:
    """Adding a template to a list moves no other template between the splits."""
    ids = [f"dept:heating:{i}" for i in range(20)]
    held = corpus._held_out(ids)
    assert len(held) == 4
    grown = corpus._held_out([*ids, "dept:heating:20"])
    assert len(held - grown) <= 1 and len(grown - held) <= 1
    assert held == corpus._held_out(list(reversed(ids)))


def test_written_style_templates_keep_their_punctuation_and_lines() -> None:
    rows = [e for e in corpus.load() if e.template.startswith(corpus.STYLE_PREFIX)]
    written = [e for e in rows if e.source == "clean" and "\n" in e.text]
    assert len(written) >= 15
    assert all("。" in e.text or "！" in e.text for e in written)
