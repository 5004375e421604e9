"""Following a run directory (rnn_tui/runs/follow.py): bounded series, status, partial lines,
growing files, a steady ETA — with recorded runs and a fixed clock, no training."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from epoch_events import IMPLAUSIBLE_EPOCHS

from rnn_tui.runs.follow import RunFollower
from rnn_tui.runs.rundir import RunDir, RunError, check_run_dir
from rnn_tui.runs.series import BoundedSeries

RUNS = Path(__file__).parent / "fixtures" / "recorded"
LSTM = RUNS / "lm-lstm-recorded"
RUNNING = RUNS / "lm-rnn-running"


def recorded_lines(run: Path) -> list[str]:
    """The complete lines of a recorded metrics.jsonl, newline included."""
    text = (run / "metrics.jsonl").read_text(encoding="utf-8")
    return [line + "\n" for line in text.split("\n")[:-1]]


def events(run: Path) -> list[dict]:
    return [json.loads(line) for line in recorded_lines(run)]


def empty_run(tmp_path: Path, source: Path = LSTM) -> Path:
    folder = tmp_path / source.name
    folder.mkdir()
    shutil.copy(source / "config.json", folder / "config.json")
    return folder


# -- BoundedSeries ---------------------------------------------------------------------------


def test_bounded_series_stays_within_capacity_and_keeps_the_shape():
    series = BoundedSeries(capacity=64)
    for i in range(10_000):
        series.append(i, 2.0 * i + 1)
        assert len(series) <= 64
    assert series.count == 10_000
    assert 32 <= len(series) <= 64
    assert series.per_bucket & (series.per_bucket - 1) == 0  # a power of two
    x, y = series.arrays()
    # Means of a straight line lie on it; buckets stay in order and cover the whole range.
    np.testing.assert_allclose(y, 2.0 * x + 1)
    assert np.all(np.diff(x) > 0)
    assert x[0] < 10_000 / 64 and x[-1] > 10_000 - 2 * series.per_bucket


@pytest.mark.parametrize("n, limit", [(10, 4.5), (100, 37.0), (1000, 999.0), (1000, -1.0)])
def test_bounded_series_rewinds_to_the_points_at_or_before_a_limit(n, limit):
    series = BoundedSeries(capacity=16)
    for i in range(n):
        series.append(float(i), 1.0)
    series.rewind(limit)
    xs = series.arrays()[0]
    assert (xs <= limit).all()
    assert series.count == sum(series._n) and len(series) == len(series._n)
    # Only the bucket straddling the limit may take points at or before it away.
    assert series.count >= min(n, math.floor(limit) + 1) - series.per_bucket
    series.append(limit + 0.5, 2.0)  # and it goes on from there
    assert series.arrays()[0][-1] <= limit + 0.5


def test_bounded_series_keeps_every_point_until_full_and_skips_non_finite():
    series = BoundedSeries(capacity=8)
    for i in range(8):
        assert series.append(i, i * i)
    assert not series.append(8, math.nan)
    assert not series.append(math.inf, 1.0)
    assert not series.append(9, None)  # type: ignore[arg-type]
    x, y = series.arrays()
    assert x.tolist() == list(range(8)) and y.tolist() == [i * i for i in range(8)]
    series.append(8, 64)  # the ninth point merges neighbours: 5 buckets of ≤ 2
    x, _ = series.arrays()
    assert x.tolist() == [0.5, 2.5, 4.5, 6.5, 8.0]
    with pytest.raises(ValueError):
        BoundedSeries(capacity=1)


# -- a recorded run --------------------------------------------------------------------------


def test_a_finished_recorded_run():
    follower = RunFollower(LSTM, clock=lambda: 2e9)
    assert follower.status == "unknown"
    assert follower.poll()
    snap = follower.snapshot()
    assert (snap.status, snap.epoch, snap.epochs, snap.progress, snap.eta) == (
        "finished", 12, 12, 1.0, 0.0
    )  # fmt: skip
    assert snap.model == "lstm" and snap.device == "cpu" and snap.baseline_ppl == 7.41
    assert snap.num_params == 299_036 and not snap.active and not snap.stale
    assert snap.val_ppl == snap.best_val_ppl == pytest.approx(5.1616)
    assert snap.train_ppl == pytest.approx(4.643)
    assert snap.memory_mb == pytest.approx(330.0) and snap.lr == 1.0
    assert len(snap.samples) == 8 and snap.samples[-1].epoch == 12
    assert snap.samples[-1].text.startswith("time traveller for so")
    x, y = snap.series["step_ppl"]
    assert len(x) == 240 and x[0] == pytest.approx(0.05) and x[-1] == pytest.approx(12.0)
    assert snap.series["val_ppl"][0].tolist() == list(range(1, 13))
    # Nothing new: no change, same version.
    assert not follower.poll()
    assert follower.snapshot().version == snap.version


def test_a_running_run_with_a_half_written_last_line():
    follower = RunFollower(RUNNING, clock=lambda: 1_790_000_090.0)
    follower.poll()
    snap = follower.snapshot()
    assert snap.status == "running" and snap.active
    assert (snap.epoch, snap.epochs, snap.batch, snap.batches) == (4, 10, 18, 40)
    assert snap.progress == pytest.approx(4.45 / 10)
    assert follower.tail.skipped == 0  # the partial line waits, it is not an error
    # 20 s an epoch (median), 5.55 epochs left at t = 88.9 s, 1.1 s counted down since.
    assert snap.eta == pytest.approx(5.55 * 20 - 1.1, abs=3)


def test_partial_lines_wait_for_their_end(tmp_path):
    folder = empty_run(tmp_path)
    lines = recorded_lines(LSTM)
    metrics = folder / "metrics.jsonl"
    metrics.write_text(lines[0] + lines[2][:40], encoding="utf-8")
    follower = RunFollower(folder)
    follower.poll()
    assert follower.events == 1 and follower.snapshot().series["step_ppl"][0].size == 0
    with metrics.open("a", encoding="utf-8") as f:
        f.write(lines[2][40:])
    assert follower.poll()
    assert follower.events == 2 and follower.snapshot().series["step_ppl"][0].size == 1


def test_an_epochs_figure_that_is_not_finite_is_shown_as_none_not_an_older_one(tmp_path):
    # A diverged forecast's epochs record grad_norm null; the header showed the 3.9e12 of
    # a step of epoch 1 under "epoch 3".
    folder = empty_run(tmp_path)
    lines = recorded_lines(LSTM)
    first_epoch = next(i for i, line in enumerate(lines) if '"event": "epoch"' in line)
    epoch = json.loads(lines[first_epoch])
    assert epoch["grad_norm"] is not None
    nulled = {**epoch, "grad_norm": None, "train_ppl": None}
    (folder / "metrics.jsonl").write_text(
        "".join(lines[:first_epoch]) + json.dumps(nulled) + "\n", encoding="utf-8"
    )
    follower = RunFollower(folder, clock=lambda: 2e9)
    follower.poll()
    snap = follower.snapshot()
    assert snap.epoch == 1 and snap.grad_norm is None and snap.train_ppl is None


def test_a_growing_file_is_read_incrementally(tmp_path):
    folder = empty_run(tmp_path)
    lines = recorded_lines(LSTM)
    follower = RunFollower(folder, clock=lambda: 2e9)
    assert follower.poll()  # config.json
    versions, epochs = [], []
    metrics = folder / "metrics.jsonl"
    for start in range(0, len(lines), 25):
        with metrics.open("a", encoding="utf-8") as f:
            f.writelines(lines[start : start + 25])
        assert follower.pending_bytes() > 0
        assert follower.poll()
        assert follower.pending_bytes() == 0
        assert not follower.poll()
        versions.append(follower.version)
        epochs.append(follower.epoch)
    assert versions == sorted(set(versions))
    assert epochs == sorted(epochs) and epochs[-1] == 12
    assert follower.events == len(lines)
    whole = RunFollower(LSTM)
    whole.poll()
    for name, (x, y) in whole.snapshot().series.items():
        got_x, got_y = follower.snapshot().series[name]
        np.testing.assert_allclose(got_x, x, err_msg=name)
        np.testing.assert_allclose(got_y, y, err_msg=name)


def test_a_poll_reads_everything_a_piece_at_a_time(monkeypatch):
    from rnn_tui.runs import follow

    whole = RunFollower(LSTM)
    whole.poll()
    monkeypatch.setattr(follow, "READ_PIECE", 200)  # a few events a piece
    pieces = RunFollower(LSTM)
    calls = []
    read_new = pieces.tail.read_new
    pieces.tail.read_new = lambda limit=None: calls.append(limit) or read_new(limit)
    assert pieces.poll()
    assert len(calls) > 10 and set(calls) == {200}
    assert pieces.events == whole.events and pieces.epoch == whole.epoch
    for name, (x, y) in whole.snapshot().series.items():
        got_x, got_y = pieces.snapshot().series[name]
        np.testing.assert_allclose(got_x, x, err_msg=name)
        np.testing.assert_allclose(got_y, y, err_msg=name)


def test_status_transitions(tmp_path):
    folder = empty_run(tmp_path)
    run = RunDir(folder)
    follower = RunFollower(folder)
    follower.poll()
    assert follower.status == "unknown"
    seen = []
    for status, message in [
        ("running", ""),
        ("paused", "paused in epoch 1"),
        ("running", ""),
        ("failed", "loss became nan in epoch 3: try a smaller --lr"),
    ]:
        run.set_status(status, message)
        assert follower.poll()
        seen.append((follower.status, follower.message))
    assert [s for s, _ in seen] == ["running", "paused", "running", "failed"]
    assert seen[-1][1].startswith("loss became nan")
    assert follower.eta() is None  # not running: no ETA


def test_a_stopped_run_shows_the_minibatch_it_stopped_after(tmp_path):
    # Step events come every few minibatches; the stop is written to status.json. The Train
    # header showed "batch 235" for a run that had stopped after 240.
    folder = empty_run(tmp_path)
    run = RunDir(folder)
    follower = RunFollower(folder)
    run.set_status("running", "epoch 1/5")
    run.log("step", epoch=1, batch=235, batches=1000, loss=2.0, time=1.0)
    follower.poll()
    assert follower.snapshot().batch == 235
    run.set_status("stopped", "stopped in epoch 1 after minibatch 240/1000", epoch=0, batch=240)
    follower.poll()
    snap = follower.snapshot()
    assert snap.batch == 240
    # A status from another epoch, or past the epoch's end, changes nothing.
    run.set_status("stopped", "stopped", epoch=3, batch=500)
    follower.poll()
    assert follower.snapshot().batch == 235
    run.set_status("stopped", "stopped", epoch=0, batch=5000)
    follower.poll()
    assert follower.snapshot().batch == 235


def test_status_from_events_when_there_is_no_status_file(tmp_path):
    folder = empty_run(tmp_path)
    (folder / "metrics.jsonl").write_text(
        json.dumps({"event": "status", "time": 1.0, "status": "stopped", "message": "by request"})
        + "\n",
        encoding="utf-8",
    )
    follower = RunFollower(folder)
    follower.poll()
    assert (follower.status, follower.message) == ("stopped", "by request")


def test_a_dead_trainer_is_reported_stale(tmp_path):
    folder = empty_run(tmp_path)
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    dead_pid = int(proc.stdout)
    (folder / "status.json").write_text(json.dumps({"status": "running", "pid": dead_pid}))
    follower = RunFollower(folder)
    follower.poll()
    assert follower.stale() and not follower.snapshot().active
    (folder / "status.json").write_text(json.dumps({"status": "finished", "pid": dead_pid}))
    follower.poll()
    assert not follower.stale()


# -- the ETA ---------------------------------------------------------------------------------


def replay(run: Path, tmp_path: Path, edit=None) -> tuple[RunFollower, list[tuple[float, float]]]:
    """Feed a recorded run to a follower one event at a time, the clock at each event's time;
    returns the follower and (time, ETA) after every event that has an ETA."""
    folder = empty_run(tmp_path, run)
    clock = [0.0]
    follower = RunFollower(folder, clock=lambda: clock[0])
    (folder / "status.json").write_text(json.dumps({"status": "running"}))
    etas = []
    with (folder / "metrics.jsonl").open("a", encoding="utf-8") as f:
        for event in events(run):
            if event["event"] == "status":
                continue
            if edit is not None:
                event = edit(event)
            f.write(json.dumps(event) + "\n")
            f.flush()
            clock[0] = event["time"]
            follower.poll()
            eta = follower.eta()
            if eta is not None:
                etas.append((event["time"], eta))
    return follower, etas


def test_the_eta_is_steady_and_right(tmp_path):
    # 30 s an epoch, 12 epochs; the truth at time t is T0 + 12 * 30 + 1.5 - t.
    _, etas = replay(LSTM, tmp_path)
    end = 1_790_000_000.0 + 12 * 30 + 1.5
    late = [(t, eta) for t, eta in etas if t > 1_790_000_000.0 + 60]
    for t, eta in late:
        assert eta == pytest.approx(end - t, abs=12)
    # Steady: between consecutive events (≈ 1.5 s apart) it moves by about the time passed.
    for (t0, e0), (t1, e1) in zip(late, late[1:], strict=False):
        assert abs((e0 - e1) - (t1 - t0)) < 3.0


def test_the_eta_shrugs_off_one_slow_epoch(tmp_path):
    # Epoch 4 took 10 times longer (a pause, say): the trainer's ETA leaves pauses out.
    t4 = 1_790_000_000.0 + 4 * 30 + 1.5
    slow = 270.0

    def delay(event):
        if event["time"] >= t4 - 0.01:
            event = {**event, "time": event["time"] + slow}
        return event

    _, etas = replay(LSTM, tmp_path, delay)
    end = 1_790_000_000.0 + 12 * 30 + 1.5 + slow
    # From the next epoch on, as right as without the slow one.
    after = [(t, eta) for t, eta in etas if t > t4 + slow + 10]
    assert len(after) > 100
    for t, eta in after:
        assert eta == pytest.approx(end - t, abs=12)


def test_the_eta_counts_down_with_the_clock_and_freezes_when_paused(tmp_path):
    follower, etas = replay(RUNNING, tmp_path)
    t, eta = etas[-1]
    assert follower.eta(t + 10) == pytest.approx(eta - 10)
    assert follower.eta(t + 10_000) == 0.0
    RunDir(follower.path).set_status("paused", "")
    follower.poll()
    assert follower.eta(t + 10) == follower.eta(t + 1000) == pytest.approx(eta)


# -- opening -------------------------------------------------------------------------------


def test_check_run_dir(tmp_path):
    assert check_run_dir(LSTM) == LSTM
    with pytest.raises(RunError, match="does not exist"):
        check_run_dir(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(RunError, match="not a directory"):
        check_run_dir(tmp_path / "file.txt")
    with pytest.raises(RunError, match="not a run directory"):
        check_run_dir(tmp_path)


def test_malformed_lines_are_skipped(tmp_path):
    folder = empty_run(tmp_path)
    lines = recorded_lines(LSTM)
    (folder / "metrics.jsonl").write_text(
        lines[0] + "{not json\n" + '["a list"]\n' + lines[2], encoding="utf-8"
    )
    follower = RunFollower(folder)
    follower.poll()
    assert follower.events == 2 and follower.tail.skipped == 2


def test_the_step_path_comes_from_the_start_and_path_events(tmp_path):
    """The planned path from the start event, replaced by the one taken (with its capture time)
    once the trainer reports it; the Train screen's header shows it beside the device."""
    from rnn_tui.tui.widgets.train_header import where

    folder = empty_run(tmp_path)
    start = json.loads(recorded_lines(LSTM)[0])
    assert start["event"] == "start"
    metrics = folder / "metrics.jsonl"
    metrics.write_text(json.dumps({**start, "path": "CUDA graph · fp32"}) + "\n", encoding="utf-8")
    follower = RunFollower(folder)
    follower.poll()
    assert follower.snapshot().step_path == "CUDA graph · fp32"
    taken = {"event": "path", "path": "CUDA graph · fp32 (captured in 1.5 s)", "graph": True}
    with metrics.open("a", encoding="utf-8") as f:
        f.write(json.dumps(taken) + "\n")
    follower.poll()
    snap = follower.snapshot()
    assert snap.step_path == "CUDA graph · fp32 (captured in 1.5 s)"
    assert where(snap) == "cpu CUDA graph · fp32 (captured in 1.5 s)"


