"""The forecast task on the training engine: the models' k-step predictor, the seeds' run and the
error growing with k, `rnn-tui train --task forecast` with its --json, resume and bad input."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from cli_helpers import call

from rnn_tui.models import rollout
from rnn_tui.models.base import ModelError
from rnn_tui.models.registry import build_model
from rnn_tui.runs.rundir import RunDir
from rnn_tui.train.config import Config
from rnn_tui.train.engine import Trainer


@pytest.fixture(autouse=True)
def _one_thread(tmp_path, monkeypatch):
    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path / "runs"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize("kind", ["mlp", "rnn", "gru", "lstm"])
def test_one_step_paths_are_the_models_own_predictions(kind):
    torch.manual_seed(0)
    config = {"model": "forecast", "kind": kind, "tau": 4, "hidden": 8}
    if kind == "lstm":
        config["layers"] = 2
    model = build_model(config).eval()
    z = torch.randn(40)
    starts = torch.tensor([3, 10, 39])
    with torch.no_grad():
        one = model.paths(z, starts, 1)[:, 0]
        for row, s in enumerate(starts.tolist()):
            if kind == "mlp":
                expected = model(z[s - 3 : s + 1][None])[0]
            else:
                expected = model(z[None, : s + 1])[0][0, -1]
            assert torch.allclose(one[row], expected, atol=1e-6)
        # k steps = one step at a time, each prediction fed back as if observed.
        path = model.paths(z, starts[:1], 3)[0]
        fed = torch.cat((z[:4], path[:2]))
        again = model.paths(fed, torch.tensor([4, 5]), 1)[:, 0]
        assert torch.allclose(path[1:], again, atol=1e-5)


@pytest.mark.parametrize(("kind", "layers"), [("rnn", 1), ("gru", 2), ("lstm", 1), ("lstm", 3)])
def test_the_states_after_every_point_are_the_models_own(kind, layers):
    # Read one point at a time, a million-point series took ~45 s for each horizon the view
    # and every epoch's scores ask for; one pass per layer gives the same states.
    torch.manual_seed(0)
    config = {"model": "forecast", "kind": kind, "tau": 4, "hidden": 8, "layers": layers}
    model = build_model(config).eval()
    z = torch.randn(50)
    with torch.no_grad():
        states, first = model.states(z, 5, 49)
        assert first == 5
        for s in (5, 17, 49):
            _, state = model.rnn(z[: s + 1].view(1, -1, 1))
            pairs = zip(states, state) if kind == "lstm" else [(states, state)]
            for found, own in pairs:
                assert torch.allclose(found[:, s - first], own[:, 0], atol=1e-6)
        starts = torch.tensor([7, 30])
        given = model.paths(z, starts, 5, (states, first))
        assert torch.allclose(given, model.paths(z, starts, 5), atol=1e-6)


def test_a_forecaster_config_out_of_range_is_one_line():
    with pytest.raises(ModelError, match=r"tau must be an integer in \[1, 10,000\]"):
        build_model({"model": "forecast", "kind": "mlp", "tau": 10**9, "hidden": 10})
    with pytest.raises(ModelError, match="unknown forecast model 'tcn'"):
        build_model({"model": "forecast", "kind": "tcn", "tau": 4, "hidden": 10})


def seeds_run(tmp_path, **overrides) -> dict:
    config = Config("forecast", device="cpu", **overrides)
    return Trainer(config).run(RunDir(tmp_path / "run"))


def test_the_seeds_run_and_its_error_growing_with_k(tmp_path):
    summary = seeds_run(tmp_path)
    assert summary["status"] == "finished"
    forecast = summary["forecast"]
    mse = [forecast[k]["errors"]["mlp"]["mse"] for k in ("1", "4", "16", "64")]
    assert mse == sorted(mse) and mse[-1] > 2 * mse[0]  # errors accumulate (d2l's figure)
    # 5 epochs of the MLP get near the noise floor (σ² = 0.04) one step ahead, beating naive.
    assert 0.04 < mse[0] < 0.07
    assert forecast["1"]["winner"] == "mlp"
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["train_pairs"] == 600 and config["val_pairs"] == 396


def test_pad_keeps_the_first_labels(tmp_path):
    summary = seeds_run(tmp_path, first="pad", epochs=1)
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["train_pairs"] == 600 and config["val_pairs"] == 400
    assert summary["held_out"] == 400


@pytest.mark.parametrize(("switch", "pairs"), [("--pad", 400), ("--drop", 396)])
def test_pad_and_drop_are_switches_of_the_cli(tmp_path, capsys, switch, pairs):
    run = tmp_path / "run"
    args = ["train", "--task", "forecast", switch, "--epochs", "1", "--run-dir", str(run)]
    code, _, err = call([*args, "--json"], capsys)
    assert code == 0, err
    config = json.loads((run / "config.json").read_text())
    assert config["first"] == switch[2:] and config["val_pairs"] == pairs


@pytest.mark.parametrize("both", [["--drop", "--pad"], ["--first", "drop", "--pad"]])
def test_two_of_the_switches_are_refused(tmp_path, capsys, both):
    # The last one won without a word.
    args = ["train", "--task", "forecast", *both, "--run-dir", str(tmp_path / "run")]
    code, _, err = call(args, capsys)
    assert code == 2 and "not allowed with argument" in err and not (tmp_path / "run").exists()


def test_cli_json_has_mse_per_horizon_for_model_and_baselines(tmp_path, capsys):
    args = ["train", "--task", "forecast", "--series", "airline", "--model", "gru", "--log"]
    args += ["--diff", "--epochs", "2", "--horizons", "1,12", "--run-dir", str(tmp_path / "r")]
    code, out, err = call([*args, "--json"], capsys)
    assert code == 0, err
    summary = json.loads(out)
    assert summary["period"] == 12 and summary["held_out"] == 28  # 80% of 140 pairs train
    for k in ("1", "12"):
        row = summary["forecast"][k]
        assert set(row["errors"]) == {"gru", "naive", "seasonal_naive"}
        for errors in row["errors"].values():
            assert errors["mse"] > 0 and errors["mape"] > 0
        assert row["winner"] in row["errors"]
    code, out, err = call(["runs", "--dir", str(tmp_path), "--json"], capsys)
    (entry,) = json.loads(out)["runs"]
    epochs = [
        json.loads(line) for line in (tmp_path / "r" / "metrics.jsonl").read_text().splitlines()
    ]
    rmse = [e["rmse"] for e in epochs if e["event"] == "epoch"]
    assert entry["task"] == "forecast" and entry["best_rmse"] == min(rmse)
    assert entry["best_val_ppl"] is None
    # The summary's sample line gives every predictor's RMSE, the winner's among them, as its
    # table (the best epoch's: the epochs' own sample lines are theirs).
    sample = summary["sample"]
    for k, part in zip(("1", "12"), sample.split("; k="), strict=True):
        errors = summary["forecast"][k]["errors"]
        for name in ("gru", "naive", "seasonal_naive"):
            assert f"{name} {errors[name]['rmse']:.4g}" in part
        assert part.endswith(f"; {summary['forecast'][k]['winner']} wins)")


def airline_run(run, capsys, *extra: str) -> dict:
    args = ["train", "--task", "forecast", "--series", "airline", "--run-dir", str(run)]
    code, out, err = call([*args, *extra, "--json"], capsys)
    assert code == 0, err
    return json.loads(out)


def assert_best_checkpoints_table(run, summary: dict) -> None:
    """The summary's table, sample and epoch are those of the checkpoint it names, the one the
    Forecast screen shows (decode/forecast.py), not the last epoch's."""
    from rnn_tui.decode.forecast import forecast_view

    best = summary["best_epoch"]
    assert summary["checkpoint"].endswith("best.safetensors")
    view = forecast_view(run)
    assert view.epoch == best == summary["forecast_epoch"]
    for k in (1, 4, 16, 64):
        errors = summary["forecast"][str(k)]["errors"]
        assert errors["mlp"]["mse"] == pytest.approx(view.errors[k]["mlp"]["mse"])
    rmse = summary["forecast"]["1"]["errors"]["mlp"]["rmse"]
    assert f"best held-out 1-step RMSE {rmse:.4g} (epoch {best})" in summary["message"]
    assert summary["sample"].startswith(f"best, epoch {best}: k=1 RMSE mlp {rmse:.4g} (")


