"""`rnn-tui train` and `rnn-tui runs` as users run them: exit codes, stdout JSON, stderr lines,
what is (and is not) written, signals and control requests in a subprocess."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from cli_helpers import call, tiny_args, tiny_corpus

from rnn_tui.checkpoints.checkpoint import load_checkpoint
from rnn_tui.runs.rundir import RunDir

SUMMARY_KEYS = {
    "run_dir",
    "model",
    "device",
    "epochs",
    "tokens_per_s",
    "train_ppl",
    "val_ppl",
    "best_val_ppl",
    "checkpoint",
    "baseline_ppl",
    "sample",
    "status",
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    return tiny_corpus(tmp_path_factory)


@pytest.fixture(autouse=True)
def _runs_root(tmp_path, monkeypatch):
    """Runs without --run-dir go to tmp_path/runs, never to the working directory."""
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny models: one intra-op thread is faster and steadier on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def test_json_summary_and_run_directory(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    code, out, err = call(tiny_args(corpus, "--run-dir", str(run), "--json"), capsys)
    assert code == 0, err
    summary = json.loads(out)  # exactly one JSON object on stdout
    assert SUMMARY_KEYS <= set(summary)
    assert summary["status"] == "finished" and summary["epochs"] == 2
    assert summary["model"] == "gru" and summary["device"] == "cpu"
    assert summary["run_dir"] == str(run)
    assert summary["checkpoint"] == str(run / "checkpoints" / "best.safetensors")
    assert summary["best_val_ppl"] == min(summary["val_ppl"], summary["best_val_ppl"])
    assert summary["baseline_ppl"] > 1 and summary["tokens_per_s"] > 0
    assert summary["sample"].startswith("time traveller")
    for name in ("config.json", "metrics.jsonl", "status.json"):
        assert (run / name).is_file()
    load_checkpoint(summary["checkpoint"])
    # Progress went to stderr: plain lines here (not a terminal), one per epoch.
    assert "epoch 1/2" in err and "epoch 2/2" in err and "val ppl" in err
    assert "trigram baseline" in err


def test_default_run_directory_lives_under_rnn_tui_runs(corpus, tmp_path, capsys):
    # "all" = the whole corpus (the option's not-set value, -1 inside), as --help spells it.
    code, out, err = call(
        tiny_args(corpus, "--epochs", "1", "--max-tokens", "all", "--json"), capsys
    )
    assert code == 0, err
    run_dir = Path(json.loads(out)["run_dir"])
    assert run_dir.parent == tmp_path / "runs"
    assert run_dir.name.startswith("lm-gru-")


@pytest.mark.parametrize(
    "extra, fragment",
    [
        (["--hidden", "0"], "--hidden"),
        (["--batch-size", "-3"], "--batch-size"),
        (["--lr", "0"], "--lr"),
        (["--lr", "-1"], "--lr"),
        (["--clip", "0"], "--clip"),
        (["--val-fraction", "0.6"], "--val-fraction"),
        (["--val-fraction", "-0.1"], "--val-fraction"),
        (["--max-tokens", "0"], "--max-tokens"),
        (["--num-steps", "5000"], "corpus too short"),
        (["--model", "transformer"], "invalid choice"),
        (["--model", "rnn-scratch", "--layers", "2"], "one layer"),
        (["--model", "gru", "--dropout", "0.5"], "dropout"),
        (["--task", "translate"], "invalid choice"),
        (["--corpus", "/no/such/file.txt"], "not found"),
        (["--device", "tpu"], "unknown device"),
        (["--encoding", "klingon"], "klingon"),
        (["--prefix", "   "], "prefix"),
    ],
)
def test_invalid_options_exit_2_before_writing_anything(corpus, tmp_path, capsys, extra, fragment):
    run = tmp_path / "new-run"
    code, out, err = call(tiny_args(corpus, "--run-dir", str(run), *extra), capsys)
    assert code == 2
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert fragment in lines[0]
    assert not run.exists()
    assert not (tmp_path / "runs").exists()


def test_a_vocabulary_too_big_for_a_model_names_the_min_freq_that_fits(
    corpus, tmp_path, capsys, monkeypatch
):
    # A model takes at most MAX_VOCAB tokens (10M; a 100 MB log of ids has 11.1M distinct
    # words): the error says which --min-freq brings the vocabulary within it.
    from rnn_tui.data.corpus import load_corpus
    from rnn_tui.train.tasks import lm

    monkeypatch.setattr(lm, "MAX_VOCAB", 12)
    vocab = load_corpus(corpus, token="word").vocab
    least = next(
        f for f in range(1, 10**6) if len(load_corpus(corpus, "word", min_freq=f).vocab) <= 12
    )
    kept = len(load_corpus(corpus, token="word", min_freq=least).vocab) - 1
    run = tmp_path / "new-run"
    code, out, err = call(tiny_args(corpus, "--token", "word", "--run-dir", str(run)), capsys)
    assert code == 2 and out == "" and not run.exists()
    assert err.strip().splitlines() == [
        f"rnn-tui: error: the vocabulary of {corpus} has {len(vocab):,} tokens, more than a "
        f"model takes (12): --min-freq {least} keeps {kept:,} of them (or --token char)"
    ]
    code, out, err = call(
        tiny_args(corpus, "--token", "word", "--min-freq", str(least), "--epochs", "1"), capsys
    )
    assert code == 0, err


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_requested_but_absent(corpus, tmp_path, capsys):
    run = tmp_path / "new-run"
    code, _, err = call(tiny_args(corpus, "--run-dir", str(run), "--device", "cuda"), capsys)
    assert code == 2 and "CUDA was requested" in err and len(err.strip().splitlines()) == 1
    assert not run.exists()


def test_bad_corpus_file_exit_2(tmp_path, capsys):
    binary = tmp_path / "data.bin"
    binary.write_bytes(b"abc\x00def" * 100)
    run = tmp_path / "new-run"
    code, _, err = call(tiny_args(str(binary), "--run-dir", str(run)), capsys)
    assert code == 2 and "not a text file" in err
    assert not run.exists()


def test_run_dir_holding_a_run_is_refused_and_left_alone(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run), "--epochs", "1"), capsys)[0] == 0
    before = {p: p.stat().st_mtime_ns for p in run.rglob("*")}
    code, out, err = call(tiny_args(corpus, "--run-dir", str(run)), capsys)
    assert code == 2 and "already holds a run" in err and "--resume" in err
    assert {p: p.stat().st_mtime_ns for p in run.rglob("*")} == before


def test_run_dir_of_a_run_being_trained_says_so(corpus, tmp_path, capsys):
    # "already holds a run: continue it with --resume" led to a resume refused as "being
    # trained right now": the first answer says it.
    from rnn_tui.runs.rundir import RunDir

    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run), "--epochs", "1"), capsys)[0] == 0
    trainer = RunDir(run)
    trainer.claim()  # as a trainer at work holds it
    try:
        code, _, err = call(tiny_args(corpus, "--run-dir", str(run)), capsys)
    finally:
        trainer.release()
    assert code == 2
    assert f"run {run} is being trained right now by process {os.getpid()}" in err
    assert "--resume" not in err


def test_an_empty_existing_run_dir_is_used(corpus, tmp_path, capsys):
    run = tmp_path / "made-by-the-ui"
    run.mkdir()
    (run / "train.log").write_text("")  # the UI opens its log before starting the trainer
    code, _, err = call(tiny_args(corpus, "--run-dir", str(run), "--epochs", "1"), capsys)
    assert code == 0, err
    assert RunDir(run).read_status()["status"] == "finished"


def test_a_run_dir_holding_other_files_is_refused_and_left_alone(corpus, tmp_path, capsys):
    # config.json, metrics and checkpoints were written beside the user's notes.
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    code, _, err = call(tiny_args(corpus, "--run-dir", str(folder), "--epochs", "1"), capsys)
    assert code == 2
    assert err == (
        f"rnn-tui: error: {folder} is not empty and is not a run directory (it holds "
        "notes.txt): choose a new or empty --run-dir\n"
    )
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_resume_continues_to_more_epochs(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run)), capsys)[0] == 0
    code, out, err = call(["train", "--resume", str(run), "--epochs", "3", "--json"], capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["epochs"] == 3 and summary["status"] == "finished"
    assert "on cpu after epoch 2:" in err and err.startswith("resuming")
    epochs = [
        json.loads(line)["epoch"]
        for line in (run / "metrics.jsonl").read_text().splitlines()
        if '"event": "epoch"' in line
    ]
    assert epochs == [1, 2, 3]


def test_resume_at_a_lower_learning_rate(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run)), capsys)[0] == 0
    lr = json.loads((run / "config.json").read_text())["lr"]
    code, _, err = call(["train", "--resume", str(run), "--epochs", "3", "--lr", "0.05"], capsys)
    assert code == 0, err
    rates = [
        json.loads(line)["lr"]
        for line in (run / "metrics.jsonl").read_text().splitlines()
        if '"event": "epoch"' in line
    ]
    assert rates == [lr, lr, 0.05] and lr != 0.05  # epoch 3 ran at the new rate
    assert json.loads((run / "config.json").read_text())["lr"] == 0.05


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--hidden", "8"], "--hidden cannot change on --resume"),
        (["--lr", "0", "--epochs", "3"], "--lr"),
        (["--run-dir", "elsewhere"], "--run-dir cannot be combined"),
        (["--epochs", "1"], "already has 2 epochs"),
        ([], "already has 2 epochs"),
        (["--task", "seq2seq", "--epochs", "3"], "--task seq2seq: "),
    ],
)
def test_resume_refusals(corpus, tmp_path, capsys, args, fragment):
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run)), capsys)[0] == 0
    before = (run / "metrics.jsonl").read_bytes()
    code, _, err = call(["train", "--resume", str(run), *args], capsys)
    assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1, err
    assert (run / "metrics.jsonl").read_bytes() == before


def test_resume_with_options_at_the_run_s_own_values_goes_on(corpus, tmp_path, capsys):
    # Repeating the command that started the run, with more epochs, was refused as a change.
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run)), capsys)[0] == 0
    saved = json.loads((run / "config.json").read_text())
    same = ["--hidden", str(saved["hidden"]), "--model", saved["model"]]
    code, _, err = call(["train", "--resume", str(run), *same, "--epochs", "3"], capsys)
    assert code == 0, err
    changed = ["--hidden", str(saved["hidden"] + 1), "--model", saved["model"], "--epochs", "4"]
    code, _, err = call(["train", "--resume", str(run), *changed], capsys)
    assert (
        code == 2 and "--hidden cannot change" in err and "--model" not in err.split(" cannot")[0]
    )


def test_resume_may_change_how_the_steps_run_not_what_they_compute(corpus, tmp_path, capsys):
    # A run started on one box continues on another: its step path and logging rate are the
    # box's choice (the paths compute the same); the precision is not.
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run)), capsys)[0] == 0
    how = ["--graph", "off", "--compile", "off", "--log-every", "1"]
    code, _, err = call(["train", "--resume", str(run), *how, "--epochs", "3"], capsys)
    assert code == 0, err
    config = json.loads((run / "config.json").read_text())
    assert (config["graph"], config["compile"], config["log_every"]) == ("off", "off", 1)
    steps = [
        json.loads(line)
        for line in (run / "metrics.jsonl").read_text().splitlines()
        if '"event": "step"' in line
    ]
    third = [step for step in steps if step["epoch"] == 3]
    assert len(third) == config["batches_per_epoch"]  # a step event every minibatch
    code, _, err = call(
        ["train", "--resume", str(run), "--precision", "bf16", "--epochs", "4"], capsys
    )
    assert code == 2 and "--precision cannot change on --resume" in err
    assert "--graph, --compile and --log-every" in err


def test_resume_says_when_the_best_checkpoint_cannot_be_read(corpus, tmp_path, capsys):
    # A damaged best.json was passed over without a word: the run went on, naming a best epoch
    # whose checkpoint nothing could load.
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run)), capsys)[0] == 0
    best = run / "checkpoints" / "best.json"
    best.write_bytes(best.read_bytes()[:100])
    code, _, err = call(["train", "--resume", str(run), "--epochs", "3"], capsys)
    assert code == 0, err
    assert "rnn-tui: warning: the best checkpoint cannot be read (" in err and str(best) in err
    assert "it is written again at the next best epoch" in err


def test_resume_with_its_own_task_given_goes_on(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run)), capsys)[0] == 0
    code, _, err = call(["train", "--resume", str(run), "--task", "lm", "--epochs", "3"], capsys)
    assert code == 0, err


@pytest.mark.parametrize("edit", ["task", "empty", "list"])
def test_a_run_whose_config_and_checkpoint_disagree_is_not_resumed(corpus, tmp_path, capsys, edit):
    """A folder holding another task's checkpoint (copied in by hand) was resumed as that task,
    its config.json and metrics rewritten; an unreadable config.json was overwritten."""
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run)), capsys)[0] == 0
    config = run / "config.json"
    if edit == "task":
        config.write_text(json.dumps({**json.loads(config.read_text()), "task": "forecast"}))
    else:
        config.write_text("" if edit == "empty" else "[]")
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    code, _, err = call(["train", "--resume", str(run), "--epochs", "3"], capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert (
        "says task forecast, its checkpoint task lm" if edit == "task" else "config.json"
    ) in err
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before


@pytest.mark.parametrize(
    "args, flag",
    [
        (["train", "--run-dir", ""], "--run-dir"),
        (["train", "--resume", " "], "--resume"),
        (["generate", "--checkpoint", "", "--prefix", "a"], "--checkpoint"),
        (["gradients", "--checkpoint", ""], "--checkpoint"),
        (["translate", "--checkpoint", "", "hi ."], "--checkpoint"),
    ],
)
def test_an_empty_path_is_refused_not_taken_for_the_working_directory(
    args, flag, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    code, out, err = call(args, capsys)
    assert code == 2 and err.startswith(f"rnn-tui: error: {flag} is empty: give ")
    assert list(tmp_path.iterdir()) == []


def test_resume_needs_a_run_directory(tmp_path, capsys):
    code, _, err = call(["train", "--resume", str(tmp_path / "nope")], capsys)
    assert code == 2 and "not a run directory" in err
    # With an option beside it, the folder's trouble is still the one named (it was
    # "--max-tokens cannot change on --resume").
    for folder, said in ((tmp_path / "nope", "not a run directory"), (tmp_path, "no config.json")):
        code, _, err = call(["train", "--resume", str(folder), "--max-tokens", "3000"], capsys)
        assert code == 2 and said in err and "cannot change" not in err, err


def test_diverging_run_fails_with_exit_1(corpus, tmp_path, capsys):
    run = tmp_path / "run"
    code, out, err = call(
        tiny_args(corpus, "--run-dir", str(run), "--lr", "1e6", "--epochs", "5", "--json"),
        capsys,
    )
    assert code == 1
    summary = json.loads(out)
    assert summary["status"] == "failed"
    assert "try a smaller --lr or --clip" in summary["message"] and "in epoch" in err
    assert RunDir(run).read_status()["status"] == "failed"


# ---------------------------------------------------------------------------------------------
# rnn-tui runs


def test_runs_with_no_runs_is_a_friendly_line(tmp_path, capsys):
    (tmp_path / "none").mkdir()
    code, out, _ = call(["runs", "--dir", str(tmp_path / "none")], capsys)
    assert code == 0 and "no runs" in out
    code, out, _ = call(["runs", "--json"], capsys)
    assert code == 0 and json.loads(out)["runs"] == []


def test_runs_lists_a_finished_run(corpus, tmp_path, capsys):
    assert call(tiny_args(corpus, "--epochs", "1"), capsys)[0] == 0
    code, out, _ = call(["runs", "--json"], capsys)
    assert code == 0
    (entry,) = json.loads(out)["runs"]
    assert entry["model"] == "gru" and entry["status"] == "finished"
    assert (entry["epoch"], entry["epochs"]) == (1, 1)
    assert entry["best_val_ppl"] > 1
    code, out, _ = call(["runs", "--dir", str(tmp_path / "runs")], capsys)
    assert code == 0
    assert entry["name"][:10] in out and "finished" in out and "1/1" in out


# ---------------------------------------------------------------------------------------------
# Signals and the control file, in a real subprocess


def _wait_for_step(proc: subprocess.Popen, run: Path, timeout: float = 120) -> None:
    # A trainer's first step came 12-15 s after its start on a loaded 2-core machine (torch's
    # import, the corpus): the deadline is for a trainer that hangs, not for a slow machine.
    deadline = time.monotonic() + timeout
    metrics = run / "metrics.jsonl"
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"trainer exited early: {proc.communicate()}")
        if metrics.exists() and '"event": "step"' in metrics.read_text():
            return
        time.sleep(0.05)
    proc.kill()
    pytest.fail("no step event in time")


@pytest.mark.parametrize(
    "how, expected",
    [("SIGINT", 130), ("SIGTERM", 143), ("SIGHUP", 129), ("control", 0)],
)
def test_stop_finishes_the_batch_saves_last_and_exits(corpus, tmp_path, how, expected):
    run = tmp_path / "run"
    args = tiny_args(corpus, "--run-dir", str(run), "--epochs", "100000", "--log-every", "1")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rnn_tui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        _wait_for_step(proc, run)
        if how == "control":
            RunDir(run).request("stop")
        else:
            proc.send_signal(getattr(signal, how))
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == expected, err
    assert "Traceback" not in err
    status = RunDir(run).read_status()
    assert status["status"] == "stopped"
    assert (how if how != "control" else "request") in status["message"]
    last = load_checkpoint(run, prefer=("last",))
    assert last.meta["step"] >= 1
    assert last.build_model().vocab_size == len(last.vocab)


def test_progress_survives_a_terminal_that_went_away(monkeypatch):
    from types import SimpleNamespace

    from rnn_tui.cli.train_report import Reporter

    class DeadTerminal:
        def write(self, text):
            raise OSError(5, "Input/output error")

        def flush(self):
            raise OSError(5, "Input/output error")

        def isatty(self):
            return False

    monkeypatch.setattr(sys, "stderr", DeadTerminal())
    task = SimpleNamespace(epoch_text=lambda event: "")
    trainer = SimpleNamespace(config=SimpleNamespace(epochs=3), num_batches=4, task=task)
    reporter = Reporter(trainer, SimpleNamespace(path=Path("run")))
    event = {"event": "epoch", "epoch": 1, "epochs": 3, "train_ppl": 9.0, "tokens_per_s": 1.0}
    reporter(event)  # no exception: training goes on
    assert reporter.gone
    reporter({"event": "sample", "text": "time traveller"})


def _terminal_reporter(monkeypatch, epochs: int, batches: int):
    """(Reporter on a 100-column terminal that writes to `screen`, screen)."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from rnn_tui.cli.train_report import Reporter
    from rnn_tui.train.progress import Progress

    screen = io.StringIO()
    monkeypatch.setattr(
        "rich.console.Console",
        lambda **kw: Console(file=screen, force_terminal=True, width=100, highlight=False),
    )
    task = SimpleNamespace(epoch_text=lambda event: "")
    trainer = SimpleNamespace(
        config=SimpleNamespace(epochs=epochs), num_batches=batches, task=task, progress=Progress()
    )
    return Reporter(trainer, SimpleNamespace(path=Path("run"))), screen


