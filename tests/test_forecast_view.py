"""decode/forecast.py: a saved forecast run reopened gives the seeds' figures as arrays, and the
same held-out errors as the run reported."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from rnn_tui.decode.forecast import ForecastError, forecast_view
from rnn_tui.runs.rundir import RunDir
from rnn_tui.train.config import Config
from rnn_tui.train.engine import Trainer


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
    view = forecast_view(run / "checkpoints" / "last.safetensors")
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


def test_a_thinned_view_averages_buckets_of_points_and_keeps_the_errors(seeds_run) -> None:
    # A million-point series' curves, decimated on the screen's event loop, held it 0.4 s: the
    # screen's worker thins the view to bucket means first.
    run, _ = seeds_run
    view = forecast_view(run)
    n = len(view.series)  # the seeds' 1,000 points
    assert view.thinned(n) is view and view.t is None
    thin = view.thinned(300)  # buckets of 4: 250 of them
    assert len(thin.series) == len(thin.one_step) == len(thin.t) == 250
    assert thin.t[:2].tolist() == [2.5, 6.5] and thin.t[-1] == 998.5
    assert np.allclose(thin.series.values, view.series.values.reshape(-1, 4).mean(axis=1))
    # NaN where a bucket has no prediction; the mean of those it has elsewhere.
    first = int(np.argmax(np.isfinite(view.one_step)))
    bucket = first // 4
    assert np.isnan(thin.one_step[:bucket]).all()
    expected = np.nanmean(view.one_step[4 * bucket : 4 * bucket + 4])
    assert thin.one_step[bucket] == pytest.approx(expected)
    for k, values in view.k_step.items():
        assert np.allclose(thin.k_step[k][-5:], values.reshape(-1, 4).mean(axis=1)[-5:])
    assert (thin.errors, thin.winners, thin.first_test) == (
        view.errors,
        view.winners,
        view.first_test,
    )
    odd = view.thinned(7)  # buckets of 143: the last one holds the last 142 points
    assert len(odd.t) == 7 and odd.t[-1] == pytest.approx(np.arange(859, 1001).mean())
    assert odd.series.values[-1] == pytest.approx(view.series.values[858:].mean())
