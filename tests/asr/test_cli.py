"""The `hotline asr` commands, run through the real CLI with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asr import LoadedModel
from asr.batch import write_wav
from hotline.cli import app

runner = CliRunner()


@pytest.fixture
def session_model(model: LoadedModel, monkeypatch: pytest.MonkeyPatch) -> LoadedModel:
    # The commands load the model themselves; reuse the session's copy (600 MB, 2 s).
    monkeypatch.setattr("hotline.speech.cli.load_model", lambda path: model)
    return model


def test_transcribe_json(session_model: LoadedModel, speech: bytes, tmp_path: Path) -> None:
    path = tmp_path / "complaint.wav"
    write_wav(path, speech)
    result = runner.invoke(app, ["asr", "transcribe", "--json", str(path)])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout[result.stdout.index("[") :])
    assert payload[0]["file"] == str(path)
    assert "엄마" in payload[0]["text"] and payload[0]["words"]


def test_transcribe_reports_a_bad_file_and_fails(
    session_model: LoadedModel, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["asr", "transcribe", str(tmp_path / "gone.wav")])
    assert result.exit_code == 1
    assert "gone.wav: no such file" in result.output


def test_model_command_reports_the_model(session_model: LoadedModel) -> None:
    result = runner.invoke(app, ["asr", "model", "--json"])
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout.strip().splitlines()[-1])
    assert info["sample_rate"] == 16000 and info["size_bytes"] > 100_000_000


def test_model_command_with_a_missing_model(tmp_path: Path) -> None:
    result = runner.invoke(
        app, ["asr", "model"], env={"HOTLINE_VOSK_MODEL": str(tmp_path / "nowhere")}
    )
    assert result.exit_code == 2
    assert "does not exist" in result.output and "HOTLINE_VOSK_MODEL" in result.output


def test_bench_asr_measures_decoding_and_live_streams_and_writes_json(
    session_model: LoadedModel, tmp_path: Path
) -> None:
    out = tmp_path / "asr.json"
    result = runner.invoke(
        app, ["bench", "asr", "--threads", "1", "--streams", "1,2", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "Holds" in result.output and "decode limit" in result.output
    report = json.loads(out.read_text())
    # What the figures are is the benchmark's answer, not the test's: a loaded or slow machine
    # may decode slower than speech. The test checks that each was measured.
    assert [row["threads"] for row in report["decode"]] == [1]
    decode = report["decode"][0]
    assert decode["audio_seconds"] > 0 and decode["wall_seconds"] > 0
    assert decode["x_realtime"] == round(decode["audio_seconds"] / decode["wall_seconds"], 2)
    assert report["cold"]["x_realtime"] > 0 and report["crowded_recognisers"] == 2
    live = {row["streams"]: row for row in report["live"]}
    assert set(live) == {1, 2}
    for row in live.values():
        # Every simulated caller's turn ended on its trailing silence, with a transcript.
        assert row["ended_on_silence"] == row["streams"] and row["refused"] == 0
        # Measured from the end of speech, so it holds the 500 ms of silence that ends the
        # turn (less than all of it when a stalled event loop made the simulated caller send
        # its last speech late, then catch up with the silence in a burst).
        assert 0.25 <= row["latency_p50"] <= row["latency_max"]
        assert row["sample_text"]
