"""Runs whose trainer is gone while status.json still says running or paused are shown as
"died", with the time of their last event: by list_runs (`rnn-tui runs`, JSON too), the
follower and the Train screen's notices. The run's lock decides; the pid only for runs written
before runs were locked."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from rnn_tui.cli import main
from rnn_tui.runs.follow import RunFollower
from rnn_tui.runs.followed import FollowedRuns, Notice
from rnn_tui.runs.format import fmt_time
from rnn_tui.runs.listing import list_runs
from rnn_tui.runs.liveness import last_event_time
from rnn_tui.runs.rundir import RunDir

LAST = 1_700_000_000.0  # the time of the last event the runs below write
WHEN = fmt_time(LAST, "%Y-%m-%d %H:%M:%S")


@pytest.fixture(scope="module")
def dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    return int(proc.stdout)


def make_run(root: Path, name: str, status: str, pid: int | None, locked: bool) -> RunDir:
    """A run that says `status`, written by `pid`; `locked`: it has a lock file (unheld)."""
    run = RunDir(root / name)
    run.write_config({"task": "lm", "model": "gru", "epochs": 3})
    run.log("step", epoch=1, batch=1, batches=4, loss=2.0, time=LAST)
    record = {"status": status, "message": "", "updated": LAST - 5}
    if pid is not None:
        record["pid"] = pid
    run.status_path.write_text(json.dumps(record))
    if locked:
        run.claim()
        run.release()
    return run


class Trainer:
    """A child process that claims a run and says it is running, as a trainer does."""

    def __init__(self, run: RunDir):
        code = (
            "import sys; from rnn_tui.runs.rundir import RunDir\n"
            f"run = RunDir({str(run.path)!r}); run.claim(); run.set_status('running')\n"
            f"run.log('step', epoch=1, time={LAST})\n"
            "print('ok', flush=True); sys.stdin.read()"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])},
        )
        assert self.proc.stdout.readline().strip() == "ok"

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(60)


def test_list_runs_tells_a_died_run_by_its_lock_else_its_pid(tmp_path, dead_pid):
    root = tmp_path / "runs"
    me = os.getpid()
    make_run(root, "lock-free-pid-alive", "running", me, locked=True)  # the pid was reused
    make_run(root, "lock-free-paused", "paused", None, locked=True)
    make_run(root, "old-pid-dead", "running", dead_pid, locked=False)
    make_run(root, "old-pid-alive", "running", me, locked=False)
    make_run(root, "old-no-pid", "running", None, locked=False)
    make_run(root, "finished", "finished", dead_pid, locked=True)
    held = make_run(root, "lock-held-pid-dead", "running", dead_pid, locked=False)
    held.claim()
    try:
        by_name = {e["name"]: e for e in list_runs(root)}
    finally:
        held.release()
    status = {name: entry["status"] for name, entry in by_name.items()}
    assert status == {
        "lock-free-pid-alive": "died",
        "lock-free-paused": "died",
        "old-pid-dead": "died",
        "old-pid-alive": "running",
        "old-no-pid": "running",
        "finished": "finished",
        "lock-held-pid-dead": "running",
    }
    assert by_name["old-pid-dead"]["message"] == (
        f"the trainer (process {dead_pid}) is gone; last event at {WHEN}"
    )
    assert by_name["lock-free-paused"]["message"] == f"the trainer is gone; last event at {WHEN}"


def test_the_time_falls_back_to_status_updated(tmp_path, dead_pid):
    run = make_run(tmp_path / "runs", "r", "running", dead_pid, locked=True)
    run.metrics_path.write_text('{"event": "step", "time": "soon"}\n{"event": "st')
    assert last_event_time(run.metrics_path) is None
    (entry,) = list_runs(tmp_path / "runs")
    assert entry["message"].endswith(fmt_time(LAST - 5, "%Y-%m-%d %H:%M:%S"))
    run.metrics_path.unlink()
    os.mkfifo(run.metrics_path)  # never opened for reading: no hang
    assert last_event_time(run.metrics_path) is None


def test_a_killed_trainer_is_listed_as_died(tmp_path, capsys):
    root = tmp_path / "runs"
    run = RunDir(root / "lm-killed")
    run.write_config({"task": "lm", "model": "gru", "epochs": 3})
    trainer = Trainer(run)
    try:
        assert main(["runs", "--dir", str(root), "--json"]) == 0
        (entry,) = json.loads(capsys.readouterr().out)["runs"]
        assert entry["status"] == "running"
    finally:
        trainer.kill()
    assert main(["runs", "--dir", str(root), "--json"]) == 0
    (entry,) = json.loads(capsys.readouterr().out)["runs"]
    assert entry["status"] == "died"
    assert entry["message"] == (
        f"the trainer (process {trainer.proc.pid}) is gone; last event at {WHEN}"
    )
    assert main(["runs", "--dir", str(root)]) == 0
    assert "died" in capsys.readouterr().out


def test_the_train_screen_tells_when_its_trainer_dies(tmp_path):
    run = RunDir(tmp_path / "lm-live")
    run.write_config({"task": "lm", "model": "gru", "epochs": 3})
    trainer = Trainer(run)
    followed = FollowedRuns(("red", "green"))
    try:
        key, _ = followed.open(run.path)
        for pending in list(followed.loading):
            followed.followers[pending].poll()
            followed.read_done(pending)
        follower = followed.followers[key]
        assert follower.status == "running" and not follower.stale()
        assert followed.poll(big_read=1 << 20) == ([], [])
    finally:
        trainer.kill()
    # Nothing was written: the poll finds the trainer gone all the same.
    message = f"the trainer (process {trainer.proc.pid}) is gone; last event at {WHEN}"
    assert followed.poll(big_read=1 << 20) == ([Notice(f"lm-live died: {message}", "error")], [])
    snap = followed.shown()
    assert (snap.status, snap.message, snap.stale, snap.active) == ("died", message, True, False)
    assert followed.poll(big_read=1 << 20) == ([], [])  # told once
    assert followed.steer("stop") == Notice("lm-live is not running (died)", "warning")
    assert followed.entries()[0]["status"] == "died"

    class Exited:  # the trainer started here, seen exiting after its run was told died
        path, alive, stopped_early, code = run.path, False, False, -9

        def poll(self):
            return self.code

        def log_message(self):
            return ""

    # Killed by SIGKILL, as the kernel's out-of-memory killer does: the died notice names the
    # process, this one the signal and what sends it.
    followed.process = Exited()
    assert followed.check_process() == [
        Notice(
            "lm-live: its trainer was killed by SIGKILL, which the system sends when memory "
            "runs out: a smaller model, --batch-size or vocabulary (--min-freq) needs less",
            "error",
        )
    ]
    followed.process = Exited()
    followed.process.code = -11
    assert followed.check_process() == [
        Notice("lm-live: its trainer was killed by SIGSEGV", "error")
    ]
    followed.process = Exited()
    followed.process.code = 1
    assert followed.check_process() == []  # the run, told died, said it


def test_a_resumed_run_is_alive_again(tmp_path, dead_pid):
    run = make_run(tmp_path, "r", "running", dead_pid, locked=True)
    follower = RunFollower(run.path)
    follower.poll()
    assert follower.status == "died"
    run.claim()  # a trainer resumes it (status.json still says the old "running")
    try:
        assert follower.poll()  # changed: alive again
        assert (follower.status, follower.message, follower.stale()) == ("running", "", False)
    finally:
        run.release()


def test_the_header_shows_a_died_run_and_why(tmp_path, dead_pid):
    from rnn_tui.tui.widgets.train_header import title_text

    run = make_run(tmp_path, "r", "running", dead_pid, locked=True)
    follower = RunFollower(run.path)
    follower.poll()
    text = title_text(follower.snapshot()).plain
    assert text.startswith("† died  r") and text.endswith(f"is gone; last event at {WHEN}")


def test_a_starting_run_shows_what_its_trainer_last_logged(tmp_path):
    # "◌ starting" alone for the 10-30 s a 100 MB corpus takes to tokenize.
    from rnn_tui.tui.widgets.train_header import title_text

    run = RunDir(tmp_path / "r")
    run.path.mkdir()
    follower = RunFollower(run.path)
    follower.poll()
    snap = follower.snapshot()
    assert title_text(snap, "tokenizing wiki.txt: 45 %").plain == (
        "◌ starting  r  tokenizing wiki.txt: 45 %"
    )
    assert title_text(snap, "").plain == "◌ starting  r"
    assert not title_text(snap).plain.startswith("◌ starting")


@pytest.mark.parametrize("wrote", ["nothing", "config.json"])
def test_a_trainer_killed_before_its_first_status_is_listed_as_died(tmp_path, wrote):
    # Killed in its first moments (the trigram baseline is computed between config.json and
    # status.json): listed "unknown" with no message, or "unreadable" without its config,
    # as if the run were damaged.
    run = RunDir(tmp_path / "early")
    run.ensure()
    run.claim()
    if wrote == "config.json":
        run.write_config({"task": "lm", "model": "gru", "epochs": 3})
    (entry,) = list_runs(tmp_path)
    assert entry["status"] in ("unknown", "unreadable")  # its trainer is alive: starting
    run.release()
    (entry,) = list_runs(tmp_path)
    missing = "status.json" if wrote == "config.json" else "config.json"
    assert entry["status"] == "died"
    assert entry["message"] == f"the trainer is gone (before it wrote {missing})"


def test_a_finished_run_that_lost_a_file_is_not_called_died(tmp_path, dead_pid):
    run = make_run(tmp_path, "done", "finished", dead_pid, locked=True)
    run.config_path.unlink()
    (entry,) = list_runs(tmp_path)
    assert entry["status"] == "unreadable"
    run.write_config({"task": "lm", "model": "gru", "epochs": 3})
    run.status_path.write_text("{", encoding="utf-8")  # damaged, not unwritten
    (entry,) = list_runs(tmp_path)
    assert entry["status"] == "unknown"
