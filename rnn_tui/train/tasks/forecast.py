"""Forecasting a series: the seeds' sequence models (d2l §8.1 "序列模型") as a task of the engine.

    features[i] = (z_{i}, …, z_{i+τ−1}),  label z_{i+τ}       (d2l: x[i : T−τ+i] for i < τ)
    l = mean (ẑ − z)² over a minibatch                        (MSE; Adam, lr 0.01, batch 16)

z is the series after the optional log, differencing and scaling (data/series_transform.py,
fitted on the training part only). The first `n_train` pairs train and the rest are held out.
The autoregressive MLP reads each pair's τ values; a latent model (RNN/GRU/LSTM) reads the
`num_steps` values before each training label and is trained to predict every next value of
that window (teacher forcing).

Each epoch scores the held-out points k steps ahead for every k in `horizons`: the model
predicts k values on its own output (models/forecast.py `paths`), and the error is measured in
the series' own units against the naive and seasonal-naive forecasts of the same points
(data/series_baselines.py). The held-out points are the same for every k, so the growth of
the error with k is measured, not a change of sample. `best` is the lowest one-step MSE, and
the summary's table is the `best` checkpoint's (what the Forecast screen shows of the run), not
the last epoch's.
"""

from __future__ import annotations

import hashlib
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from rnn_tui.checkpoints.checkpoint import Checkpoint
from rnn_tui.data.series_baselines import detect_period
from rnn_tui.data.series_files import SINE, load_series
from rnn_tui.data.timeseries import ar_features
from rnn_tui.metrics.forecast import baseline_errors, forecast_errors, winner
from rnn_tui.train.config import Config, ConfigError
from rnn_tui.train.forecast_options import parse_horizons
from rnn_tui.train.forecast_plan import SINE_NOISE, plan_split, plan_transform, scaled
from rnn_tui.train.preparing import progress_for
from rnn_tui.train.progress import Progress
from rnn_tui.train.shard import Sharded
from rnn_tui.train.task import Evaluation, epoch_generator

NOISE = SINE_NOISE


