"""The verbs of `hotline classify` about a city's model versions: train, eval of a labelled
file, versions, use, corrections (see hotline.classify.cli for the command itself).

Training runs in this process, not in the controller: it is a full fit of every head
(`routing.build.build_model`, minutes on the shipped corpus), then the version is stored in
the database, where every controller can load it once it is put live.
"""

from __future__ import annotations

import getpass
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from hotline.classify.store import ModelStore
    from routing import Classifier


@dataclass(frozen=True)
class Options:
    data: Path | None
    note: str
    evaluate: str
    folds: int
    base_corpus: Path | None
    version: str
    as_json: bool
    since: str | None
    until: str | None
    output: Path | None
    by: str | None


#: verb -> the options it takes besides its defaults
_OWN: dict[str, set[str]] = {
    "train": {"data", "note", "evaluate", "folds", "base_corpus", "by"},
    "eval": {"data", "version", "as_json"},
    "versions": {"as_json"},
    "use": {"by"},
    "corrections": {"since", "until", "output", "by"},
    "build": set(),
}
_DEFAULTS = Options(None, "", "holdout", 5, None, "live", False, None, None, None, None)
_FLAGS = {
    "data": "--data",
    "note": "--note",
    "evaluate": "--evaluate",
    "folds": "--folds",
    "base_corpus": "--base-corpus",
    "version": "--version",
    "as_json": "--json",
    "since": "--since",
    "until": "--until",
    "output": "--output",
    "by": "--by",
}
MAX_NOTE_CHARS = 500


def check_options(verb: str, options: Options) -> None:
    """An option given to a verb that does not take it is an error, not ignored."""
    for name, flag in _FLAGS.items():
        if getattr(options, name) != getattr(_DEFAULTS, name) and name not in _OWN[verb]:
            raise typer.BadParameter(f"{flag} is not an option of `{verb}`")


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(code)


def _sessions() -> sessionmaker[Session]:
    from hotline.core import db
    from hotline.core.cli import settings_or_exit

    settings = settings_or_exit()
    db.upgrade(settings.database_url)
    return db.session_factory(db.make_engine(settings.database_url))


def _store() -> ModelStore:
    from hotline.classify.store import ModelStore

    return ModelStore(_sessions())


def _who(options: Options) -> str:
    if options.by:
        return options.by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.1%}"


def _classifier(store: ModelStore, version: int) -> Classifier:
    from hotline.classify.store import SHIPPED
    from routing import Classifier, default_classifier

    return default_classifier() if version == SHIPPED else Classifier(store.model(version))


def _read_limited(path: Path, limit: int) -> bytes:
    try:
        size = path.stat().st_size
        if size > limit:
            raise _fail(f"{path}: {size} bytes, at most {limit}")
        return path.read_bytes()
    except OSError as exc:
        raise _fail(f"{path}: {exc.strerror}") from None


# --- train -------------------------------------------------------------------------------------