def test_the_terminal_bar_counts_the_epochs_minibatches(monkeypatch):
    # The bar and its ETA cover the run; "127/598600" beside "epoch 1/50" read as the epoch's.
    reporter, screen = _terminal_reporter(monkeypatch, epochs=50, batches=11_972)
    with reporter:
        reporter({"event": "step", "epoch": 1, "batch": 127, "ppl": 396.8, "tokens_per_s": 7707})
        reporter.progress.refresh()
    shown = screen.getvalue()
    assert "batch 127/11,972" in shown and "598" not in shown


def test_a_dumb_terminal_gets_the_plain_lines_rich_would_not_draw_a_bar_on(monkeypatch):
    # TERM=dumb: Rich takes it for a terminal but draws no live bar, so nothing showed at all.
    import io

    monkeypatch.setenv("TERM", "dumb")
    reporter, _ = _terminal_reporter(monkeypatch, epochs=2, batches=10)
    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    monkeypatch.setattr("rnn_tui.cli.train_report.PLAIN_STEP_EVERY_S", 0.0)
    with reporter:
        assert not reporter.live and reporter.progress is None
        reporter({"event": "step", "epoch": 1, "batch": 4, "ppl": 9.5, "tokens_per_s": 7707})
    assert "epoch 1/2  batch 4/10" in log.getvalue()