def test_the_header_names_an_attention_translator(tmp_path):
    from rnn_tui.runs.rundir import RunDir
    from rnn_tui.tui.widgets.train_header import describe

    run = RunDir(tmp_path / "attn")
    config = {"task": "seq2seq", "model": "seq2seq", "hidden": 512, "layers": 2,
              "attention": "additive", "pairs": "fra-eng"}  # fmt: skip
    run.write_config(config)
    run.log("start", device="cpu")
    follower = RunFollower(run.path)
    follower.poll()
    assert describe(follower.snapshot()).startswith("seq2seq 512×2 +additive attention · fra-eng")
    run.write_config({**config, "attention": "none"})
    follower = RunFollower(run.path)
    follower.poll()
    assert describe(follower.snapshot()).startswith("seq2seq 512×2 · fra-eng")


@pytest.mark.parametrize("event", IMPLAUSIBLE_EPOCHS)
def test_an_epoch_event_a_trainer_could_not_write_is_ignored(tmp_path, event):
    run = tmp_path / LSTM.name
    shutil.copytree(LSTM, run)
    with (run / "metrics.jsonl").open("a", encoding="utf-8") as f:
        f.write(json.dumps(event) + "\n")
    follower = RunFollower(run, clock=lambda: 2e9)
    follower.poll()
    snap = follower.snapshot()
    assert snap.epoch == 12 and snap.best_val_ppl == pytest.approx(5.1616)
    assert snap.series["val_ppl"][0].tolist() == list(range(1, 13))