def test_the_summary_table_is_the_best_checkpoints(tmp_path, capsys):
    # It was the last epoch's (k=1 RMSE 52.46) beside "best held-out 1-step RMSE 51.68
    # (epoch 5)" and the best checkpoint, whose table the screen showed.
    summary = airline_run(tmp_path / "r", capsys, "--epochs", "30")
    assert summary["best_epoch"] < 30  # else the last epoch's table would be the best's
    assert_best_checkpoints_table(tmp_path / "r", summary)


def test_a_resumed_runs_summary_keeps_the_best_checkpoints_table(tmp_path, capsys):
    # The best epoch trained before the resume: its scores come back from the checkpoint.
    first = airline_run(tmp_path / "r", capsys, "--epochs", "10")
    code, out, err = call(
        ["train", "--resume", str(tmp_path / "r"), "--epochs", "30", "--json"], capsys
    )
    assert code == 0, err
    summary = json.loads(out)
    assert summary["best_epoch"] == first["best_epoch"] < 10
    assert_best_checkpoints_table(tmp_path / "r", summary)


def test_best_scores_survive_a_checkpoints_json_diverged_or_not():
    # JSON writes a diverged horizon's inf as null: read back, it is not finite, not None.
    from rnn_tui.atomic import json_text
    from rnn_tui.train.tasks.forecast import _rmse_text, _scores_from_json, _scores_to_json

    inf = float("inf")
    scores = {
        "val_loss": 0.25,
        "model": {
            1: {"mse": 0.25, "rmse": 0.5, "mape": None},
            64: {"mse": inf, "rmse": inf, "mape": inf},
        },
    }
    back = _scores_from_json(json.loads(json_text(_scores_to_json(scores))))
    assert back["val_loss"] == 0.25 and back["model"][1] == scores["model"][1]
    assert _rmse_text(back["model"][64]["rmse"]) == "not finite"
    assert back["model"][64]["mape"] is None
    assert _scores_from_json(None) == {} and _scores_from_json({"model": {"1": {}}}) == {}


