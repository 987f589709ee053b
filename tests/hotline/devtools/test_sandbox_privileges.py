"""Least privilege toward Asterisk (no Asterisk needed): the controller's AMI user gets exactly
the classes of what it sends and reads; the sandbox's configuration is not world-readable; its
Asterisks run as an unprivileged user made inside the tree with ids no host account has."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest

from hotline.core.settings import SOURCE_DIR, load_settings
from hotline.devtools import sandbox as module
from hotline.devtools.sandbox import Sandbox, SandboxError

# The privilege Asterisk 22 requires of each action the controller sends (`manager show
# command NAME`, [Privilege]; any one class of the list is enough), and the class of each
# event it (or the tools and tests on its login) reads.
ACTION_CLASSES = {
    "Login": set(),
    "Logoff": set(),
    "Ping": set(),
    "Setvar": {"call"},
    "AGI": {"agi"},
    "CoreShowChannels": {"system", "reporting"},
    "Redirect": {"call"},
    "QueueStatus": set(),
    "QueueAdd": {"agent"},
    "QueueRemove": {"agent"},
    "QueuePause": {"agent"},
    "QueueSummary": set(),
    # Outbound calls (回访, call-backs) through the trunk. Asterisk asks `system` besides for an
    # Originate to System-like applications or dialplan functions, which the user lacks.
    "Originate": {"originate"},
    # The integration tests on the controller's login.
    "Hangup": {"system", "call"},
    "Getvar": {"call", "reporting"},
}
EVENT_CLASSES = {
    "AsyncAGIStart": "agi",
    "AsyncAGIExec": "agi",
    "AsyncAGIEnd": "agi",
    "AGIExecStart": "agi",  # `hotline sandbox call`: a menu is listening
    "Hangup": "call",
    "Newchannel": "call",
    "QueueCallerJoin": "agent",
    "UserEvent": "user",  # the dialplan's HotlineDegraded
    "Newexten": "dialplan",  # the tests watch calls reach the fallback context
}
# Classes that would let the controller's login do far more than drive calls: run any CLI
# command, change the configuration, read the system (an Originate to System() needs it too).
DANGEROUS = {"all", "command", "config", "system"}


@pytest.fixture
def box(tmp_path: Path) -> Sandbox:
    box = Sandbox(load_settings(sandbox_dir=tmp_path / "sb", ami_port=25038, ami_secret="s3cret-x"))
    (box.root / "etc").mkdir(parents=True)
    (box.root / "run").mkdir()
    return box


def manager_user(box: Sandbox) -> dict[str, str]:
    box.render("hotline")
    text = (box.host_path("hotline", "etc") / "manager.conf").read_text()
    section = text.split(f"[{box.settings.ami_user}]", 1)[1]
    return dict(
        (k.strip(), v.strip())
        for k, _, v in (line.partition("=") for line in section.splitlines())
        if _ and not k.strip().startswith(";")
    )


def classes(value: str) -> set[str]:
    return {c.strip() for c in value.split(",")}


def test_the_controllers_ami_user_has_the_classes_it_uses_and_no_more(box: Sandbox) -> None:
    user = manager_user(box)
    write, read = classes(user["write"]), classes(user["read"])
    for action, needed in ACTION_CLASSES.items():
        assert not needed or needed & write, f"{action} needs one of {needed}"
    assert read == set(EVENT_CLASSES.values())
    assert not (read | write) & DANGEROUS
    assert write == {"agi", "call", "agent", "reporting", "originate"}


def test_the_controllers_ami_user_is_for_loopback_only(box: Sandbox) -> None:
    box.render("hotline")
    text = (box.host_path("hotline", "etc") / "manager.conf").read_text()
    lines = [line.split(";")[0].strip() for line in text.splitlines()]
    assert "deny = 0.0.0.0/0.0.0.0" in lines
    assert [line for line in lines if line.startswith("permit")] == [
        "permit = 127.0.0.1/255.255.255.255"
    ]


def test_every_action_the_controller_sends_has_its_class_listed() -> None:
    """A new action in the product code must be added here, and to manager.conf if it needs
    a class the controller's user does not have yet."""
    assert SOURCE_DIR is not None
    sent = set()
    for folder in ("telephony", "hotline"):
        for path in (SOURCE_DIR / folder).rglob("*.py"):
            if {"devtools", "bench"} & set(path.parts):
                continue  # their actions go to the carrier's AMI
            text = path.read_text(encoding="utf-8")
            sent |= set(re.findall(r"\.action(?:_list)?\(\s*\"(\w+)\"", text))
    assert sent
    assert sent <= set(ACTION_CLASSES), sent - set(ACTION_CLASSES)


def test_the_configuration_is_not_readable_by_others(box: Sandbox) -> None:
    box.render("hotline")
    etc = box.host_path("hotline", "etc")
    assert stat.S_IMODE(etc.stat().st_mode) == 0o750
    for conf in etc.glob("*.conf"):
        assert stat.S_IMODE(conf.stat().st_mode) == 0o640, conf.name
    # An existing world-readable file is tightened too, even when its text is unchanged.
    os.chmod(etc / "manager.conf", 0o644)
    assert box.render("hotline") is False
    assert stat.S_IMODE((etc / "manager.conf").stat().st_mode) == 0o640


