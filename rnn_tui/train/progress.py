"""Where a run stands — what a checkpoint carries so training continues exactly where it
stopped — and the checks and formats the engine applies to its numbers."""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass, field

from rnn_tui.checkpoints import CheckpointError
from rnn_tui.metrics.perplexity import perplexity


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or inf; the message names the epoch and what to try."""


# Epochs of history a checkpoint carries. A checkpoint is saved every epoch, so a history of
# every epoch made each save longer than the last: 10.8 ms epochs of a tiny corpus took 68 ms
# after 14k epochs, and past ~300k the JSON outgrew what a checkpoint may hold. metrics.jsonl
# keeps every epoch; the extremes below keep what the summaries need of the older ones.
HISTORY_KEPT = 200


@dataclass
class Progress:
    """Epochs and steps done, the partial epoch a stop interrupted, the best epoch so far, the
    last HISTORY_KEPT epochs' summaries and each metric's extremes over all epochs."""

    epoch: int = 0  # epochs completed
    step: int = 0  # optimizer steps taken
    batch: int = 0  # minibatches of epoch `epoch + 1` already done (a stop mid-epoch)
    loss_sum: float = 0.0  # ... and their summed mean losses and gradient norms
    norm_sum: float = 0.0
    epoch_time: float = 0.0  # ... and the training time they took
    elapsed: float = 0.0  # wall time of all sessions so far
    best_metric: float | None = None  # what the task's selection minimises
    best_epoch: int | None = None
    # The best epoch's held-out loss (training loss without held-out data): of two epochs
    # whose metric ties (BLEU 0.0, a macro-F1), the one with the lower loss is best.
    best_tiebreak: float | None = None
    history: list[dict] = field(default_factory=list)  # the last HISTORY_KEPT epochs' summaries
    last_sample: str | None = None
    # metric → [lowest, highest] over every completed epoch (finite numbers only)
    extremes: dict[str, list[float]] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def add_epoch(self, record: dict) -> None:
        """Append an epoch's summary, forget the oldest beyond HISTORY_KEPT, update extremes."""
        self.history.append(record)
        if len(self.history) > HISTORY_KEPT:
            del self.history[: len(self.history) - HISTORY_KEPT]
        for key, value in record.items():
            if key == "epoch" or not _is_number(value):
                continue
            seen = self.extremes.get(key)
            if seen is None:
                self.extremes[key] = [value, value]
            else:
                seen[0], seen[1] = min(seen[0], value), max(seen[1], value)

    def lowest(self, key: str) -> float | None:
        """The lowest finite `key` of any epoch so far (None if none had one)."""
        seen = self.extremes.get(key)
        return seen[0] if seen else None

    def highest(self, key: str) -> float | None:
        """The highest finite `key` of any epoch so far (None if none had one)."""
        seen = self.extremes.get(key)
        return seen[1] if seen else None

    @classmethod
    def from_meta(cls, meta: dict) -> Progress:
        """The progress a checkpoint recorded (its "epoch", "step", "batch", "partial" and
        "metrics"); CheckpointError when they are malformed."""
        metrics = _section(meta, "metrics")
        partial = _section(meta, "partial")
        history = metrics.get("history", [])
        if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
            raise CheckpointError("malformed training progress in the checkpoint: its history")
        # Each field checked, named when wrong: a NaN partial loss passed, and the resumed
        # run ended "loss became nan" with advice about --lr, its finished status now failed.
        best_epoch = metrics.get("best_epoch")
        last_sample = metrics.get("last_sample")
        if not (best_epoch is None or _is_count(best_epoch)):
            raise CheckpointError(_malformed("metrics.best_epoch", best_epoch))
        if not (last_sample is None or isinstance(last_sample, str)):
            raise CheckpointError(_malformed("metrics.last_sample", last_sample))
        try:
            extremes = _extremes(metrics.get("extremes", {}))
            best_metric = _number_or_none(metrics.get("best_metric"))
            best_tiebreak = _number_or_none(metrics.get("best_tiebreak"))
        except ValueError:
            raise CheckpointError("malformed training progress in the checkpoint") from None
        return cls._with_history(
            cls(
                epoch=_field(meta, "epoch", "", _is_count),
                step=_field(meta, "step", "", _is_count),
                batch=_field(meta, "batch", "", _is_count),
                loss_sum=_field(partial, "loss_sum", "partial.", _is_amount),
                norm_sum=_field(partial, "norm_sum", "partial.", _is_amount),
                epoch_time=_field(partial, "epoch_time", "partial.", _is_amount),
                elapsed=_field(metrics, "elapsed", "metrics.", _is_amount),
                best_metric=best_metric,
                best_epoch=best_epoch,
                best_tiebreak=best_tiebreak,
                last_sample=last_sample,
                extremes=extremes,
            ),
            metrics,
            history,
        )

    @staticmethod
    def _with_history(progress: Progress, metrics: dict, history: list[dict]) -> Progress:
        # A checkpoint from before extremes has every epoch's history: replayed, it gives them
        # and keeps the last HISTORY_KEPT.
        if "extremes" in metrics:
            progress.history = history[-HISTORY_KEPT:]
        else:
            for record in history:
                progress.add_epoch(record)
        return progress


def _malformed(name: str, value: object) -> str:
    shown = repr(value) if len(repr(value)) <= 40 else type(value).__name__
    return f"malformed training progress in the checkpoint: {name} is {shown}"


def _section(meta: dict, name: str) -> dict:
    """The checkpoint's "metrics" or "partial" object ({} when absent); a CheckpointError
    naming it when it is something else ("partial": "x" passed as if absent)."""
    value = meta.get(name)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise CheckpointError(_malformed(name, value))
    return value