def test_unscaled_values_too_large_for_the_models_say_scale_auto_works(tmp_path, capsys):
    csv = tmp_path / "big30.csv"
    values = 3e30 + 1e30 * np.sin(np.arange(200) / 5)
    csv.write_text("v\n" + "\n".join(f"{v:.6e}" for v in values) + "\n")
    run = tmp_path / "r"
    args = ["train", "--task", "forecast", "--series", str(csv), "--run-dir", str(run)]
    code, _, err = call([*args, "--scale", "off"], capsys)
    assert code == 2 and not run.exists()
    assert "unscaled (--scale auto or on standardises them)" in err, err
    assert "difference or scale" not in err


def test_an_unscaled_series_that_diverges_is_told_to_scale_first(tmp_path, capsys):
    # Values of 1e16 pass the float32 check, but their squared errors overflow: "--lr" alone
    # pointed away from the cause.
    csv = tmp_path / "big16.csv"
    values = 1e16 * (1 + 0.5 * np.sin(np.arange(300) / 5))
    csv.write_text("v\n" + "\n".join(f"{v:.6e}" for v in values) + "\n")
    args = ["train", "--task", "forecast", "--series", str(csv), "--epochs", "2"]
    code, _, err = call([*args, "--scale", "off", "--run-dir", str(tmp_path / "off")], capsys)
    assert code == 1 and "the series is unscaled, its values up to 1.5e+16: try --scale auto" in err
    code, _, err = call([*args, "--run-dir", str(tmp_path / "auto")], capsys)
    assert code == 0, err


