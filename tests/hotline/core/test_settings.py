from __future__ import annotations

from pathlib import Path

import pytest

from hotline.core.settings import SettingsError, load_settings


def test_dev_defaults_use_the_sandbox_and_sqlite(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path)
    assert settings.use_sandbox
    assert settings.database_url == f"sqlite:///{tmp_path / 'hotline.db'}"


def test_pointing_at_an_existing_asterisk_turns_the_sandbox_off(monkeypatch) -> None:
    monkeypatch.setenv("HOTLINE_AMI_HOST", "10.1.2.3")
    assert not load_settings().use_sandbox


def test_prod_refuses_placeholder_secrets() -> None:
    with pytest.raises(SettingsError, match="placeholder or short secrets.*ami_secret"):
        load_settings(profile="prod", sandbox=False)
    settings = load_settings(
        profile="prod", sandbox=False, ami_secret="a-real-secret-123", carrier_ami_secret="x" * 16
    )
    assert settings.profile == "prod"


def test_line_breaks_in_secrets_are_refused() -> None:
    with pytest.raises(SettingsError, match="ami_secret"):
        load_settings(ami_secret="abc\nwrite = all")


def test_config_file(tmp_path: Path, monkeypatch) -> None:
    config = tmp_path / "hotline.toml"
    config.write_text('ami_port = 25038\nlog_level = "DEBUG"\n')
    monkeypatch.setenv("HOTLINE_CONFIG", str(config))
    monkeypatch.setenv("HOTLINE_LOG_LEVEL", "WARNING")
    settings = load_settings()
    assert settings.ami_port == 25038
    assert settings.log_level == "WARNING"  # the environment wins over the file


def test_missing_config_file_and_bad_values_say_what(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HOTLINE_CONFIG", str(tmp_path / "none.toml"))
    with pytest.raises(SettingsError, match="none.toml: no such file"):
        load_settings()
    monkeypatch.delenv("HOTLINE_CONFIG")
    with pytest.raises(SettingsError, match="ami_port"):
        load_settings(ami_port=70000)
    with pytest.raises(SettingsError, match="phones"):
        load_settings(phones={"abc": "x"})


def test_state_and_sandbox_default_to_the_checkout_or_else_the_current_directory(
    tmp_path: Path, monkeypatch
) -> None:
    from hotline.core import settings as module

    for name in ("HOTLINE_STATE_DIR", "HOTLINE_SANDBOX_DIR", "HOTLINE_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    assert module.SOURCE_DIR is not None  # these tests run from a checkout
    checkout = load_settings()
    assert checkout.state_dir == module.SOURCE_DIR / ".state"
    assert checkout.sandbox_dir == module.SOURCE_DIR / ".sandbox"
    monkeypatch.setattr(module, "SOURCE_DIR", None)  # as when installed from a wheel
    monkeypatch.chdir(tmp_path)
    installed = load_settings()
    assert installed.state_dir == tmp_path / ".state"
    assert installed.sandbox_dir == tmp_path / ".sandbox"
    assert installed.database_url == f"sqlite:///{tmp_path / '.state' / 'hotline.db'}"
