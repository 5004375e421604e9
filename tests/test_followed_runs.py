"""The runs the Train screen follows (rnn_tui/runs/followed.py), without Textual: opening and
ticking runs, their colours, what is polled, the notices a status change or the trainer's exit
deserves, steering — with recorded runs, run directories written here and a stand-in trainer."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from rnn_tui.runs.followed import FollowedRuns, Notice, run_key
from rnn_tui.runs.rundir import RunDir, RunError

RECORDED = Path(__file__).parent / "fixtures" / "recorded"
PALETTE = ("red", "green", "blue")


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    """The recorded runs (lm-lstm-recorded, lm-gru-recorded: finished; lm-rnn-running)."""
    root = tmp_path / "runs"
    shutil.copytree(RECORDED, root)
    return root


def live_run(
    root: Path, name: str = "lm-live", model: str = "gru", bidirectional: bool = False
) -> RunDir:
    """A run directory whose trainer (this process) has just started."""
    run = RunDir(root / name)
    run.ensure()
    run.write_config({"task": "lm", "model": model, "epochs": 3, "bidirectional": bidirectional})
    run.set_status("running")
    return run


def read_all(followed: FollowedRuns) -> list[Notice | None]:
    """Do what the screen's first-read worker does for every run still loading."""
    notices = []
    for key in list(followed.loading):
        followed.followers[key].poll()
        notices.append(followed.read_done(key))
    return notices


class FakeTrainer:
    """Stands in for TrainProcess once the trainer has exited with `code`."""

    def __init__(self, path: Path, code: int | None, log: str = "", discard: bool = False):
        self.path = path
        self.code = code
        self.log = log
        self.discard = discard
        self.requests: list[str] = []
        self.stopped_early = False

    def poll(self) -> int | None:
        return self.code

    @property
    def alive(self) -> bool:
        return self.code is None

    def log_message(self) -> str:
        return self.log

    def discard_if_empty(self) -> bool:
        return self.discard

    def request(self, command: str) -> str:
        self.requests.append(command)
        return "asked to " + command

    def rss_mb(self) -> float | None:
        return 123.0


def test_opening_ticks_shows_and_colours_each_run_once(runs):
    followed = FollowedRuns(PALETTE, clock=lambda: 2e9)
    lstm, new = followed.open(runs / "lm-lstm-recorded")
    assert new and lstm == str(runs / "lm-lstm-recorded") and lstm in followed.loading
    gru, _ = followed.open(runs / "lm-gru-recorded")
    assert followed.open(runs / "lm-lstm-recorded") == (lstm, False)
    assert followed.selected == [lstm, gru] and followed.primary == lstm
    assert followed.run_colors == {lstm: "red", gru: "green"}
    with pytest.raises(RunError):
        followed.open(runs / "no-such-run")
    assert followed.selected == [lstm, gru]


def test_ticking_keeps_order_moves_the_shown_run_and_reports_new_ticks(runs):
    followed = FollowedRuns(PALETTE)
    lstm, _ = followed.open(runs / "lm-lstm-recorded")
    gru, _ = followed.open(runs / "lm-gru-recorded")
    rnn = run_key(runs / "lm-rnn-running")
    assert followed.tick([lstm]) == [] and followed.selected == [lstm]
    assert followed.primary == lstm  # the shown run was unticked: the last ticked one
    assert followed.tick([rnn, lstm, gru]) == [rnn, gru]
    assert followed.selected == [lstm]  # the caller opens the new ones
    followed.tick([])
    assert followed.selected == [] and followed.primary is None


def test_a_run_keeps_its_colour_unless_another_took_it(runs):
    followed = FollowedRuns(PALETTE)
    lstm, _ = followed.open(runs / "lm-lstm-recorded")
    gru, _ = followed.open(runs / "lm-gru-recorded")
    followed.tick([gru])
    rnn, _ = followed.open(runs / "lm-rnn-running")
    assert followed.run_colors[rnn] == "red"  # the first colour not in use
    followed.open(lstm)
    assert followed.run_colors[lstm] == "blue"  # its red went to another run
    extra = live_run(runs.parent, "lm-fourth")
    key, _ = followed.open(extra.path)
    assert followed.run_colors[key] in PALETTE  # a full palette repeats


