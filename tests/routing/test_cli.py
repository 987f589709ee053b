"""`hotline classify` through the real typer app."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from hotline.cli import app
from routing.taxonomy import OUTPUT_KEYS

runner = CliRunner()


def test_classify_text_prints_the_contract_object() -> None:
    result = runner.invoke(app, ["classify", "我家暖气不热"])
    assert result.exit_code == 0, result.output
    obj = json.loads(result.output)
    assert tuple(obj) == OUTPUT_KEYS
    assert obj["department"] == "heating"


def test_classify_words_given_separately() -> None:
    result = runner.invoke(app, ["classify", "我", "家", "暖气", "不", "热"])
    assert json.loads(result.output)["department"] == "heating"


def test_jsonl_keeps_order_and_ids_and_reports_bad_lines() -> None:
    lines = [
        {"id": "a", "text": "楼道着火了"},
        {"text": "我家暖气不热"},
        {"id": 3, "text": ""},
    ]
    stdin = "\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\nnot json\n"
    result = runner.invoke(app, ["classify", "--jsonl"], input=stdin)
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert len(out) == 4
    assert out[0]["id"] == "a" and out[0]["emergency"] == "119"
    assert "id" not in out[1] and out[1]["department"] == "heating"
    assert out[2]["id"] == 3 and out[2]["error"]["id"] == "empty_text"
    assert out[3]["error"]["id"] == "bad_json"


def test_empty_text_exits_with_a_clear_error() -> None:
    result = runner.invoke(app, ["classify", "--text", "  "])
    assert result.exit_code == 2
    assert json.loads(result.output)["error"]["id"] == "empty_text"


def test_explain_adds_the_operator_explanation() -> None:
    result = runner.invoke(app, ["classify", "--explain", "帮我查一下我前夫现在住哪"])
    obj = json.loads(result.output)
    assert obj["out_of_scope_reason"] == "privacy"
    assert "隐私" in obj["explanation"]


def test_eval_reports_the_targets() -> None:
    result = runner.invoke(app, ["classify", "eval"])
    assert result.exit_code == 0, result.output
    assert "department confusion" in result.output
    assert "target emergency_recall: met" in result.output