def heavy_tailed_run(tmp_path: Path) -> tuple[Path, list[dict]]:
    """40 epochs, every fourth one 0.71 s (a checkpoint write), the others 0.133 s: the median
    epoch is 0.133 s, the mean 0.277 s. Each epoch event carries the trainer's own ETA, from
    the mean epoch time so far; a step event halfway through each epoch."""
    folder = empty_run(tmp_path)
    t0, epochs = 1_790_000_000.0, 40
    evs: list[dict] = [{"event": "start", "time": t0, "config": {"epochs": epochs}}]
    t = t0
    for epoch in range(1, epochs + 1):
        duration = 0.71 if epoch % 4 == 0 else 0.133
        evs.append({"event": "step", "time": t + duration / 2, "epoch": epoch, "batch": 5,
                    "batches": 10, "loss": 2.0})  # fmt: skip
        t += duration
        eta = (epochs - epoch) * (t - t0) / epoch
        evs.append({"event": "epoch", "time": t, "epoch": epoch, "epochs": epochs,
                    "train_loss": 2.0, "eta": eta})  # fmt: skip
    return folder, evs


def test_the_eta_is_the_trainers_own_on_heavy_tailed_epochs(tmp_path):
    """The median of the last epochs (0.133 s) put the ETA at half the truth or less, and it
    jumped each time a slow epoch left the window; the trainer's mean does not."""
    folder, evs = heavy_tailed_run(tmp_path)
    clock = [0.0]
    follower = RunFollower(folder, clock=lambda: clock[0])
    (folder / "status.json").write_text(json.dumps({"status": "running"}))
    end = evs[-1]["time"]
    with (folder / "metrics.jsonl").open("a", encoding="utf-8") as f:
        for event in evs:
            f.write(json.dumps(event) + "\n")
            f.flush()
            clock[0] = event["time"]
            follower.poll()
            if event["event"] == "epoch":
                assert follower.eta() == pytest.approx(event["eta"])
            elif evs[0]["time"] + 3 < event["time"] < end - 3:  # the mean has settled
                assert follower.eta() == pytest.approx(end - event["time"], rel=0.25)