def test_a_finished_run_opened_is_not_news_but_a_failed_one_is(runs, tmp_path):
    followed = FollowedRuns(PALETTE)
    followed.open(runs / "lm-lstm-recorded")
    assert read_all(followed) == [None] and not followed.loading
    failed = live_run(tmp_path, "lm-failed")
    failed.set_status("failed", "out of memory")
    followed.open(failed.path)
    assert read_all(followed) == [Notice("lm-failed failed: out of memory", "error")]


def test_status_changes_seen_happening_are_told(tmp_path):
    run = live_run(tmp_path)
    followed = FollowedRuns(PALETTE)
    key, _ = followed.open(run.path)
    assert read_all(followed) == [None]  # running, as first seen
    told = []
    for status in ("paused", "running", "stopped", "running", "finished"):
        run.set_status(status)
        if status == "finished":
            run.log("epoch", epoch=3, val_ppl=12.3456, train_ppl=10.0)
        notices, to_read = followed.poll(big_read=1 << 20)
        assert to_read == []
        told += [n.text for n in notices]
    assert told == [
        "lm-live paused",
        "lm-live resumed",
        "lm-live stopped (checkpoint saved)",
        "lm-live finished, best val ppl 12.35",
    ]
    assert followed.poll(big_read=1 << 20) == ([], [])  # nothing new


def test_polling_reads_ticked_runs_and_hands_big_reads_to_a_worker(tmp_path):
    run = live_run(tmp_path)
    other = live_run(tmp_path, "lm-other")
    followed = FollowedRuns(PALETTE)
    key, _ = followed.open(run.path)
    other_key, _ = followed.open(other.path)
    read_all(followed)
    followed.tick([other_key])
    seen = followed.followers[key].events
    run.log("step", epoch=0, batch=1, loss=2.0)
    other.log("step", epoch=0, batch=1, loss=2.0)
    assert followed.poll(big_read=0) == ([], [other_key])  # an unticked run waits
    assert followed.loading == {other_key}
    assert followed.followers[key].events == seen
    read_all(followed)
    for new in followed.tick([other_key, key]):
        followed.open(new)  # ticked again: it catches up
    other.log("step", epoch=0, batch=2, loss=1.9)
    assert followed.poll(big_read=1 << 20) == ([], [])  # small reads happen right here
    assert followed.followers[key].events == seen + 1 and not followed.loading


def test_the_trainers_exit_is_told_once_and_a_refused_run_forgotten(tmp_path):
    run = live_run(tmp_path)
    followed = FollowedRuns(PALETTE)
    key, _ = followed.open(run.path)
    read_all(followed)
    followed.process = FakeTrainer(run.path, None)
    assert followed.check_process() is None  # still training
    followed.process = FakeTrainer(run.path, 1, log="Traceback: boom")
    assert followed.check_process() == [
        Notice("the trainer exited with status 1: Traceback: boom", "error")
    ]
    assert followed.process is None and followed.check_process() is None
    followed.process = FakeTrainer(run.path, 2, log="", discard=True)
    assert followed.check_process() == [
        Notice("the trainer refused the options (exit status 2)", "error")
    ]
    assert key not in followed.followers and followed.selected == [] and followed.primary is None


def test_a_refused_start_shows_again_the_runs_it_replaced(runs, tmp_path):
    # The Train screen showed "no run yet" after a start refused its corpus (a FIFO nobody
    # wrote to): the two runs compared before it were no longer ticked or shown.
    followed = FollowedRuns(PALETTE, clock=lambda: 2e9)
    lstm, _ = followed.open(runs / "lm-lstm-recorded")
    gru, _ = followed.open(runs / "lm-gru-recorded")
    read_all(followed)
    followed.primary = lstm
    refusing = [sys.executable, "-c", "import sys; sys.exit(2)"]
    process = followed.start(tmp_path / "new", {"task": "lm"}, lambda options, folder: refusing)
    started = run_key(process.path)
    assert followed.selected == [started] and followed.primary == started
    process._proc.wait(30)
    assert followed.check_process() is not None
    assert started not in followed.followers
    assert followed.selected == [lstm, gru] and followed.primary == lstm
    assert followed.shown() is not None and followed.shown().path.name == "lm-lstm-recorded"
    # A start that trains replaces the view for good.
    process = followed.start(
        tmp_path / "new", {"task": "lm"}, lambda options, folder: [sys.executable, "-c", "pass"]
    )
    process._proc.wait(30)
    followed.check_process()
    assert followed.selected == [run_key(process.path)]


