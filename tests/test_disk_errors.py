"""Disks that refuse a write: a read-only run folder is refused before training (one line,
exit 2, nothing changed); a disk that fills up mid-run ends the run "failed" with one line
naming the file (exit 1, no traceback) and keeps the last checkpoint — even when the failed
status itself cannot be written."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest
import torch
from cli_helpers import call, snapshot, tiny_args, tiny_corpus

import rnn_tui.train.engine as engine
from rnn_tui.checkpoints.checkpoint import load_checkpoint
from rnn_tui.runs.rundir import RunDir, RunError
from rnn_tui.train.config import Config
from rnn_tui.train.engine import Trainer
from rnn_tui.train.write_errors import RunWriteError, failure_message

FULL = OSError(errno.ENOSPC, "No space left on device")
READ_ONLY = OSError(errno.EROFS, "Read-only file system")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    return tiny_corpus(tmp_path_factory)


@pytest.fixture(autouse=True)
def _one_thread(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def config(corpus: str, **overrides) -> Config:
    options = dict(corpus=corpus, model="gru", hidden=16, batch_size=8, num_steps=10, epochs=2)
    return Config("lm", **{**options, "sample_length": 10, "device": "cpu", **overrides})


def full_after_first_epoch(monkeypatch) -> None:
    """metrics.jsonl cannot grow from the first epoch event on (its checkpoints are written)."""
    real = RunDir.log
    full = []

    def log(self, event, **fields):
        if event == "epoch" or full:
            full.append(event)
            raise FULL
        real(self, event, **fields)

    monkeypatch.setattr(RunDir, "log", log)


# -- mid-run -----------------------------------------------------------------------------------


def test_a_full_disk_mid_run_fails_the_run_and_keeps_the_checkpoint(corpus, tmp_path, monkeypatch):
    full_after_first_epoch(monkeypatch)
    run = RunDir(tmp_path / "run")
    events = []
    summary = Trainer(config(corpus)).run(run, on_event=events.append)
    message = "disk full while writing metrics.jsonl: the last checkpoint is kept"
    assert (summary["status"], summary["message"]) == ("failed", message)
    status = run.read_status()  # status.json could still be replaced (its event could not)
    assert (status["status"], status["message"]) == ("failed", message)
    assert events[-1] == {"event": "status", "status": "failed", "message": message}
    last = load_checkpoint(run.path, prefer=("last",))
    assert last.meta["epoch"] == 1


def test_a_checkpoint_the_disk_refuses_keeps_the_previous_one(corpus, tmp_path, monkeypatch):
    real = engine.save_checkpoint

    def save(folder, name, model, optimizer, meta):
        if meta["epoch"] == 2:
            raise READ_ONLY
        return real(folder, name, model, optimizer, meta)

    monkeypatch.setattr(engine, "save_checkpoint", save)
    run = RunDir(tmp_path / "run")
    summary = Trainer(config(corpus)).run(run)
    assert summary["message"] == (
        "the file system is read-only while writing checkpoint last: the last checkpoint is kept"
    )
    assert run.read_status()["status"] == "failed"
    assert load_checkpoint(run.path, prefer=("last",)).meta["epoch"] == 1
    epochs = [json.loads(line) for line in run.metrics_path.read_text().splitlines()]
    assert [e["epoch"] for e in epochs if e["event"] == "epoch"] == [1]


def test_a_disk_full_before_any_checkpoint(corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(RunDir, "write_config", lambda self, config: (_ for _ in ()).throw(FULL))
    summary = Trainer(config(corpus)).run(RunDir(tmp_path / "run"))
    assert summary["message"] == "disk full while writing config.json: no checkpoint was saved yet"


def test_when_even_the_failed_status_cannot_be_written_stderr_says_it_once(
    corpus, tmp_path, monkeypatch, capsys
):
    full_after_first_epoch(monkeypatch)
    real = RunDir.set_status

    def set_status(self, status, message="", **fields):
        if status == "failed":
            raise FULL
        real(self, status, message, **fields)

    monkeypatch.setattr(RunDir, "set_status", set_status)
    run = tmp_path / "run"
    code, out, err = call(tiny_args(corpus, "--run-dir", str(run), "--json"), capsys)
    message = "disk full while writing metrics.jsonl: the last checkpoint is kept"
    assert code == 1 and "Traceback" not in err
    assert [line for line in err.splitlines() if "disk full" in line] == [
        f"rnn-tui: error: {message}"
    ]
    summary = json.loads(out)
    assert (summary["status"], summary["message"]) == ("failed", message)
    assert RunDir(run).read_status()["status"] == "running"  # what the disk still holds
    assert load_checkpoint(run, prefer=("last",)).meta["epoch"] == 1


def test_another_os_error_is_one_line_too(corpus, tmp_path, monkeypatch, capsys):
    def run(self, run, stop=None, on_event=None):
        raise OSError(errno.EIO, "Input/output error", "/dev/sdz")

    monkeypatch.setattr(Trainer, "run", run)
    code, _, err = call(tiny_args(corpus, "--run-dir", str(tmp_path / "run")), capsys)
    assert code == 1
    assert err.strip().splitlines() == [
        "rnn-tui: error: training failed: Input/output error (/dev/sdz)"
    ]


def test_failure_messages():
    checkpoints = Path("/nonexistent")
    for code, cause in [
        (errno.ENOSPC, "disk full"),
        (errno.EDQUOT, "disk quota exceeded"),
        (errno.EIO, "input/output error"),
        (errno.ENOMEM, "Cannot allocate memory"),
    ]:
        error = RunWriteError("status.json", OSError(code, os.strerror(code)))
        assert failure_message(error, checkpoints) == (
            f"{cause} while writing status.json: no checkpoint was saved yet"
        )


# -- before training ---------------------------------------------------------------------------


@pytest.fixture
def finished_run(corpus, tmp_path, capsys) -> Path:
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run)), capsys)[0] == 0
    return run


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through chmod; simulated below")
def test_resume_in_a_read_only_folder_is_refused_up_front(finished_run, capsys):
    before = snapshot(finished_run)
    modes = {p: p.stat().st_mode for p in (finished_run, finished_run / "checkpoints")}
    for path in modes:
        path.chmod(0o555)
    try:
        code, out, err = call(["train", "--resume", str(finished_run), "--epochs", "3"], capsys)
    finally:
        for path, mode in modes.items():
            path.chmod(mode)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"rnn-tui: error: cannot write to {finished_run}: Permission denied"
    ]
    assert snapshot(finished_run) == before


def test_resume_on_a_read_only_file_system_is_refused_up_front(finished_run, capsys, monkeypatch):
    before = snapshot(finished_run)

    def mkstemp(*args, **kwargs):
        raise READ_ONLY

    monkeypatch.setattr("rnn_tui.runs.rundir.tempfile.mkstemp", mkstemp)
    code, out, err = call(["train", "--resume", str(finished_run), "--epochs", "3"], capsys)
    assert code == 2 and out == ""
    assert err.strip().splitlines() == [
        f"rnn-tui: error: cannot write to {finished_run}: Read-only file system"
    ]
    assert snapshot(finished_run) == before


def test_a_claim_checks_every_folder_and_the_metrics_file(tmp_path, monkeypatch):
    run = RunDir(tmp_path / "run")
    run.ensure()
    real = os.open

    def refuse_metrics(path, flags, *args):
        if Path(path) == run.metrics_path:
            raise PermissionError(errno.EACCES, "Permission denied")
        return real(path, flags, *args)

    run.metrics_path.write_text("")
    monkeypatch.setattr("rnn_tui.runs.rundir.os.open", refuse_metrics)
    with pytest.raises(RunError, match=f"^cannot write to {run.metrics_path}: Permission denied$"):
        run.claim()
    assert not run.lock_path.exists()
