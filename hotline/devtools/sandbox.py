"""The Asterisk sandbox: a real Asterisk 22 (and a carrier Asterisk) without Docker.

Theory of operation: Debian 12 has no Asterisk package, so `up` makes a minimal Debian
unstable tree with debootstrap inside the project's `.sandbox/` folder, installs Asterisk
there with apt, renders `asterisk-conf/` into it with the ports and secrets from settings and
runs two Asterisk processes in it (chroot): `hotline` (the Asterisk the controller drives) and
`carrier` (plays the public network over a SIP trunk on loopback).

Both run as an unprivileged user (`-U`), `ASTERISK_USER`, made inside the tree with ids no
user or group of the host has: the Debian package's own `asterisk` user takes the tree's first
free system id, which may be a host account's (PostgreSQL's, say), and the kernel knows only
the number. That user owns what an instance writes (spool, log, run, db, cache); its
configuration is root's, readable by the user's group only (0640 in a 0750 folder). A tree, a
user or an instance that is not as expected stops `up` with an error that says why.

The configuration is read from `asterisk_conf/` beside this module: in a checkout a symlink to
the top-level `asterisk-conf/`, in an installed package (a wheel) a copy of it.

Safety: nothing of the host is mounted into the tree (Asterisk runs without /proc), and the
only removal (`down --purge`) deletes the tree after checking it is the project's own folder
and that nothing is mounted below it.
"""

from __future__ import annotations

