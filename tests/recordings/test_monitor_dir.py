"""Where the controller looks for MixMonitor's files."""

from __future__ import annotations

from pathlib import Path

from hotline.core.settings import load_settings
from hotline.devtools.sandbox import Sandbox
from hotline.recordings.feature import monitor_dir_of


def test_in_the_sandbox_it_is_the_sandbox_asterisks_monitor_folder(tmp_path: Path) -> None:
    settings = load_settings(
        state_dir=tmp_path / "state", sandbox_dir=tmp_path / "sb", sandbox=True
    )
    assert monitor_dir_of(settings) == Sandbox(settings).host_path("hotline", "spool") / "monitor"
    mine = settings.model_copy(update={"recordings_monitor_dir": tmp_path / "monitor"})
    assert monitor_dir_of(mine) == tmp_path / "monitor"
