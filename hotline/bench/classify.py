"""`hotline bench classify`: load times, per-call latency (p50/p99), --jsonl throughput.

Load is the model file alone (`model_load_s`, the <= 2 s target) and the classifier ready to
answer (`ready_s`: the model, the dispatch catalogue and the sound index of key words, all
built on first use). Latency is measured on the corpus's held-out texts (short spoken requests,
clean and recogniser-style) after a warm-up of 50 calls, and apart on written messages of about
3,000 characters (the training split's written templates, joined). Throughput streams `lines`
JSON lines through the same code `hotline classify --jsonl` runs.
"""

from __future__ import annotations

import io
import json
import statistics
import time
from collections.abc import Sequence
from typing import Any

from hotline.classify.cli import classify_stream
from routing import Classifier, corpus
from routing.model import MODEL_PATH, LinearModel

LONG_CHARS = 3_000


def _percentiles(latencies: list[float]) -> tuple[float, float]:
    latencies = sorted(latencies)
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    return statistics.median(latencies), p99


def _timed(classifier: Classifier, texts: Sequence[str]) -> list[float]:
    out = []
    for t in texts:
        t0 = time.perf_counter()
        classifier.classify(t)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _long_messages(rows: Sequence[corpus.Example], n: int = 50) -> list[str]:
    """Written messages of about LONG_CHARS characters: the written training templates, each
    followed by others until long enough."""
    written = sorted(
        {e.text for e in rows if e.split == "train" and e.source == "clean" and "\n" in e.text}
    )
    out = []
    for i in range(n):
        parts: list[str] = []
        j = i
        while sum(map(len, parts)) < LONG_CHARS and written:
            parts.append(written[j % len(written)])
            j += 7
        out.append("\n".join(parts)[:LONG_CHARS])
    return out


def run_bench(lines: int) -> dict[str, Any]:
    """The measures, rounded, in the order they are printed and written."""
    started = time.perf_counter()
    model = LinearModel.load(MODEL_PATH)
    load_s = time.perf_counter() - started
    classifier = Classifier(model)
    classifier.classify("我家暖气不热")  # the catalogue and the sound index, built on first use
    ready_s = time.perf_counter() - started

    rows = corpus.load()
    texts = [e.text for e in rows if e.split == "heldout"]
    _timed(classifier, texts[:50])
    p50, p99 = _percentiles(_timed(classifier, texts))
    long_texts = _long_messages(rows)
    _timed(classifier, long_texts[:5])
    long_p50, long_p99 = _percentiles(_timed(classifier, long_texts))

    stream = "".join(
        json.dumps({"id": i, "text": texts[i % len(texts)]}, ensure_ascii=False) + "\n"
        for i in range(lines)
    )
    sink = io.StringIO()
    t0 = time.perf_counter()
    classify_stream(classifier, io.StringIO(stream), sink)
    stream_s = time.perf_counter() - t0

    return {
        "model_load_s": round(load_s, 4),
        "ready_s": round(ready_s, 4),
        "calls": len(texts),
        "latency_ms_p50": round(p50, 4),
        "latency_ms_p99": round(p99, 4),
        "long_calls": len(long_texts),
        "long_chars": LONG_CHARS,
        "long_latency_ms_p50": round(long_p50, 4),
        "long_latency_ms_p99": round(long_p99, 4),
        "jsonl_lines": lines,
        "jsonl_seconds": round(stream_s, 4),
        "jsonl_lines_per_s": round(lines / stream_s, 1),
    }
