"""`hotline classify corrections`: settled work orders become training rows."""

from __future__ import annotations

import csv
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hotline.cli import app
from hotline.core import db
from hotline.core.audit import AuditEntry
from hotline.orders.tables import WorkOrder
from routing.training import read_history

runner = CliRunner()


def predicted(department: str | None, kind: str = "complaint", **more: Any) -> dict[str, Any]:
    return {
        "intent": "new_request",
        "emergency": None,
        "in_scope": True,
        "out_of_scope_reason": None,
        "kind": kind,
        "domain": "public_services",
        "department": department,
        "enterprise": False,
        "confidence": 0.8,
        **more,
    }


def order(number: str, status: str, text: str, day: int, **fields: Any) -> WorkOrder:
    return WorkOrder(
        number=number,
        status=status,
        channel="phone",
        transcript=text,
        created_at=datetime(2026, 11, day, 3, tzinfo=UTC),
        **fields,
    )


@pytest.fixture
def seeded(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOTLINE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    monkeypatch.setenv("HOTLINE_TIMEZONE", "Asia/Shanghai")
    db.upgrade(database_url)
    rows = [
        # kept as predicted
        order(
            "2026111000001",
            "answered",
            "我家暖气不热",
            10,
            classification=predicted("heating"),
            kind="complaint",
            department="heating",
        ),
        # the operator moved it from water to heating
        order(
            "2026111000002",
            "replied",
            "暖气管子漏水了",
            10,
            classification=predicted("water_supply"),
            kind="complaint",
            department="heating",
        ),
        # words taken out by the retention purge
        order(
            "2026111000003",
            "closed",
            "",
            10,
            classification=predicted("heating"),
            kind="complaint",
            department="heating",
        ),
        # not settled yet
        order(
            "2026111000004",
            "draft",
            "路灯坏了",
            10,
            classification=predicted("urban_management"),
            department="urban_management",
        ),
        # before --since
        order(
            "2026110100001",
            "closed",
            "公交车不准点",
            1,
            classification=predicted("transport"),
            kind="complaint",
            department="transport",
        ),
        # the operator found it out of scope
        order(
            "2026111100001",
            "closed",
            "帮我查查我前夫住哪",
            11,
            classification=predicted("public_security", kind="consult"),
            kind="consult",
            department="public_security",
            in_scope=False,
            out_of_scope_reason="privacy",
        ),
        # a call the operator kept, no prediction recorded
        order("2026111100002", "closed", "问个事", 11, classification=None, kind="consult"),
    ]
    with db.session_factory(db.make_engine(database_url))() as s, s.begin():
        s.add_all(rows)
    return tmp_path


def test_settled_orders_are_exported_as_training_rows(seeded: Path, database_url: str) -> None:
    out = seeded / "corrections.csv"
    result = runner.invoke(
        app, ["classify", "corrections", "--since", "2026-11-05", "-o", str(out), "--by", "li"]
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(
        f"3 rows written to {out} (2 corrected by operators, 1 confirmed); orders left out: "
        "no prediction 1, no words (purged, or none recorded) 1"
    )
    assert "personal data" in result.stderr
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    with out.open(encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert [r["id"] for r in rows] == ["2026111000001", "2026111000002", "2026111100001"]
    assert rows[0]["department"] == "heating" and rows[0]["domain"] == "public_services"
    assert rows[1]["department"] == "heating" and rows[1]["domain"] == ""  # moved: no domain
    assert (rows[2]["out_of_scope_reason"], rows[2]["department"]) == ("privacy", "")
    # `train --data` reads it as it is
    examples = read_history(out.read_bytes())
    assert [e.department for e in examples] == ["heating", "heating", None]
    assert examples[2].in_scope is False
    with db.session_factory(db.make_engine(database_url))() as s:
        [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "export_corrections"))
    assert entry.user_name == "li" and entry.detail["rows"] == 3

    # --until is exclusive: only the orders of the 10th
    result = runner.invoke(
        app,
        [
            "classify",
            "corrections",
            "--since",
            "2026-11-10",
            "--until",
            "2026-11-11",
            "-o",
            str(out),
        ],
    )
    assert result.stdout.startswith(f"2 rows written to {out}")


def test_a_bad_date_is_refused(seeded: Path) -> None:
    result = runner.invoke(app, ["classify", "corrections", "--since", "11/05", "-o", "x.csv"])
    assert result.exit_code == 2
    assert "--since: a date, YYYY-MM-DD" in result.output