def test_the_header_says_finishing_once_the_eta_runs_out():
    from rnn_tui.tui.widgets.train_header import progress_text

    folder = LSTM
    follower = RunFollower(folder, clock=lambda: 0.0)
    follower.poll()
    base = follower.snapshot()
    running = dict(status="running", stale=False, epoch=39, epochs=40, batch=0, elapsed=9.0)
    assert progress_text(replace(base, **running, eta=3.0)).endswith("ETA 3s")
    assert progress_text(replace(base, **running, eta=0.0)).endswith("finishing")
    finished = replace(base, **{**running, "status": "finished"}, eta=0.0)
    assert progress_text(finished).endswith("done")


def test_the_header_labels_epoch_and_step_figures():
    """train ppl is the last finished epoch's, the loss beside it the current epoch's latest
    steps: unlabelled, they disagreed (ppl 15.12 beside loss 2.698, exp 14.84). Paused, the
    steps' tokens/s is not shown (no steps run)."""
    from rnn_tui.tui.widgets.train_header import metrics_text

    follower = RunFollower(LSTM, clock=lambda: 0.0)
    follower.poll()
    base = replace(follower.snapshot(), stale=False, epoch=3, train_ppl=15.12, loss=2.698)
    at_epoch_end = metrics_text(replace(base, status="running", batch=0), None).plain
    assert at_epoch_end.startswith("epoch 3: train ppl 15.12 · ")
    assert "now:" not in at_epoch_end and "loss 2.698" in at_epoch_end
    running = metrics_text(replace(base, status="running", batch=7), None).plain
    assert running.startswith("epoch 3: train ppl 15.12 · ")
    assert " │ now: loss 2.698 · ‖g‖ " in running and "tok/s" in running
    paused = metrics_text(replace(base, status="paused", batch=7), None).plain
    assert " │ now: loss 2.698 · ‖g‖ " in paused and "tok/s" not in paused