def test_a_log_file_hears_from_a_long_epoch_once_a_minute(monkeypatch):
    # `nohup rnn-tui train … > train.log`: a 35-minute epoch printed nothing until its end.
    import io
    from types import SimpleNamespace

    from rnn_tui.cli import train_report
    from rnn_tui.train.progress import Progress

    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    clock = [1000.0]
    monkeypatch.setattr(train_report.time, "monotonic", lambda: clock[0])
    task = SimpleNamespace(epoch_text=lambda event: "")
    trainer = SimpleNamespace(
        config=SimpleNamespace(epochs=2), num_batches=1_000, task=task, progress=Progress()
    )
    with train_report.Reporter(trainer, SimpleNamespace(path=Path("run"))) as reporter:
        assert not reporter.live
        step = {"event": "step", "epoch": 1, "ppl": 212.4, "tokens_per_s": 13_912}
        clock[0] += 30
        reporter({**step, "batch": 100})
        assert log.getvalue() == ""  # not yet a minute
        clock[0] += 30
        reporter({**step, "batch": 200})
        first = log.getvalue()
        clock[0] += 10
        reporter({**step, "batch": 230})
    assert first.count("\n") == 1 and log.getvalue() == first
    # 200 of 2,000 minibatches in 60 s: 1,800 more take 9 minutes.
    assert first == "epoch 1/2  batch 200/1,000 (20.0 %)  ppl 212.40  13,912 tok/s  ETA 9:00\n"


