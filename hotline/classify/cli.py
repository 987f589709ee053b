"""`hotline classify`: classify a text, a JSON-lines stream, evaluate or rebuild the model.

    hotline classify "我家暖气不热"          one JSON object (the taxonomy contract)
    hotline classify --jsonl < in.jsonl      one result per input line, same order, with `id`
    hotline classify eval                    held-out scores
    hotline classify build                   regenerate the corpus and the model
    hotline bench classify                   latency and throughput (hotline.bench)

A city's own model versions (hotline.classify.store; the controller follows the live one):

    hotline classify train --data history.csv [--note ..] [--evaluate holdout|cv|none]
    hotline classify eval --data labelled.jsonl [--version N|shipped|live] [--json]
    hotline classify versions [--json]
    hotline classify use N | use shipped
    hotline classify corrections --since 2026-01-01 [--until ..] -o corrections.csv

A first argument that is one of VERBS is a verb; use `--text` to classify those very words.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

VERBS = ("eval", "build", "train", "versions", "use", "corrections")

#: `hotline classify` is a command of `hotline` itself (this app is added without a name)
app = typer.Typer()


def _error_object(error_id: str, message: str) -> dict[str, Any]:
    return {"error": {"id": error_id, "message": message}}


def _result(classifier: Any, text: str, explain: bool) -> dict[str, Any]:
    from routing import ClassifyError

    try:
        analysis = classifier.analyse(text)
    except ClassifyError as exc:
        return _error_object(exc.error_id, str(exc))
    out: dict[str, Any] = analysis.classification.to_dict()
    if explain:
        out["explanation"] = analysis.explanation
        out["evidence"] = list(analysis.evidence)
    return out


def classify_stream(classifier: Any, lines: TextIO, out: TextIO, explain: bool = False) -> int:
    """Classify JSON lines with a `text` field; one output line per input line. Returns errors."""
    errors = 0
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            result = _error_object("bad_json", f"line {lineno}: not JSON ({exc.msg})")
            record = {}
        else:
            if not isinstance(record, dict) or not isinstance(record.get("text"), str):
                result = _error_object("no_text", f"line {lineno}: needs a string field `text`")
                record = record if isinstance(record, dict) else {}
            else:
                result = _result(classifier, record["text"], explain)
        if "error" in result:
            errors += 1
        if "id" in record:
            result = {"id": record["id"], **result}
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    return errors


def _run_eval() -> None:
    from routing import corpus, default_classifier
    from routing.evaluate import evaluate, format_report, meets_targets

    held_out = [e for e in corpus.load() if e.split == "heldout"]
    report = evaluate(default_classifier(), held_out)
    typer.echo(format_report(report))
    typer.echo("")
    for name, ok in meets_targets(report).items():
        typer.echo(f"target {name}: {'met' if ok else 'NOT met'}")


def _run_build() -> None:
    from routing.build import build
    from routing.corpus import CORPUS_PATH
    from routing.model import MODEL_PATH

    started = time.perf_counter()
    model = build()
    typer.echo(
        f"corpus {CORPUS_PATH}\nmodel {MODEL_PATH} ({model.n_features} features) "
        f"in {time.perf_counter() - started:.1f} s"
    )


@app.command(
    "classify",
    context_settings={"ignore_unknown_options": False},
)
def classify_command(
    args: Annotated[
        list[str] | None,
        typer.Argument(help="The text to classify, or the verb `eval` or `build`."),
    ] = None,
    jsonl: Annotated[
        bool, typer.Option("--jsonl", help="Read JSON lines with `text` (and `id`) on stdin.")
    ] = False,
    text: Annotated[
        str | None, typer.Option("--text", help="Classify this text, even if it is a verb.")
    ] = None,
    explain: Annotated[
        bool,
        typer.Option(
            "--explain",
            help="Add `explanation` (words for the operator) and `evidence` to the output.",
        ),
    ] = False,
    data: Annotated[
        Path | None,
        typer.Option(
            "--data",
            dir_okay=False,
            help="train: a history CSV; eval: a labelled JSON-lines file.",
        ),
    ] = None,
    note: Annotated[str, typer.Option("--note", help="train: a note kept with the version.")] = "",
    evaluate: Annotated[
        str,
        typer.Option(
            "--evaluate",
            help="train: figures of the new version on the city's rows: holdout (one fifth "
            "held out, one extra fit), cv (--folds extra fits) or none.",
        ),
    ] = "holdout",
    folds: Annotated[int, typer.Option("--folds", help="train --evaluate cv: folds.")] = 5,
    base_corpus: Annotated[
        Path | None,
        typer.Option(
            "--base-corpus",
            dir_okay=False,
            help="train: the corpus whose training split is fitted with the city's rows "
            "(default: the shipped corpus).",
        ),
    ] = None,
    version: Annotated[
        str, typer.Option("--version", help="eval --data: N, shipped or live.")
    ] = "live",
    as_json: Annotated[
        bool, typer.Option("--json", help="eval, versions: JSON instead of tables.")
    ] = False,
    since: Annotated[
        str | None, typer.Option("--since", help="corrections: orders created from YYYY-MM-DD.")
    ] = None,
    until: Annotated[
        str | None, typer.Option("--until", help="corrections: ... and before YYYY-MM-DD.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("-o", "--output", dir_okay=False, help="corrections: the CSV to write."),
    ] = None,
    by: Annotated[
        str | None, typer.Option("--by", help="train, use: who (default: the system user).")
    ] = None,
) -> None:
    """Pre-classify a request: emergency, scope, kind, domain, department, enterprise."""
    words = args or []
    if words and words[0] in VERBS and text is None and not jsonl:
        from hotline.classify import versions as verbs

        options = verbs.Options(
            data=data,
            note=note,
            evaluate=evaluate,
            folds=folds,
            base_corpus=base_corpus,
            version=version,
            as_json=as_json,
            since=since,
            until=until,
            output=output,
            by=by,
        )
        verb, rest = words[0], words[1:]
        if verb == "use":
            verbs.check_options(verb, options)
            if len(rest) != 1:
                raise typer.BadParameter("`use` takes one version: a number or `shipped`")
            verbs.use(rest[0], options)
            return
        if rest:
            raise typer.BadParameter(f"`{verb}` takes no further arguments")
        verbs.check_options(verb, options)
        if verb == "eval" and data is None:
            _run_eval()
        elif verb == "build":
            _run_build()
        else:
            verbs.COMMANDS[verb](options)
        return

    from routing import ModelError, default_classifier

    try:
        classifier = default_classifier()
    except ModelError as exc:
        typer.echo(json.dumps(_error_object(exc.error_id, str(exc)), ensure_ascii=False))
        raise typer.Exit(3) from exc
    if jsonl:
        if words or text is not None:
            raise typer.BadParameter("--jsonl reads stdin; give no text")
        classify_stream(classifier, sys.stdin, sys.stdout, explain)
        return
    if text is None:
        if not words:
            raise typer.BadParameter("give a text, --jsonl, `eval` or `build`")
        text = " ".join(words)
    result = _result(classifier, text, explain)
    typer.echo(json.dumps(result, ensure_ascii=False))
    if "error" in result:
        raise typer.Exit(2)