def train(options: Options) -> None:
    """Validate the city's rows, fit base + city, measure, store the version (not live)."""
    from hotline.classify.store import NewVersion, VersionError, model_bytes, sha256_of
    from routing import corpus
    from routing.training import (
        EVALUATIONS,
        MAX_FOLDS,
        MAX_HISTORY_BYTES,
        HistoryError,
        read_history,
    )
    from routing.training import train as fit

    if options.data is None:
        raise typer.BadParameter("train needs --data history.csv")
    if options.evaluate not in EVALUATIONS:
        raise typer.BadParameter(f"--evaluate: one of {', '.join(EVALUATIONS)}")
    if options.evaluate == "cv" and not 2 <= options.folds <= MAX_FOLDS:
        raise typer.BadParameter(f"--folds: 2 to {MAX_FOLDS}")
    if len(options.note) > MAX_NOTE_CHARS:
        raise typer.BadParameter(f"--note: at most {MAX_NOTE_CHARS} characters")
    raw = _read_limited(options.data, MAX_HISTORY_BYTES)
    try:
        city = read_history(raw)
    except HistoryError as exc:
        for problem in exc.problems:
            typer.echo(f"{options.data}: {problem}", err=True)
        raise _fail(f"{len(exc.problems)} problem(s): nothing trained, nothing stored") from None
    base_path = options.base_corpus or corpus.CORPUS_PATH
    try:
        base = [e for e in corpus.load(base_path) if e.split == "train"]
    except (OSError, ValueError, TypeError) as exc:
        raise _fail(f"{base_path}: cannot read the base corpus ({exc})") from None
    store = _store()
    live = store.live().version
    try:
        before = _classifier(store, live)
    except VersionError as exc:
        raise _fail(f"the live version cannot be loaded: {exc}") from None
    typer.echo(f"{len(city)} city rows, {len(base)} base rows; training (this takes minutes)")
    started = time.perf_counter()
    try:
        trained = fit(
            base,
            city,
            evaluation=options.evaluate,
            folds_count=options.folds,
            before=before,
            progress=lambda message: typer.echo(f"  {message}"),
        )
    except ValueError as exc:  # e.g. a base corpus lacking a head's classes
        raise _fail(f"training failed, nothing stored: {exc}") from None
    seconds = time.perf_counter() - started
    figures = {**trained.figures(), "before_version": live}
    try:
        number = store.add(
            NewVersion(
                model=model_bytes(trained.model),
                created_by=_who(options),
                note=options.note,
                base_rows=len(base),
                city_rows=len(city),
                data_sha256=sha256_of(raw),
                evaluation=trained.evaluation,
                figures=figures,
                train_seconds=seconds,
            )
        )
    except VersionError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"version {number} stored in {seconds:.0f} s ({trained.evaluation})")
    typer.echo(_figures_table(figures))
    typer.echo(f"not live yet: `hotline classify use {number}` puts it live")


def _figures_table(figures: dict[str, Any]) -> str:
    new, before = figures.get("new"), figures.get("before")
    if not new:
        return "no figures (--evaluate none, or too few rows to hold any out)"
    label = f"before (v{figures.get('before_version', 0)})"
    lines = [
        f"on {figures['scored_rows']} city rows the new version did not see:",
        f"| head | new | {label} |",
        "| --- | --- | --- |",
    ]
    for head, value in new["accuracy"].items():
        old = (before or {}).get("accuracy", {}).get(head)
        lines.append(f"| {head} | {_pct(value)} | {_pct(old)} |")
    for key, title in (
        ("emergency_recall", "emergency recall"),
        ("false_alarm_rate", "false alarms"),
    ):
        lines.append(f"| {title} | {_pct(new[key])} | {_pct((before or {}).get(key))} |")
    return "\n".join(lines)


# --- eval --------------------------------------------------------------------------------------


def _version_number(text: str, store: ModelStore | None) -> int:
    from hotline.classify.store import SHIPPED

    if text == "shipped":
        return SHIPPED
    if text == "live":
        return store.live().version if store is not None else SHIPPED
    if not text.isdigit():
        raise typer.BadParameter(f"version {text!r}: a number, `shipped` or `live`")
    return int(text)


def eval_file(options: Options) -> None:
    """Score a labelled JSON-lines file with one version; tables or --json."""
    from hotline.classify.store import SHIPPED, VersionError
    from routing import ClassifyError
    from routing.labelled import (
        MAX_LABELLED_BYTES,
        LabelledError,
        format_scores,
        read_labelled,
        score,
    )

    assert options.data is not None
    raw = _read_limited(options.data, MAX_LABELLED_BYTES)
    try:
        rows = read_labelled(raw)
    except LabelledError as exc:
        for problem in exc.problems:
            typer.echo(f"{options.data}: {problem}", err=True)
        raise _fail(f"{len(exc.problems)} problem(s): nothing scored") from None
    store = None if options.version == "shipped" else _store()
    number = _version_number(options.version, store)
    try:
        classifier = _classifier(store, number) if store is not None else _classifier_shipped()
    except VersionError as exc:
        raise _fail(str(exc)) from None

    def classify(text: str) -> dict[str, Any] | None:
        try:
            return classifier.classify(text).to_dict()
        except ClassifyError:
            return None

    scores = score(rows, classify)
    name = "shipped" if number == SHIPPED else str(number)
    if options.as_json:
        typer.echo(json.dumps({"version": name, **scores.to_dict()}, ensure_ascii=False))
        return
    typer.echo(f"model version {name}, file {options.data}")
    typer.echo(format_scores(scores))


