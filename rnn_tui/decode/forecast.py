"""What a trained forecaster predicts, for the Forecast screen and for reopening a saved run:
the seeds' figures as arrays (d2l §8.1), in the series' own units.

- one-step-ahead predictions x̂_t from the observed x_{<t}, everywhere a window exists;
- multi-step predictions from the end of the training part onward, fed on their own output
  (the seeds' figure from t = 604: they soon flatten to a constant);
- k-step-ahead predictions for each k of the run's horizons (the seeds' k = 1, 4, 16, 64);
- the errors on the held-out points per k, for the model and the naive baselines.

A checkpoint of a forecast run carries what rebuilds all of it: the run's options (the series,
τ, …) and under "series" the transform fitted on the training part, the split, the season
length and a fingerprint of the values, which must match the series read again.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, replace

import numpy as np
import torch

from rnn_tui.data.errors import DataError
from rnn_tui.data.series_files import Series, load_series
from rnn_tui.data.series_transform import SeriesTransform
from rnn_tui.metrics.forecast import baseline_errors, forecast_errors, winner


class ForecastError(ValueError):
    """A checkpoint that cannot be used to forecast; one line for people."""


@dataclass(frozen=True)
class ForecastView:
    """Predictions aligned with the series: index i of every array is x[i] (NaN where there is
    no prediction)."""

    model: str
    series: Series
    first_test: int  # x-index of the first held-out point
    one_step: np.ndarray
    multistep: np.ndarray
    k_step: dict[int, np.ndarray]
    errors: dict[int, dict[str, dict]]  # k → {"mlp"|…, "naive", "seasonal_naive"} → errors
    winners: dict[int, str | None]
    period: int | None
    # Where the arrays sit on the time axis, t = 1..T (None: one entry a point); a thinned
    # view has two entries a run of points: its lowest at its first t, its highest at its last.
    t: np.ndarray | None = None
    # The epoch whose checkpoint this is (a run's `best`: not its last epoch), None if unsaid.
    epoch: int | None = None

    def forecasts_as(self, other: ForecastView) -> bool:
        """Whether `other` forecasts the same values with the same held-out points: only then
        are their errors measured on one sample and can be ranked."""
        return (
            self.first_test == other.first_test
            and self.series.values.shape == other.series.values.shape
            and bool(np.array_equal(self.series.values, other.series.values, equal_nan=True))
        )

    def held_out_text(self) -> str:
        """ "good.csv, 300 points, held out after t = 210" (as the multi-step plot says)."""
        points = len(self.series) if self.t is None else int(self.t[-1])  # a thinned view's
        return f"{self.series.name}, {points:,} points, held out after t = {self.first_test}"

    def thinned(self, points: int) -> ForecastView:
        """The view in at most `points` entries (the series' values too): each run of
        consecutive points gives its lowest value at its first t and its highest at its last,
        as the plots decimate (widgets/plot_view.py), so the curves still span every value and
        the noise is drawn; the errors stay those of every point. A million-point series'
        curves, decimated on the screen's event loop, held it 0.4 s."""
        n = len(self.series)
        stride = -(-n // max(points // 2, 1))
        if n <= points or stride <= 1:
            return self
        return replace(
            self,
            series=replace(self.series, values=_envelope(self.series.values, stride)),
            one_step=_envelope(self.one_step, stride),
            multistep=_envelope(self.multistep, stride),
            k_step={k: _envelope(v, stride) for k, v in self.k_step.items()},
            t=_ends(np.arange(1.0, n + 1), stride),
        )


def _blocks(values: np.ndarray, stride: int) -> np.ndarray:
    """`values` as rows of `stride` (the last padded with NaN)."""
    buckets = -(-len(values) // stride)
    padded = np.full(buckets * stride, np.nan)
    padded[: len(values)] = values
    return padded.reshape(buckets, stride)


def _envelope(values: np.ndarray, stride: int) -> np.ndarray:
    """Each run of `stride` entries' lowest then highest finite value (NaN where none is)."""
    blocks = _blocks(values, stride)
    pairs = np.stack((np.fmin.reduce(blocks, axis=1), np.fmax.reduce(blocks, axis=1)), axis=1)
    return pairs.reshape(-1)


def _ends(t: np.ndarray, stride: int) -> np.ndarray:
    """Each run of `stride` times' first and last."""
    first = t[::stride]
    last = np.append(t[stride - 1 :: stride], t[-1])[: len(first)]
    return np.stack((first, last), axis=1).reshape(-1)


def load_forecaster(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """(checkpoint, model in eval mode) of a forecast run; ForecastError (one line) otherwise."""
    from rnn_tui.checkpoints import CheckpointError
    from rnn_tui.checkpoints.checkpoint import load_checkpoint
    from rnn_tui.models.base import ModelError

    try:
        checkpoint = load_checkpoint(path)
        if checkpoint.task != "forecast":
            raise ForecastError(
                f"{checkpoint.file} is a {checkpoint.task!r} checkpoint; forecasting needs a "
                "forecast one"
            )
        model = checkpoint.build_model(device)
    except (CheckpointError, ModelError) as exc:
        raise ForecastError(str(exc)) from None
    return checkpoint, model.eval()


def _saved(meta: dict, key: str, kind: type, what: str):
    value = meta.get(key)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ForecastError(f"the checkpoint's series record has no valid {what}")
    return value


def forecast_view(path: str | os.PathLike, device: str | torch.device = "cpu") -> ForecastView:
    """The predictions and errors of the forecast checkpoint `path` (a run directory: its
    best), and the epoch it was saved at."""
    checkpoint, model = load_forecaster(path, device)
    config, saved = checkpoint.config, checkpoint.meta.get("series")
    if not isinstance(saved, dict):
        raise ForecastError(f"{checkpoint.json_path} has no series record")
    try:
        series = load_series(
            str(config.get("series", "")),
            str(config.get("column", "")),
            length=int(config.get("length", 1000)),
            seed=int(config.get("noise_seed", 0)),
            encoding=str(config.get("encoding", "utf-8")),
        )
    except DataError as exc:
        raise ForecastError(str(exc)) from None
    fingerprint = hashlib.sha256(series.values.tobytes()).hexdigest()[:16]
    if fingerprint != saved.get("fingerprint"):
        raise ForecastError(
            f"the series {series.name} changed since this model was trained (the file changed, "
            "or this version of rnn-tui reads its header or columns differently)"
        )
    t = _saved(saved, "transform", dict, "transform")
    transform = SeriesTransform(
        bool(t.get("log")), bool(t.get("diff")), float(t.get("mean", 0)), float(t.get("std", 1))
    )
    first_test = _saved(saved, "first_test", int, "split")
    horizons = [k for k in _saved(saved, "horizons", list, "horizons") if isinstance(k, int)]
    period = saved.get("period") if isinstance(saved.get("period"), int) else None
    view = _view(model, config, series, transform, first_test, horizons, period, device)
    return replace(view, epoch=checkpoint.epoch)


@torch.no_grad()
def _view(model, config, series, transform, first_test, horizons, period, device) -> ForecastView:
    x = series.values
    z = torch.tensor(transform.forward(x), dtype=torch.float32, device=device)
    offset, n = transform.offset, len(z)
    tau = model.tau
    min_start = tau - 1 if config.get("first", "drop") == "drop" else 0

    # The latent model's state after every point, found once for all k (None for the MLP).
    known = model.states(z, 0, n - 1)

    def aligned(k: int, starts: np.ndarray) -> np.ndarray:
        out = np.full(len(x), np.nan)
        if len(starts):
            starts_t = torch.from_numpy(starts).to(device)
            paths = model.paths(z, starts_t, k, known)[:, transform.needed(k)]
            levels = transform.levels(paths.double().cpu().numpy(), x[starts + offset])
            out[starts + k + offset] = levels[:, -1]
        return out

    def starts_for(k: int) -> np.ndarray:
        return np.arange(min_start, n - k)

    one_step = aligned(1, starts_for(1))
    k_step = {k: aligned(k, starts_for(k)) for k in horizons}
    multistep = np.full(len(x), np.nan)
    start = first_test - 1  # the last training label: everything after it is predicted
    if n - 1 - start > 0:
        path = model.paths(z, torch.tensor([start], device=device), n - 1 - start, known)
        levels = transform.levels(path.double().cpu().numpy(), x[[start + offset]])[0]
        multistep[start + 1 + offset :] = levels
    targets = np.arange(first_test, n) + offset
    errors: dict[int, dict[str, dict]] = {}
    winners: dict[int, str | None] = {}
    baselines = baseline_errors(x, targets, horizons, period)
    for k in horizons:
        row = {}
        predicted = k_step[k][targets]
        if not np.isnan(predicted).any():
            row[model.kind] = forecast_errors(predicted, x[targets])
        row.update({name: by_k[k] for name, by_k in baselines.items() if k in by_k})
        errors[k] = row
        winners[k] = winner({name: e["rmse"] for name, e in row.items()})
    return ForecastView(
        model.kind,
        series,
        first_test + offset,
        one_step,
        multistep,
        k_step,
        errors,
        winners,
        period,
    )


__all__ = ["ForecastError", "ForecastView", "forecast_view", "load_forecaster"]
