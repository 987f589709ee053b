"""`hotline orders ...` and `hotline users create --role department --department CODE` on a
real database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.cli import app
from hotline.core import auth, db
from hotline.orders.store import Act, NewOrder, OrderStore

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HOTLINE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    db.upgrade(database_url)
    return database_url


def orders(url: str) -> OrderStore:
    return OrderStore(db.session_factory(db.make_engine(url)), "Asia/Shanghai")


def test_a_department_user_names_a_known_department(env: str) -> None:
    made = runner.invoke(
        app, ["users", "create", "heat-co", "--role", "department", "--department", "heating"]
    )
    assert made.exit_code == 0, made.output
    engine = db.make_engine(env)
    try:
        user = auth.authenticate(db.session_factory(engine), made.stdout.strip())
    finally:
        engine.dispose()
    assert (user.role, user.department) == ("department", "heating")
    for args, message in (
        (["x1", "--role", "department"], "needs --department"),
        (["x2", "--role", "department", "--department", "fire"], "got 'fire'"),
        (["x3", "--role", "operator", "--department", "heating"], "only a department user"),
    ):
        refused = runner.invoke(app, ["users", "create", *args])
        assert refused.exit_code == 2, args
        assert message in refused.output


def test_list_show_and_overdue(env: str) -> None:
    store = orders(env)
    now = datetime.now(UTC)
    late = store.create(NewOrder(channel="phone", caller_number="13800001234"), at=now).number
    fresh = store.create(NewOrder(channel="web", transcript="路灯不亮"), at=now).number
    store.act(late, Act("dispatch", "li", department="heating"), at=now - timedelta(hours=30))
    store.act(fresh, Act("dispatch", "li", department="education"), at=now)

    listed = runner.invoke(app, ["orders", "list", "--status", "dispatched"])
    assert listed.exit_code == 0, listed.output
    assert late in listed.stdout and fresh in listed.stdout
    assert "13800001234" not in listed.stdout and "138****1234" in listed.stdout

    overdue = runner.invoke(app, ["orders", "overdue"])
    assert overdue.exit_code == 0, overdue.output
    assert late in overdue.stdout and fresh not in overdue.stdout
    assert "1 overdue" in overdue.stdout

    by_department = runner.invoke(app, ["orders", "list", "--department", "education"])
    assert fresh in by_department.stdout and late not in by_department.stdout

    shown = runner.invoke(app, ["orders", "show", late])
    assert shown.exit_code == 0, shown.output
    assert "dispatched (next: reply, return, extend)" in shown.stdout
    assert "utilities" in shown.stdout and "dispatch" in shown.stdout

    missing = runner.invoke(app, ["orders", "show", "2026010100009"])
    assert missing.exit_code == 1 and "no work order 2026010100009" in missing.output
    bad = runner.invoke(app, ["orders", "list", "--due", "soon"])
    assert bad.exit_code == 2 and "overdue or today" in bad.output


def test_the_deadline_table_in_force(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_ORDER_DEADLINES", '{"classes": {"general": {"working_days": 7}}}')
    shown = runner.invoke(app, ["orders", "deadlines"])
    assert shown.exit_code == 0, shown.output
    assert "general (default): 7 working days, extension 7 working days" in shown.stdout
    assert "utilities: 24 h" in shown.stdout
    monkeypatch.setenv("HOTLINE_ORDER_DEADLINES", '{"default": "later"}')
    refused = runner.invoke(app, ["orders", "deadlines"])
    assert refused.exit_code == 2 and "unknown class 'later'" in refused.output