def test_a_failure_the_run_reported_is_not_told_twice(tmp_path):
    run = live_run(tmp_path)
    followed = FollowedRuns(PALETTE)
    followed.open(run.path)
    read_all(followed)
    run.set_status("failed", "NaN loss")
    followed.process = FakeTrainer(run.path, 1, log="NaN loss")
    assert followed.check_process() == [Notice("lm-live failed: NaN loss", "error")]


def test_steering_the_run_shown(runs, tmp_path):
    followed = FollowedRuns(PALETTE)
    assert followed.steer("stop") == Notice(
        "no run shown: start one (s) or open one (o)", "warning"
    )
    followed.open(runs / "lm-lstm-recorded")
    read_all(followed)
    assert followed.pause_or_resume() == Notice(
        "lm-lstm-recorded is not running (finished)", "warning"
    )
    run = live_run(tmp_path)
    followed.open(run.path)
    read_all(followed)
    # A run started elsewhere: its control file.
    assert followed.steer("stop") == Notice(
        "stopping lm-live (at the end of the batch, after a checkpoint)"
    )
    assert json.loads(run.control_path.read_text())["command"] == "stop"
    run.set_status("paused")
    followed.poll(big_read=1 << 20)
    assert followed.pause_or_resume() == Notice("resuming lm-live")
    # The trainer started here: asked directly.
    trainer = FakeTrainer(run.path, None)
    followed.process = trainer
    assert followed.steer("pause") == Notice("asked to pause lm-live")
    assert trainer.requests == ["pause"]


def test_a_bidirectional_run_is_labelled_so_in_the_overlay(tmp_path):
    # The seeds' one-way and two-way LMs were both "lstm" (then "lstm <run name>").
    followed = FollowedRuns(PALETTE)
    for name, both in (("lm-one", False), ("lm-two", True)):
        followed.open(live_run(tmp_path, name, model="lstm", bidirectional=both).path)
    read_all(followed)
    assert [label for _, label, _ in followed.overlay()] == ["lstm", "lstm bidir"]


def test_what_is_shown_overlaid_and_listed(runs, tmp_path):
    followed = FollowedRuns(PALETTE)
    assert followed.shown() is None and followed.overlay() == []
    lstm, _ = followed.open(runs / "lm-lstm-recorded")
    assert followed.shown() is None and followed.overlay() == []  # not read yet
    read_all(followed)
    assert followed.shown().name == "lm-lstm-recorded"
    run = live_run(tmp_path, "lm-other", model="lstm")
    followed.open(run.path)
    read_all(followed)
    assert [(label, color) for _, label, color in followed.overlay()] == [
        ("lstm lm-lstm-recorded", "red"),
        ("lstm lm-other", "green"),
    ]
    followed.tick([lstm])
    assert [label for _, label, _ in followed.overlay()] == ["lstm"]
    # The run list: the runs folder's rows, then a run opened from elsewhere.
    followed.listed = [{"name": "lm-lstm-recorded", "path": str(runs / "." / "lm-lstm-recorded")}]
    entries = followed.entries()
    assert [e["path"] for e in entries] == [lstm, run_key(run.path)]
    assert entries[1]["model"] == "lstm" and entries[1]["status"] == "running"


