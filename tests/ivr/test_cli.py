"""`hotline ivr`: validate, simulate and draw a menu file."""

from __future__ import annotations

import json
from pathlib import Path

import yaml  # type: ignore[import-untyped]
from typer.testing import CliRunner

from hotline.cli import app
from ivr.document import default_menu_text

runner = CliRunner()


def test_default_menu_round_trip(tmp_path: Path) -> None:
    result = runner.invoke(app, ["ivr", "default"])
    assert result.exit_code == 0
    menu = tmp_path / "menu.yaml"
    menu.write_text(result.output, encoding="utf-8")
    assert runner.invoke(app, ["ivr", "validate", str(menu)]).output.strip() == "valid"
    walk = runner.invoke(app, ["ivr", "simulate", str(menu), "1", "4"])
    assert walk.exit_code == 0, walk.output
    steps = [json.loads(line) for line in walk.output.splitlines()]
    route = next(s for s in steps if s["step"] == "route")
    assert route["queue"] == "callback"
    drawn = runner.invoke(app, ["ivr", "diagram", str(menu)])
    assert drawn.output.startswith("flowchart TD")


def test_validate_lists_problems_and_fails(tmp_path: Path) -> None:
    data = yaml.safe_load(default_menu_text())
    data["nodes"]["main"]["options"]["7"] = "missing-node"
    menu = tmp_path / "bad.yaml"
    menu.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    result = runner.invoke(app, ["ivr", "validate", str(menu)])
    assert result.exit_code == 1
    assert (
        "unknown_target       nodes.main.options.7: options.7 goes to 'missing-node'"
        in result.output
    )
    bad_input = runner.invoke(app, ["ivr", "simulate", str(tmp_path / "nope.yaml")])
    assert bad_input.exit_code == 2