def test_a_resume_within_an_epoch_says_where_it_goes_on(monkeypatch):
    # "resuming after epoch 0" read as a fresh start for a run stopped at minibatch 1,644.
    import io
    from types import SimpleNamespace

    from rnn_tui.cli.train_report import Reporter

    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    task = SimpleNamespace(epoch_text=lambda event: "")
    trainer = SimpleNamespace(config=SimpleNamespace(epochs=2), num_batches=26_571, task=task)
    reporter = Reporter(trainer, SimpleNamespace(path=Path("run")))
    start = {"event": "start", "config": {"model": "lstm"}, "num_params": 10, "device": "cpu"}
    reporter({**start, "data": "d", "resumed": {"epoch": 0, "batch": 1644}})
    reporter({**start, "data": "d", "resumed": {"epoch": 3, "batch": 0}})
    lines = log.getvalue().splitlines()
    assert lines[0].startswith(
        "resuming lstm (10 parameters) on cpu at minibatch 1,644 of epoch 1:"
    )
    assert lines[1].startswith("resuming lstm (10 parameters) on cpu after epoch 3:")


def test_a_long_preparation_is_shown_and_a_short_one_is_not(monkeypatch):
    # Tokenizing an uncached 100 MB corpus: 6 s of silence before the first line, and the app
    # showed "starting" with nothing more.
    import io

    from rnn_tui.cli import train_report

    log = io.StringIO()
    monkeypatch.setattr(sys, "stderr", log)
    clock = [0.0]
    monkeypatch.setattr(train_report.time, "monotonic", lambda: clock[0])
    with train_report.PreparingLine() as quick:
        clock[0] += 0.3
        quick("tiny.txt", 10, 10)  # done in 0.3 s: nothing
    assert log.getvalue() == ""
    with train_report.PreparingLine() as slow:
        for done in (10, 40, 70):
            clock[0] += 0.6
            slow("wiki.txt", done, 100)
        clock[0] += 0.2
        slow("wiki.txt", 100, 100)
    assert log.getvalue().splitlines() == [
        "tokenizing wiki.txt: 40 %",
        "vocabulary of wiki.txt…",
    ]
    log.truncate(0)
    log.seek(0)
    with train_report.PreparingLine() as series:  # a series is read, not tokenized
        clock[0] += 1.5
        series("long.csv", 300, 1000, "reading")
    assert log.getvalue() == "reading long.csv: 30 %\n"
    log.truncate(0)
    log.seek(0)
    with train_report.PreparingLine(shown=False) as other_rank:
        clock[0] += 5
        other_rank("wiki.txt", 50, 100)
    assert log.getvalue() == ""


