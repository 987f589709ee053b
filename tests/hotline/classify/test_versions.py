"""`hotline classify train | versions | use | eval --data` on a real database, and the
controller's live model following `use`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hotline.classify.feature import LiveModel
from hotline.classify.store import ModelStore
from hotline.classify.tables import ModelVersionRow
from hotline.cli import app
from hotline.core import db
from hotline.core.audit import AuditEntry
from hotline.ivr.ports import classify_text
from hotline.orders import api as orders_api
from tests.hotline.classify.city import city_csv, write_small_base

runner = CliRunner()
PROBE = "我想打听一下蓝马甲的事"


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOTLINE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    db.upgrade(database_url)
    return tmp_path


def _sessions(database_url: str):  # type: ignore[no-untyped-def]
    return db.session_factory(db.make_engine(database_url))


def test_bad_rows_are_listed_with_their_lines_and_nothing_is_stored(
    env: Path, database_url: str
) -> None:
    history = env / "history.csv"
    history.write_text(
        "text,kind,department,out_of_scope_reason,emergency\n"
        "我家暖气不热,complaint,heating,,\n"
        ",consult,heating,,\n"
        "路灯坏了,complaint,street_lights,,\n"
        '"楼上漏水\n两天了",complaint,housing_urban_rural,,\n'
        "着火了,complaint,,,119\n"
        "查一下我前妻的住址,consult,public_security,privacy,\n",
        "utf-8",
    )
    result = runner.invoke(app, ["classify", "train", "--data", str(history)])
    assert result.exit_code == 1, result.output
    err = result.stderr
    assert "line 3: text is empty" in err
    assert "line 4: department: 'street_lights' is not one of" in err
    assert "line 7: an emergency (119) has no kind; leave it empty" in err
    assert "line 8: an out-of-scope request (privacy) goes to no department" in err
    assert "line 2" not in err and "line 5" not in err  # good rows (5 spans two lines)
    assert "4 problem(s): nothing trained, nothing stored" in err
    with _sessions(database_url)() as s:
        assert s.scalars(select(ModelVersionRow)).all() == []


def test_train_use_and_switch_back(env: Path, database_url: str) -> None:
    history = env / "history.csv"
    history.write_text(city_csv(), "utf-8")
    base = write_small_base(env / "base.jsonl")
    result = runner.invoke(
        app,
        [
            "classify",
            "train",
            "--data",
            str(history),
            "--base-corpus",
            str(base),
            "--note",
            "city rows 2026",
            "--by",
            "li.ops",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "version 1 stored" in result.stdout
    assert "`hotline classify use 1`" in result.stdout

    store = ModelStore(_sessions(database_url))
    [info] = store.versions()
    assert (info.version, info.created_by, info.note, info.city_rows) == (
        1,
        "li.ops",
        "city rows 2026",
        14,
    )
    assert info.evaluation == "holdout"
    figures = info.figures
    scored = figures["scored_rows"]
    assert 0 < scored < 14 and figures["new"]["rows"] == figures["before"]["rows"] == scored
    assert figures["before_version"] == 0
    # no row's words are kept with the figures
    assert "蓝马甲" not in json.dumps(figures, ensure_ascii=False)
    assert store.live().version == 0  # stored, not live

    # The controller's live model follows `use`, and `use shipped` goes back.
    live = LiveModel(_sessions(database_url))
    assert live.refresh() and live.version == 0
    assert live.current.classify(PROBE).department != "civil_affairs"
    result = runner.invoke(app, ["classify", "use", "1", "--by", "li.ops"])
    assert result.exit_code == 0, result.output
    assert "version 1 is live (was shipped)" in result.stdout
    assert live.refresh() and live.version == 1
    assert live.current.classify(PROBE).department == "civil_affairs"
    # what calls (the IVR's port) and written requests (the orders API) classify with
    spoken = asyncio.run(classify_text(PROBE, None, live.current))
    assert spoken is not None and spoken["department"] == "civil_affairs"
    written = orders_api._classify(PROBE, live.current)
    assert written is not None and written["department"] == "civil_affairs"
    assert not live.refresh()  # nothing changed: nothing reloaded

    listing = runner.invoke(app, ["classify", "versions", "--json"])
    assert json.loads(listing.stdout)["live"] == 1
    table = runner.invoke(app, ["classify", "versions"]).stdout.splitlines()
    assert table[2].startswith("1\t*\t") and "city rows 2026" in table[2]

    refused = runner.invoke(app, ["classify", "use", "7"])
    assert refused.exit_code == 1
    assert "no model version 7; there are versions 1..1 and 0 (shipped)" in refused.stderr
    assert store.live().version == 1

    result = runner.invoke(app, ["classify", "use", "shipped"])
    assert result.exit_code == 0, result.output
    assert live.refresh() and live.version == 0
    assert live.current.classify(PROBE).department != "civil_affairs"
    with _sessions(database_url)() as s:
        actions = [
            (e.action, e.unique_id)
            for e in s.scalars(select(AuditEntry).where(AuditEntry.subject == "classifier"))
        ]
    assert actions == [("train", "1"), ("use", "1"), ("use", "0")]


def test_eval_of_a_labelled_file_gives_exact_figures(env: Path) -> None:
    labelled = env / "labelled.jsonl"
    rows = [
        {"id": "a", "text": "楼道着火了，烟很大", "emergency": "119", "intent": "emergency"},
        {"id": "b", "text": "我家暖气不热", "emergency": None, "department": "heating"},
        # labelled wrong on purpose: the model says heating, the file water_supply
        {
            "id": "c",
            "text": "我家暖气不热好几天了",
            "emergency": None,
            "department": "water_supply",
        },
        {"id": "d", "text": "您好", "department": None},
    ]
    labelled.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows), "utf-8")
    result = runner.invoke(
        app, ["classify", "eval", "--data", str(labelled), "--version", "shipped", "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["version"] == "shipped" and report["rows"] == 4
    emergency = report["emergency"]
    assert (emergency["emergencies"], emergency["caught"], emergency["recall"]) == (1, 1, 1.0)
    assert (emergency["non_emergencies"], emergency["false_alarms"]) == (2, 0)
    department = report["heads"]["department"]
    assert (department["n"], department["correct"], department["accuracy"]) == (2, 1, 0.5)
    assert department["confusion"] == {"heating": {"heating": 1}, "water_supply": {"heating": 1}}
    assert department["labels"]["heating"]["precision"] == 0.5
    assert department["labels"]["water_supply"]["recall"] == 0.0
    assert report["heads"]["intent"]["n"] == 1

    table = runner.invoke(
        app, ["classify", "eval", "--data", str(labelled), "--version", "shipped"]
    )
    assert table.exit_code == 0, table.output
    assert "| department | 50.0% | 1 | 2 |" in table.stdout
    assert "recall 100.0% (1/1)" in table.stdout

    labelled.write_text('{"text": "暖气不热", "department": "heat"}\nnot json\n', "utf-8")
    bad = runner.invoke(app, ["classify", "eval", "--data", str(labelled)])
    assert bad.exit_code == 1
    assert "line 1: department: 'heat' is not one of" in bad.stderr
    assert "line 2: not JSON" in bad.stderr


def test_options_of_another_verb_are_refused(env: Path) -> None:
    result = runner.invoke(app, ["classify", "versions", "--since", "2026-01-01"])
    assert result.exit_code == 2
    assert "--since is not an option of `versions`" in result.output
