"""The model: its numpy scoring equals scikit-learn's, the build is deterministic, loads fast."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

from routing import Classifier, corpus
from routing.build import build
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