class ForecastTask(Sharded):
    """A series, its transform, its feature–label pairs and held-out tail (module docstring)."""

    batching = "torch.Generator seeded with (seed, epoch): a permutation of the training pairs"
    perplexity = False
    cross_entropy = False  # a mean squared error, in the series' units squared

    def __init__(self, config: Config, device: torch.device) -> None:
        self.config, self.device = config, device
        try:  # before a large series is read
            parse_horizons(config.horizons)
        except ValueError as exc:
            raise ConfigError(str(exc)) from None
        if config.model == "mlp" and config.layers != 1:
            raise ConfigError(
                "the autoregressive MLP has one hidden layer: --layers is for rnn/gru/lstm"
            )
        self.series = load_series(
            config.series,
            config.column,
            length=config.length,
            noise=NOISE,
            seed=config.noise_seed,
            encoding=config.encoding,
            progress=progress_for(os.path.basename(str(config.series)), "reading"),
        )
        x = self.series.values
        tau, offset = config.tau, 1 if config.diff else 0
        # The checks the Forecast screen's form makes too (train/forecast_plan.py).
        self.horizons, split = plan_split(
            len(x),
            tau=tau,
            first=config.first,
            diff=config.diff,
            n_train=config.n_train,
            horizons=config.horizons,
            sine_length=config.length if config.series == SINE else None,
            name=f"series {self.series.name}",
        )
        self.first_label, self.n_train = split.first_label, split.n_train
        self.first_test = split.first_test  # z-index of the first held-out label
        self.transform, z = plan_transform(
            x, split, log=config.log, diff=config.diff, scale=scaled(config.scale, config.series)
        )
        self.offset = offset
        self.z_values = z
        self.z = torch.tensor(z, dtype=torch.float32, device=device)
        features, labels = ar_features(z.astype(np.float32), tau, config.first)
        self.features = torch.from_numpy(features[: self.n_train]).to(device)
        self.labels = torch.from_numpy(labels[: self.n_train]).to(device)
        self.targets = np.arange(self.first_test, len(z))  # held-out labels, z-indices
        self.period = (
            config.period or self.series.period_hint or detect_period(x[: self.first_test])
        )
        self.num_batches = math.ceil(self.n_train / config.batch_size)
        self.units_per_epoch = self.n_train
        self.sample_prefix = ""
        self._baselines = baseline_errors(x, self.targets + offset, self.horizons, self.period)
        self.last_scores: dict = {}
        # The scores of the epoch the engine keeps as `best` (the same rule: `selection`, then
        # the held-out loss), kept in the checkpoints so a resumed run's summary has them too.
        self.best_scores: dict = {}

    # -- the model --------------------------------------------------------------------------

    def model_config(self) -> dict:
        cfg = self.config
        config = {"model": "forecast", "kind": cfg.model, "tau": cfg.tau, "hidden": cfg.hidden}
        if cfg.model != "mlp":
            config["layers"] = cfg.layers
        return config

    def _fingerprint(self) -> str:
        return hashlib.sha256(self.series.values.tobytes()).hexdigest()[:16]

    def check_resume(self, checkpoint: Checkpoint) -> None:
        series = checkpoint.meta.get("series") or {}
        if series.get("fingerprint") != self._fingerprint():
            raise ConfigError(
                f"the series {self.config.series} changed since the run started (its values "
                "differ from the checkpoint's: the file changed, or this version of rnn-tui "
                "reads its header or columns differently)"
            )
        self.best_scores = _scores_from_json(series.get("best_scores"))
        metrics = checkpoint.meta.get("metrics") or {}
        best, tiebreak = metrics.get("best_metric"), metrics.get("best_tiebreak")
        if not self.best_scores and isinstance(best, float | int):
            # Written before the scores were kept: a stand-in with the engine's best, so that
            # only an epoch beating it takes its place (it is shown, saved, as none).
            one = {"mse": float(best), "rmse": math.nan, "mape": None}
            val_loss = float(tiebreak) if isinstance(tiebreak, float | int) else math.inf
            self.best_scores = {
                "val_loss": val_loss,
                "model": {self.horizons[0]: one},
                "stand_in": 1,
            }

    def checkpoint_meta(self) -> dict:
        return {
            "series": {
                "name": self.series.name,
                "column": self.series.column,
                "fingerprint": self._fingerprint(),
                "transform": self.transform.to_dict(),
                "n_train": self.n_train,
                "first_test": self.first_test,
                "period": self.period,
                "horizons": list(self.horizons),
                "best_scores": _scores_to_json(self.best_scores),
            }
        }

    # -- data -------------------------------------------------------------------------------

    def data_sizes(self) -> dict:
        return {
            "train_tokens": self.n_train,
            "val_tokens": len(self.targets),
            "train_pairs": self.n_train,
            "val_pairs": len(self.targets),
            "series_points": len(self.series),
        }

    def data_text(self) -> str:
        cfg = self.config
        first = "first τ dropped" if cfg.first == "drop" else "first τ padded"
        return (
            f"{self.n_train:,} training / {len(self.targets):,} held-out pairs of "
            f"{self.series.name} ({len(self.series):,} points, τ = {cfg.tau}, {first}), "
            f"{self.num_batches:,} minibatches of {cfg.batch_size}"
        )

    @property
    def divergence_advice(self) -> str | None:
        """For a series left unscaled whose values reach 1,000 or more: scaling, before --lr.
        Its squared errors and their gradients overflow float32 long before its values do."""
        t, top = self.transform, float(np.max(np.abs(self.z_values), initial=0.0))
        if (t.mean, t.std) != (0.0, 1.0) or not top >= 1e3:
            return None
        advice = "try --scale auto, or a smaller --lr or --clip"
        return f"the series is unscaled, its values up to {top:.3g}: {advice}"

    def notes(self) -> list[str]:
        t = self.transform
        steps = [name for name, on in (("log", t.log), ("differenced", t.diff)) if on]
        fitted = "fitted on the training part"
        if (t.mean, t.std) == (0.0, 1.0):
            steps.append("not scaled")
        elif t.flat:
            steps.append("centred")  # a flat training part has no spread to scale by
            fitted += ", which is flat: not scaled"
        else:
            steps.append("scaled")
        season = f"season {self.period}" if self.period else "no season found"
        if self.period and not self._baselines["seasonal_naive"]:
            season += " (longer than the history before the held-out points: no seasonal baseline)"
        one = self._baselines["naive"][self.horizons[0]]
        return [
            f"series {', '.join(steps)} ({fitted}); {season}; naive "
            f"{self.horizons[0]}-step RMSE on the held-out points {one['rmse']:.4g}"
        ]

    def baseline(self) -> float | None:
        return None  # no perplexity to compare with: the baselines are in the metrics

    # -- training ---------------------------------------------------------------------------

    def epoch_data(self, model, epoch: int):
        generator = epoch_generator(self.config.seed, epoch)
        return torch.randperm(self.n_train, generator=generator).to(self.device)

    def batch_loss(self, model, order, b: int, fresh: bool) -> torch.Tensor:
        B = self.config.batch_size
        batch = order[b * B : (b + 1) * B]
        rows, weight = self.shard.rows(batch)
        # The config, not model.kind: `model` may be a DistributedDataParallel wrapper.
        if self.config.model == "mlp":
            predictions, labels = model(self.features[rows]), self.labels[rows]
            if not self.shard.active:
                return F.mse_loss(predictions, labels)
            # Data-parallel (train/shard.py): over the whole minibatch's predicted values.
            total = F.mse_loss(predictions, labels, reduction="sum")
            return self.shard.mean(total, len(batch) * labels[0].numel(), weight)
        total, count = self._window_loss(model, rows)
        if self.shard.active:
            count = self._window_index(batch)[:, 1:].ge(0).sum()
        return self.shard.mean(total, count, weight)

    def _window_index(self, rows: torch.Tensor) -> torch.Tensor:
        """The z-indices each row reads and predicts: the num_steps before its label, then
        the label (negative before the series starts)."""
        L = self.config.num_steps
        label = rows + self.first_label  # z-index of each row's label
        return label[:, None] - L + torch.arange(L + 1, device=self.device)

    def _window_loss(self, model, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The latent model reads the num_steps values before each label (zeros before the
        series starts) and predicts every next one; padded targets do not count. The squared
        errors' sum and how many targets counted."""
        index = self._window_index(rows)
        values = torch.where(index >= 0, self.z[index.clamp(min=0)], 0.0)
        predictions, _ = model(values[:, :-1])
        mask = (index[:, 1:] >= 0).float()
        return ((predictions - values[:, 1:]) ** 2 * mask).sum(), mask.sum()

    # -- evaluation -------------------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self, model) -> Evaluation:
        """One-step MSE of the held-out labels (in z, the training loss's units) and, per
        horizon, the held-out errors in the series' units."""
        model.eval()
        try:
            self.last_scores = self.score(model)
        finally:
            model.train()
        if _better(self.last_scores, self.best_scores, self.horizons[0]):
            self.best_scores = self.last_scores
        one = self.last_scores["model"][self.horizons[0]]
        metrics = {f"mse_{k}": v["mse"] for k, v in self.last_scores["model"].items()}
        metrics.update(rmse=one["rmse"], mape=one["mape"])
        return Evaluation(self.last_scores["val_loss"], metrics)

    def score(self, model) -> dict:
        """{"val_loss", "model": {k: errors}} for the held-out points (model in eval mode)."""
        x, targets = self.series.values, self.targets
        errors, val_loss = {}, None
        # The latent model's states at every start of every horizon, found once.
        first = int(targets.min()) - max(max(self.horizons), 1)
        known = model.states(self.z, max(first, 0), int(targets.max()) - 1)
        for k in self.horizons:
            starts = torch.from_numpy(targets - k).to(self.device)
            paths = model.paths(self.z, starts, k, known)[:, self.transform.needed(k)]
            paths = paths.double().cpu().numpy()
            if k == 1:
                val_loss = float(np.mean((paths[:, 0] - self.z_values[targets]) ** 2))
            anchors = x[targets - k + self.offset]
            levels = self.transform.levels(paths, anchors)[:, -1]
            errors[k] = forecast_errors(levels, x[targets + self.offset])
        if val_loss is None:  # 1 is not among the horizons: one-step still measures the loss
            starts = torch.from_numpy(targets - 1).to(self.device)
            one = model.paths(self.z, starts, 1, known).double().cpu().numpy()[:, 0]
            val_loss = float(np.mean((one - self.z_values[targets]) ** 2))
        return {"val_loss": val_loss, "model": errors}

    def selection(self, train_ppl, val_ppl, metrics: dict) -> float:
        """`best` is the lowest held-out MSE at the first horizon."""
        return metrics.get(f"mse_{self.horizons[0]}", math.inf)

    def comparison(self, scores: dict | None = None) -> dict:
        """Per horizon: RMSE and MAPE of the model (`scores`, else the last epoch's) and of
        each baseline, and the winner."""
        name, scores = self.config.model, self.last_scores if scores is None else scores
        table: dict = {}
        for k in self.horizons:
            row = {name: scores.get("model", {}).get(k)}
            for baseline, by_k in self._baselines.items():
                if k in by_k:
                    row[baseline] = by_k[k]
            best = winner({n: (e or {}).get("rmse") for n, e in row.items()})
            table[k] = {"errors": row, "winner": best}
        return table

    def sample(self, model) -> str:
        if not self.last_scores:
            self.evaluate(model)
        return self._table_text(self.comparison())

    def _table_text(self, table: dict) -> str:
        """ "k=1 RMSE mlp 51.68 (naive 53.35, …; seasonal_naive wins); k=4 …" of `table`."""
        parts = []
        for k, row in table.items():
            # Every predictor's RMSE, each named as the winner is: "seasonal_naive wins" was
            # said of a baseline whose number was never shown.
            errors = [
                f"{name} {_rmse_text(e['rmse'])}"
                for name, e in row["errors"].items()
                if e is not None
            ]
            rest = ", ".join(errors[1:])
            parts.append(f"k={k} RMSE {errors[0]} ({rest}; {row['winner']} wins)")
        return "; ".join(parts)

    # -- what people read -------------------------------------------------------------------

    def best_text(self, best_metric: float | None, best_epoch: int | None, last: dict) -> str:
        if best_metric is None or not math.isfinite(best_metric):
            return ""
        k = self.horizons[0]
        return f"; best held-out {k}-step RMSE {math.sqrt(best_metric):.4g} (epoch {best_epoch})"

    def epoch_text(self, event: dict) -> str:
        rmse = event.get("rmse")
        return "" if rmse is None else f"  RMSE {rmse:.4g}"

    def summary(self, progress: Progress) -> dict:
        """The table of the checkpoint the summary names — `best`'s, else (no finite epoch)
        the last epoch's — with its epoch; "sample" is that table's line, named so: the last
        epoch's line disagreed with the best RMSE said beside it."""
        if progress.best_epoch is None:
            scores, epoch, which = self.last_scores, progress.epoch or None, "last"
        else:  # a resume from a checkpoint that kept no scores has none to show
            scores, epoch, which = self.best_scores, progress.best_epoch, "best"
            if scores.get("stand_in"):
                scores = {}
        table = self.comparison(scores)
        out = {
            "series": self.series.name,
            "horizons": list(self.horizons),
            "period": self.period,
            "held_out": len(self.targets),
            "forecast": {str(k): row for k, row in table.items()},
            "forecast_epoch": epoch if scores else None,
        }
        if scores:
            out["sample"] = f"{which}, epoch {epoch}: {self._table_text(table)}"
        elif self.last_scores:  # the last epoch's line, said to be the last's
            last = self._table_text(self.comparison(self.last_scores))
            out["sample"] = f"last, epoch {progress.epoch}: {last}"
        return out


def _better(scores: dict, best: dict, k: int) -> bool:
    """Whether `scores` beat `best` by the engine's rule for `best`: a lower finite MSE at the
    first horizon, then, on a tie, a lower held-out loss."""
    mse = scores["model"][k]["mse"]
    if not math.isfinite(mse):
        return False
    if not best:
        return True
    kept = best["model"][k]["mse"]
    return mse < kept or (mse == kept and scores["val_loss"] < best["val_loss"])


def _scores_to_json(scores: dict) -> dict | None:
    """`scores` as a checkpoint keeps them (JSON keys are strings)."""
    if not scores or scores.get("stand_in"):
        return None
    model = {str(k): errors for k, errors in scores["model"].items()}
    return {"val_loss": scores["val_loss"], "model": model}


def _scores_from_json(saved) -> dict:
    """A checkpoint's best scores back ({} when it has none: one written before they were kept,
    whose summary then names no epoch rather than the wrong one)."""
    if not isinstance(saved, dict) or not isinstance(saved.get("model"), dict):
        return {}
    try:
        model = {int(k): _errors_from_json(e) for k, e in saved["model"].items()}
        return {"val_loss": _number(saved["val_loss"]), "model": model}
    except (AttributeError, KeyError, TypeError, ValueError):
        return {}


def _errors_from_json(saved: dict) -> dict:
    """{"mse", "rmse", "mape"} back: JSON writes a diverged model's inf or NaN as null."""
    mape = saved.get("mape")
    return {
        "mse": _number(saved["mse"]),
        "rmse": _number(saved["rmse"]),
        "mape": None if mape is None else float(mape),
    }


def _number(value) -> float:
    return math.nan if value is None else float(value)


def _rmse_text(value: float) -> str:
    """An RMSE in a sample line: a diverged model's is "not finite", not inf or nan."""
    return f"{value:.4g}" if math.isfinite(value) else "not finite"


TASK = ForecastTask

__all__ = ["TASK", "ForecastTask"]