def _classifier_shipped() -> Classifier:
    from routing import default_classifier

    return default_classifier()


# --- versions and use --------------------------------------------------------------------------


def versions(options: Options) -> None:
    store = _store()
    live = store.live()
    listed = store.versions()
    if options.as_json:
        out = {
            "live": live.version,
            "versions": [{"version": 0, "name": "shipped"}] + [v.to_dict() for v in listed],
        }
        typer.echo(json.dumps(out, ensure_ascii=False))
        return
    typer.echo("version\tlive\tcreated\tby\tcity rows\tevaluation\tdepartment\tkind\tnote")
    typer.echo(f"0\t{'*' if live.version == 0 else ''}\tshipped\t\t\t\t\t\t")
    for v in listed:
        accuracy = (v.figures.get("new") or {}).get("accuracy", {})
        created = v.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M") if v.created_at else ""
        typer.echo(
            f"{v.version}\t{'*' if live.version == v.version else ''}\t{created}\t"
            f"{v.created_by}\t{v.city_rows}\t{v.evaluation}\t"
            f"{_pct(accuracy.get('department'))}\t{_pct(accuracy.get('kind'))}\t{v.note}"
        )


def use(which: str, options: Options) -> None:
    from hotline.classify.store import VersionError

    if which == "live":
        raise typer.BadParameter("`use` takes a version number or `shipped`")
    number = _version_number(which, None)
    store = _store()
    before = store.live().version
    try:
        store.use(number, _who(options))
    except VersionError as exc:
        raise _fail(str(exc)) from None
    name = "shipped" if number == 0 else str(number)
    typer.echo(
        f"version {name} is live (was {before or 'shipped'}); running controllers follow "
        "within a few seconds"
    )


# --- corrections -------------------------------------------------------------------------------


def _day(text: str, flag: str, zone: str) -> datetime:
    """Midnight of a local day (the centre's time zone) as an aware time."""
    from zoneinfo import ZoneInfo

    try:
        if len(text) == 10:
            return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(zone))
    except ValueError:
        pass
    raise typer.BadParameter(f"{flag}: a date, YYYY-MM-DD, not {text!r}")


def corrections(options: Options) -> None:
    """Export settled work orders as history rows for the next training."""
    from hotline.classify.corrections import export_corrections, private_file

    if options.since is None or options.output is None:
        raise typer.BadParameter("corrections needs --since YYYY-MM-DD and -o FILE.csv")
    from hotline.core.cli import settings_or_exit

    zone = settings_or_exit().timezone
    since = _day(options.since, "--since", zone)
    until = _day(options.until, "--until", zone) if options.until else None
    if until is not None and until <= since:
        raise typer.BadParameter("--until must be after --since")
    sessions = _sessions()
    try:
        out = private_file(options.output)
    except OSError as exc:
        raise _fail(f"{options.output}: {exc.strerror}") from None
    with out:
        done = export_corrections(sessions, out, since=since, until=until, by=_who(options))
    skipped = ", ".join(f"{why} {n}" for why, n in sorted(done.skipped.items())) or "none"
    typer.echo(
        f"{done.rows} rows written to {options.output} ({done.corrected} corrected by operators, "
        f"{done.confirmed} confirmed); orders left out: {skipped}"
    )
    typer.echo(
        "the file holds what citizens said: personal data, for the training machine only; "
        "delete it once trained",
        err=True,
    )


COMMANDS: dict[str, Callable[[Options], None]] = {
    "train": train,
    "eval": eval_file,
    "versions": versions,
    "corrections": corrections,
}
