"""Files holding callers' data are readable by the controller's user only: the SQLite
database, the recording store's folders, audio and sidecars; `hotline` itself runs with
umask 077. Each test runs under umask 022, as a shell usually starts a program."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from asr.batch import write_wav
from hotline.core import db
from hotline.core.settings import load_settings
from hotline.service import Service
from recordings import media
from recordings.store import RecordingStore

DAY = datetime(2026, 11, 29, 8, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    before = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(before)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_database_is_private_from_the_start(tmp_path: Path) -> None:
    settings = load_settings(state_dir=tmp_path / "state")
    service = Service(settings)
    try:
        db.upgrade(settings.database_url)
        with service.sessions() as session:
            session.execute(db.text("SELECT 1"))
    finally:
        service.engine.dispose()
    database = tmp_path / "state" / "hotline.db"
    assert mode(database.parent) == 0o700
    files = [p for p in database.parent.iterdir() if p.name.startswith("hotline.db")]
    assert database in files
    for path in files:  # the database, its WAL and shared-memory files
        assert mode(path) & 0o077 == 0, f"{path.name}: {oct(mode(path))}"


def test_an_existing_world_readable_database_is_made_private(tmp_path: Path) -> None:
    database = tmp_path / "old.db"
    database.touch(mode=0o644)
    db.make_engine(f"sqlite:///{database}").dispose()
    assert mode(database) == 0o600


def test_stored_recordings_and_sidecars_are_private(tmp_path: Path) -> None:
    monitor = tmp_path / "monitor"
    monitor.mkdir()
    source = monitor / "hotline-1.1.wav"
    write_wav(source, b"\x00\x10" * 8000, 8000)
    store = RecordingStore(tmp_path / "recordings")
    dest = store.path("hotline-1.1", DAY, ".wav")
    store.take(source, dest)
    sidecar = store.write_sidecar("hotline-1.1", DAY, {"unique_id": "hotline-1.1"})
    archived = store.path("hotline-1.1", DAY, ".opus")
    media.transcode(dest, archived, "opus", "32k")
    for path in (dest, sidecar, archived):
        assert mode(path) == 0o600, f"{path.name}: {oct(mode(path))}"
    folder = dest.parent
    while folder != tmp_path:
        assert mode(folder) == 0o700, f"{folder}: {oct(mode(folder))}"
        folder = folder.parent


def test_the_hotline_command_runs_with_umask_077(monkeypatch: pytest.MonkeyPatch) -> None:
    from hotline import cli

    seen: list[int] = []

    def command() -> None:
        current = os.umask(0)
        os.umask(current)
        seen.append(current)

    monkeypatch.setattr(cli, "app", command)
    cli.main()
    assert seen == [0o077]


def test_prompts_stay_readable_by_an_asterisk_of_another_user(tmp_path: Path) -> None:
    from pydub import AudioSegment

    from hotline.ivr import prompts

    os.umask(0o077)
    wav = prompts.to_asterisk_wav(AudioSegment.silent(200, 8000))
    path = tmp_path / "hotline-prompts" / "recorded" / "mandarin" / "greeting.wav"
    prompts._write(path, wav)
    assert mode(path) == 0o644
    for folder in (path.parent, path.parent.parent, path.parent.parent.parent):
        assert mode(folder) == 0o755, folder
