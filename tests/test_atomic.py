"""Atomic writes: readers see the old file or the new one, never a torn one or a stray temp."""

from __future__ import annotations

import json
import os

import pytest

from rnn_tui import atomic
from rnn_tui.atomic import (
    append_jsonl,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
)


def test_write_bytes_creates_and_replaces(tmp_path):
    target = tmp_path / "f.bin"
    atomic_write_bytes(target, b"one")
    assert target.read_bytes() == b"one"
    atomic_write_bytes(target, b"two, longer")
    assert target.read_bytes() == b"two, longer"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.bin"]


def test_new_files_are_not_owner_only(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "x")
    if os.name == "posix":
        assert target.stat().st_mode & 0o777 == 0o644
        target.chmod(0o600)
        atomic_write_text(target, "y")
        assert target.stat().st_mode & 0o777 == 0o600  # an existing file keeps its mode


def test_crash_before_replace_keeps_the_old_file_and_leaves_no_temp(tmp_path, monkeypatch):
    target = tmp_path / "status.json"
    atomic_write_json(target, {"status": "running"})

    def crash(src, dst):
        raise OSError("simulated crash between write and rename")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        atomic_write_json(target, {"status": "finished"})
    assert json.loads(target.read_text(encoding="utf-8")) == {"status": "running"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["status.json"]


def test_failed_write_leaves_no_temp(tmp_path, monkeypatch):
    def crash(fd):
        raise OSError("disk full")

    monkeypatch.setattr(atomic.os, "fsync", crash)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_bytes(tmp_path / "f.bin", b"data")
    assert list(tmp_path.iterdir()) == []


def test_writes_fsync_the_file_and_the_folder(tmp_path, monkeypatch):
    synced = []
    real_fsync = os.fsync

    def spy(fd):
        synced.append(os.path.realpath(f"/proc/self/fd/{fd}") if os.path.exists("/proc") else fd)
        real_fsync(fd)

    monkeypatch.setattr(atomic.os, "fsync", spy)
    atomic_write_bytes(tmp_path / "f.bin", b"data")
    assert len(synced) == 2
    if os.path.exists("/proc/self/fd"):
        assert synced[1] == os.path.realpath(tmp_path)


def test_folder_fsync_tolerates_platforms_that_cannot(tmp_path, monkeypatch):
    atomic.fsync_dir(tmp_path / "no such folder")  # os.open fails: ignored

    def refuse(fd):
        raise OSError(22, "fsync not supported on a folder here")

    monkeypatch.setattr(atomic.os, "fsync", refuse)
    atomic.fsync_dir(tmp_path)  # fsync fails: ignored


def test_json_format(tmp_path):
    target = tmp_path / "c.json"
    atomic_write_json(target, {"b": 1, "a": "é"})
    assert target.read_text(encoding="utf-8") == '{\n  "b": 1,\n  "a": "é"\n}\n'


def test_append_jsonl_writes_one_line_per_record(tmp_path):
    target = tmp_path / "metrics.jsonl"
    append_jsonl(target, {"event": "start", "text": "two\nlines"})
    append_jsonl(target, {"event": "epoch", "epoch": 1})
    lines = target.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [
        {"event": "start", "text": "two\nlines"},
        {"event": "epoch", "epoch": 1},
    ]
    assert target.read_bytes().endswith(b"\n")


def test_append_jsonl_ends_a_line_cut_short_before_its_record(tmp_path):
    """A crash mid-write leaves a line without its end; the next record (a resume's start
    event) goes on a line of its own instead of being joined to it and lost with it."""
    target = tmp_path / "metrics.jsonl"
    append_jsonl(target, {"event": "epoch", "epoch": 1})
    with open(target, "ab") as f:
        f.write(b'{"event": "step"')
    append_jsonl(target, {"event": "start", "resumed": True})
    lines = target.read_bytes().split(b"\n")
    assert lines == [b'{"event": "epoch", "epoch": 1}', b'{"event": "step"',
                     b'{"event": "start", "resumed": true}', b""]  # fmt: skip


def test_append_jsonl_fsyncs(tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(atomic.os, "fsync", lambda fd: calls.append(fd))
    append_jsonl(tmp_path / "m.jsonl", {"event": "x"})
    assert len(calls) == 1


@pytest.mark.parametrize(("umask", "mode"), [("077", 0o600), ("022", 0o644), ("002", 0o664)])
def test_a_new_file_takes_the_users_umask(tmp_path, umask, mode):
    # Checkpoints, config.json and status.json were 0644 under umask 077 (the run folder's
    # other files 0600): readable by others in a folder they can enter.
    import subprocess
    import sys

    target = tmp_path / "status.json"
    script = "import sys; from rnn_tui.atomic import atomic_write_text as w; w(sys.argv[1], '{}')"
    subprocess.run(
        ["sh", "-c", f'umask {umask}; exec "$0" -c "$1" "$2"', sys.executable, script, str(target)],
        check=True,
        timeout=60,
    )
    assert target.stat().st_mode & 0o777 == mode