def _field(section: dict, name: str, where: str, valid) -> int | float:
    """`section[name]` (0 when absent) if `valid` says it may be; else a CheckpointError
    naming it (`where` + `name`)."""
    value = section.get(name, 0)
    if not valid(value):
        raise CheckpointError(_malformed(where + name, value))
    return value


def _is_count(value: object) -> bool:
    """A whole number ≥ 0 (an epoch, a step, a minibatch): not 2.7, not true."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _is_amount(value: object) -> bool:
    """A finite number ≥ 0 (a sum of losses or norms, seconds)."""
    return _is_number(value) and value >= 0


def _number_or_none(value: object) -> float | None:
    """A checkpoint's finite number or None; ValueError for anything else."""
    if value is None:
        return None
    if not _is_number(value):
        raise ValueError("not a finite number")
    return float(value)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _extremes(raw: object) -> dict[str, list[float]]:
    """A checkpoint's extremes, checked: metric name → [lowest, highest]; ValueError if not."""
    if not isinstance(raw, dict):
        raise ValueError("extremes")
    out = {}
    for key, pair in raw.items():
        if not (isinstance(pair, list) and len(pair) == 2 and all(map(_is_number, pair))):
            raise ValueError("extremes")
        if pair[0] > pair[1]:
            raise ValueError("extremes")
        out[str(key)] = [pair[0], pair[1]]
    return out


def check_loss(mean_loss: float, epoch: int, task=None, norms: float = 0.0) -> None:
    """NonFiniteLoss when the mean loss is NaN or inf, or, for a `task` whose loss is a
    cross-entropy (every task's but the forecast's, which says `cross_entropy = False`), so
    large that its exponential overflows (> e^709: the weights have diverged even if no NaN
    has appeared yet; told as the perplexity's only where the task reports one). A forecast's
    mean squared error is in the series' units squared: an unscaled series of values near 100
    starts above 709. Also when a gradient norm was not finite (`norms`, their sum over the
    epoch's minibatches so far). A task may know better advice (`divergence_advice`: an
    unscaled forecast series)."""
    advice = getattr(task, "divergence_advice", None) or "try a smaller --lr or --clip"
    if math.isnan(mean_loss) or math.isinf(mean_loss):
        kind = "nan" if math.isnan(mean_loss) else "inf"
        raise NonFiniteLoss(f"loss became {kind} in epoch {epoch}: {advice}")
    if not math.isfinite(norms):
        # The sum of the minibatches' gradient norms: clipping scales an infinite gradient to
        # zeros (or NaNs), and a forecaster at lr 1e6 "finished" at a loss of 2e32, unmoved.
        kind = "nan" if math.isnan(norms) else "inf"
        raise NonFiniteLoss(f"the gradient norm became {kind} in epoch {epoch}: {advice}")
    if getattr(task, "cross_entropy", True) and math.isinf(perplexity(mean_loss)):
        # A classifier's or tagger's loss is a cross-entropy without a perplexity to speak of.
        why = (
            "perplexity overflows"
            if getattr(task, "perplexity", True)
            else "cross-entropy over 709 nats"
        )
        raise NonFiniteLoss(f"loss diverged to {mean_loss:.3g} in epoch {epoch} ({why}): {advice}")


STEP_EVENTS_PER_EPOCH = 20


def auto_log_every(num_batches: int) -> int:
    """The automatic step-event interval in minibatches: about 20 events per epoch; an epoch of
    fewer than 20 minibatches logs its end only (its epoch event follows at once), so tiny
    epochs do not read the device per batch."""
    if num_batches < STEP_EVENTS_PER_EPOCH:
        return num_batches
    return max(1, round(num_batches / STEP_EVENTS_PER_EPOCH))


# With the automatic rate, at most 10 step events a second: each is an fsync'ed line, and an
# epoch of a small model (the seeds' forecast: 38 minibatches in 25 ms) would spend its time on
# them. Followers poll at 2-4 Hz, so they see no difference.
STEP_EVENT_MIN_S = 0.1
# And at least one every 2 s: a long epoch shows its progress (one host read each, nothing
# beside a minibatch's work).
STEP_EVENT_MAX_S = 2.0


def task_perplexity(task, loss: float | None) -> float | None:
    """exp(loss) for a task whose loss is a cross-entropy per token; None for one whose loss
    is not (a forecast's mean squared error: the task says `perplexity = False`)."""
    if loss is None or not getattr(task, "perplexity", True):
        return None
    return perplexity(loss)


def finite_or_none(value: float | None) -> float | None:
    """JSON has no NaN/inf: a non-finite metric is written as null."""
    return value if value is not None and math.isfinite(value) else None


def plural_epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def signal_name(signum: int) -> str:
    import signal

    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def memory_mb(device) -> float:
    """Peak CUDA memory allocated on `device` (a torch.device), else this process's resident
    memory, in MiB."""
    if device.type == "cuda":
        import torch

        return torch.cuda.max_memory_allocated(device) / 2**20
    return process_memory_mb()


def process_memory_mb() -> float:
    """This process's resident memory in MiB."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError, AttributeError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


__all__ = [
    "STEP_EVENT_MAX_S",
    "STEP_EVENT_MIN_S",
    "STEP_EVENTS_PER_EPOCH",
    "NonFiniteLoss",
    "Progress",
    "auto_log_every",
    "check_loss",
    "finite_or_none",
    "memory_mb",
    "plural_epochs",
    "process_memory_mb",
    "signal_name",
    "task_perplexity",
]
