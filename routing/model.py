"""The trained part of the classifier: character n-gram TF-IDF and linear heads.

Theory of operation: `build()` fits one scikit-learn TfidfVectorizer over the normalised training
texts and one LogisticRegression per label ("head"): intent, kind, domain, department,
enterprise, scope (in scope or an out-of-scope reason) and emergency (a backstop behind the
rules). Each head's probabilities are calibrated with one temperature, fitted on out-of-fold
predictions where the folds never split a template (so the temperature sees new phrasings, as
real calls are).

The fitted numbers are exported into a plain `.npz` (no pickle) and `LinearModel` scores a text
with a few numpy operations, which is what keeps one classification well under a millisecond:
the n-grams of the text index rows of one weight matrix holding all heads side by side.
`features()` is the analyzer given to scikit-learn at build time too, so the two cannot disagree
(a test checks it).

The kind head alone also reads kind-cue tokens (`kind_cues()`, routing.lexicon.KIND_CUES). They
are columns after the shared ones, and a head that reads them ("wide") gets its own
l2 normalisation over all its columns, so the other heads see exactly the row they would see
without the cues: adding cue words cannot move department or scope.
"""

from __future__ import annotations

import io
import json
import math
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

from routing.lexicon import kind_cue_features, lexicon_features

DATA_DIR: Final = Path(__file__).resolve().parent / "data"
MODEL_PATH: Final = DATA_DIR / "model.npz"
NGRAM_MIN: Final = 1
NGRAM_MAX: Final = 3
MODEL_VERSION: Final = 3  # 3: key words read back by sound (routing.sounds), not by a table

FloatArray = npt.NDArray[np.float32]


class ModelError(Exception):
    """The model file is missing, unreadable or from another version."""

    error_id = "model_unavailable"


def features(normalized: str) -> list[str]:
    """Character n-grams of a normalised text (routing.text.normalize), plus lexicon tokens."""
    grams: list[str] = []
    n_chars = len(normalized)
    for n in range(NGRAM_MIN, NGRAM_MAX + 1):
        grams.extend(normalized[i : i + n] for i in range(n_chars - n + 1))
    grams.extend(lexicon_features(normalized))
    return grams


def kind_cues(normalized: str) -> list[str]:
    """The kind-cue tokens of a normalised text, read by the kind head only (see the header)."""
    return kind_cue_features(normalized)


@dataclass(frozen=True, slots=True)
class HeadScores:
    """Calibrated probabilities of one head, classes in the head's order."""

    classes: tuple[str, ...]
    probs: FloatArray

    def best(self) -> tuple[str, float]:
        i = int(np.argmax(self.probs))
        return self.classes[i], float(self.probs[i])

    def prob(self, label: str) -> float:
        return float(self.probs[self.classes.index(label)])


@dataclass(frozen=True, slots=True)
class Head:
    name: str
    classes: tuple[str, ...]
    start: int  # columns [start, start + len(classes)) of the weight matrix
    temperature: float
    wide: bool = False  # also reads the kind-cue features (rows normalised over both)