def test_a_resumed_run_whose_checkpoint_kept_no_scores_names_no_other_epochs(tmp_path, capsys):
    # Checkpoints written before the best scores were kept: the first resumed epoch's table
    # was shown under the best epoch's name (epoch 7's RMSE 201.5 as epoch 1's).
    run = tmp_path / "r"
    args = ["train", "--task", "forecast", "--series", "airline", "--lr", "1", "--json"]
    code, out, err = call([*args, "--epochs", "6", "--run-dir", str(run)], capsys)
    assert code == 0, err
    assert json.loads(out)["forecast_epoch"] == 1  # later epochs are worse at this rate
    for path in (run / "checkpoints").glob("*.json"):
        meta = json.loads(path.read_text(encoding="utf-8"))
        del meta["series"]["best_scores"]
        path.write_text(json.dumps(meta), encoding="utf-8")
    code, out, err = call(["train", "--resume", str(run), "--epochs", "8", "--json"], capsys)
    summary = json.loads(out)
    assert code == 0 and summary["best_epoch"] == 1, err
    assert summary["forecast_epoch"] is None and summary["sample"].startswith("last, epoch 8: ")
    saved = json.loads((run / "checkpoints" / "last.json").read_text(encoding="utf-8"))
    assert saved["series"]["best_scores"] is None  # still unknown, not epoch 7's


def test_resume_refuses_a_changed_series(tmp_path, capsys):
    csv = tmp_path / "s.csv"
    values = np.sin(np.arange(200) / 5) + 2
    csv.write_text("v\n" + "\n".join(f"{v:.6f}" for v in values) + "\n")
    run = tmp_path / "r"
    base = ["train", "--task", "forecast", "--series", str(csv), "--horizons", "1,4"]
    code, _, err = call([*base, "--epochs", "1", "--run-dir", str(run)], capsys)
    assert code == 0, err
    code, _, err = call(["train", "--resume", str(run), "--epochs", "2"], capsys)
    assert code == 0, err
    csv.write_text("v\n" + "\n".join(f"{v + 1:.6f}" for v in values) + "\n")
    code, _, err = call(["train", "--resume", str(run), "--epochs", "3"], capsys)
    assert code == 2 and "changed since the run started" in err


def test_horizons_may_have_spaces_around_the_commas(tmp_path, capsys):
    # "1, 4" as people write a list: the form took it, the trainer refused it.
    run = tmp_path / "r"
    code, out, err = call(
        ["train", "--task", "forecast", "--horizons=1, 4", "--epochs", "1", "--length", "100",
         "--hidden", "2", "--run-dir", str(run)],
        capsys,
    )  # fmt: skip
    assert code == 0, err
    assert "k=1 RMSE" in out + err and "k=4 RMSE" in out + err


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["--horizons", "1,x"], "--horizons: must be up to 8 whole numbers"),
        (["--horizons", "１２"], "--horizons: must be up to 8 whole numbers"),  # full-width
        (["--horizons", "1,٣"], "--horizons: must be up to 8 whole numbers"),
        (["--horizons", "1, 0"], "horizons must be in [1, 10,000]"),
        (["--n-train", "996"], "leaves none held out"),
        (["--series", "airline", "--horizons", "1,200"], "horizon 200 reaches back"),
        (["--layers", "2"], "the autoregressive MLP has one hidden layer"),
        (["--tau", "0"], "--tau: must be an integer in [1, 10,000]"),
        (["--series", "airline", "--tau", "500"], "too short for tau 500: its 144 values give 0"),
        (["--first", "both"], "invalid choice: 'both'"),
        # Ignored without a word, the sine trained as if no column had been asked.
        (["--column", "zz"], "the sine series has no columns (column 'zz' asked)"),
        (["--series", "airline", "--column", "nope"], "no column 'nope' in airline"),
    ],
)
def test_bad_forecast_options_are_one_line(tmp_path, capsys, extra, fragment):
    code, _, err = call(
        ["train", "--task", "forecast", *extra, "--run-dir", str(tmp_path / "r")], capsys
    )
    assert code == 2 and fragment in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "r").exists()