def test_the_trainer_reports_tokenizing_its_corpus(tmp_path):
    from test_trainer import tiny

    from rnn_tui.data.sources import read_text
    from rnn_tui.train.engine import Trainer
    from rnn_tui.train.preparing import reporting

    corpus = tmp_path / "fresh.txt"  # not in the token cache yet
    corpus.write_text(read_text("timemachine")[:20_000], encoding="utf-8")
    seen = []
    with reporting(lambda name, done, total: seen.append((name, done, total))):
        Trainer(tiny(corpus, epochs=1, sample_every=0))
    assert seen and {name for name, _, _ in seen} == {"fresh.txt"}
    assert seen[-1][1] == seen[-1][2] > 0
    Trainer(tiny(corpus, epochs=1, sample_every=0))  # nobody listening: nothing to call


def test_a_run_without_a_checkpoint_says_how_to_start_it_again(corpus, tmp_path, capsys):
    # "--resume" said "no checkpoint", and "--run-dir" the same folder said "continue it with
    # --resume": each message sent the user to the other.
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run)), capsys)[0] == 0
    # As a run that failed in its first epoch leaves it: no epoch done, no checkpoint.
    shutil.rmtree(run / "checkpoints")
    lines = (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (run / "metrics.jsonl").write_text(lines[0], encoding="utf-8")
    (run / "status.json").write_text('{"status": "failed", "message": "x"}', encoding="utf-8")
    before = (run / "metrics.jsonl").read_bytes()
    code, _, err = call(["train", "--resume", str(run), "--epochs", "3"], capsys)
    assert code == 2 and "ended before its first checkpoint" in err and "remove the folder" in err
    code, _, err = call(tiny_args(corpus, "--run-dir", str(run)), capsys)
    assert code == 2 and "ended before its first checkpoint" in err and "--resume" not in err
    assert (run / "metrics.jsonl").read_bytes() == before


def test_a_finished_run_whose_checkpoints_were_removed_is_not_told_to_start_again(
    corpus, tmp_path, capsys, monkeypatch
):
    # It said "ended before its first checkpoint: ... remove the folder" of a finished run, and
    # `rnn-tui runs` listed it as finished without a word.
    monkeypatch.setenv("COLUMNS", "200")
    run = tmp_path / "runs" / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run)), capsys)[0] == 0
    shutil.rmtree(run / "checkpoints")
    before = (run / "metrics.jsonl").read_bytes()
    code, _, err = call(["train", "--resume", str(run), "--epochs", "3"], capsys)
    assert code == 2, err
    assert f"cannot resume {run}: its checkpoints are missing" in err
    assert str(run / "checkpoints") in err and "another --run-dir" in err
    assert "first checkpoint" not in err and "remove" not in err
    code, _, err = call(tiny_args(corpus, "--run-dir", str(run)), capsys)
    assert code == 2 and "its checkpoints are missing" in err and "remove" not in err
    assert (run / "metrics.jsonl").read_bytes() == before
    code, out, _ = call(["runs", "--dir", str(run.parent)], capsys)
    assert code == 0 and "finished" in out
    assert "note: run: checkpoints/ holds no last.json or best.json: it cannot be resumed" in out
    code, out, _ = call(["runs", "--dir", str(run.parent), "--json"], capsys)
    (entry,) = json.loads(out)["runs"]
    assert len(entry["notes"]) == 1 and "cannot be resumed" in entry["notes"][0]


