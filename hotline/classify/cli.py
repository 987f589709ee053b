"""`hotline classify`: classify a text, a JSON-lines stream, evaluate or rebuild the model.

    hotline classify "我家暖气不热"          one JSON object (the taxonomy contract)
    hotline classify --jsonl < in.jsonl      one result per input line, same order, with `id`
    hotline classify eval                    held-out scores
    hotline classify build                   regenerate the corpus and the model
    hotline bench classify                   latency and throughput

A first argument of `eval` or `build` is a verb; use `--text` to classify those very words.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path
from typing import Annotated, Any, TextIO

import typer

VERBS = ("eval", "build")


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


def register(app: typer.Typer, bench_app: typer.Typer) -> None:
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

    @bench_app.command("classify")
    def bench_classify(
        out: Annotated[Path, typer.Option(help="Where to write the JSON results.")] = Path(
            "bench-results/classify.json"
        ),
        lines: Annotated[int, typer.Option(help="How many JSON lines to stream.")] = 1000,
    ) -> None:
        """Model load time, per-call latency (p50/p99) and --jsonl throughput."""
        import io

        from routing import Classifier, corpus
        from routing.model import MODEL_PATH

        started = time.perf_counter()
        classifier = Classifier.from_path(MODEL_PATH)
        load_s = time.perf_counter() - started

        texts = [e.text for e in corpus.load() if e.split == "heldout"]
        for t in texts[:50]:
            classifier.classify(t)
        latencies = []
        for t in texts:
            t0 = time.perf_counter()
            classifier.classify(t)
            latencies.append((time.perf_counter() - t0) * 1000)
        latencies.sort()
        p50 = statistics.median(latencies)
        p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]

        stream = "".join(
            json.dumps({"id": i, "text": texts[i % len(texts)]}, ensure_ascii=False) + "\n"
            for i in range(lines)
        )
        sink = io.StringIO()
        t0 = time.perf_counter()
        classify_stream(classifier, io.StringIO(stream), sink)
        stream_s = time.perf_counter() - t0

        results = {
            "model_load_s": round(load_s, 4),
            "calls": len(latencies),
            "latency_ms_p50": round(p50, 4),
            "latency_ms_p99": round(p99, 4),
            "jsonl_lines": lines,
            "jsonl_seconds": round(stream_s, 4),
            "jsonl_lines_per_s": round(lines / stream_s, 1),
        }
        typer.echo("| measure | value |\n| --- | --- |")
        for key, value in results.items():
            typer.echo(f"| {key} | {value} |")
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        typer.echo(f"written {out}")