def test_reading_a_long_series_reports_its_progress(tmp_path, monkeypatch):
    # A million-row CSV took seconds to read before the first line, with nothing shown.
    from rnn_tui.data import series_files
    from rnn_tui.train.preparing import reporting

    monkeypatch.setattr(series_files, "PROGRESS_ROWS", 100)
    csv_file = tmp_path / "long.csv"
    rows = "".join(f"{t},{np.sin(t / 10):.4f}\n" for t in range(1, 1001))
    csv_file.write_text("t,value\n" + rows, encoding="utf-8")
    seen = []
    with reporting(lambda *args: seen.append(args)):
        Trainer(Config("forecast", device="cpu", series=str(csv_file), column="value"))
    assert [args[1] for args in seen] == list(range(100, 1000, 100))
    assert {(args[0], args[2], args[3]) for args in seen} == {("long.csv", 1002, "reading")}
    seen.clear()
    with reporting(lambda *args: seen.append(args)):
        Trainer(Config("forecast", device="cpu"))  # the bundled sine: nothing read from disk
    assert seen == []


def test_states_can_be_asked_for_with_gradients_on():
    # The LSTM's cell states are written in place, which autograd refuses outside no_grad.
    model = build_model({"model": "forecast", "kind": "lstm", "tau": 4, "hidden": 4})
    (h, c), first = model.states(torch.randn(12), 2, 11)
    assert h.shape == c.shape == (1, 10, 4) and first == 2 and not h.requires_grad


@pytest.mark.parametrize("kind", ["mlp", "gru"])
def test_a_long_path_keeps_no_tensor_a_step_for_the_collector(kind, monkeypatch):
    # A list of one tensor a step kept 200,000 alive on a million-point series' multi-step
    # path, and each full collection walked them all with the GIL held: the Forecast screen's
    # event loop stalled 100–200 ms at a time while its worker computed a view.
    import gc

    torch.manual_seed(0)
    model = build_model({"model": "forecast", "kind": kind, "tau": 4, "hidden": 4}).eval()
    steps, seen = [0], []

    def count() -> None:
        steps[0] += 1
        if steps[0] % 500 == 0:
            seen.append(len(gc.get_objects()) - before)

    # Asked once a step, for either model; never found, so that every step is taken.
    monkeypatch.setattr(rollout.Repeats, "seen", lambda *_: count())
    z = torch.randn(50)
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        with torch.no_grad():
            path = model.paths(z, torch.tensor([49]), 3_000)
    finally:
        gc.enable()
    assert path.shape == (1, 3_000)
    assert len(seen) >= 5 and max(seen) < 200


def test_the_largest_seed_trains(tmp_path):
    # seed × 1,000,003 past 2^64 stopped classify, tag and forecast runs with "Overflow when
    # unpacking long long" at their first epoch (the seed's range is [0, 2^63 − 1]).
    from rnn_tui.train.options import SEED_MAX
    from rnn_tui.train.task import epoch_generator

    summary = seeds_run(tmp_path, epochs=1, seed=SEED_MAX)
    assert summary["status"] == "finished"
    # Seeds below the wrap draw what they drew before.
    a = epoch_generator(7, 3).initial_seed()
    assert a == 7 * 1_000_003 + 3
