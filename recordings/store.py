"""The recording store: audio files and their sidecar JSON in date-sharded folders.

Layout: ``<root>/YYYY/MM/DD/<id>.<ext>`` for audio and ``<id>.json`` beside it. The sidecar
holds everything known about a recording (checksums, duration, transcript, word timings,
legal hold), so the search index can be rebuilt from the store alone.

Every path is built from a checked id and a date, then checked again to lie inside the root.
Moves are written so that a crash at any point can be repeated: copy to a temporary name,
flush, rename into place, then delete the source.

Recordings are personal data: folders the store makes are 0700 and its files 0600, whatever
the process's umask.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from recordings.ids import RecordingIdError, check_recording_id

SIDECAR = ".json"


class StoreError(RuntimeError):
    """A store operation failed; the message names the file."""

    error_id = "recording-store-failed"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class RecordingStore:
    def __init__(self, root: Path) -> None:
        self.root = root.resolve()

    # ---- paths -------------------------------------------------------------------------
    @staticmethod
    def shard(started_at: datetime) -> str:
        return started_at.strftime("%Y/%m/%d")

    def folder(self, started_at: datetime) -> Path:
        return self.root / self.shard(started_at)

    def path(self, unique_id: str, started_at: datetime, suffix: str) -> Path:
        """The path of `unique_id`'s file with `suffix` (``.opus``, ``.json``...)."""
        check_recording_id(unique_id)
        if suffix and not suffix[1:].isalnum():
            raise RecordingIdError(f"{suffix!r} is not a file suffix")
        return self._inside(self.folder(started_at) / f"{unique_id}{suffix}")

    def resolve(self, relative: str) -> Path:
        """A path stored in the index (relative to the root), checked to stay inside it."""
        parts = Path(relative).parts
        if not parts or Path(relative).is_absolute() or any(p in ("..", ".") for p in parts):
            raise RecordingIdError(f"{relative!r} is not a path inside the recording store")
        check_recording_id(parts[-1].rsplit(".", 1)[0])
        return self._inside(self.root / relative)

    def relative(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    def _inside(self, path: Path) -> Path:
        resolved = path.resolve()
        if self.root not in resolved.parents:
            raise RecordingIdError(f"{path} is outside the recording store")
        return resolved

    # ---- files -------------------------------------------------------------------------
    def make_folder(self, folder: Path) -> None:
        """Make `folder` and any of its parents that are missing, each 0700."""
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        for path in reversed(missing):
            path.mkdir(mode=0o700, exist_ok=True)
            os.chmod(path, 0o700)

    def take(self, source: Path, dest: Path) -> None:
        """Move `source` to `dest` (inside the store), safe to repeat after a crash:
        a copy that reached `dest` is kept and the source then removed."""
        self.make_folder(dest.parent)
        if not source.exists():
            if dest.exists():
                return  # moved before a restart
            raise StoreError(f"{source}: no such file to store")
        if dest.exists() and sha256_of(dest) == sha256_of(source):
            source.unlink()
            return
        partial = dest.with_name(dest.name + ".part")
        shutil.copyfile(source, partial)
        os.chmod(partial, 0o600)
        with open(partial, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(partial, dest)
        _fsync_dir(dest.parent)
        source.unlink()

    def write_sidecar(self, unique_id: str, started_at: datetime, data: dict[str, Any]) -> Path:
        path = self.path(unique_id, started_at, SIDECAR)
        self.make_folder(path.parent)
        partial = path.with_name(path.name + ".part")
        text = json.dumps(data, ensure_ascii=False, indent=1, default=str)
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with open(fd, "w", encoding="utf-8") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
        return path

    def read_sidecar(self, unique_id: str, started_at: datetime) -> dict[str, Any] | None:
        path = self.path(unique_id, started_at, SIDECAR)
        if not path.exists():
            return None
        data: dict[str, Any] = json.loads(path.read_text("utf-8"))
        return data

    def sidecars(self) -> Iterator[Path]:
        """Every sidecar in the store, oldest folder first."""
        if not self.root.exists():
            return
        for path in sorted(
            self.root.glob(f"[0-9][0-9][0-9][0-9]/[0-9][0-9]/[0-9][0-9]/*{SIDECAR}")
        ):
            if path.is_file():
                yield path

    def delete(self, unique_id: str, started_at: datetime) -> list[str]:
        """Delete every file of `unique_id` in its folder; return the names deleted."""
        check_recording_id(unique_id)
        folder = self.folder(started_at)
        deleted: list[str] = []
        if not folder.exists():
            return deleted
        for path in sorted(folder.iterdir()):
            stem = path.name.split(".part", 1)[0]
            if stem.rsplit(".", 1)[0] == unique_id and path.is_file():
                path.unlink()
                deleted.append(path.name)
        return deleted
