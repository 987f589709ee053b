"""`hotline kb import | search | export | load-starter` on a real database."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOTLINE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    return tmp_path


def test_import_search_export_and_the_starter_set(env: Path) -> None:
    bad = env / "bad.csv"
    bad.write_text("question,answer,department\n问题甲,答案甲,\n问题乙,答案乙,tax\n", "utf-8")
    result = runner.invoke(app, ["kb", "import", str(bad)])
    assert result.exit_code == 1
    assert "line 3: department: 'tax' is not a department code" in result.stderr
    assert "nothing imported" in result.stderr
    good = env / "good.csv"
    good.write_text(
        "question,answer,keywords\n电动车上牌去哪里？,到指定登记点办理。,上牌|电动车\n", "utf-8"
    )
    result = runner.invoke(app, ["kb", "import", str(good), "--by", "wang.ops"])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "1 created, 0 changed, 0 unchanged"
    result = runner.invoke(app, ["kb", "search", "我 的 电动车 要 上牌"])
    assert result.exit_code == 0, result.output
    assert result.stdout.split("\t")[2] == "电动车上牌去哪里？"
    assert runner.invoke(app, ["kb", "search", "嗯 那个"]).exit_code == 1
    result = runner.invoke(app, ["kb", "load-starter"])
    assert result.exit_code == 0, result.output
    added = int(result.stdout.split()[0])
    assert added >= 150
    assert runner.invoke(app, ["kb", "load-starter"]).stdout.startswith("0 ")
    out = env / "kb.csv"
    result = runner.invoke(app, ["kb", "export", "-o", str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text("utf-8").splitlines()
    assert lines[0].startswith("id,version,question,answer")
    assert lines[1].startswith("1,1,电动车上牌去哪里？,")
    result = runner.invoke(app, ["kb", "search", "我想问一下那个公积金怎么提取啊", "--limit", "1"])
    assert result.stdout.split("\t")[2] == "住房公积金怎么提取？"
