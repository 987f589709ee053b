"""The model: its numpy scoring equals scikit-learn's, the build is reproducible, it loads.

How fast it loads and classifies is measured by `hotline bench classify`, not asserted here.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from routing import Classifier, corpus
from routing.build import build, vectorize_texts
from routing.model import MODEL_PATH, HeadScores, LinearModel, features
from routing.text import normalize

# How far a rebuilt model's probabilities may stray from the committed model's. The fit runs
# on BLAS, whose kernels (chosen per CPU) sum in different orders: rebuilds on two CPUs were
# seen 1.2e-4 apart. A real change in the corpus, features or fitting moves them by far more.
BLAS_TOLERANCE = 1e-3


def test_the_committed_model_loads_from_its_file_alone_and_classifies(tmp_path: Path) -> None:
    copy = tmp_path / "model.npz"
    shutil.copyfile(MODEL_PATH, copy)
    assert Classifier.from_path(copy).classify("我家暖气不热").department == "heating"


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


def _clearly_ranked(scores: HeadScores) -> list[tuple[str, str]]:
    """(higher, lower) pairs of classes whose order no BLAS kernel can swap."""
    by_class = dict(zip(scores.classes, scores.probs.tolist(), strict=True))
    return [
        (high, low)
        for high, p_high in by_class.items()
        for low, p_low in by_class.items()
        if p_high - p_low > 2 * BLAS_TOLERANCE
    ]


def test_rebuilding_gives_the_same_predictions(tmp_path: Path) -> None:
    rebuilt = build(corpus_path=tmp_path / "corpus.jsonl", model_path=tmp_path / "model.npz")
    # The generator (pure Python) wrote the same corpus, byte for byte...
    assert (tmp_path / "corpus.jsonl").read_bytes() == corpus.CORPUS_PATH.read_bytes()
    # ...and the model fitted on it predicts what the committed one does: the same labels in
    # the same order, with probabilities equal up to floating-point summation order (the
    # model file's bytes are not compared: they depend on the CPU's BLAS kernels).
    committed = LinearModel.load(MODEL_PATH)
    texts = [normalize(e.text) for e in corpus.load() if e.split == "heldout"][::5]
    for text in texts:
        a, b = rebuilt.scores(text), committed.scores(text)
        assert a.keys() == b.keys()
        for head in b:
            assert a[head].classes == b[head].classes, head
            assert np.allclose(a[head].probs, b[head].probs, rtol=0, atol=BLAS_TOLERANCE), (
                head,
                text,
            )
            # The ranking, and so the label shown (the best class) wherever it clearly leads.
            rebuilt_probs = dict(zip(a[head].classes, a[head].probs.tolist(), strict=True))
            for high, low in _clearly_ranked(b[head]):
                assert rebuilt_probs[high] > rebuilt_probs[low], (head, text, high, low)


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