def test_memory_of_a_live_trainer_started_here(tmp_path):
    run = live_run(tmp_path)
    followed = FollowedRuns(PALETTE)
    key, _ = followed.open(run.path)
    run.log("epoch", epoch=1, memory_mb=50.0)
    read_all(followed)
    assert followed.memory_mb(key) == 50.0
    followed.process = FakeTrainer(run.path, None)
    assert followed.live_trainer(key) is followed.process
    assert followed.memory_mb(key) == 123.0  # the child's resident memory now


def test_starting_a_trainer_follows_its_run_alone(runs):
    followed = FollowedRuns(PALETTE)
    followed.open(runs / "lm-lstm-recorded")

    def build(options, folder):
        return [sys.executable, "-c", "pass"]

    process = followed.start(runs, {"task": "lm", "model": "gru"}, build)
    process.wait(30)
    key = run_key(process.path)
    assert process.path.parent == runs and process.path.name.startswith("lm-gru")
    assert followed.process is process and followed.selected == [key] == [followed.primary]
    assert followed.run_colors[key] == "red" and key not in followed.loading
    lstm = run_key(runs / "lm-lstm-recorded")
    assert [e["path"] for e in followed.entries()] == [lstm, key]  # both opened, not listed
    with pytest.raises(RunError):
        followed.start(runs / "lm-lstm-recorded" / "config.json", {}, build)


@pytest.mark.parametrize("start_notes", [True, False])
def test_the_remarks_of_a_trainer_started_here_are_told_once(runs, start_notes):
    """The trainer's start notes (where samples start, pairs skipped) reach the screen that
    started it, once; an opened run's, or a screen that does not ask, stay quiet."""
    followed = FollowedRuns(PALETTE, start_notes=start_notes)
    opened = live_run(runs, "lm-opened")
    opened.log("start", config={}, notes=["not mine"])
    followed.open(opened.path)
    read_all(followed)

    def build(options, folder):
        return [sys.executable, "-c", "import time; time.sleep(30)"]

    process = followed.start(runs, {"task": "lm", "model": "gru"}, build)
    try:
        run = RunDir(process.path)
        run.set_status("running")
        assert followed.poll(big_read=1 << 20) == ([], [])  # no start event yet
        run.log("start", config={}, notes=["samples start from 'abc'", 7, "second"])
        notices, _ = followed.poll(big_read=1 << 20)
        told = [n.text for n in notices]
        name = process.path.name
        expected = [f"{name}: samples start from 'abc'", f"{name}: second"]
        assert told == (expected if start_notes else [])
        run.log("step", epoch=0, batch=1, loss=2.0)
        assert followed.poll(big_read=1 << 20) == ([], [])  # once
        assert followed.followers[run_key(process.path)].notes == (
            "samples start from 'abc'",
            "second",
        )
        # After the first step, why it took another path than asked (the CLI prints it after
        # "path:" with the other notes, which stay unsaid here): told once too, and a note
        # already told is not told again.
        run.log(
            "path",
            path="eager · fp32",
            notes=["C loops timed: 21 µs", "second", "bf16 failed here: fp32 instead"],
            departures=["second", "bf16 failed here: fp32 instead"],
        )
        notices, _ = followed.poll(big_read=1 << 20)
        told = [n.text for n in notices]
        assert told == ([f"{name}: bf16 failed here: fp32 instead"] if start_notes else [])
        run.log("step", epoch=0, batch=2, loss=1.9)
        assert followed.poll(big_read=1 << 20) == ([], [])
    finally:
        process.kill()
        process.wait(30)


@pytest.mark.parametrize("broken", ["status.json", "config.json"])
def test_a_run_with_a_broken_status_or_config_says_so_when_opened(tmp_path, broken) -> None:
    """The run list says "unreadable" for such a run; ticked, the Train screen showed it
    "✓ finished" from its metrics without a word about the broken file."""
    run = tmp_path / "damaged"
    shutil.copytree(RECORDED / "lm-gru-recorded", run)
    (run / broken).write_text("garbage{", encoding="utf-8")
    runs = FollowedRuns(("cyan+",))
    key, _ = runs.open(run)
    runs.followers[key].poll()
    notice = runs.read_done(key)
    assert notice is not None and notice.severity == "warning"
    assert notice.text.startswith(f"cannot read {run / broken}: ")
    assert notice.text.endswith("; shown from its metrics.jsonl")


