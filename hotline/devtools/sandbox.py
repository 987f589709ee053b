"""The Asterisk sandbox: a real Asterisk 22 (and a carrier Asterisk) without Docker.

Theory of operation: Debian 12 has no Asterisk package, so `up` makes a minimal Debian
unstable tree with debootstrap inside the project's `.sandbox/` folder, installs Asterisk
there with apt, renders `asterisk-conf/` into it with the ports and secrets from settings and
runs two Asterisk processes in it as root (chroot, no `-U`): `hotline` (the Asterisk the
controller drives) and `carrier` (plays the public network over a SIP trunk on loopback).

The configuration is read from `asterisk_conf/` beside this module: in a checkout a symlink to
the top-level `asterisk-conf/`, in an installed package (a wheel) a copy of it.

Safety: nothing of the host is mounted into the tree (Asterisk runs without /proc), and the
only removal (`down --purge`) deletes the tree after checking it is the project's own folder
and that nothing is mounted below it.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from hotline.core.settings import SOURCE_DIR, Settings

CONF_DIR = (Path(__file__).parent / "asterisk_conf").resolve()
APT_OPTS = ["-o", "Acquire::Check-Valid-Until=false", "-o", "Dpkg::Use-Pty=0"]
PACKAGES = ["asterisk", "asterisk-modules", "asterisk-core-sounds-en"]
INSTANCES = ("hotline", "carrier")
DEGRADED_PROMPT = "抱歉，正在为您转接人工服务。"
_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")

Progress = Callable[[str], None]


class SandboxError(RuntimeError):
    """The sandbox could not be set up or started; the message says what to do."""


@dataclass(frozen=True)
class InstanceStatus:
    name: str
    running: bool
    pid: int | None
    ami_port: int
    ami_answers: bool


class Sandbox:
    def __init__(self, settings: Settings, progress: Progress | None = None) -> None:
        self.settings = settings
        self.dir = settings.sandbox_dir.resolve()
        self.root = self.dir / "root"
        self._progress = progress or (lambda msg: None)

    # ---- paths -------------------------------------------------------------------------
    def host_path(self, name: str, inside: str) -> Path:
        """The host path of a directory of instance `name` (inside: etc, spool, log, run...)."""
        mapping = {
            "etc": f"etc/{name}-asterisk",
            "spool": f"var/spool/{name}-asterisk",
            "log": f"var/log/{name}-asterisk",
            "run": f"run/{name}-asterisk",
            "db": f"var/lib/{name}-asterisk",
            "cache": f"var/cache/{name}-asterisk",
            "sounds": "usr/share/asterisk/sounds",
        }
        path = self.root / mapping[inside]
        # The tree holds absolute symlinks (var/run -> /run): resolving one from the host
        # would reach the host's own directories.
        resolved = path.resolve()
        if resolved != self.root.resolve() and self.root.resolve() not in resolved.parents:
            raise SandboxError(f"{path} leads outside the sandbox tree (to {resolved})")
        return path

    # ---- the tree ----------------------------------------------------------------------
    def tree_ready(self) -> bool:
        return (self.root / "usr/sbin/asterisk").exists() and (
            self.root / "usr/share/asterisk/sounds/en_US_f_Allison/beep.gsm"
        ).exists()

    def ensure_tree(self) -> None:
        if self.tree_ready():
            return
        if os.geteuid() != 0:
            raise SandboxError(
                "the Asterisk sandbox is built with debootstrap and chroot, which need root: "
                "run as root, or point HOTLINE_AMI_HOST at an existing Asterisk"
            )
        if shutil.which("debootstrap") is None:
            raise SandboxError(
                "debootstrap is missing: run `make deps` (apt-get install debootstrap)"
            )
        self.dir.mkdir(parents=True, exist_ok=True)
        staging = self.dir / "root.partial"
        if staging.exists():
            self._remove_tree(staging)
        self._progress("creating a Debian unstable tree with debootstrap (about 20 s)")
        self._run(["debootstrap", "--variant=minbase", "sid", str(staging)], "debootstrap")
        self._progress("installing Asterisk 22 into the tree (about 15 s)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        self._run(
            ["chroot", str(staging), "apt-get", *APT_OPTS, "update", "-qq"], "apt-get update", env
        )
        self._run(
            [
                "chroot",
                str(staging),
                "apt-get",
                *APT_OPTS,
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                *PACKAGES,
            ],
            "apt-get install asterisk",
            env,
        )
        if self.root.exists():
            self._remove_tree(self.root)
        staging.rename(self.root)

    def _run(self, cmd: list[str], what: str, env: dict[str, str] | None = None) -> None:
        # A system tree is made with the usual umask, whatever the `hotline` command's own
        # (077): Asterisk runs in it as an unprivileged user.
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, umask=0o022)
        if proc.returncode != 0:
            tail = "\n".join((proc.stdout + proc.stderr).strip().splitlines()[-15:])
            raise SandboxError(f"{what} failed (exit {proc.returncode}):\n{tail}")

    # ---- configuration -----------------------------------------------------------------
    def values(self, name: str) -> dict[str, str]:
        s = self.settings
        common = {
            "name": name,
            "hotline_sip_bind": s.sip_bind,
            "hotline_sip_port": str(s.sip_port),
            "carrier_sip_bind": s.carrier_sip_bind,
            "carrier_sip_port": str(s.carrier_sip_port),
        }
        if name == "hotline":
            phones = "\n".join(
                f"[{ext}](phone-defaults)\nauth = {ext}\naors = {ext}\ncallerid = Phone {ext} <{ext}>\n\n"
                f"[{ext}](phone-aor)\n\n"
                f"[{ext}](phone-auth)\nusername = {ext}\npassword = {pw}\n"
                for ext, pw in sorted(s.phones.items())
            )
            return {
                **common,
                "ami_port": str(s.ami_port),
                "ami_user": s.ami_user,
                "ami_secret": s.ami_secret,
                "sip_bind": s.sip_bind,
                "sip_port": str(s.sip_port),
                "rtp_start": str(s.rtp_start),
                "rtp_end": str(s.rtp_end),
                "phones": phones,
            }
        return {
            **common,
            "ami_port": str(s.carrier_ami_port),
            "ami_user": s.carrier_ami_user,
            "ami_secret": s.carrier_ami_secret,
            "sip_bind": s.carrier_sip_bind,
            "sip_port": str(s.carrier_sip_port),
            "rtp_start": str(s.carrier_rtp_start),
            "rtp_end": str(s.carrier_rtp_end),
        }

    def render(self, name: str) -> bool:
        """Write instance `name`'s config into the tree; return True when anything changed."""
        values = self.values(name)
        etc = self.host_path(name, "etc")
        for inside in ("etc", "spool", "log", "run", "db", "cache"):
            self.host_path(name, inside).mkdir(parents=True, exist_ok=True)
        (self.host_path(name, "spool") / "monitor").mkdir(exist_ok=True)
        templates = sorted((CONF_DIR / name).glob("*.conf"))
        if not templates:
            raise SandboxError(
                f"no Asterisk configuration for {name!r} in {CONF_DIR}: the installation is "
                "incomplete (reinstall the package)"
            )
        changed = False
        wanted = set()
        for template in templates:
            text = template.read_text(encoding="utf-8")

            def fill(match: re.Match[str], template: Path = template) -> str:
                key = match.group(1)
                if key not in values:
                    raise SandboxError(f"{template}: unknown placeholder {{{{{key}}}}}")
                return values[key]

            rendered = _PLACEHOLDER.sub(fill, text)
            target = etc / template.name
            wanted.add(template.name)
            if not target.exists() or target.read_text(encoding="utf-8") != rendered:
                target.write_text(rendered, encoding="utf-8")
                changed = True
        return changed

    def system_prompts(self) -> None:
        """The dialplan's own prompts (the apology of a degraded call), spoken by espeak-ng;
        kept when present. For an existing Asterisk, copy sounds/hotline-system over."""
        folder = self.root / "usr/share/asterisk/sounds/hotline-system"
        target = folder / "degraded.wav"
        if target.exists() or shutil.which("espeak-ng") is None or shutil.which("sox") is None:
            return
        folder.mkdir(parents=True, exist_ok=True)
        raw = folder / "degraded.raw.wav"
        subprocess.run(
            ["espeak-ng", "-v", "cmn", "-w", str(raw), DEGRADED_PROMPT],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(target)],
            check=True,
            capture_output=True,
        )
        raw.unlink()

    # ---- processes ---------------------------------------------------------------------
    def _conf_arg(self, name: str) -> list[str]:
        return ["-C", f"/etc/{name}-asterisk/asterisk.conf"]

    def pid(self, name: str) -> int | None:
        pidfile = self.host_path(name, "run") / "asterisk.pid"
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        # The pid file may be stale and the number reused: only an Asterisk running with this
        # instance's configuration counts (never signal anything else).
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        conf = f"/etc/{name}-asterisk/asterisk.conf".encode()
        if not cmdline or not cmdline[0].endswith(b"asterisk") or conf not in cmdline:
            return None
        try:
            root = Path(f"/proc/{pid}/root").resolve()
        except OSError:
            return None
        return pid if root == self.root.resolve() else None

    def cli(self, name: str, command: str, timeout: float = 20) -> str:
        """Run an Asterisk CLI command in instance `name` (asterisk -rx)."""
        proc = subprocess.run(
            ["chroot", str(self.root), "asterisk", *self._conf_arg(name), "-rx", command],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return proc.stdout

    def ami_port(self, name: str) -> int:
        return self.settings.ami_port if name == "hotline" else self.settings.carrier_ami_port

    def ami_answers(self, name: str) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.ami_port(name)), timeout=1) as sock:
                sock.settimeout(2)
                return sock.recv(64).startswith(b"Asterisk Call Manager")
        except OSError:
            return False

    def start(self, name: str) -> None:
        changed = self.render(name)
        if self.pid(name) is not None:
            if not changed and self.ami_answers(name):
                self._progress(f"{name} Asterisk already running (pid {self.pid(name)})")
                return
            self._progress(f"{name} Asterisk: configuration changed, restarting")
            self.stop(name)
        if self.ami_answers(name):
            raise SandboxError(
                f"port {self.ami_port(name)} already answers AMI, but not from this sandbox "
                f"({self.dir}): another Asterisk is running there. Stop it (e.g. "
                "`hotline sandbox down` in the other checkout) or choose other ports "
                "(HOTLINE_AMI_PORT, HOTLINE_SIP_PORT, HOTLINE_CARRIER_AMI_PORT, ...)"
            )
        self._progress(f"starting the {name} Asterisk (AMI on 127.0.0.1:{self.ami_port(name)})")
        log = (self.host_path(name, "log") / "console.log").open("ab")
        subprocess.Popen(
            ["chroot", str(self.root), "asterisk", *self._conf_arg(name), "-f", "-n"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # survives the command that started it, not its Ctrl-C
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.ami_answers(name):
                out = self.cli(name, "core waitfullybooted", timeout=60)
                if "fully booted" in out.lower():
                    return
            time.sleep(0.2)
        tail = (self.host_path(name, "log") / "console.log").read_text(errors="replace")[-2000:]
        raise SandboxError(
            f"the {name} Asterisk did not answer AMI within 60 s; its console:\n{tail}"
        )

    def stop(self, name: str) -> None:
        pid = self.pid(name)
        if pid is None:
            return
        self._progress(f"stopping the {name} Asterisk (pid {pid})")
        try:
            self.cli(name, "core stop now", timeout=10)
        except subprocess.TimeoutExpired:
            pass
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.pid(name) is not None:
            time.sleep(0.1)
        if self.pid(name) is not None:
            os.kill(pid, 9)

    # ---- helpers for tests and tools --------------------------------------------------
    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the sandbox for one user at a time (a test run, a restart): two controllers
        on one Asterisk would both take every call."""
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(self.dir / "tests.lock", "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                self._progress("waiting: another test run or controller is using the sandbox")
                fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def carrier_sound(self, source: Path, name: str) -> str:
        """Copy a WAV file (8 kHz mono 16-bit) where the carrier can play it; return the
        name to give as CALL_AUDIO (an absolute path inside the tree, without extension)."""
        if not re.fullmatch(r"[A-Za-z0-9_\-]+", name):
            raise SandboxError(f"sound name {name!r}: use letters, digits, '-' and '_'")
        folder = self.root / "var/lib/carrier-sounds"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, folder / f"{name}.wav")
        return f"/var/lib/carrier-sounds/{name}"

    # ---- commands ----------------------------------------------------------------------
    def up(self) -> None:
        self.ensure_tree()
        self.system_prompts()
        for name in INSTANCES:
            self.start(name)

    def down(self, purge: bool = False) -> None:
        for name in INSTANCES:
            if self.root.exists():
                self.stop(name)
        if purge and self.dir.exists():
            self._remove_tree(self.dir)

    def status(self) -> list[InstanceStatus]:
        return [
            InstanceStatus(
                name=name,
                running=self.pid(name) is not None,
                pid=self.pid(name),
                ami_port=self.ami_port(name),
                ami_answers=self.ami_answers(name),
            )
            for name in INSTANCES
        ]

    def _remove_tree(self, path: Path) -> None:
        path = path.resolve()
        if path != self.dir and self.dir not in path.parents:
            raise SandboxError(f"refusing to delete {path}: it is not inside {self.dir}")
        if not path.name or path in (Path("/"), SOURCE_DIR, Path.cwd().resolve(), Path.home()):
            raise SandboxError(f"refusing to delete {path}")
        with open("/proc/mounts", encoding="utf-8") as mounts:
            for line in mounts:
                mountpoint = Path(line.split()[1].replace("\\040", " "))
                if mountpoint == path or path in mountpoint.parents:
                    raise SandboxError(
                        f"refusing to delete {path}: {mountpoint} is mounted inside it; "
                        f"unmount it first (umount {mountpoint})"
                    )
        for name in INSTANCES:
            if self.pid(name) is not None and path in (self.root, self.dir):
                raise SandboxError(f"refusing to delete {path}: the {name} Asterisk still runs")
        shutil.rmtree(path)