def test_a_bidirectional_run_is_named_so(corpus, tmp_path, capsys, monkeypatch):
    # The seeds' one-way and two-way LMs were both lm-lstm-<time>: told apart by "-2" only.
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    args = tiny_args(corpus, "--epochs", "1", "--bidirectional")
    code, _, err = call(args, capsys)
    assert code == 0, err
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.startswith("lm-gru-bidir-")


@pytest.mark.parametrize(("path", "kind"), [("/dev/null", "a character device"), (None, "a file")])
def test_a_run_dir_that_is_not_a_folder_is_named_for_what_it_is(tmp_path, capsys, path, kind):
    # /dev/null was "a file".
    if path is None:
        path = tmp_path / "plain"
        path.write_text("x")
    code, _, err = call(["train", "--run-dir", str(path), "--epochs", "1"], capsys)
    assert code == 2 and f"is {kind}, not a directory" in err


def test_tokens_that_differ_under_one_vocabulary_name_the_cache_too(tmp_path, capsys):
    # A cache damaged in range (the file untouched) was blamed on the corpus alone.
    text = Path(tiny_corpus_path := tiny_corpus_file(tmp_path)).read_text()
    run = tmp_path / "run"
    assert call(tiny_args(tiny_corpus_path, "--run-dir", str(run)), capsys)[0] == 0
    Path(tiny_corpus_path).write_text(text + text)  # every count doubled: the same Vocab
    code, _, err = call(["train", "--resume", str(run), "--epochs", "3"], capsys)
    assert code == 2 and "its tokens differ" in err and "cached tokens in" in err


