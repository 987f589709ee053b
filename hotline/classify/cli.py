"""`hotline classify`: classify a text, a JSON-lines stream, evaluate or rebuild the model.

    hotline classify "我家暖气不热"          one JSON object (the taxonomy contract)
    hotline classify --jsonl < in.jsonl      one result per input line, same order, with `id`
    hotline classify eval                    held-out scores
    hotline classify build                   regenerate the corpus and the model
    hotline bench classify                   latency and throughput (hotline.bench)

A first argument of `eval` or `build` is a verb; use `--text` to classify those very words.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Annotated, Any, TextIO

import typer

VERBS = ("eval", "build")

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
) -> None:
    """Pre-classify a request: emergency, scope, kind, domain, department, enterprise."""
    words = args or []
    if words and words[0] in VERBS and text is None and not jsonl:
        if len(words) > 1:
            raise typer.BadParameter(f"`{words[0]}` takes no further arguments")
        _run_eval() if words[0] == "eval" else _run_build()
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
