"""A run directory is trained by one process at a time: the claim (an flock on trainer.lock,
released by the kernel however the trainer ends), two real trainers started on one --run-dir,
a --resume of a run being trained."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import call, snapshot, tiny_args, tiny_corpus

from rnn_tui.runs.rundir import RunDir, RunError

TIMEOUT = 120  # two trainers loading torch at once on a busy two-core machine


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    return tiny_corpus(tmp_path_factory)


@pytest.fixture(autouse=True)
def _runs_root(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))


def holder(code: str) -> subprocess.Popen:
    """A Python child that runs `code` (which claims something), then waits to be killed."""
    return subprocess.Popen(
        [sys.executable, "-c", code + "\nprint('ok', flush=True)\nimport time; time.sleep(600)"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
    )


# -- the claim --------------------------------------------------------------------------------


def test_a_claim_is_exclusive_until_released(tmp_path):
    first, second = RunDir(tmp_path / "run"), RunDir(tmp_path / "run")
    first.ensure()
    assert second.trainer_alive() is None  # no lock file: nothing to tell
    first.claim()
    first.claim()  # again: already held
    assert first.lock_path.read_text().strip() == str(os.getpid())
    with pytest.raises(RunError, match=f"is being trained right now by process {os.getpid()}$"):
        second.claim()
    assert second.trainer_alive(pid=999_999_999) is True  # the lock decides, not the pid
    first.release()
    first.release()  # a no-op
    assert second.trainer_alive(pid=os.getpid()) is False
    second.claim()
    assert first.trainer_alive() is True
    second.release()


def test_a_killed_trainer_leaves_no_stale_claim(tmp_path):
    run = RunDir(tmp_path / "run")
    run.ensure()
    proc = holder(f"from rnn_tui.runs.rundir import RunDir; RunDir({str(run.path)!r}).claim()")
    try:
        assert proc.stdout.readline().strip() == "ok"
        assert run.trainer_alive() is True
        with pytest.raises(RunError, match=f"by process {proc.pid}$"):
            run.claim()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(TIMEOUT)
    assert run.trainer_alive(pid=os.getpid()) is False  # gone, though the pid given is alive
    run.claim()
    run.release()


@pytest.mark.parametrize(
    "what, said",
    [
        ("fifo", "trainer.lock is not a regular file"),
        ("symlink", "trainer.lock is a symbolic link, not a file (remove it)"),
        ("dir", "trainer.lock is a directory, not a file (remove it)"),
    ],
)
def test_a_lock_file_that_is_no_file_is_refused_without_hanging(tmp_path, what, said):
    run = RunDir(tmp_path / "run")
    run.ensure()
    if what == "fifo":
        os.mkfifo(run.lock_path)
    elif what == "symlink":
        run.lock_path.symlink_to(tmp_path / "elsewhere")  # dangling: "too many levels" it read
    else:
        run.lock_path.mkdir()
    with pytest.raises(RunError, match="cannot write to run directory") as refused:
        run.claim()
    # What is there, by its name, not the system's words for the failed open.
    assert str(refused.value).endswith(said)
    assert run.trainer_alive() is None
    assert not (tmp_path / "elsewhere").exists()


# -- rnn-tui train ----------------------------------------------------------------------------


def test_two_trainers_started_on_one_run_dir_at_once(corpus, tmp_path):
    """Both pass the early checks (the folder is empty); the claim lets exactly one train."""
    run = tmp_path / "run"
    args = tiny_args(corpus, "--run-dir", str(run), "--epochs", "100000", "--log-every", "1")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "rnn_tui", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(2)
    ]
    try:
        deadline = time.monotonic() + TIMEOUT
        while all(p.poll() is None for p in procs) and time.monotonic() < deadline:
            time.sleep(0.05)
        (loser,) = [p for p in procs if p.poll() is not None]
        (winner,) = [p for p in procs if p is not loser]
        _, err = loser.communicate(timeout=TIMEOUT)
        assert loser.returncode == 2, err
        assert err.strip().splitlines() == [
            f"rnn-tui: error: run {run} is being trained right now by process {winner.pid}; "
            "choose another --run-dir"
        ]
        # The winner trains on, alone: stop it through the control file.
        while '"event": "step"' not in (run / "metrics.jsonl").read_text():
            assert winner.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        RunDir(run).request("stop")
        _, err = winner.communicate(timeout=TIMEOUT)
        assert winner.returncode == 0, err
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    events = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [e["event"] for e in events].count("start") == 1
    status = RunDir(run).read_status()
    assert (status["status"], status["pid"]) == ("stopped", winner.pid)


def test_a_second_run_dir_trainer_is_told_the_same_however_far_the_first_has_got(
    corpus, tmp_path, capsys, monkeypatch
):
    # Refused before torch loads (the first trainer has written its run) or by the claim (it
    # has claimed the folder, nothing more yet): two wordings (and a relative --run-dir named
    # as given or made absolute), so which one the loser of two trainers started at once
    # printed depended on how the machine scheduled them.
    monkeypatch.chdir(tmp_path)
    said = []
    for name, written in (("early", True), ("claimed", False)):
        run = tmp_path / name
        run.mkdir()
        first = RunDir(run)
        first.claim()  # as the first trainer holds it
        try:
            if written:
                first.write_config({"task": "lm"})
            code, out, err = call(tiny_args(corpus, "--run-dir", name), capsys)
        finally:
            first.release()
        assert code == 2 and out == ""
        said.append(err.strip().replace(str(run), "RUN"))
    line = f"rnn-tui: error: run RUN is being trained right now by process {os.getpid()}"
    assert said == [f"{line}; choose another --run-dir"] * 2


def test_a_second_run_dir_trainer_that_comes_late_finds_the_run(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run), "--epochs", "1"), capsys)[0] == 0
    assert (run / "trainer.lock").is_file() and RunDir(run).trainer_alive() is False
    before = snapshot(run)
    code, _, err = call(tiny_args(corpus, "--run-dir", str(run)), capsys)
    assert code == 2 and "already holds a run" in err
    assert snapshot(run) == before


def test_resume_of_a_run_being_trained_is_refused(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run), "--epochs", "1"), capsys)[0] == 0
    other = RunDir(run)
    other.claim()  # a trainer in this process: another open file holds the lock
    try:
        before = snapshot(run)
        code, out, err = call(["train", "--resume", str(run), "--epochs", "2"], capsys)
        assert code == 2 and out == ""
        assert err.strip().splitlines() == [
            f"rnn-tui: error: run {run} is being trained right now by process {os.getpid()}"
        ]
        assert snapshot(run) == before
    finally:
        other.release()
    code, _, err = call(["train", "--resume", str(run), "--epochs", "2"], capsys)
    assert code == 0, err


def test_resume_of_a_run_from_before_locks_checks_its_pid(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run), "--epochs", "1"), capsys)[0] == 0
    (run / "trainer.lock").unlink()  # as a run written before run directories were locked
    proc = holder("")  # alive, holding nothing: an older trainer
    try:
        proc.stdout.readline()
        status = {**RunDir(run).read_status(), "status": "running", "pid": proc.pid}
        (run / "status.json").write_text(json.dumps(status))
        code, _, err = call(["train", "--resume", str(run), "--epochs", "2"], capsys)
        assert code == 2 and f"being trained right now by process {proc.pid}" in err
    finally:
        proc.kill()
        proc.wait(TIMEOUT)
    code, _, err = call(["train", "--resume", str(run), "--epochs", "2"], capsys)
    assert code == 0, err


def test_the_default_run_directory_is_claimed(corpus, tmp_path, capsys, monkeypatch):
    claimed = []
    real = RunDir.claim

    def claim(self):
        real(self)
        claimed.append((self.path, self.lock_path.read_text().strip()))

    monkeypatch.setattr(RunDir, "claim", claim)
    code, out, err = call(tiny_args(corpus, "--epochs", "1", "--json"), capsys)
    assert code == 0, err
    assert claimed == [(Path(json.loads(out)["run_dir"]), str(os.getpid()))]


def test_the_app_discards_a_refused_runs_folder_with_its_lock(tmp_path):
    from rnn_tui.runs.process import TrainProcess

    folder = tmp_path / "refused"
    folder.mkdir()
    (folder / "train.log").write_text("rnn-tui: error: cannot write to run directory\n")
    run = RunDir(folder)
    run.claim()
    run.release()
    assert TrainProcess([], folder).discard_if_empty() and not folder.exists()
