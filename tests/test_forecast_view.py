"""decode/forecast.py: a saved forecast run reopened gives the seeds' figures as arrays, and the
same held-out errors as the run reported."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from rnn_tui.decode.forecast import ForecastError, forecast_view, load_forecaster
from rnn_tui.runs.rundir import RunDir
from rnn_tui.train.config import Config
from rnn_tui.train.engine import Trainer

RECORDED_GRU = "forecast-gru-recorded"


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run = tmp_path_factory.mktemp("forecast") / "run"
        summary = Trainer(Config("forecast", device="cpu", sample_every=0)).run(RunDir(run))
    finally:
        torch.set_num_threads(threads)
    return run, summary


def test_the_view_reports_what_the_run_reported(seeds_run):
    run, summary = seeds_run
    view = forecast_view(run)  # its best, the checkpoint the summary names
    assert view.epoch == summary["forecast_epoch"] == summary["best_epoch"]
    for k in (1, 4, 16, 64):
        reported = summary["forecast"][str(k)]
        for name in ("mlp", "naive"):
            assert view.errors[k][name]["mse"] == pytest.approx(reported["errors"][name]["mse"])
        assert view.winners[k] == reported["winner"]


def test_the_seeds_figures(seeds_run):
    run, _ = seeds_run
    view = forecast_view(run)
    x = view.series.values
    assert view.first_test == 604 and len(x) == 1000
    # One step ahead from τ = 4 values: every point but the first four.
    assert np.isnan(view.one_step[:4]).all() and not np.isnan(view.one_step[4:]).any()
    # k steps ahead: the first τ − 1 + k points have no prediction.
    for k, predicted in view.k_step.items():
        assert np.isnan(predicted[: 3 + k]).all() and not np.isnan(predicted[3 + k :]).any()
    # Fed on its own output from t = 604, the forecast decays to a constant (the seeds' figure).
    tail = view.multistep[604:]
    assert np.isnan(view.multistep[:604]).all() and not np.isnan(tail).any()
    assert abs(tail[-1] - tail[-2]) < 1e-4 and np.std(tail[-100:]) < 0.05
    one_step_mse = np.mean((view.one_step[604:] - x[604:]) ** 2)
    assert one_step_mse == pytest.approx(view.errors[1]["mlp"]["mse"])


def test_a_language_model_or_a_changed_series_is_one_line(char_checkpoint, tmp_path):
    with pytest.raises(ForecastError, match="is a 'lm' checkpoint; forecasting needs"):
        forecast_view(char_checkpoint)
    csv = tmp_path / "s.csv"
    csv.write_text("v\n" + "\n".join(str(v) for v in np.sin(np.arange(120) / 4) + 3) + "\n")
    run = tmp_path / "run"
    config = Config("forecast", device="cpu", series=str(csv), horizons="1,4", epochs=1)
    Trainer(config).run(RunDir(run))
    assert forecast_view(run).errors[4]
    csv.write_text("v\n" + "\n".join(str(v) for v in np.cos(np.arange(120) / 4) + 3) + "\n")
    with pytest.raises(ForecastError, match="changed since this model was trained"):
        forecast_view(run)
    csv.unlink()
    with pytest.raises(ForecastError, match="series file not found"):
        forecast_view(run)


def test_a_checkpoint_without_its_series_record_names_its_json(seeds_run, tmp_path):
    import json
    import shutil

    folder = tmp_path / "checkpoints"
    shutil.copytree(seeds_run[0] / "checkpoints", folder)
    meta = json.loads((folder / "best.json").read_text(encoding="utf-8"))
    del meta["series"]
    (folder / "best.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ForecastError) as info:
        forecast_view(folder / "best.json")
    assert str(info.value) == f"{folder / 'best.json'} has no series record"


def test_a_thinned_view_keeps_each_run_s_extremes_and_the_errors(seeds_run) -> None:
    # A million-point series' curves, decimated on the screen's event loop, held it 0.4 s: the
    # screen's worker thins the view first. Bucket means drew the seeds' noisy sine as a clean
    # one; each run of points now gives its lowest and highest value.
    run, _ = seeds_run
    view = forecast_view(run)
    n = len(view.series)  # the seeds' 1,000 points
    assert view.thinned(n) is view and view.t is None
    thin = view.thinned(300)  # runs of 7: 143 of them, two entries each
    assert len(thin.series) == len(thin.one_step) == len(thin.t) == 286
    assert thin.t[:4].tolist() == [1, 7, 8, 14] and thin.t[-2:].tolist() == [995, 1000]
    runs = np.append(view.series.values, [np.nan] * 1).reshape(-1, 7)
    assert np.array_equal(thin.series.values[0::2], np.nanmin(runs, axis=1))
    assert np.array_equal(thin.series.values[1::2], np.nanmax(runs, axis=1))
    assert thin.series.values.max() == view.series.values.max()
    # NaN where a run has no prediction; the extremes of those it has elsewhere.
    first = int(np.argmax(np.isfinite(view.one_step)))
    run_of_first = first // 7
    assert np.isnan(thin.one_step[: 2 * run_of_first]).all()
    part = view.one_step[7 * run_of_first : 7 * run_of_first + 7]
    assert thin.one_step[2 * run_of_first + 1] == np.nanmax(part)
    for k, values in view.k_step.items():
        assert np.nanmax(thin.k_step[k]) == np.nanmax(values)
    assert (thin.errors, thin.winners, thin.first_test) == (
        view.errors,
        view.winners,
        view.first_test,
    )
    assert len(view.thinned(7).t) <= 7


def test_a_run_line_keeps_its_held_out_score_beside_the_side_panel() -> None:
    # At 80 columns with the side panel open the line has ~41 cells: it was cut at "· l…".
    from rich.cells import cell_len

    from rnn_tui.runs.follow import RunFollower
    from rnn_tui.tui.widgets.forecast_results import AR, progress_line

    follower = RunFollower(
        Path(__file__).parent / "fixtures" / "recorded-forecast" / ("forecast-mlp-recorded")
    )
    follower.poll()
    line = progress_line(AR, follower.snapshot())
    whole = line.fitted(200).plain
    assert "✓ finished · epoch 5/5 · loss " in whole and "· held-out " in whole
    for width in (41, 50, 60):
        shown = line.fitted(width)
        shown.truncate(width, overflow="ellipsis")
        assert "held-out" in shown.plain and cell_len(shown.plain) <= width, shown.plain
    assert "5/5 · held-out" in line.fitted(41).plain


def test_a_long_runs_line_keeps_its_whole_score_in_the_narrowest_widths() -> None:
    # At 80 × 24 beside the side panel (40 cells) a 300-epoch run's line read
    # "● · 201/300 · held-out 0…": the padding, the slot and the epoch count give way first.
    from dataclasses import replace

    from rich.cells import cell_len

    from rnn_tui.runs.follow import RunFollower
    from rnn_tui.runs.format import fmt_number
    from rnn_tui.tui.widgets.forecast_results import LATENT, progress_line

    follower = RunFollower(Path(__file__).parent / "fixtures" / "recorded-forecast" / RECORDED_GRU)
    follower.poll()
    snap = replace(follower.snapshot(), status="running", epoch=201, epochs=300)
    rmse = follower.snapshot().series["rmse"][1][-1]
    score = f"held-out RMSE {fmt_number(rmse)}"
    line = progress_line(LATENT, snap)
    for width in range(33, 61):
        shown = line.fitted(width)
        shown.truncate(width, overflow="ellipsis")
        assert score in shown.plain and cell_len(shown.plain) <= width, (width, shown.plain)
        assert f"{score}…" not in shown.plain  # the ellipsis reads as part of the number
        if width >= 42:  # the epoch count goes last
            assert "201/300" in shown.plain, (width, shown.plain)


def test_a_differenced_runs_k_step_levels_add_up_every_predicted_change(tmp_path):
    # Its last level needs the whole path (the changes add up from the anchor); without
    # differencing the last column alone is kept.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        config = Config("forecast", device="cpu", diff=True, horizons="1,4", epochs=1)
        Trainer(config).run(RunDir(tmp_path / "run"))
        view = forecast_view(tmp_path / "run")
        checkpoint, model = load_forecaster(tmp_path / "run")
    finally:
        torch.set_num_threads(threads)
    x = view.series.values
    z = np.diff(x)  # z[i] is the change to x[i + 1], standardised as in training
    t = checkpoint.meta["series"]["transform"]
    z = torch.tensor((z - t["mean"]) / t["std"], dtype=torch.float32)
    starts = np.arange(100, 110)
    with torch.no_grad():
        paths = model.paths(z, torch.from_numpy(starts), 4).double().numpy()
    levels = x[starts + 1] + (paths * t["std"] + t["mean"]).sum(axis=1)
    assert view.k_step[4][starts + 5] == pytest.approx(levels, rel=1e-6)