def tiny_corpus_file(tmp_path: Path) -> str:
    from rnn_tui.data.sources import read_text

    path = tmp_path / "corpus.txt"
    path.write_text(read_text("timemachine")[:6000])
    return str(path)


def test_a_garbled_status_is_written_anew_on_resume(corpus, tmp_path, capsys):
    # It blocked the resume, though config.json, metrics and checkpoints were whole.
    run = tmp_path / "run"
    assert call(tiny_args(corpus, "--run-dir", str(run)), capsys)[0] == 0
    (run / "status.json").write_text('{"status": "finis')
    code, _, err = call(["train", "--resume", str(run), "--epochs", "3"], capsys)
    assert code == 0 and "written anew" in err, err
    assert json.loads((run / "status.json").read_text())["status"] == "finished"
    (run / "status.json").unlink()
    (run / "status.json").mkdir()  # the wrong kind of file is still refused
    code, _, err = call(["train", "--resume", str(run), "--epochs", "4"], capsys)
    assert code == 2 and "status.json" in err


def _pipe_holding(text: str, fd: int) -> str:
    """`text` in a pipe read as /dev/fd/`fd` (what the shell's `<(cat f)` gives)."""
    read, write = os.pipe()
    os.write(write, text.encode())
    os.close(write)
    os.dup2(read, fd)
    os.close(read)
    return f"/dev/fd/{fd}"


