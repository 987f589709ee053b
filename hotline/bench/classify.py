"""`hotline bench classify`: model load time, per-call latency (p50/p99), --jsonl throughput.

Latency is measured on the held-out corpus after a warm-up of 50 calls; throughput streams
`lines` JSON lines through the same code `hotline classify --jsonl` runs.
"""

from __future__ import annotations

import io
import json
import statistics
import time
from typing import Any

from hotline.classify.cli import classify_stream
from routing import Classifier, corpus
from routing.model import MODEL_PATH


def run_bench(lines: int) -> dict[str, Any]:
    """The measures, rounded, in the order they are printed and written."""
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

    return {
        "model_load_s": round(load_s, 4),
        "calls": len(latencies),
        "latency_ms_p50": round(p50, 4),
        "latency_ms_p99": round(p99, 4),
        "jsonl_lines": lines,
        "jsonl_seconds": round(stream_s, 4),
        "jsonl_lines_per_s": round(lines / stream_s, 1),
    }
