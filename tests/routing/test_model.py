"""The model: its numpy scoring equals scikit-learn's, the build is deterministic, loads fast."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from routing import Classifier, corpus
from routing.build import build, vectorize_texts
from routing.model import MODEL_PATH, LinearModel, features
from routing.text import normalize


def test_model_loads_in_under_a_second() -> None:
    started = time.perf_counter()
    Classifier.from_path(MODEL_PATH).classify("我家暖气不热")
    assert time.perf_counter() - started < 1.0


def test_vectorize_matches_scikit_learn() -> None:
    texts = [normalize(e.text) for e in corpus.load() if e.split == "train"][:400]
    vec = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=2, dtype=np.float32)
    matrix = vec.fit_transform(texts)
    model = LinearModel(
        {str(k): int(v) for k, v in vec.vocabulary_.items()},
        vec.idf_.astype(np.float32),
        np.zeros((len(vec.vocabulary_), 1), dtype=np.float32),
        np.zeros(1, dtype=np.float32),
        [],
    )
    for i in range(0, 400, 37):
        idx, values = model.vectorize(texts[i])
        dense = np.zeros(len(vec.vocabulary_), dtype=np.float32)
        dense[idx] = values
        assert np.allclose(dense, matrix[i].toarray()[0], atol=1e-6)


def test_features_of_spaced_and_clean_text_agree() -> None:
    assert features(normalize("我 家 暖气 不 热")) == features(normalize("我家暖气不热！"))


def test_rebuilding_gives_the_same_predictions(tmp_path: Path) -> None:
    rebuilt = build(corpus_path=tmp_path / "corpus.jsonl", model_path=tmp_path / "model.npz")
    # The generator wrote the same corpus...
    assert (tmp_path / "corpus.jsonl").read_bytes() == corpus.CORPUS_PATH.read_bytes()
    # ...and the model built from it predicts what the committed one does.
    committed = LinearModel.load(MODEL_PATH)
    texts = [normalize(e.text) for e in corpus.load() if e.split == "heldout"][::5]
    for text in texts:
        a, b = rebuilt.scores(text), committed.scores(text)
        for head in a:
            assert a[head].best()[0] == b[head].best()[0]
            assert np.allclose(a[head].probs, b[head].probs, atol=1e-4)


def test_kind_cues_are_read_by_the_kind_head_only() -> None:
    model = LinearModel.load(MODEL_PATH)
    n_shared = model._n_shared
    assert n_shared < model.n_features  # the committed model has cue features
    for head in model.heads.values():
        cue_weights = model._weights[n_shared:, head.start : head.start + len(head.classes)]
        assert head.wide == (head.name == "kind")
        assert head.wide or not cue_weights.any()
    # A narrow head's row is normalised over the shared features alone.
    text = normalize("我要举报，他们偷偷往河里排污水")
    idx, values = model.vectorize(text)
    assert (idx < n_shared).all()
    assert np.isclose(float(np.dot(values, values)), 1.0)
    wide_idx, _ = model.vectorize(text, wide=True)
    assert (wide_idx >= n_shared).any()


def test_wide_and_narrow_rows_match_the_build() -> None:
    texts = [normalize(e.text) for e in corpus.load() if e.split == "train"][:400]
    m = vectorize_texts(texts)
    assert m.n_shared < len(m.vocabulary)
    n_columns = len(m.vocabulary)
    model = LinearModel(
        m.vocabulary,
        m.idf,
        np.zeros((n_columns, 1), dtype=np.float32),
        np.zeros(1, dtype=np.float32),
        [],
        m.n_shared,
    )
    for i in range(0, 400, 37):
        for wide, matrix in ((False, m.shared), (True, m.wide)):
            idx, values = model.vectorize(texts[i], wide=wide)
            dense = np.zeros(n_columns, dtype=np.float32)
            dense[idx] = values
            expected = matrix[i].toarray()[0]
            assert np.allclose(dense[: expected.size], expected, atol=1e-6)
            assert not dense[expected.size :].any()
