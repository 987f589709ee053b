"""Pure logic of the recordings feature: ids, store paths and moves, search text, retention,
metadata, capture completeness, listening tickets, number masking."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from asr.batch import write_wav
from hotline.recordings.api import shown_number
from hotline.recordings.feature import Tickets
from recordings.ids import RecordingIdError, check_recording_id
from recordings.media import capture_finished
from recordings.metadata import classification_of
from recordings.retention import RetentionPolicy, is_purgeable
from recordings.search import fts5_match, pg_tsquery, search_text
from recordings.store import RecordingStore, StoreError

DAY = datetime(2026, 11, 29, 8, 30, tzinfo=UTC)
BAD_IDS = [
    "",
    "..",
    "../etc/passwd",
    "../../x",
    ".hidden",
    "a/b",
    "a\\b",
    "a..b",
    "hotline-1.0/../../x",
    "a\x00b",
    "a b",
    "%2e%2e",
    "x" * 65,
    "hotline-1.",
    "/etc/passwd",
]


@pytest.mark.parametrize("bad", BAD_IDS)
def test_unsafe_ids_are_refused(bad: str) -> None:
    with pytest.raises(RecordingIdError, match="is not a recording id"):
        check_recording_id(bad)


def test_asterisk_unique_ids_are_accepted() -> None:
    for good in ("hotline-1795978848.0", "1700000000.12", "carrier_a-1.2.3"):
        assert check_recording_id(good) == good


def test_store_paths_stay_inside_the_root(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path / "store")
    path = store.path("hotline-1.0", DAY, ".opus")
    assert path == (tmp_path / "store/2026/11/29/hotline-1.0.opus").resolve()
    assert store.relative(path) == "2026/11/29/hotline-1.0.opus"
    assert store.resolve("2026/11/29/hotline-1.0.opus") == path
    for bad in BAD_IDS:
        with pytest.raises(RecordingIdError):
            store.path(bad, DAY, ".opus")
    with pytest.raises(RecordingIdError):
        store.path("hotline-1.0", DAY, "/../../x")
    for relative in (
        "../x.opus",
        "/etc/passwd",
        "2026/11/29/../../../../etc/passwd",
        "2026/11/29/.hidden.opus",
        "",
    ):
        with pytest.raises(RecordingIdError):
            store.resolve(relative)


def test_store_move_can_be_repeated_after_a_crash(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path / "store")
    source = tmp_path / "hotline-1.0.wav"
    dest = store.path("hotline-1.0", DAY, ".wav")
    source.write_bytes(b"RIFF" + b"x" * 100)
    store.take(source, dest)
    assert dest.read_bytes() == b"RIFF" + b"x" * 100 and not source.exists()
    store.take(source, dest)  # repeated after the move: nothing to do
    assert dest.exists()
    # A crash after the rename but before the source was removed: the copy is kept.
    source.write_bytes(dest.read_bytes())
    store.take(source, dest)
    assert not source.exists() and dest.exists()
    # A partial copy left at the destination is replaced by the real file.
    source.write_bytes(b"RIFF" + b"y" * 100)
    dest.write_bytes(b"RIFF")
    store.take(source, dest)
    assert dest.read_bytes() == b"RIFF" + b"y" * 100
    with pytest.raises(StoreError):
        store.take(tmp_path / "missing.wav", store.path("hotline-2.0", DAY, ".wav"))


def test_store_delete_removes_only_that_recordings_files(tmp_path: Path) -> None:
    store = RecordingStore(tmp_path / "store")
    for name in ("hotline-1.0.opus", "hotline-1.0.json", "hotline-1.01.opus", "hotline-1.opus"):
        path = store.folder(DAY) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    assert store.delete("hotline-1.0", DAY) == ["hotline-1.0.json", "hotline-1.0.opus"]
    assert sorted(p.name for p in store.folder(DAY).iterdir()) == [
        "hotline-1.01.opus",
        "hotline-1.opus",
    ]


def test_search_text_splits_han_characters_and_keeps_other_words() -> None:
    assert search_text("我 家 暖气 不热") == "我 家 暖 气 不 热"
    assert search_text("네 엄마, 엄마!") == "네 엄마 엄마"
    assert search_text("A栋 3号") == "a 栋 3 号"
    assert fts5_match("暖气不热 엄마") == '"暖 气 不 热" AND "엄마"'
    # User text never becomes FTS syntax.
    assert fts5_match('"x" OR y* NEAR(') == '"x" AND "or" AND "y" AND "near"'
    assert fts5_match('  ,.;"  ') == ""
    assert pg_tsquery("暖气 엄마") == "(暖 <-> 气) & (엄마)"
    assert pg_tsquery("a' | !b") == "(a) & (b)"


def test_retention_by_category_and_hold() -> None:
    policy = RetentionPolicy({"default": 180, "complaint": 365, "emergency": 730})
    assert policy.category("complaint") == "complaint"
    assert policy.category("consult") == "default"
    assert policy.category(None, "emergency") == "emergency"
    assert policy.expires_at(DAY, "default") == DAY + timedelta(days=180)
    assert policy.expires_at(DAY, "complaint") == DAY + timedelta(days=365)
    later = DAY + timedelta(days=200)
    assert is_purgeable(policy.expires_at(DAY, "default"), on_hold=False, now=later)
    assert not is_purgeable(policy.expires_at(DAY, "default"), on_hold=True, now=later)
    assert not is_purgeable(policy.expires_at(DAY, "complaint"), on_hold=False, now=later)


def test_classification_from_columns_and_path_steps() -> None:
    call = {
        "path": [
            {"step": "classify", "classification": {"kind": "help", "department": "heating"}},
            {"step": "route", "route": {"group": "intake"}},
            {"step": "classify", "kind": "complaint", "out_of_scope_reason": None},
            {"step": "answered", "agent": "7001"},
        ]
    }
    assert classification_of(call) == {
        "kind": "complaint",
        "department": "heating",
        "out_of_scope_reason": None,
        "group": "intake",
        "operator": "7001",
    }
    assert classification_of({"kind": "report", "path": [{"kind": "help"}]})["kind"] == "report"
    assert classification_of({}) == dict.fromkeys(
        ("kind", "department", "out_of_scope_reason", "group", "operator")
    )


def test_capture_is_finished_when_the_wav_header_is_written(tmp_path: Path) -> None:
    path = tmp_path / "hotline-1.0.wav"
    write_wav(path, b"\x00\x00" * 8000)
    assert capture_finished(path, settle_seconds=60)
    # While MixMonitor writes, the header's sizes are not yet those of the file.
    with open(path, "ab") as handle:
        handle.write(b"\x01\x00" * 800)
    assert not capture_finished(path, settle_seconds=60)
    assert capture_finished(path, settle_seconds=60, now=time.time() + 61)
    assert not capture_finished(tmp_path / "missing.wav")


def test_tickets_are_bound_to_recording_and_expire() -> None:
    tickets = Tickets(seconds=60)
    ticket = tickets.issue("sup", "supervisor", "hotline-1.0")
    assert tickets.check(ticket, "hotline-1.0") == ("sup", "supervisor")
    assert tickets.check(ticket, "hotline-2.0") is None
    body, mac = ticket.split(".")
    assert tickets.check(body + "." + mac[::-1], "hotline-1.0") is None
    assert tickets.check("garbage", "hotline-1.0") is None
    assert Tickets(seconds=60).check(ticket, "hotline-1.0") is None  # another process's key
    expired = Tickets(seconds=-1)
    assert expired.check(expired.issue("sup", "supervisor", "x"), "x") is None


def test_numbers_are_masked_for_every_role_but_supervisors_and_admins() -> None:
    assert shown_number("supervisor", "13800138000") == "13800138000"
    assert shown_number("admin", "13800138000") == "13800138000"
    assert shown_number("ops", "13800138000") == "138****8000"
    assert shown_number("operator", "13800138000") == "138****8000"