def test_a_fifo_metrics_file_is_said_when_opened(tmp_path) -> None:
    """A FIFO metrics.jsonl was read as nothing, and the run opened as "✓ finished 0%" without
    a word; it (like one over the size limit, parsed whole: 380 MB took 35 s) is refused
    before any event, with one line naming the file, as a broken status.json is."""
    import os

    run = tmp_path / "piped"
    shutil.copytree(RECORDED / "lm-gru-recorded", run)
    (run / "metrics.jsonl").unlink()
    os.mkfifo(run / "metrics.jsonl")
    runs = FollowedRuns(("cyan+",))
    key, _ = runs.open(run)
    runs.followers[key].poll()
    notice = runs.read_done(key)
    assert notice == Notice(
        f"run file {run / 'metrics.jsonl'} is a pipe (FIFO), not a regular file: "
        "its epochs are not shown",
        "warning",
    )


def test_a_metrics_file_over_the_size_limit_is_refused_unread(tmp_path, monkeypatch) -> None:
    from rnn_tui.files import LIMIT_ENV

    runs = FollowedRuns(("cyan+",))
    big = tmp_path / "big"
    shutil.copytree(RECORDED / "lm-gru-recorded", big)
    with open(big / "metrics.jsonl", "ab") as handle:
        handle.truncate(3 << 20)  # 3 MiB, over a 2 MiB limit
    monkeypatch.setenv(LIMIT_ENV, "2")
    key, _ = runs.open(big)
    follower = runs.followers[key]
    follower.poll()
    assert follower.events == 0
    notice = runs.read_done(key)
    assert notice is not None and notice.text.startswith(
        f"run file {big / 'metrics.jsonl'} is 3.0 MiB, more than the 2.0 MiB limit (raise it"
    )
    monkeypatch.setenv(LIMIT_ENV, "4")  # raised: read
    follower.poll()
    assert follower.events > 0 and runs.read_done(key) != notice


def test_a_stop_in_the_trainers_first_second_is_a_stop_not_a_crash(tmp_path):
    # A stop before the trainer had set its signal handler killed it (status -15): the app said
    # "the trainer exited with status -15: no message in train.log" and left a run folder
    # holding only train.log.
    from rnn_tui.runs.process import TrainProcess

    folder = tmp_path / "runs" / "lm-early"
    process = TrainProcess([sys.executable, "-c", "import time; time.sleep(30)"], folder)
    process.start()
    followed = FollowedRuns(PALETTE)
    followed.process = process
    assert followed.check_process() is None
    process.terminate()
    assert process.wait(60) is not None and process.stopped_early
    assert followed.check_process() == [
        Notice("stopped lm-early before it began training: nothing saved")
    ]
    assert not folder.exists()
    # A trainer that exits on its own with the same status was not stopped from here.
    other = TrainProcess([sys.executable, "-c", "import os; os.kill(os.getpid(), 15)"], folder)
    other.start()
    assert other.wait(60) == -15 and not other.stopped_early


SHOW_THREADS = (
    "import os; print(*(os.environ.get(k) for k in "
    "('OMP_NUM_THREADS', 'RNN_TUI_START_THREADS', 'OMP_WAIT_POLICY')))"
)


def _threads_seen(tmp_path, name, **kw) -> str:
    """OMP_NUM_THREADS, RNN_TUI_START_THREADS and OMP_WAIT_POLICY as a child saw them."""
    from rnn_tui.runs.process import TrainProcess

    trainer = TrainProcess([sys.executable, "-c", SHOW_THREADS], tmp_path / name, **kw)
    trainer.start()
    assert trainer.wait(60) == 0
    return trainer.log_message()


