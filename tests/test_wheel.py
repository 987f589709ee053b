"""A non-editable install works: the wheel holds every data file, and the installed `hotline`
classifies, prints the default menu, keeps its state in the current directory and renders the
sandbox's Asterisk configuration.

How: the working tree (tracked and new files, not ignored ones) is copied to a temporary folder
and built there with `pip wheel --no-deps` and build isolation, as `pip install .` does (the
build uses the setuptools that pyproject.toml asks for, not the one in .venv; nothing is
written into the checkout). The wheel goes with `--no-deps --no-index` into a new venv
without pip; only then a .pth file makes .venv's site-packages visible for the dependencies
(numpy, scikit-learn, FastAPI...), appended after the venv's own site-packages. Installing
them into a fresh venv from the index would take minutes and hundreds of MB per run; a .pth
line adds a folder to sys.path without running that folder's own .pth files, so the
checkout's editable install stays out of reach, which the tests check. Commands run from a
temporary folder outside the checkout, without PYTHONPATH or HOTLINE_* variables.

The sandbox itself is not started (debootstrap and Asterisk are slow, and the checkout's
sandbox holds the ports): what packaging can break is whether the installed code finds
and renders the configuration, so that is run into a temporary sandbox folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("telephony", "ivr", "asr", "routing", "recordings", "hotline")
CONF_IN_WHEEL = "hotline/devtools/asterisk_conf"


@dataclass(frozen=True)
class Installed:
    wheel: Path
    venv: Path
    work: Path
    env: dict[str, str]
    source_files: list[str]

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            args, cwd=self.work, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        assert proc.returncode == 0, f"{' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}"
        return proc

    def hotline(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run(str(self.venv / "bin" / "hotline"), *args)


def _copy_tree(dest: Path) -> list[str]:
    """Copy the working tree's tracked and untracked (not ignored) files, symlinks as such."""
    if not (ROOT / ".git").exists() or shutil.which("git") is None:
        pytest.skip("needs a git checkout to know the project's files")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    files = sorted({name for name in listed.split("\0") if name})
    copied = []
    for name in files:
        source = ROOT / name
        if not os.path.lexists(source):  # deleted in the working tree, not yet committed
            continue
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            target.symlink_to(os.readlink(source))
        else:
            shutil.copy2(source, target)
        copied.append(name)
    return copied


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    base = tmp_path_factory.mktemp("wheel")
    src, dist, venv, work = base / "src", base / "dist", base / "venv", base / "work"
    files = _copy_tree(src)
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HOTLINE_") and k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    }
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(src)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, f"building the wheel failed:\n{build.stdout}\n{build.stderr}"
    (wheel,) = dist.glob("hotline12345-*.whl")

    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install"]
        + ["--no-deps", "--no-index", "-q", str(wheel)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert install.returncode == 0, f"installing the wheel failed:\n{install.stderr}"
    # Only now the dependencies from .venv (installing with them visible would let pip see,
    # and replace, the checkout's editable install).
    site = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    paths = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (Path(site) / "hotline_test_deps.pth").write_text("\n".join(paths) + "\n")

    work.mkdir()
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return Installed(wheel=wheel, venv=venv, work=work, env=env, source_files=files)


def test_the_wheel_holds_every_data_file(installed: Installed) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    data = [
        name
        for name in installed.source_files
        if name.split("/")[0] in PACKAGES
        and not name.endswith(".py")
        and not (ROOT / name).is_symlink()
    ]
    assert "routing/data/model.npz" in data and "ivr/default_menu.yaml" in data
    assert not [name for name in data if name not in names]
    conf = [name for name in installed.source_files if name.startswith("asterisk-conf/")]
    assert conf, "asterisk-conf/ has no files"
    missing = [n for n in conf if n.replace("asterisk-conf", CONF_IN_WHEEL, 1) not in names]
    assert not missing


def test_the_installed_package_is_the_one_imported(installed: Installed) -> None:
    out = installed.run(
        str(installed.python),
        "-c",
        "import json, hotline, routing, ivr; "
        "print(json.dumps([m.__file__ for m in (hotline, routing, ivr)]))",
    )
    for module_file in json.loads(out.stdout):
        assert Path(module_file).is_relative_to(installed.venv), module_file


def test_classify(installed: Installed) -> None:
    result = json.loads(installed.hotline("classify", "小区暖气不热").stdout)
    assert result["department"] == "heating"
    assert result["in_scope"] is True and result["route"]["group"]


def test_default_menu(installed: Installed) -> None:
    menu = yaml.safe_load(installed.hotline("ivr", "default").stdout)
    shipped = yaml.safe_load((ROOT / "ivr" / "default_menu.yaml").read_text(encoding="utf-8"))
    assert menu == shipped


def test_state_goes_to_the_current_directory(installed: Installed) -> None:
    installed.hotline("db", "upgrade")  # the migrations are read from the package
    assert (installed.work / ".state" / "hotline.db").is_file()


def test_sandbox_finds_and_renders_its_configuration(installed: Installed) -> None:
    help_text = installed.hotline("sandbox", "--help").stdout
    assert "up" in help_text and "down" in help_text
    script = """
import json
from hotline.core.settings import SOURCE_DIR, load_settings
from hotline.devtools.sandbox import CONF_DIR, Sandbox

settings = load_settings()
box = Sandbox(settings)
changed = [box.render(name) for name in ("hotline", "carrier")]
print(json.dumps({
    "source_dir": SOURCE_DIR and str(SOURCE_DIR),
    "conf_dir": str(CONF_DIR),
    "sandbox_dir": str(settings.sandbox_dir),
    "state_dir": str(settings.state_dir),
    "changed": changed,
    "etc": {n: str(box.host_path(n, "etc")) for n in ("hotline", "carrier")},
}))
"""
    out = json.loads(installed.run(str(installed.python), "-c", script).stdout)
    work = installed.work.resolve()
    assert out["source_dir"] is None
    assert Path(out["conf_dir"]).is_relative_to(installed.venv.resolve())
    assert Path(out["sandbox_dir"]) == work / ".sandbox"
    assert Path(out["state_dir"]) == work / ".state"
    assert out["changed"] == [True, True]
    for name, etc in out["etc"].items():
        rendered = sorted(p.name for p in Path(etc).glob("*.conf"))
        expected = sorted(p.name for p in (ROOT / "asterisk-conf" / name).glob("*.conf"))
        assert rendered == expected and rendered, name
        for conf in Path(etc).glob("*.conf"):
            assert "{{" not in conf.read_text(encoding="utf-8"), conf
    manager = (Path(out["etc"]["hotline"]) / "manager.conf").read_text(encoding="utf-8")
    assert "port = 15038" in manager