import contextlib
import fcntl
import grp
import os
import pwd
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
#: the dialplan's own prompts (sounds/hotline-system/<name>): the apology of a degraded call,
#: the queue's "call me back" offer and its confirmation, the greeting of a call-back
SYSTEM_PROMPTS = {
    "degraded": DEGRADED_PROMPT,
    "callback-offer": "按1保留排队位置，稍后由我们回电。",
    "callback-confirmed": "已为您保留位置，轮到您时我们回电，再见。",
    "callback-connect": "您好，12345热线为您回电，正在转接人工服务。",
}
_PLACEHOLDER = re.compile(r"\{\{([a-z_]+)\}\}")
#: the unprivileged user (and group) the sandbox's Asterisks run as
ASTERISK_USER = "hotline-asterisk"
#: where its uid and gid are chosen: outside Debian's system and user ranges, and checked to
#: be free in the tree and on the host
USER_IDS = range(61000, 62000)
#: an instance's directories Asterisk writes to, owned by ASTERISK_USER
WRITABLE = ("spool", "log", "run", "db", "cache")

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
            # Secrets (AMI, phones): never world-readable; Asterisk reads them through its
            # group (`hand_over`).
            os.chmod(target, 0o640)
        os.chmod(etc, 0o750)
        return changed

    def system_prompts(self) -> None:
        """The dialplan's own prompts (`SYSTEM_PROMPTS`), spoken by espeak-ng; each kept when
        present. For an existing Asterisk, copy sounds/hotline-system over."""
        folder = self.root / "usr/share/asterisk/sounds/hotline-system"
        if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
            return
        folder.mkdir(parents=True, exist_ok=True)
        # Played by Asterisk, which runs as another user.
        os.chmod(folder, 0o755)
        for name, text in SYSTEM_PROMPTS.items():
            target = folder / f"{name}.wav"
            if target.exists():
                continue
            raw = folder / f"{name}.raw.wav"
            subprocess.run(
                ["espeak-ng", "-v", "cmn", "-s", "230", "-w", str(raw), text],
                check=True,
                capture_output=True,
            )
            subprocess.run(
                ["sox", str(raw), "-r", "8000", "-c", "1", "-b", "16", str(target)],
                check=True,
                capture_output=True,
            )
            raw.unlink()
            os.chmod(target, 0o644)

    # ---- the unprivileged user ---------------------------------------------------------
    def _tree_ids(self, filename: str) -> dict[str, int]:
        """name -> id in the tree's /etc/passwd or /etc/group."""
        ids: dict[str, int] = {}
        path = self.root / "etc" / filename
        for line in path.read_text(encoding="utf-8").splitlines():
            fields = line.split(":")
            if len(fields) >= 3 and fields[2].isdigit():
                ids[fields[0]] = int(fields[2])
        return ids

    def ensure_user(self) -> tuple[int, int]:
        """(uid, gid) of ASTERISK_USER in the tree, made when missing. Raises SandboxError
        when it cannot be made, or when a host account has since taken its uid or gid."""
        users, groups = self._tree_ids("passwd"), self._tree_ids("group")
        if ASTERISK_USER in users and ASTERISK_USER in groups:
            uid, gid = users[ASTERISK_USER], groups[ASTERISK_USER]
            taken = _host_account(uid, gid)
            if taken:
                raise SandboxError(
                    f"the sandbox's Asterisk user {ASTERISK_USER} has uid {uid} and gid {gid}, "
                    f"and the host's {taken} has that id too: its processes could act on each "
                    "other's. Make the tree again: `hotline sandbox down --purge`, then "
                    "`hotline sandbox up`"
                )
            return uid, gid
        for tool in ("groupadd", "useradd"):
            if not (self.root / "usr/sbin" / tool).exists():
                raise SandboxError(
                    f"the sandbox tree has no {tool} to make the user Asterisk runs as: make "
                    "the tree again (`hotline sandbox down --purge`, then `hotline sandbox up`)"
                )
        used = set(users.values()) | set(groups.values())
        free = next((n for n in USER_IDS if n not in used and not _host_account(n, n)), None)
        if free is None:
            raise SandboxError(
                f"no id in {USER_IDS.start}-{USER_IDS.stop - 1} is free both in the sandbox "
                "tree and on the host for the user Asterisk runs as"
            )
        gid = groups.get(ASTERISK_USER, free)
        tree = ["chroot", str(self.root)]
        if ASTERISK_USER not in groups:
            self._run(
                [*tree, "groupadd", "--system", "--gid", str(gid), ASTERISK_USER],
                f"making the group {ASTERISK_USER} in the sandbox tree",
            )
        self._run(
            [
                *tree,
                "useradd",
                "--system",
                "--uid",
                str(free),
                "--gid",
                str(gid),
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                ASTERISK_USER,
            ],
            f"making the user {ASTERISK_USER} in the sandbox tree",
        )
        made = (
            self._tree_ids("passwd").get(ASTERISK_USER),
            self._tree_ids("group").get(ASTERISK_USER),
        )
        if made != (free, gid):
            raise SandboxError(
                f"{ASTERISK_USER} was not made as asked in the sandbox tree (uid, gid: {made})"
            )
        self._progress(f"made the user {ASTERISK_USER} ({free}:{gid}) for Asterisk in the tree")
        return free, gid

    def hand_over(self, name: str, uid: int, gid: int) -> None:
        """Instance `name`'s writable directories (and all in them) to uid:gid, 0750; its
        configuration to root:gid. Links are changed, never followed (an absolute link in
        the tree leads to the host's own files)."""
        etc = self.host_path(name, "etc")
        os.chown(etc, 0, gid)
        for conf in etc.glob("*.conf"):
            os.lchown(conf, 0, gid)
        for inside in WRITABLE:
            top = self.host_path(name, inside)
            os.lchown(top, uid, gid)
            for folder, dirs, files in os.walk(top):
                for entry in (*dirs, *files):
                    os.lchown(os.path.join(folder, entry), uid, gid)
            os.chmod(top, 0o750)

    # ---- processes ---------------------------------------------------------------------
    def _conf_arg(self, name: str) -> list[str]:
        return ["-C", f"/etc/{name}-asterisk/asterisk.conf"]

    def asterisk_command(self, name: str) -> list[str]:
        """How instance `name` is started: in the tree, as ASTERISK_USER, in the foreground."""
        user = ["-U", ASTERISK_USER, "-G", ASTERISK_USER]
        return ["chroot", str(self.root), "asterisk", *user, *self._conf_arg(name), "-f", "-n"]

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
        uid, gid = self.ensure_user()
        self.hand_over(name, uid, gid)
        pid = self.pid(name)
        if pid is not None:
            if process_uid(pid) != uid:
                self._progress(f"{name} Asterisk does not run as {ASTERISK_USER}: restarting it")
            elif not changed and self.ami_answers(name):
                self._progress(f"{name} Asterisk already running (pid {pid})")
                return
            else:
                self._progress(f"{name} Asterisk: configuration changed, restarting")
            self.stop(name)
        if self.ami_answers(name):
            raise SandboxError(
                f"port {self.ami_port(name)} already answers AMI, but not from this sandbox "
                f"({self.dir}): another Asterisk is running there. Stop it (e.g. "
                "`hotline sandbox down` in the other checkout) or choose other ports "
                "(HOTLINE_AMI_PORT, HOTLINE_SIP_PORT, HOTLINE_CARRIER_AMI_PORT, ...)"
            )
        self._progress(
            f"starting the {name} Asterisk as {ASTERISK_USER} "
            f"(AMI on 127.0.0.1:{self.ami_port(name)})"
        )
        console = self.host_path(name, "log") / "console.log"
        log = console.open("ab")
        os.lchown(console, uid, gid)
        process = subprocess.Popen(
            self.asterisk_command(name),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # survives the command that started it, not its Ctrl-C
            umask=0o027,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SandboxError(
                    f"the {name} Asterisk stopped at start-up (exit {process.returncode}), "
                    f"running as {ASTERISK_USER} ({uid}:{gid}); its console:\n"
                    f"{console.read_text(errors='replace')[-2000:]}"
                )
            if self.ami_answers(name):
                out = self.cli(name, "core waitfullybooted", timeout=60)
                if "fully booted" in out.lower():
                    self._check_user(name, uid)
                    return
            time.sleep(0.2)
        raise SandboxError(
            f"the {name} Asterisk did not answer AMI within 60 s; its console:\n"
            f"{console.read_text(errors='replace')[-2000:]}"
        )

    def _check_user(self, name: str, uid: int) -> None:
        pid = self.pid(name)
        running_as = process_uid(pid) if pid is not None else None
        if running_as != uid:
            self.stop(name)
            raise SandboxError(
                f"the {name} Asterisk ran as uid {running_as}, not as {ASTERISK_USER} ({uid}); "
                "it was stopped"
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
        # Played by the carrier Asterisk, which runs as another user.
        os.chmod(folder, 0o755)
        os.chmod(folder / f"{name}.wav", 0o644)
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


def process_uid(pid: int) -> int | None:
    """The effective uid process `pid` runs as, or None when there is no such process."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[2])
    return None


def _host_account(uid: int, gid: int) -> str | None:
    """The host's user with `uid` or group with `gid` ("user postgres"), or None."""
    try:
        return f"user {getattr(pwd.getpwuid(uid), 'pw_name', uid)}"
    except KeyError:
        pass
    try:
        return f"group {getattr(grp.getgrgid(gid), 'gr_name', gid)}"
    except KeyError:
        return None