class LinearModel:
    """All heads over one TF-IDF feature space; immutable once loaded.

    Features [0, n_shared) are read by every head; the rest (kind cues) by wide heads only: the
    other heads' weights are zero there and their rows are normalised over the shared features.
    """

    def __init__(
        self,
        vocabulary: dict[str, int],
        idf: FloatArray,
        weights: FloatArray,
        bias: FloatArray,
        heads: Sequence[Head],
        n_shared: int | None = None,
    ) -> None:
        self._vocabulary = vocabulary
        self._idf = idf
        self._weights = weights  # (n_features, n_columns)
        self._bias = bias
        self.heads: dict[str, Head] = {h.name: h for h in heads}
        self._n_shared = len(vocabulary) if n_shared is None else n_shared

    def _raw(self, normalized: str) -> tuple[npt.NDArray[np.intp], FloatArray]:
        """Feature indices and unnormalised TF-IDF values, shared features then kind cues."""
        counts = Counter(features(normalized))
        if self._n_shared < len(self._vocabulary):
            counts.update(kind_cues(normalized))
        vocab = self._vocabulary
        pairs = [(vocab[g], c) for g, c in counts.items() if g in vocab]
        if not pairs:
            return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.float32)
        idx = np.fromiter((p[0] for p in pairs), dtype=np.intp, count=len(pairs))
        tf = np.fromiter((1.0 + math.log(p[1]) for p in pairs), dtype=np.float32, count=len(pairs))
        return idx, tf * self._idf[idx]

    @staticmethod
    def _l2(values: FloatArray) -> FloatArray:
        norm = float(np.sqrt(np.dot(values, values)))
        return values / norm if norm > 0 else values

    def _narrow(
        self, idx: npt.NDArray[np.intp], values: FloatArray
    ) -> tuple[npt.NDArray[np.intp], FloatArray]:
        keep = idx < self._n_shared
        return idx[keep], values[keep]

    def vectorize(
        self, normalized: str, wide: bool = False
    ) -> tuple[npt.NDArray[np.intp], FloatArray]:
        """Sparse TF-IDF row of `normalized` as a head reads it: (indices, l2-normalised values).

        `wide` keeps the kind-cue features; otherwise only the shared ones are returned."""
        idx, values = self._raw(normalized)
        if not wide:
            idx, values = self._narrow(idx, values)
        return idx, self._l2(values)

    def scores(self, normalized: str) -> dict[str, HeadScores]:
        """Calibrated probabilities of every head for one normalised text."""
        idx, values = self._raw(normalized)
        n_idx, n_values = self._narrow(idx, values)
        shared = (
            self._l2(n_values) @ self._weights[n_idx] + self._bias
            if n_idx.size
            else self._bias.copy()
        )
        wide_values = self._l2(values) if any(h.wide for h in self.heads.values()) else values
        out: dict[str, HeadScores] = {}
        for head in self.heads.values():
            cols = slice(head.start, head.start + len(head.classes))
            if not head.wide:
                logits = shared[cols]
            elif idx.size:  # only this head's columns of the rows the text has
                logits = wide_values @ self._weights[idx, cols] + self._bias[cols]
            else:
                logits = self._bias[cols].copy()
            z = logits / head.temperature
            z = np.exp(z - z.max())
            out[head.name] = HeadScores(head.classes, (z / z.sum()).astype(np.float32))
        return out

    @property
    def n_features(self) -> int:
        return len(self._vocabulary)

    # --- persistence ---------------------------------------------------------------------------

    def save(self, path: Path) -> None:
        """Write the model as an `.npz` with fixed timestamps, so equal models give equal bytes."""
        terms = sorted(self._vocabulary, key=self._vocabulary.__getitem__)
        meta = {
            "version": MODEL_VERSION,
            "ngram": [NGRAM_MIN, NGRAM_MAX],
            "n_shared": self._n_shared,
            "heads": [
                {
                    "name": h.name,
                    "classes": list(h.classes),
                    "start": h.start,
                    "T": h.temperature,
                    "wide": h.wide,
                }
                for h in self.heads.values()
            ],
        }
        arrays: dict[str, np.ndarray] = {
            "meta": np.array(json.dumps(meta, ensure_ascii=False, sort_keys=True)),
            "terms": np.array(terms),
            "idf": self._idf,
            "weights": self._weights,
            "bias": self._bias,
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, arr in arrays.items():
                buf = io.BytesIO()
                np.lib.format.write_array(buf, np.ascontiguousarray(arr), allow_pickle=False)
                info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                zf.writestr(info, buf.getvalue())

    @classmethod
    def load(cls, path: Path = MODEL_PATH) -> LinearModel:
        """Read a model written by `save`; raises ModelError with the reason."""
        try:
            with np.load(path, allow_pickle=False) as z:
                meta = json.loads(z["meta"].item())
                terms = z["terms"].tolist()
                idf, weights, bias = z["idf"], z["weights"], z["bias"]
        except (OSError, KeyError, ValueError) as exc:
            raise ModelError(
                f"cannot read the classifier model at {path} ({exc}); "
                "run `hotline classify build` to create it"
            ) from exc
        if meta.get("version") != MODEL_VERSION or meta.get("ngram") != [NGRAM_MIN, NGRAM_MAX]:
            raise ModelError(f"{path} was built by another version; run `hotline classify build`")
        heads = [
            Head(h["name"], tuple(h["classes"]), h["start"], h["T"], bool(h["wide"]))
            for h in meta["heads"]
        ]
        vocabulary = {t: i for i, t in enumerate(terms)}
        return cls(
            vocabulary,
            idf.astype(np.float32),
            weights.astype(np.float32),
            bias,
            heads,
            int(meta["n_shared"]),
        )