def test_a_run_whose_corpus_came_from_a_pipe_resumes_with_corpus_given_again(
    corpus, tmp_path, capsys
):
    # A plain --resume said only "corpus file not found: /dev/fd/63"; and the pipe given again
    # under another number was refused as a changed --corpus.
    text, run = Path(corpus).read_text(), tmp_path / "run"
    try:
        piped = _pipe_holding(text, 250)
        code, _, err = call(tiny_args(piped, "--run-dir", str(run), "--epochs", "1"), capsys)
        assert code == 0, err
        os.close(250)
        code, _, err = call(["train", "--resume", str(run), "--epochs", "2"], capsys)
        assert code == 2
        assert err == (
            "rnn-tui: error: corpus file not found: /dev/fd/250 (the run read its corpus from a "
            "pipe, which is gone): pass --corpus again, with the same text, to resume\n"
        )
        again = _pipe_holding(text, 251)
        code, _, err = call(
            ["train", "--resume", str(run), "--epochs", "2", "--corpus", again], capsys
        )
        assert code == 0, err
    finally:
        for fd in (250, 251):
            with contextlib.suppress(OSError):
                os.close(fd)


@pytest.mark.parametrize(
    "task, flag, range_said",
    [
        ("classify", "--max-names", "[18, 1,000,000], or all"),
        ("tag", "--max-chars", "[1,000, 100,000,000], or all"),
        ("forecast", "--n-train", "or auto"),
        ("lm", "--max-tokens", "or all"),
    ],
)
def test_minus_one_is_refused_where_the_range_says_all_or_auto(task, flag, range_said, capsys):
    """-1, the not-set value, was taken silently by three of these (the range never says -1):
    the Classify and Forecast forms started runs with it."""
    code, out, err = call(["train", "--task", task, flag, "-1"], capsys)
    assert code == 2 and out == ""
    assert f"argument {flag}: must be an integer in " in err and range_said in err, err


def test_an_empty_embed_is_auto_for_a_language_model_and_refused_for_seq2seq(tmp_path, capsys):
    from rnn_tui.cli.parser import build_parser
    from rnn_tui.cli.task_flags import read_empties
    from rnn_tui.cli.train import _given

    for empty in ("--embed=", "--embed=auto"):
        run = tmp_path / "seq2seq"
        code, out, err = call(["train", "--task", "seq2seq", empty, "--run-dir", str(run)], capsys)
        assert code == 2 and out == "" and err.count("\n") == 1, err
        assert err.startswith(
            "rnn-tui train: error: --embed for --task seq2seq must be an integer in [1, 16,384] "
            "(empty means auto for lm, classify, tag only)"
        )
        assert not run.exists()
    # A language model's empty --embed is its auto: left out, as if not given.
    args = build_parser().parse_args(["train", "--embed="])
    assert read_empties(_given(args), "lm") == {}
    assert read_empties(_given(build_parser().parse_args(["train", "--embed=0"])), "lm") == {
        "embed": 0
    }
    # --help says what each task accepts.
    code, out, _ = call(["train", "--help"], capsys)
    assert code == 0
    assert (
        "lm, classify, tag: an integer in [0, 16,384], or empty for auto; seq2seq: an integer "
        "in [1, 16,384]"
    ) in " ".join(out.split())
