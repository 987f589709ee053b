"""`hotline users ...`: create with --days, new token, revoke, disable/enable, set-role."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hotline.cli import app
from hotline.core import auth, db
from hotline.core.auth import TokenRejected, User

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("HOTLINE_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", database_url)
    return database_url


def run(*args: str) -> str:
    result = runner.invoke(app, ["users", *args])
    assert result.exit_code == 0, result.output
    return result.stdout.strip()


def check(url: str, token: str) -> User:
    engine = db.make_engine(url)
    try:
        return auth.authenticate(db.session_factory(engine), token)
    finally:
        engine.dispose()


def test_create_revoke_token_disable_enable_set_role(env: str) -> None:
    token = run("create", "alice", "--role", "ops", "--days", "3")
    user = check(env, token)
    expires = user.expires_at.replace(tzinfo=user.expires_at.tzinfo or db.UTC)
    assert timedelta(days=2, hours=23) < expires - db.utcnow() <= timedelta(days=3)

    run("set-role", "alice", "supervisor")
    assert check(env, token).role == "supervisor"

    run("disable", "alice")
    with pytest.raises(TokenRejected, match="disabled"):
        check(env, token)
    assert "\tdisabled\t" in run("list")
    run("enable", "alice")
    assert check(env, token).name == "alice"

    run("revoke", "alice")
    with pytest.raises(TokenRejected, match="revoked"):
        check(env, token)
    fresh = run("token", "alice")
    assert check(env, fresh).name == "alice"
    with pytest.raises(TokenRejected, match="unknown"):
        check(env, token)


def test_the_default_days_come_from_the_settings(env: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_TOKEN_DAYS", "2")
    user = check(env, run("create", "bob", "--role", "ops"))
    expires = user.expires_at.replace(tzinfo=user.expires_at.tzinfo or db.UTC)
    assert expires - db.utcnow() <= timedelta(days=2)


def test_changes_to_nobody_or_to_a_bad_role_exit_2_with_why(env: str) -> None:
    result = runner.invoke(app, ["users", "revoke", "nobody"])
    assert result.exit_code == 2 and "no user called 'nobody'" in result.output
    run("create", "carol", "--role", "ops")
    result = runner.invoke(app, ["users", "set-role", "carol", "root"])
    assert result.exit_code == 2 and "not one of" in result.output
    result = runner.invoke(app, ["users", "create", "dan", "--role", "ops", "--days", "0"])
    assert result.exit_code == 2 and "days" in result.output


def test_a_user_becomes_a_department_user_only_with_a_department(env: str) -> None:
    token = run("create", "erin", "--role", "operator")
    result = runner.invoke(app, ["users", "set-role", "erin", "department"])
    assert result.exit_code == 2 and "needs --department" in result.output
    assert check(env, token).role == "operator"
    run("set-role", "erin", "department", "--department", "water_supply")
    user = check(env, token)
    assert (user.role, user.department) == ("department", "water_supply")
    assert "erin\tdepartment:water_supply\tactive" in run("list")
    # Back to another role: the department goes with it.
    run("set-role", "erin", "supervisor")
    user = check(env, token)
    assert (user.role, user.department) == ("supervisor", None)
    result = runner.invoke(app, ["users", "set-role", "erin", "ops", "--department", "heating"])
    assert result.exit_code == 2 and "only a department user" in result.output
