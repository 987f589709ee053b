"""The sandbox's configuration rendering and its safety checks (no Asterisk needed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hotline.core.settings import load_settings
from hotline.devtools.sandbox import Sandbox, SandboxError


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    box = Sandbox(load_settings(sandbox_dir=tmp_path / "sb", ami_port=25038, ami_secret="s3cret-x"))
    (box.root / "etc").mkdir(parents=True)
    (box.root / "run").mkdir()
    return box


def test_render_fills_every_placeholder_with_settings(box: Sandbox) -> None:
    assert box.render("hotline") is True
    etc = box.host_path("hotline", "etc")
    manager = (etc / "manager.conf").read_text()
    assert "port = 25038" in manager and "secret = s3cret-x" in manager
    for conf in etc.glob("*.conf"):
        assert "{{" not in conf.read_text(), conf.name
    pjsip = (etc / "pjsip.conf").read_text()
    assert "[7001](phone-defaults)" in pjsip and "match = 127.0.0.2" in pjsip
    assert box.render("hotline") is False  # nothing changed the second time


def test_absolute_symlinks_in_the_tree_do_not_lead_out_of_it(box: Sandbox) -> None:
    (box.root / "var").mkdir()
    (box.root / "var" / "spool").symlink_to("/tmp")
    with pytest.raises(SandboxError, match="outside the sandbox tree"):
        box.host_path("hotline", "spool")


def test_removal_refuses_paths_outside_the_sandbox(box: Sandbox, tmp_path: Path) -> None:
    victim = tmp_path / "precious"
    victim.mkdir()
    with pytest.raises(SandboxError, match="not inside"):
        box._remove_tree(victim)
    assert victim.exists()


def test_removal_refuses_a_tree_with_a_mount_inside(box: Sandbox, monkeypatch) -> None:
    import builtins
    import io

    real_open = builtins.open
    mounts = f"proc {box.root}/proc proc rw 0 0\n"

    def fake_open(path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if path == "/proc/mounts":
            return io.StringIO(mounts)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    with pytest.raises(SandboxError, match="mounted inside it"):
        box._remove_tree(box.root)
    assert box.root.exists()


def test_render_without_configuration_says_the_installation_is_incomplete(
    box: Sandbox, tmp_path: Path, monkeypatch
) -> None:
    from hotline.devtools import sandbox

    assert (sandbox.CONF_DIR / "hotline" / "extensions.conf").is_file()
    monkeypatch.setattr(sandbox, "CONF_DIR", tmp_path / "empty")
    with pytest.raises(SandboxError, match="installation is incomplete"):
        box.render("hotline")


def test_removal_refuses_the_current_directory(box: Sandbox, monkeypatch) -> None:
    box.dir.mkdir(parents=True, exist_ok=True)
    monkeypatch.chdir(box.dir)
    with pytest.raises(SandboxError, match="refusing to delete"):
        box._remove_tree(box.dir)
    assert box.dir.exists()
