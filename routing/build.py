"""Fit the model from the corpus (training split only) and write routing/data/model.npz.

Deterministic: the corpus is generated with fixed seeds, the vectorizer and lbfgs have no
randomness, and the folds used for calibration are fixed by template id. The fit runs on BLAS,
whose kernels (chosen per CPU) sum in different orders: a build on another CPU gives the same
labels, probabilities a few 1e-4 apart and a model file with other bytes. See routing.model for
what the heads are. `validate()` is the cross-validation on training templates used to choose
the settings below (`python -m routing.build --validate`); it never reads the held-out split.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.preprocessing import normalize as normalize_rows

from routing import corpus
from routing.evaluate import Report
from routing.model import MODEL_PATH, FloatArray, Head, LinearModel, features, kind_cues
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
# Per-head overrides of C_REGULARISATION (none: C 5 and 50 for kind did no better in `validate`).
HEAD_C: dict[str, float] = {}
# Heads fitted with class weights inversely proportional to class frequency. Kind is balanced
# so the large consult and complaint classes do not swallow help, report and suggestion.
BALANCED_HEADS: tuple[str, ...] = ("emergency", "scope", "enterprise", "kind")
# Heads that also read the kind-cue features (routing.model.kind_cues), and the factor on those
# features' idf, so one cue word (举报, 帮帮, 表扬) is not outvoted by the topic's n-grams.
# Chosen by `validate` (5-fold by template over the training split; weights 1, 1.5, 2, 3
# tried). The other heads read exactly the features and rows they read without the cues.
WIDE_HEADS: tuple[str, ...] = ("kind",)
KIND_CUE_WEIGHT = 2.0
CALIBRATION_FOLDS = 4
TEMPERATURES = np.geomspace(0.25, 4.0, 49)


def _analyzer(text: str) -> list[str]:
    return features(text)


def _fit(
    x: object, y: Sequence[str] | np.ndarray, balanced: bool, c: float = C_REGULARISATION
) -> LogisticRegression:
    clf = LogisticRegression(
        C=c,
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


@dataclass(frozen=True)
class Matrices:
    """The TF-IDF rows of the training texts, as the narrow and the wide heads read them."""

    vocabulary: dict[str, int]  # shared features first, then the kind cues
    idf: FloatArray
    n_shared: int
    shared: Any  # sparse (n_texts, n_shared), l2 rows
    wide: Any  # sparse (n_texts, n_features), l2 rows


def vectorize_texts(texts: Sequence[str]) -> Matrices:
    """Fit the vocabularies and idf on normalised `texts` and return their rows."""
    # Unnormalised TF-IDF, then l2 per row: exactly what norm="l2" would give (sklearn does the
    # same two steps), keeping the raw rows for the wide heads.
    vectorizer = TfidfVectorizer(
        analyzer=_analyzer, sublinear_tf=True, min_df=2, dtype=np.float32, norm=None
    )
    raw = vectorizer.fit_transform(texts)
    x_shared = normalize_rows(raw, norm="l2")
    vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
    idf = vectorizer.idf_.astype(np.float32)
    n_shared = len(vocabulary)

    # The kind cues: extra columns after the shared ones, for the wide heads only. Their rows are
    # the shared and the cue TF-IDF side by side, normalised together.
    x_wide = x_shared
    if WIDE_HEADS:
        cue_vectorizer = TfidfVectorizer(
            analyzer=kind_cues, sublinear_tf=True, min_df=2, dtype=np.float32, norm=None
        )
        x_cues = cue_vectorizer.fit_transform(texts) * np.float32(KIND_CUE_WEIGHT)
        x_wide = normalize_rows(sp.hstack([raw, x_cues], format="csr"), norm="l2")
        for term, j in cue_vectorizer.vocabulary_.items():
            vocabulary[str(term)] = n_shared + int(j)
        cue_idf = (cue_vectorizer.idf_ * KIND_CUE_WEIGHT).astype(np.float32)
        idf = np.concatenate([idf, cue_idf]).astype(np.float32)
    return Matrices(vocabulary, idf, n_shared, x_shared, x_wide)


def build_model(examples: Sequence[Example]) -> LinearModel:
    """Fit every head on `examples` (callers pass the training split)."""
    m = vectorize_texts([normalize(e.text) for e in examples])
    vocabulary, idf, n_shared, x_shared, x_wide = m.vocabulary, m.idf, m.n_shared, m.shared, m.wide
    n_features = len(vocabulary)

    columns: list[FloatArray] = []
    biases: list[FloatArray] = []
    heads: list[Head] = []
    start = 0
    for name, (selects, label_of) in HEADS.items():
        rows = [i for i, e in enumerate(examples) if selects(e)]
        y = np.array([label_of(examples[i]) for i in rows])
        groups = np.array([examples[i].template for i in rows])
        wide = name in WIDE_HEADS
        x = (x_wide if wide else x_shared)[rows]
        balanced = name in BALANCED_HEADS
        c_reg = HEAD_C.get(name, C_REGULARISATION)
        clf = _fit(x, y, balanced, c_reg)
        classes = tuple(str(c) for c in clf.classes_)

        # Out-of-fold logits, folds by template, for the temperature.
        oof = np.zeros((len(rows), len(classes)))
        for train_idx, test_idx in GroupKFold(n_splits=CALIBRATION_FOLDS).split(x, y, groups):
            fold = _fit(x[train_idx], y[train_idx], balanced, c_reg)
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
        if w.shape[0] < n_features:  # a narrow head: zero weights on the cue features
            w = np.vstack([w, np.zeros((n_features - w.shape[0], w.shape[1]), dtype=np.float32)])
        columns.append(w)
        biases.append(b)
        heads.append(Head(name, classes, start, temperature, wide))
        start += len(classes)

    weights = np.hstack(columns).astype(np.float32)
    bias = np.concatenate(biases).astype(np.float32)
    return LinearModel(vocabulary, idf, weights, bias, heads, n_shared)


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


VALIDATION_FOLDS = 5


def _fold_key(examples: Sequence[Example]) -> str:
    """A digest of the rows a fold's model is fitted on, as the model reads them (for the
    validation cache: a change of the sound reading refits the folds, a change of a rule
    does not)."""
    digest = hashlib.sha256()
    for e in examples:
        digest.update(json.dumps(dataclasses.astuple(e), ensure_ascii=False).encode("utf-8"))
        digest.update(normalize(e.text).encode("utf-8"))
    return digest.hexdigest()[:16]


def validate(
    corpus_path: Path = corpus.CORPUS_PATH,
    folds: int = VALIDATION_FOLDS,
    cache: Path | None = None,
) -> dict[str, list[Report]]:
    """Cross-validation on the training split only, for choosing features, rules and settings.

    The training rows are cut into `folds` parts by template (a template's variants stay
    together), a model is built on the other parts and scored on the one left out. The held-out
    split is neither read nor scored, so it stays an honest last check. Reads the corpus file:
    regenerate it first (`routing.corpus.write`) after changing templates. Returns the reports
    per fold for the template lists (`templates`) and for the style templates (`styles`: the
    rambling, written, terse and recogniser-style ones) and the first fresh set's rows (`fresh1`,
    each its own template), scored apart so figures stay
    comparable with rounds before the styles existed. `cache`: a folder keeping each fold's
    model by a digest of its rows, so changing only the rules re-scores in seconds.
    """
    from routing.classifier import Classifier
    from routing.evaluate import evaluate

    rows = [e for e in corpus.load(corpus_path) if e.split == "train"]
    # Training-only templates are fitted in every fold and never scored, so figures with and
    # without them are over the same rows.
    always = [e for e in rows if e.template.startswith(corpus.TRAIN_ONLY_PREFIX)]
    train = [e for e in rows if not e.template.startswith(corpus.TRAIN_ONLY_PREFIX)]
    groups = np.array([e.template for e in train])
    reports: dict[str, list[Report]] = {"templates": [], "styles": [], "fresh1": []}
    for fit_idx, val_idx in GroupKFold(n_splits=folds).split(np.zeros(len(train)), None, groups):
        fit = [train[i] for i in fit_idx] + always
        path = cache / f"fold-{_fold_key(fit)}.npz" if cache is not None else None
        if path is not None and path.exists():
            model = LinearModel.load(path)
        else:
            model = build_model(fit)
            if path is not None:
                model.save(path)
        scored = [train[i] for i in val_idx]
        classifier = Classifier(model)
        styles = [e for e in scored if e.template.startswith(corpus.STYLE_PREFIX)]
        reports["styles"].append(evaluate(classifier, styles))
        fresh = [e for e in scored if e.template.startswith(corpus.FRESH1_PREFIX)]
        reports["fresh1"].append(evaluate(classifier, fresh))
        apart = (corpus.STYLE_PREFIX, corpus.FRESH1_PREFIX)
        others = [e for e in scored if not e.template.startswith(apart)]
        reports["templates"].append(evaluate(classifier, others))
    return reports


def format_validation(report: Report, show_texts: int = 0) -> str:
    """The cross-validated figures on a few lines, with the kind confusions."""
    lines = [f"rows {report.rows} from {len(report.templates)} templates"]
    lines += [
        f"{label:18} {report.accuracy(label):.1%} (n={report.total[label]})"
        for label in (
            "intent",
            "in_scope",
            "reason",
            "follow_up_recall",
            "enterprise_recall",
            "kind",
            "domain",
            "department",
            "enterprise",
        )
    ]
    lines.append(
        f"emergency recall {report.emergency_recall:.1%} ({report.emergencies_caught}/"
        f"{report.emergencies}), false alarms {report.false_alarm_rate:.2%}, ECE {report.ece():.3f}"
    )
    wrong = sorted(
        ((n, g, p) for (g, p), n in report.kind_confusion.items() if g != p), reverse=True
    )
    lines.append("kind errors: " + ", ".join(f"{g}->{p} {n}" for n, g, p in wrong[:10]))
    if show_texts:
        lines += [f"  missed: {t}" for t in report.misses[:show_texts]]
        lines += [f"  false alarm: {t}" for t in report.false_alarm_texts[:show_texts]]
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    import time

    from routing.evaluate import merge

    t0 = time.perf_counter()
    if sys.argv[1:2] == ["--validate"]:
        cache_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else None
        if cache_dir is not None:
            cache_dir.mkdir(parents=True, exist_ok=True)
        found = validate(cache=cache_dir)
        for part, part_reports in found.items():
            print(f"--- {part}")
            print(format_validation(merge(part_reports)))
        everything = [r for part_reports in found.values() for r in part_reports]
        print(f"--- all\n{format_validation(merge(everything))}")
        print(f"{time.perf_counter() - t0:.0f} s")
    else:
        m = build()
        print(f"{m.n_features} features, {time.perf_counter() - t0:.1f} s")
