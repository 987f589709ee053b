"""Fit the model from the corpus (training split only) and write routing/data/model.npz.

Deterministic: the corpus is generated with fixed seeds, the vectorizer and lbfgs have no
randomness, and the folds used for calibration are fixed by template id. See routing.model for
what the heads are.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from routing import corpus
from routing.model import MODEL_PATH, FloatArray, Head, LinearModel, features
from routing.text import normalize

# head name -> (which rows train it, which label they carry)
Example = corpus.Example
HEADS: dict[str, tuple[Callable[[Example], bool], Callable[[Example], str]]] = {
    "emergency": (lambda e: True, lambda e: e.emergency or "none"),
    "scope": (
        lambda e: e.intent != "emergency",
        lambda e: e.out_of_scope_reason or "in_scope",
    ),
    "intent": (lambda e: e.intent != "emergency", lambda e: e.intent),
    "kind": (lambda e: e.kind is not None, lambda e: str(e.kind)),
    "domain": (lambda e: e.domain is not None, lambda e: str(e.domain)),
    "department": (lambda e: e.department is not None, lambda e: str(e.department)),
    "enterprise": (lambda e: e.intent != "emergency", lambda e: "yes" if e.enterprise else "no"),
}
C_REGULARISATION = 20.0
CALIBRATION_FOLDS = 4
TEMPERATURES = np.geomspace(0.25, 4.0, 49)


def _analyzer(text: str) -> list[str]:
    return features(text)


def _fit(x: object, y: Sequence[str] | np.ndarray, balanced: bool) -> LogisticRegression:
    clf = LogisticRegression(
        C=C_REGULARISATION,
        max_iter=3000,
        class_weight="balanced" if balanced else None,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf.fit(x, y)
    return clf


def _as_columns(clf: LogisticRegression) -> tuple[FloatArray, FloatArray]:
    """Weights and bias as one column per class (a binary head gets a zero column first)."""
    coef, bias = clf.coef_, clf.intercept_
    if coef.shape[0] == 1:
        coef = np.vstack([np.zeros_like(coef), coef])
        bias = np.concatenate([[0.0], bias])
    return coef.T.astype(np.float32), bias.astype(np.float32)


def _temperature(logits: np.ndarray, y_idx: np.ndarray) -> float:
    """The temperature minimising the log loss of out-of-fold logits."""
    best_t, best_nll = 1.0, np.inf
    for t in TEMPERATURES:
        z = logits / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        nll = -float(logp[np.arange(len(y_idx)), y_idx].mean())
        if nll < best_nll - 1e-9:
            best_t, best_nll = float(t), nll
    return best_t


def build_model(examples: Sequence[Example]) -> LinearModel:
    """Fit every head on `examples` (callers pass the training split)."""
    texts = [normalize(e.text) for e in examples]
    vectorizer = TfidfVectorizer(
        analyzer=_analyzer, sublinear_tf=True, min_df=2, dtype=np.float32, norm="l2"
    )
    x_all = vectorizer.fit_transform(texts)
    vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
    idf = vectorizer.idf_.astype(np.float32)

    columns: list[FloatArray] = []
    biases: list[FloatArray] = []
    heads: list[Head] = []
    start = 0
    for name, (selects, label_of) in HEADS.items():
        rows = [i for i, e in enumerate(examples) if selects(e)]
        y = np.array([label_of(examples[i]) for i in rows])
        groups = np.array([examples[i].template for i in rows])
        x = x_all[rows]
        balanced = name in ("emergency", "scope", "enterprise")
        clf = _fit(x, y, balanced)
        classes = tuple(str(c) for c in clf.classes_)

        # Out-of-fold logits, folds by template, for the temperature.
        oof = np.zeros((len(rows), len(classes)))
        for train_idx, test_idx in GroupKFold(n_splits=CALIBRATION_FOLDS).split(x, y, groups):
            fold = _fit(x[train_idx], y[train_idx], balanced)
            w, b = _as_columns(fold)
            fold_classes = [str(c) for c in fold.classes_]
            z = x[test_idx] @ w + b
            for j, c in enumerate(fold_classes):
                oof[test_idx, classes.index(c)] = z[:, j]
            for c in set(classes) - set(fold_classes):  # a class missing from the fold
                oof[test_idx, classes.index(c)] = -1e3
        y_idx = np.array([classes.index(v) for v in y])
        temperature = _temperature(oof, y_idx)

        w, b = _as_columns(clf)
        columns.append(w)
        biases.append(b)
        heads.append(Head(name, classes, start, temperature))
        start += len(classes)

    weights = np.hstack(columns).astype(np.float32)
    bias = np.concatenate(biases).astype(np.float32)
    return LinearModel(vocabulary, idf, weights, bias, heads)


def build(
    corpus_path: Path = corpus.CORPUS_PATH,
    model_path: Path = MODEL_PATH,
    regenerate_corpus: bool = True,
) -> LinearModel:
    """Regenerate the corpus (unless told not to), fit on its training split, save the model."""
    if regenerate_corpus:
        corpus.write(corpus_path)
    train = [e for e in corpus.load(corpus_path) if e.split == "train"]
    model = build_model(train)
    model.save(model_path)
    return model


if __name__ == "__main__":
    import time

    t0 = time.perf_counter()
    m = build()
    print(f"{m.n_features} features, {time.perf_counter() - t0:.1f} s")