def test_the_eta_of_a_run_resumed_late_in_its_first_epoch_counts_this_sessions_batches(
    tmp_path,
):
    """Resumed after 80 of 100 minibatches, before any epoch ended: the pace is 10 minibatches
    in 10 s, not 90 (the ETA was 23 s for 210 s of work)."""
    folder = empty_run(tmp_path)
    step = {"event": "step", "epoch": 1, "batches": 100, "loss": 2.0}
    start = {"event": "start", "config": {"epochs": 3}}
    lines = [
        {**start, "time": 0.0},
        {**step, "time": 80.0, "batch": 80, "step": 80},
        {**start, "time": 1000.0, "resumed": {"epoch": 0, "batch": 80}},
        {**step, "time": 1010.0, "batch": 90, "step": 90},
    ]  # fmt: skip
    (folder / "metrics.jsonl").write_text("".join(json.dumps(e) + "\n" for e in lines))
    (folder / "status.json").write_text(json.dumps({"status": "running"}))
    follower = RunFollower(folder, clock=lambda: 1010.0)
    follower.poll()
    assert follower.eta() == pytest.approx(210.0)


@pytest.mark.parametrize(
    ("planned", "said"),
    [
        ("eager · fp32", "first step"),
        ("compiled · fp32", "compiling the step"),
        ("CUDA graph · bf16", "capturing the step"),
    ],  # fmt: skip
)
def test_a_slow_first_step_is_said_in_the_title_until_it_is_done(tmp_path, planned, said):
    """A session's first step (a large model timed in C and in torch, a compilation, a
    capture) took 8.7 s with "tok/s —" and nothing else: the progress line counts it (in place
    of the time elapsed, none logged yet), each session."""
    from rnn_tui.tui.widgets.train_header import ProgressLine, progress_parts, progress_text

    folder = empty_run(tmp_path)
    run = RunDir(folder)
    start = {**json.loads(recorded_lines(LSTM)[0]), "time": 1000.0, "path": planned}
    metrics = folder / "metrics.jsonl"
    metrics.write_text(json.dumps(start) + "\n", encoding="utf-8")
    run.set_status("running", "epoch 1/8")
    now = [1000.4]
    follower = RunFollower(folder, clock=lambda: now[0])
    follower.poll()
    assert follower.snapshot().first_step_s == pytest.approx(0.4)
    assert said not in progress_text(follower.snapshot())  # a moment: not worth a word
    now[0] = 1009.0
    assert f"{said}: 9s" in progress_text(follower.snapshot())
    # Kept where the line is narrowed to its least (the ETA's room, beside the panel at 80).
    line = ProgressLine(progress_parts(follower.snapshot()))
    assert line.fitted(len(f"{said}: 9s · ETA —")) == f"{said}: 9s · ETA —"
    run.set_status("paused", "paused in epoch 1")  # only a running one is at work on it
    follower.poll()
    assert follower.snapshot().first_step_s is None
    run.set_status("running", "epoch 1/8")
    follower.poll()
    with metrics.open("a", encoding="utf-8") as f:
        f.write(json.dumps({"event": "path", "time": 1009.5, "path": planned}) + "\n")
    follower.poll()
    assert follower.snapshot().first_step_s is None
    assert said not in progress_text(follower.snapshot())
    # A resumed session times its first step again.
    with metrics.open("a", encoding="utf-8") as f:
        f.write(json.dumps({**start, "time": 2000.0, "resumed": {"epoch": 1, "batch": 0}}) + "\n")
    now[0] = 2003.0
    follower.poll()
    assert f"{said}: 3s" in progress_text(follower.snapshot())
