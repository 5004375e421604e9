"""Run directories: the files a trainer writes and the UI reads, without torch."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

from rnn_tui.runs import line_tail as line_tail_module
from rnn_tui.runs import rundir as rundir_module
from rnn_tui.runs.line_tail import MetricsTail
from rnn_tui.runs.listing import list_runs
from rnn_tui.runs.rundir import (
    COMMANDS,
    STATUSES,
    RunDir,
    RunError,
    default_runs_root,
    new_run_dir,
)

NOW = datetime(2024, 5, 1, 12, 30, 45)


def test_importing_the_ui_side_loads_no_torch():
    code = (
        "import sys\n"
        "import rnn_tui.train, rnn_tui.runs.rundir, rnn_tui.atomic\n"
        "print('torch' in sys.modules)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_default_runs_root(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "elsewhere"))
    assert default_runs_root() == tmp_path / "elsewhere"
    monkeypatch.delenv("RNN_TUI_RUNS")
    monkeypatch.chdir(tmp_path)
    assert default_runs_root() == tmp_path / "runs"


# -- new_run_dir -------------------------------------------------------------------------------


def test_new_run_dir_names_and_collisions(tmp_path):
    first = new_run_dir(tmp_path / "runs", model="gru", now=NOW)
    assert first == tmp_path / "runs" / "lm-gru-20240501-123045"
    assert first.is_dir()
    second = new_run_dir(tmp_path / "runs", model="gru", now=NOW)
    third = new_run_dir(tmp_path / "runs", model="gru", now=NOW)
    assert (second.name, third.name) == ("lm-gru-20240501-123045-2", "lm-gru-20240501-123045-3")
    assert new_run_dir(tmp_path, prefix="seq2seq", now=NOW).name == "seq2seq-20240501-123045"
    # A task whose model is its own name is not named twice ("seq2seq-seq2seq-…").
    named = new_run_dir(tmp_path / "s", prefix="seq2seq", model="seq2seq", now=NOW)
    assert named.name == "seq2seq-20240501-123045"
    assert new_run_dir(tmp_path, model="gru scratch/x", now=NOW).name.startswith(
        "lm-gru-scratch-x-"
    )


def test_new_run_dir_with_a_name_and_the_default_root(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "r"))
    assert new_run_dir(name="mine") == tmp_path / "r" / "mine"
    assert new_run_dir(name="mine") == tmp_path / "r" / "mine-2"
    assert new_run_dir(model="lstm").name.startswith("lm-lstm-")
    for bad in ("", "..", "a/b"):
        with pytest.raises(RunError, match="plain folder name"):
            new_run_dir(name=bad)


# -- RunDir ------------------------------------------------------------------------------------


def test_config_round_trip(tmp_path):
    run = RunDir(tmp_path / "run")
    assert not run.path.exists()  # constructing touches nothing
    run.write_config({"model": "gru", "hidden": 16, "corpus": "timemachine"})
    assert run.read_config() == {"model": "gru", "hidden": 16, "corpus": "timemachine"}
    assert run.checkpoints.is_dir()
    assert run.name == "run"


def test_unreadable_config_is_a_one_line_error(tmp_path):
    run = RunDir(tmp_path)
    with pytest.raises(RunError, match="does not exist"):
        run.read_config()
    run.config_path.write_text('{"model": ', encoding="utf-8")
    with pytest.raises(RunError, match="cannot read") as info:
        run.read_config()
    assert "\n" not in str(info.value)
    run.config_path.write_text("[1]", encoding="utf-8")
    with pytest.raises(RunError, match="not a JSON object"):
        run.read_config()


def test_log_appends_events_with_a_time(tmp_path):
    run = RunDir(tmp_path / "not yet created")
    before = time.time()
    run.log("start", num_params=10, device="cpu")
    run.log("epoch", epoch=1, val_ppl=None)
    events = [json.loads(line) for line in run.metrics_path.read_text("utf-8").splitlines()]
    assert [e["event"] for e in events] == ["start", "epoch"]
    assert events[0]["num_params"] == 10 and events[1]["val_ppl"] is None
    assert all(before <= e["time"] <= time.time() for e in events)


def test_set_status_writes_status_json_and_logs_it(tmp_path):
    run = RunDir(tmp_path / "run")
    assert run.read_status() == {}
    run.set_status("running", "epoch 1", epoch=1)
    status = run.read_status()
    assert status["status"] == "running"
    assert status["message"] == "epoch 1"
    assert status["pid"] == os.getpid()
    assert status["epoch"] == 1
    assert abs(status["updated"] - time.time()) < 60
    run.set_status("finished")
    assert run.read_status()["status"] == "finished"
    events = [json.loads(line) for line in run.metrics_path.read_text("utf-8").splitlines()]
    assert [(e["event"], e["status"]) for e in events] == [
        ("status", "running"),
        ("status", "finished"),
    ]
    assert sorted(p.name for p in run.path.iterdir()) == [
        "checkpoints",
        "metrics.jsonl",
        "status.json",
    ]
    with pytest.raises(RunError, match="unknown run status"):
        run.set_status("exploded")
    assert STATUSES == ("running", "paused", "stopped", "finished", "failed")


# -- control file ------------------------------------------------------------------------------


def test_commands_reach_the_trainer_once_each(tmp_path):
    trainer = RunDir(tmp_path)
    ui = RunDir(tmp_path)
    assert trainer.pending_command() is None
    ui.request("pause")
    assert trainer.pending_command() == "pause"
    assert trainer.pending_command() is None
    ui.request("resume")
    assert trainer.pending_command() == "resume"
    ui.request("pause")
    assert trainer.pending_command() == "pause"
    ui.request("pause")
    assert trainer.pending_command() == "pause"
    ui.request("stop")
    assert trainer.pending_command() == "stop"
    assert trainer.pending_command() is None
    assert set(COMMANDS) == {"pause", "resume", "stop"}
    with pytest.raises(RunError, match="unknown run command"):
        ui.request("explode")


def test_a_command_from_a_previous_session_is_ignored(tmp_path):
    RunDir(tmp_path).request("stop")
    time.sleep(0.01)
    resumed = RunDir(tmp_path)
    assert resumed.pending_command() is None
    RunDir(tmp_path).request("pause")
    assert resumed.pending_command() == "pause"


def test_pending_command_reads_the_file_only_when_it_changed(tmp_path, monkeypatch):
    trainer = RunDir(tmp_path)
    RunDir(tmp_path).request("pause")
    reads = []
    real_read_bytes = rundir_module.read_bytes
    monkeypatch.setattr(
        rundir_module,
        "read_bytes",
        lambda path, *a, **k: (reads.append(path), real_read_bytes(path, *a, **k))[1],
    )
    assert trainer.pending_command() == "pause"
    for _ in range(50):
        assert trainer.pending_command() is None
    assert len(reads) == 1


def test_a_garbage_control_file_is_ignored(tmp_path):
    trainer = RunDir(tmp_path)
    trainer.control_path.write_text("{not json", encoding="utf-8")
    assert trainer.pending_command() is None
    trainer.control_path.write_text(json.dumps({"command": "dance", "time": 1e12}), "utf-8")
    assert trainer.pending_command() is None


# -- MetricsTail -------------------------------------------------------------------------------


def _append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8") as f:
        f.write(text)


def test_tail_reads_only_complete_new_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(path)
    assert tail.read_new() == []  # not there yet
    _append(path, '{"event": "start"}\n{"event": "step", "loss": 2.0}\n{"event": "st')
    assert [e["event"] for e in tail.read_new()] == ["start", "step"]
    assert tail.read_new() == []
    _append(path, 'ep", "loss": 1.5}\n')
    assert tail.read_new() == [{"event": "step", "loss": 1.5}]
    _append(path, 'garbage\n[1, 2]\n{"event": "epoch"}\n')
    assert tail.read_new() == [{"event": "epoch"}]
    assert tail.skipped == 2


def test_tail_starts_over_after_truncation_or_replacement(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(path)
    _append(path, '{"event": "start", "time": 1}\n{"event": "epoch", "epoch": 1}\n')
    assert len(tail.read_new()) == 2
    path.write_text('{"event": "start", "time": 2}\n', encoding="utf-8")  # truncated
    assert tail.read_new() == [{"event": "start", "time": 2}]
    path.unlink()
    assert tail.read_new() == []
    # recreated, longer than what was read before (the inode number may be reused)
    path.write_text(
        '{"event": "start", "time": 3}\n' + '{"event": "step", "step": 1}\n' * 3, encoding="utf-8"
    )
    events = tail.read_new()
    assert events[0] == {"event": "start", "time": 3} and len(events) == 4


def test_tail_reads_a_long_file_a_piece_at_a_time(tmp_path):
    # A long run's 120 MB of events, parsed in one go, held 1.2 GB of dicts in the app.
    path = tmp_path / "metrics.jsonl"
    lines = [json.dumps({"event": "step", "step": i}) for i in range(50)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tail, seen, reads = MetricsTail(path), [], 0
    while True:
        events = tail.read_new(64)  # a few lines, cut anywhere
        reads += 1
        assert len(events) <= 3
        seen += [e["step"] for e in events]
        if not tail.more:
            break
    assert seen == list(range(50)) and reads > 20 and tail.skipped == 0
    assert tail.read_new(64) == [] and not tail.more


def test_a_line_too_long_for_an_event_is_skipped_not_kept(tmp_path, monkeypatch):
    # 200 MB without a line end were held as the partial line and copied at every read.
    monkeypatch.setattr(line_tail_module, "MAX_LINE_BYTES", 100)
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(path)
    _append(path, '{"event": "start"}\n' + "x" * 150)
    assert tail.read_new(64) == [{"event": "start"}]
    while tail.more:
        assert tail.read_new(64) == []
    assert tail._partial == b"" and tail.skipped == 0
    _append(path, "x" * 500)
    assert tail.read_new() == [] and tail._partial == b""
    _append(path, 'xx\n{"event": "step"}\n{"event": "ep')
    assert tail.read_new() == [{"event": "step"}] and tail.skipped == 1
    _append(path, 'och"}\n')
    assert tail.read_new() == [{"event": "epoch"}]


def test_a_line_with_a_lone_surrogate_is_skipped_as_a_broken_one(tmp_path):
    # A sample's text is shown by the Train screen and printed by `rnn-tui train`: a surrogate
    # alone (JSON can write one) could not be drawn or printed.
    path = tmp_path / "metrics.jsonl"
    tail = MetricsTail(path)
    _append(path, '{"event": "sample", "text": "the \\ud800"}\n{"event": "step"}\n')
    assert tail.read_new() == [{"event": "step"}] and tail.skipped == 1


def test_tail_follows_a_run_dir_log(tmp_path):
    run = RunDir(tmp_path)
    tail = MetricsTail(run.metrics_path)
    run.log("start")
    run.set_status("running")
    assert [e["event"] for e in tail.read_new()] == ["start", "status"]
    run.log("epoch", epoch=1)
    assert [e["event"] for e in tail.read_new()] == ["epoch"]


# -- list_runs ---------------------------------------------------------------------------------


def _make_run(root: Path, name: str, config: dict, updated: float, epochs=(), status=None):
    run = RunDir(root / name)
    run.write_config(config)
    for event in epochs:
        run.log("step", epoch=event.get("epoch"), loss=1.0)
        run.log("epoch", **event)
    if status:
        run.set_status(status, "done")
    for path in (run.config_path, run.status_path, run.metrics_path):
        if path.exists():
            os.utime(path, (updated, updated))
    return run


def test_list_runs(tmp_path):
    root = tmp_path / "runs"
    _make_run(
        root,
        "old",
        {"model": "gru", "task": "lm", "epochs": 3},
        updated=1000,
        epochs=[
            {"epoch": 1, "epochs": 3, "val_ppl": 10.0},
            {"epoch": 2, "epochs": 3, "val_ppl": 8.0},
            {"epoch": 3, "epochs": 3, "val_ppl": 9.0},
        ],
        status="finished",
    )
    _make_run(root, "new", {"model": "lstm"}, updated=3000)
    _make_run(
        root,
        "nan",
        {"model": "rnn", "epochs": 5},
        updated=2000,
        epochs=[{"epoch": 1, "val_ppl": float("nan")}, {"epoch": 2, "val_ppl": None}],
        status="failed",
    )
    broken = root / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{garbage", encoding="utf-8")
    os.utime(broken / "config.json", (500, 500))
    bad_status = _make_run(root, "bad-status", {"model": "gru"}, updated=400)
    bad_status.status_path.write_text("[]", encoding="utf-8")
    os.utime(bad_status.status_path, (400, 400))
    (root / "no-config").mkdir()
    (root / "stray.txt").write_text("x", encoding="utf-8")

    runs = list_runs(root)
    assert [r["name"] for r in runs] == ["new", "nan", "old", "broken", "bad-status"]
    by_name = {r["name"]: r for r in runs}
    old = by_name["old"]
    assert old["path"] == str(root / "old")
    assert (old["model"], old["task"], old["status"]) == ("gru", "lm", "finished")
    assert (old["epoch"], old["epochs"], old["best_val_ppl"]) == (3, 3, 8.0)
    assert old["updated"] == 1000
    new = by_name["new"]
    assert (new["status"], new["epoch"], new["epochs"], new["best_val_ppl"]) == (
        "unknown",
        0,
        None,
        None,
    )
    assert new["task"] == "lm"
    nan = by_name["nan"]
    assert (nan["status"], nan["epoch"], nan["epochs"], nan["best_val_ppl"]) == (
        "failed",
        2,
        5,
        None,
    )
    assert by_name["broken"]["status"] == "unreadable"
    assert "config.json" in by_name["broken"]["message"]
    # Only its status is lost: the config still names the model.
    assert by_name["bad-status"]["status"] == "unknown" and by_name["bad-status"]["model"] == "gru"
    assert by_name["bad-status"]["message"].startswith("status.json is unreadable: ")
    json.dumps(runs)  # JSON-ready for `rnn-tui runs --json`


def test_list_runs_tells_attention_translators_apart(tmp_path):
    root = tmp_path / "runs"
    for name, attention in (("plain", "none"), ("old", None), ("attn", "additive"), ("dot", "dot")):
        config = {"model": "seq2seq", "task": "seq2seq"}
        if attention is not None:
            config["attention"] = attention
        _make_run(root, name, config, updated=1000)
    models = {r["name"]: r["model"] for r in list_runs(root)}
    assert models == {
        "plain": "seq2seq",
        "old": "seq2seq",
        "attn": "seq2seq+additive",
        "dot": "seq2seq+dot",
    }


def test_list_runs_follows_growing_and_replaced_metrics(tmp_path):
    root = tmp_path / "runs"
    run = _make_run(
        root, "r", {"model": "gru", "epochs": 9}, updated=1, epochs=[{"epoch": 1, "val_ppl": 5.0}]
    )
    assert list_runs(root)[0]["epoch"] == 1
    run.log("epoch", epoch=2, val_ppl=4.0)
    _append(run.metrics_path, '{"event": "epoch", "epoch": 3, "val_ppl": 1.0')  # mid-append
    entry = list_runs(root)[0]
    assert (entry["epoch"], entry["best_val_ppl"]) == (2, 4.0)
    _append(run.metrics_path, "}\n")
    entry = list_runs(root)[0]
    assert (entry["epoch"], entry["best_val_ppl"]) == (3, 1.0)
    run.metrics_path.unlink()  # the run directory reused for a new run
    run.log("start")
    run.log("step", epoch=1, loss=1.0)
    run.log("step", epoch=1, loss=1.0)
    run.log("epoch", epoch=1, val_ppl=7.0)
    entry = list_runs(root)[0]
    assert (entry["epoch"], entry["best_val_ppl"]) == (1, 7.0)


def test_list_runs_reads_a_large_metrics_file(tmp_path):
    root = tmp_path / "runs"
    run = _make_run(root, "big", {"model": "gru"}, updated=1)
    step = json.dumps({"event": "step", "epoch": 1, "loss": 1.25, "ppl": 3.5, "grad_norm": 0.5})
    epochs = [
        json.dumps({"event": "epoch", "epoch": e, "epochs": 50, "val_ppl": 100.0 / e})
        for e in range(1, 51)
    ]
    with open(run.metrics_path, "w", encoding="utf-8") as f:
        for line in epochs:
            f.write((step + "\n") * 400 + line + "\n")
    entry = list_runs(root)[0]
    assert (entry["epoch"], entry["epochs"], entry["best_val_ppl"]) == (50, 50, 2.0)


def test_list_runs_reads_a_long_run_a_piece_at_a_time(tmp_path, monkeypatch):
    from rnn_tui.runs import listing

    root = tmp_path / "runs"
    run = _make_run(root, "long", {"model": "gru"}, updated=1)
    with open(run.metrics_path, "w", encoding="utf-8") as f:
        for e in range(1, 301):
            f.write(json.dumps({"event": "epoch", "epoch": e, "val_ppl": 1000.0 / e}) + "\n")
            f.write(json.dumps({"event": "step", "epoch": e, "loss": 1.0}) * 1 + "\n")
    reads: list[int] = []
    read_lines = listing._MetricsSummary.read_lines

    def spy(self, limit=None):
        block = read_lines(self, limit)
        reads.append(limit)
        return block

    monkeypatch.setattr(listing, "READ_PIECE", 1000)  # a few dozen lines a piece
    monkeypatch.setattr(listing._MetricsSummary, "read_lines", spy)
    entry = list_runs(root)[0]
    assert (entry["epoch"], entry["best_val_ppl"]) == (300, 1000.0 / 300)
    assert len(reads) > 20 and set(reads) == {1000}


def test_a_line_without_an_end_is_not_read_again_at_every_listing(tmp_path, monkeypatch):
    from rnn_tui.runs import listing

    root = tmp_path / "runs"
    run = _make_run(root, "r", {"model": "gru"}, updated=1, epochs=[{"epoch": 1, "val_ppl": 5.0}])
    monkeypatch.setattr(line_tail_module, "MAX_LINE_BYTES", 4096)
    _append(run.metrics_path, "x" * 100_000)  # a line with no end, far past any event
    assert list_runs(root)[0]["epoch"] == 1
    summary = listing._summaries[run.metrics_path]
    assert len(summary._partial) <= 4096  # not kept
    read_before = summary._offset
    assert list_runs(root)[0]["epoch"] == 1
    assert summary._offset == read_before  # nothing read again
    _append(run.metrics_path, "\n" + json.dumps({"event": "epoch", "epoch": 2, "val_ppl": 3.0}))
    _append(run.metrics_path, "\n")
    entry = list_runs(root)[0]
    assert (entry["epoch"], entry["best_val_ppl"]) == (2, 3.0)


def test_list_runs_of_a_missing_root(tmp_path, monkeypatch):
    assert list_runs(tmp_path / "nothing here") == []
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "r"))
    _make_run(tmp_path / "r", "one", {"model": "gru"}, updated=1)
    assert [r["name"] for r in list_runs()] == ["one"]


def test_a_run_file_with_a_number_too_long_to_read_says_out_of_range(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"hidden": ' + "9" * 5000 + "}", encoding="utf-8")
    with pytest.raises(RunError) as info:
        rundir_module._read_json(path)
    assert "out of range: 5,000 digits" in str(info.value)
    assert "set_int_max_str_digits" not in str(info.value)


def test_a_run_directory_too_deep_for_its_checkpoints_is_refused_before_training(tmp_path, capsys):
    # A --run-dir of 4,040 characters trained a whole epoch, then failed with "File name too
    # long" at its first checkpoint.
    from cli_helpers import call

    base = str(tmp_path / "L")
    parts = (4040 - len(base)) // 201
    long = Path(base, *["d" * 200] * parts)
    long = long / ("r" * (4040 - len(str(long)) - 1))
    assert len(str(long)) == 4040
    code, _, err = call(["train", "--epochs", "1", "--hidden", "8", "--run-dir", str(long)], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "the run directory's path is too long" in err and "choose a shorter --run-dir" in err
    assert not (tmp_path / "L").exists()  # refused before anything was made
    with pytest.raises(RunError, match="path is too long"):
        RunDir(long).claim()
    RunDir(Path(base, "short")).check_path_length()  # a usual path passes