# -- the unprivileged user ---------------------------------------------------------------


def fake_tree_tools(box: Sandbox, monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """groupadd/useradd inside the tree, as `chroot` would run them, on its own files."""
    etc = box.root / "etc"
    (etc / "passwd").write_text("root:x:0:0:root:/root:/bin/bash\nasterisk:x:101:101::/:/x\n")
    (etc / "group").write_text("root:x:0:\nasterisk:x:101:\n")
    (box.root / "usr/sbin").mkdir(parents=True)
    for tool in ("useradd", "groupadd"):
        (box.root / "usr/sbin" / tool).touch()
    ran: list[list[str]] = []

    def run(cmd: list[str], what: str, env: object = None) -> None:
        ran.append(cmd)
        assert cmd[:2] == ["chroot", str(box.root)]
        args = cmd[2:]
        if args[0] == "groupadd":
            gid = args[args.index("--gid") + 1]
            with open(etc / "group", "a") as f:
                f.write(f"{args[-1]}:x:{gid}:\n")
        elif args[0] == "useradd":
            uid, gid = args[args.index("--uid") + 1], args[args.index("--gid") + 1]
            with open(etc / "passwd", "a") as f:
                f.write(f"{args[-1]}:x:{uid}:{gid}::/nonexistent:/usr/sbin/nologin\n")

    monkeypatch.setattr(box, "_run", run)
    return ran


def host_has(monkeypatch: pytest.MonkeyPatch, uids: set[int], gids: set[int]) -> None:
    def getpwuid(uid: int) -> object:
        if uid in uids:
            return object()
        raise KeyError(uid)

    def getgrgid(gid: int) -> object:
        if gid in gids:
            return object()
        raise KeyError(gid)

    monkeypatch.setattr(module.pwd, "getpwuid", getpwuid)
    monkeypatch.setattr(module.grp, "getgrgid", getgrgid)


def test_the_asterisk_user_gets_ids_no_host_account_has(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran = fake_tree_tools(box, monkeypatch)
    first = module.USER_IDS.start
    host_has(monkeypatch, uids={first}, gids={first + 1})
    uid, gid = box.ensure_user()
    assert uid == gid == first + 2
    assert uid != 101  # not the Debian package's `asterisk`, which may be a host account's id
    assert f"{module.ASTERISK_USER}:x:{uid}:{gid}:" in (box.root / "etc/passwd").read_text()
    # Made once: the next start finds it.
    assert box.ensure_user() == (uid, gid)
    assert len(ran) == 2


def test_an_asterisk_user_whose_id_a_host_account_took_is_a_clear_error(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_tree_tools(box, monkeypatch)
    host_has(monkeypatch, uids=set(), gids=set())
    uid, _ = box.ensure_user()
    host_has(monkeypatch, uids={uid}, gids=set())
    with pytest.raises(SandboxError, match=f"{uid}.*host.*--purge"):
        box.ensure_user()


def test_a_tree_without_useradd_is_a_clear_error(
    box: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_tree_tools(box, monkeypatch)
    (box.root / "usr/sbin/useradd").unlink()
    with pytest.raises(SandboxError, match="useradd"):
        box.ensure_user()


@pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")
def test_the_user_owns_what_asterisk_writes_and_nothing_outside_the_tree(
    box: Sandbox, tmp_path: Path
) -> None:
    outside = tmp_path / "host-file"
    outside.write_text("host")
    box.render("hotline")
    spool = box.host_path("hotline", "spool")
    (spool / "monitor" / "old.wav").write_bytes(b"x")  # left by a root Asterisk
    (spool / "monitor" / "link").symlink_to(outside)
    uid, gid = 61234, 61235
    box.hand_over("hotline", uid, gid)
    for inside in ("spool", "log", "run", "db", "cache"):
        path = box.host_path("hotline", inside)
        assert (path.stat().st_uid, path.stat().st_gid) == (uid, gid), inside
        assert stat.S_IMODE(path.stat().st_mode) == 0o750, inside
    assert (spool / "monitor" / "old.wav").stat().st_uid == uid
    etc = box.host_path("hotline", "etc")
    for path in (etc, *etc.glob("*.conf")):
        assert (path.stat().st_uid, path.stat().st_gid) == (0, gid), path.name
    assert outside.stat().st_uid == 0  # the link was not followed out of the tree


def test_asterisk_is_started_as_that_user(box: Sandbox) -> None:
    argv = box.asterisk_command("hotline")
    assert argv[:3] == ["chroot", str(box.root), "asterisk"]
    assert argv[argv.index("-U") + 1] == module.ASTERISK_USER
    assert argv[argv.index("-G") + 1] == module.ASTERISK_USER


def test_the_user_a_process_runs_as_is_read_from_proc() -> None:
    assert module.process_uid(os.getpid()) == os.getuid()
    assert module.process_uid(2**22 + 12345) is None
