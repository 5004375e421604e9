"""What a run records besides its events: the JSON half of every checkpoint, and the summary
`rnn-tui train --json` prints at the end."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnn_tui.checkpoints.device import describe_device
from rnn_tui.train.config import Config
from rnn_tui.train.progress import Progress
from rnn_tui.train.task import Task

if TYPE_CHECKING:
    from rnn_tui.train.engine import Trainer


def checkpoint_meta(
    config: Config,
    task: Task,
    progress: Progress,
    baseline_ppl: float | None,
    baseline_name: str | None = None,
) -> dict:
    """A checkpoint's JSON (besides what save_checkpoint adds): the config, the task's
    vocabularies, where training stands (epoch, step, a partial epoch's sums) and the metric
    history, so the checkpoint alone rebuilds the model and resumes the run. `baseline_name`
    names the n-gram of `baseline_ppl`, None with it (a task without a perplexity baseline)."""
    p = progress
    return {
        "config": config.to_dict(),
        **task.checkpoint_meta(),
        "epoch": p.epoch,
        "step": p.step,
        "batch": p.batch,
        "partial": {"loss_sum": p.loss_sum, "norm_sum": p.norm_sum, "epoch_time": p.epoch_time},
        "metrics": {
            "elapsed": p.elapsed,
            "best_metric": p.best_metric,
            "best_epoch": p.best_epoch,
            "best_tiebreak": p.best_tiebreak,
            "baseline_ppl": baseline_ppl,
            "baseline_name": baseline_name,
            "history": p.history,
            "extremes": p.extremes,
            "last_sample": p.last_sample,
        },
        # Minibatches are a function of (seed, epoch): no batching RNG state to save.
        "batching": task.batching,
    }


def unlogged_epochs(progress: Progress, logged: int, epochs: int, batches: int) -> list[dict]:
    """The epoch events of the epochs after `logged` (the last one metrics.jsonl has) that the
    checkpoint of `progress` completed, rebuilt from its history. A trainer saves an epoch's
    checkpoints before it logs the epoch; one killed between the two left a gap that the
    resumed run kept. Marked "recovered"; what only the killed session knew (its ETA, memory,
    learning rate) is left out."""
    p = progress
    events = []
    for record in p.history:
        epoch = record.get("epoch")
        if not isinstance(epoch, int) or isinstance(epoch, bool) or not logged < epoch <= p.epoch:
            continue
        ended = epoch == p.epoch and p.batch == 0  # the checkpoint was saved right then
        extra = {"step": p.step, "elapsed": p.elapsed} if ended else {}
        events.append(
            {
                **record,
                "epochs": epochs,
                "best": epoch == p.best_epoch,
                "batches": batches,
                "recovered": True,
                **extra,
            }
        )
    return events


def run_summary(trainer: Trainer, units_per_s: float | None) -> dict:
    """The run's outcome: status, epochs, the last and best perplexities, the checkpoint to
    use (best, else last), this session's tokens/s, and the task's own keys."""
    p = trainer.progress
    last = p.history[-1] if p.history else {}
    # A checkpoint NAME is NAME.json and the tensor file it names; NAME.safetensors is its name.
    best_path = trainer.run_dir.checkpoints / "best.safetensors"
    last_path = trainer.run_dir.checkpoints / "last.safetensors"
    has_best, has_last = (p.with_suffix(".json").exists() for p in (best_path, last_path))
    checkpoint = best_path if has_best else last_path if has_last else None
    return {
        "run_dir": str(trainer.run_dir.path),
        "status": trainer.status,
        "message": trainer.message,
        "task": trainer.config.task,
        "model": trainer.config.get("model", trainer.model.config().get("model")),
        "device": describe_device(trainer.device),
        # How the steps ran (train/step.py): e.g. "CUDA graph · fp32 (captured in 1.2 s)".
        "path": trainer.path.text(),
        "path_notes": list(trainer.path.notes),
        "warmup_s": trainer.path.warmup_s,
        "recompiles": trainer.path.recompiles,
        "recompile_s": trainer.path.recompile_s,
        "num_params": trainer.num_params,
        "epochs": p.epoch,
        "epochs_total": trainer.config.epochs,
        "tokens_per_s": units_per_s,
        "train_loss": last.get("train_loss"),
        "val_loss": last.get("val_loss"),
        "train_ppl": last.get("train_ppl"),
        "val_ppl": last.get("val_ppl"),
        "best_val_ppl": p.lowest("val_ppl"),
        "best_epoch": p.best_epoch,
        "baseline_ppl": trainer.baseline_ppl,
        "baseline_name": trainer.baseline_name,
        "sample": p.last_sample,
        "checkpoint": str(checkpoint) if checkpoint is not None else None,
        "last_checkpoint": str(last_path) if has_last else None,
        "elapsed": p.elapsed,
        **trainer.task.summary(p),
    }


__all__ = ["checkpoint_meta", "run_summary"]
