"""A trainer whose run directory is removed (or replaced) under it stops, writing nothing more:
it rebuilt a run without config.json or trainer.lock, which it then told the user to resume
and which a second trainer could claim (runs/rundir.py RunDir.lost)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

from cli_helpers import tiny_args, tiny_corpus

from rnn_tui.runs.rundir import RunDir


def test_lost_says_when_the_lock_is_removed_or_replaced(tmp_path):
    run = RunDir(tmp_path / "run")
    run.ensure()
    assert run.lost() == ""  # not claimed: nothing to lose
    run.claim()
    try:
        assert run.lost() == ""
        os.unlink(run.lock_path)
        assert run.lost().endswith("(or its trainer.lock) was removed")
        run.lock_path.write_text("", encoding="utf-8")
        assert "was replaced" in run.lost()
    finally:
        run.release()


def test_a_trainer_stops_when_its_run_directory_is_removed(tmp_path_factory, tmp_path):
    corpus = tiny_corpus(tmp_path_factory)
    run = tmp_path / "live"
    args = tiny_args(corpus, "--run-dir", str(run), "--epochs", "100000", "--sample-every", "0")
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnn_tui", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while not (run / "checkpoints" / "last.json").exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        shutil.rmtree(run, ignore_errors=True)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 1
    assert f"the run directory {run} (or its trainer.lock) was removed while training" in err
    shutil.rmtree(run, ignore_errors=True)  # what a racing rm left, if anything
    time.sleep(0.2)
    assert not run.exists()  # nothing written after it stopped


def test_a_follower_says_when_the_folder_of_a_running_run_is_removed(tmp_path):
    # The app kept showing "● running" over a folder rm -rf had taken away.
    from rnn_tui.runs.follow import RunFollower

    run = RunDir(tmp_path / "live")
    run.ensure()
    run.log("start", config={"epochs": 3})
    run.set_status("running", "epoch 1/3")
    follower = RunFollower(run.path)
    follower.poll()
    assert follower.status == "running"
    shutil.rmtree(run.path)
    assert follower.poll()
    assert follower.status == "died"
    assert follower.message == f"its folder {run.path} was removed"
    assert not follower.poll()  # said once


def test_a_checkpoint_refused_because_the_folder_went_is_told_as_lost(tmp_path, monkeypatch):
    # `rm -rf` racing the checkpoint's write: the write failed first ("No such file or directory
    # while writing checkpoint last: no checkpoint was saved yet"), and that was the message.
    from rnn_tui.train import engine
    from rnn_tui.train.config import Config

    run = RunDir(tmp_path / "live")

    def removed(folder, *args, **kwargs):
        shutil.rmtree(run.path)
        raise FileNotFoundError(2, "No such file or directory")

    monkeypatch.setattr(engine, "save_checkpoint", removed)
    config = Config("lm", model="rnn", hidden=8, epochs=1, max_tokens=2000, device="cpu")
    run.ensure()
    run.claim()  # as the CLI claims it
    try:
        summary = engine.Trainer(config).run(run)
    finally:
        run.release()
    assert summary["status"] == "failed"
    assert f"the run directory {run.path} (or its trainer.lock) was removed while" in str(
        summary.get("message")
    )
    assert not run.path.exists()  # nothing written after it stopped