@pytest.mark.parametrize("shares", [True, False])
def test_trainers_started_together_share_the_cores(tmp_path, monkeypatch, shares):
    # A forecaster and its GRU (or two taggers) each took every core: on two cores one measured
    # six times slower per batch than with one thread. Where trainers set their own threads by
    # the machine's counters they only start on their share (a tagger pair's two-way run, on
    # the 1 thread fixed for two, went on at 0.73 of its speed once the one-way run ended);
    # elsewhere the share is fixed.
    from rnn_tui.runs import process as process_module
    from rnn_tui.runs.process import shared_threads

    monkeypatch.setattr(process_module, "shares_cores", lambda: shares)
    monkeypatch.setattr(process_module.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    assert (shared_threads(1), shared_threads(2), shared_threads(3)) == (0, 1, 1)
    monkeypatch.setattr(process_module.os, "sched_getaffinity", lambda pid: set(range(16)))
    assert shared_threads(2) == 8
    for name in ("OMP_NUM_THREADS", "RNN_TUI_START_THREADS", "OMP_WAIT_POLICY"):
        monkeypatch.delenv(name, raising=False)
    pair = "None 1 None" if shares else "1 None None"
    assert _threads_seen(tmp_path, "run1", threads=1) == pair
    assert _threads_seen(tmp_path, "run0", threads=0) == "None None None"
    # The user's own setting stands, both ways.
    monkeypatch.setenv("OMP_NUM_THREADS", "4")
    assert _threads_seen(tmp_path, "mine", threads=1) == "4 None None"


@pytest.mark.parametrize("shares", [True, False])
def test_a_trainer_started_beside_others_starts_on_its_share(tmp_path, monkeypatch, shares):
    # Two char LSTMs on 2 cores, the first left running, both on every core: 8-14k tokens/s
    # each. Where trainers set their own threads, the second starts on its share and takes the
    # other core back once the first ends (waiting passively cost a names run 37 % of its
    # speed once alone); elsewhere its threads wait passively (14-16k and 34-39k).
    from rnn_tui.runs import process as process_module
    from rnn_tui.runs.process import TrainProcess, sharing_note, training_elsewhere

    monkeypatch.setattr(process_module, "shares_cores", lambda: shares)
    monkeypatch.setattr(process_module.os, "sched_getaffinity", lambda pid: {0, 1}, raising=False)
    for name in ("OMP_NUM_THREADS", "RNN_TUI_START_THREADS", "OMP_WAIT_POLICY"):
        monkeypatch.delenv(name, raising=False)
    sleeper = [sys.executable, "-c", "import time; time.sleep(60)"]
    listed = [
        {"path": str(tmp_path / "cli-run"), "status": "running"},
        {"path": str(tmp_path / "held"), "status": "paused"},  # waits without computing
        {"path": str(tmp_path / "old"), "status": "finished"},
        {"status": "running"},  # no path: nothing to count
    ]
    assert training_elsewhere(listed) == {str(tmp_path / "cli-run")}
    # A run another trainer (another app, the command line) is training, seen in the listing.
    beside = "None 1 None" if shares else "None None PASSIVE"
    assert _threads_seen(tmp_path, "next", beside=listed) == beside
    next_one = TrainProcess(sleeper, tmp_path / "next2", beside=listed)
    assert sharing_note([next_one]) == "beside 1 other run training here: all run slower than alone"
    # A trainer this app started, still alive (another screen's), and the listing's run: two.
    mine = TrainProcess(sleeper, tmp_path / "mine")
    mine.start()
    try:
        assert str(tmp_path / "mine") in training_elsewhere()
        again = TrainProcess(sleeper, tmp_path / "again", beside=listed)
        assert again.sharing == 2 and "beside 2 other runs" in sharing_note([again])
    finally:
        mine.terminate()
        mine.wait(10)
    # Alone again: the library's own threads and waiting, and nothing to say.
    assert _threads_seen(tmp_path, "alone") == "None None None"
    assert sharing_note([TrainProcess(sleeper, tmp_path / "alone2")]) == ""
    # The user's settings stand.
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    theirs = "None 1 ACTIVE" if shares else "None None ACTIVE"
    assert _threads_seen(tmp_path, "theirs", beside=listed) == theirs
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert _threads_seen(tmp_path, "fixed", beside=listed) == "2 None ACTIVE"
