"""The classify task on the training engine: a short run's summary (accuracy, macro-F1, the
baselines, per-class report, confusion), balancing, resume, and one line for bad options."""

from __future__ import annotations

import json

import pytest
import torch
from cli_helpers import call

from rnn_tui.runs.rundir import RunDir
from rnn_tui.train.config import Config
from rnn_tui.train.engine import Trainer
from rnn_tui.train.tasks.classify import encode_names

SMALL = ["--task", "classify", "--max-names", "900", "--hidden", "16", "--batch-size", "32"]


def test_encode_names_pads_and_keeps_lengths() -> None:
    X, lengths = encode_names(["Ab", "", "Abc"])
    assert lengths.tolist() == [2, 1, 3]
    assert X.shape == (3, 3) and X[0, 2] == 0 and X[1].tolist() == [0, 0, 0]


def test_a_short_run_reports_accuracy_macro_f1_and_the_baselines(tmp_path, capsys) -> None:
    run = tmp_path / "r"
    code, out, err = call(
        ["train", *SMALL, "--epochs", "2", "--run-dir", str(run), "--json"], capsys
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["status"] == "finished" and len(summary["classes"]) == 18
    report = summary["report"]
    assert 0 < report["accuracy"] <= 1 and 0 <= report["macro_f1"] <= 1
    assert set(report["classes"]) == set(summary["classes"])
    assert sum(c["support"] for c in report["classes"].values()) == summary["held_out"] == 1799
    rows = summary["confusion"]
    assert len(rows) == 18 and all(abs(sum(r) - 1) < 1e-3 for r in rows)
    baselines = summary["baselines"]
    assert baselines["majority"]["macro_f1"] < baselines["naive_bayes"]["macro_f1"]
    # No perplexity baseline, so none named ("trigram" was, beside a null perplexity).
    assert summary["baseline_ppl"] is None and summary["baseline_name"] is None
    message = json.loads((run / "status.json").read_text())["message"]
    assert message.endswith(f"; naive Bayes {baselines['naive_bayes']['macro_f1']:.3f})"), message
    events = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    epochs = [e for e in events if e["event"] == "epoch"]
    assert [e["epoch"] for e in epochs] == [1, 2]
    assert all("macro_f1" in e and "accuracy" in e for e in epochs)
    assert events[0]["baseline_name"] is None
    meta = json.loads((run / "checkpoints" / "last.json").read_text())
    assert meta["metrics"]["baseline_name"] is None
    samples = [e for e in events if e["event"] == "sample"]
    assert samples and "Satoshi →" in samples[-1]["text"]
    # Resume continues from the checkpoint.
    code, out, err = call(["train", "--resume", str(run), "--epochs", "3", "--json"], capsys)
    assert code == 0, err
    resumed = json.loads(out)
    assert resumed["status"] == "finished" and resumed["epochs_total"] == 3
    assert resumed["baseline_name"] is None


@pytest.mark.parametrize("balance", ["weights", "sampling"])
def test_balancing_runs_and_is_recorded(tmp_path, balance) -> None:
    config = Config(
        "classify", balance=balance, max_names=900, hidden=8, epochs=1, device="cpu"
    )  # fmt: skip
    summary = Trainer(config).run(RunDir(tmp_path / "run"))
    assert summary["status"] == "finished"
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["balance"] == balance


@pytest.mark.parametrize("count", [18, 19, 100, 200, 900])
def test_max_names_keeps_every_class_down_to_its_minimum(count) -> None:
    """--max-names takes names evenly through the list; down to its declared minimum (one per
    class) every class keeps a name. Where the even steps already meet every class (900), the
    choice is the one earlier runs made, so their resumes train on the same names."""
    from rnn_tui.data.names_split import HELD_OUT, names_split
    from rnn_tui.train.tasks.classify import ClassifyTask

    task = ClassifyTask(Config("classify", max_names=count, device="cpu"), torch.device("cpu"))
    assert len(task.train) == count and len(set(task.train)) == count
    assert set(task.y.tolist()) == set(range(18))
    if count == 900:
        train = list(names_split(HELD_OUT).train)
        step = len(train) / count
        assert task.train == [train[int(i * step)] for i in range(count)]


def test_balanced_sampling_draws_every_class_about_equally(tmp_path) -> None:
    from rnn_tui.train.tasks.classify import ClassifyTask

    task = ClassifyTask(Config("classify", balance="sampling", device="cpu"), torch.device("cpu"))
    order = task.epoch_data(None, 1)
    counts = torch.bincount(task.y[order], minlength=18).double()
    assert counts.min() > 0.7 * counts.mean() and counts.max() < 1.3 * counts.mean()


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--balance", "always"], "invalid choice"),
        (["--max-names", "5"], "--max-names"),
        (["--model", "mlp"], "unknown model 'mlp' (choose from rnn, gru, lstm)"),
        (["--tau", "3"], "does not apply to --task classify"),
    ],
)
def test_bad_classify_options_are_one_line(tmp_path, capsys, extra, fragment) -> None:
    code, out, err = call(
        ["train", "--task", "classify", *extra, "--run-dir", str(tmp_path / "x")], capsys
    )
    assert code == 2 and fragment in err and err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x").exists()


def test_the_screens_view_reproduces_the_runs_own_held_out_scores():
    """decode.classify.classify_view evaluates the best checkpoint on the same held-out names
    as the task did at that epoch: the same accuracy and macro-F1, and the baselines' too."""
    import json
    from pathlib import Path

    from rnn_tui.decode.classify import classify_view

    run = Path(__file__).parent / "fixtures" / "recorded-classify" / "classify-gru-recorded"
    events = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    best = max((e for e in events if e["event"] == "epoch"), key=lambda e: e["macro_f1"])
    view = classify_view(run)
    assert view.report.accuracy == pytest.approx(best["accuracy"], abs=1e-9)
    assert view.report.macro_f1 == pytest.approx(best["macro_f1"], abs=1e-9)
    assert view.report.confusion.sum() == 1799 and len(view.classes) == 18
    assert view.baselines["majority"].accuracy == pytest.approx(0.519, abs=5e-4)
    assert view.baselines["naive_bayes"].macro_f1 == pytest.approx(0.408, abs=5e-4)


def test_the_screens_baselines_are_fitted_on_the_names_the_run_trained_on(tmp_path) -> None:
    """A run with --max-names 3000 logs baselines fitted on its 3,000 names; the screen's view
    of its checkpoint showed the all-names ones (naive Bayes macro-F1 0.408, not 0.235)."""
    import shutil
    from pathlib import Path

    from rnn_tui.decode.classify import classify_view
    from rnn_tui.train.tasks.classify import ClassifyTask

    recorded = Path(__file__).parent / "fixtures" / "recorded-classify" / "classify-gru-recorded"
    run = Path(shutil.copytree(recorded, tmp_path / "run"))
    best = run / "checkpoints" / "best.json"
    meta = json.loads(best.read_text(encoding="utf-8"))
    meta["config"]["max_names"] = 3000
    best.write_text(json.dumps(meta), encoding="utf-8")
    task = ClassifyTask(Config("classify", max_names=3000, device="cpu"), torch.device("cpu"))
    view = classify_view(run)
    for name, logged in task.baselines.items():
        assert view.baselines[name].accuracy == pytest.approx(logged.accuracy, abs=1e-12)
        assert view.baselines[name].macro_f1 == pytest.approx(logged.macro_f1, abs=1e-12)
    assert view.baselines["naive_bayes"].macro_f1 == pytest.approx(0.235, abs=5e-4)
