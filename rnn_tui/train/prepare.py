"""What a run trains: the model (fresh, or a checkpoint's) and its optimizer, with everything a
resume needs checked before a run directory is touched.

Refused here, each with one line: a model that would not fit in memory (estimated from its exact
parameter count before anything is allocated: rnn_tui.models.memory), a model config out of
range, an allocation that fails anyway, and a checkpoint whose optimizer state, RNG state or
progress cannot be restored — so a resume that cannot work changes nothing on disk.
"""

from __future__ import annotations

from contextlib import nullcontext

import torch

from rnn_tui.checkpoints import CheckpointError
from rnn_tui.checkpoints.checkpoint import Checkpoint
from rnn_tui.checkpoints.device import available_memory, is_out_of_memory
from rnn_tui.checkpoints.memory_claims import Claims, claiming
from rnn_tui.models.base import ModelError
from rnn_tui.models.memory import size_text, training_bytes
from rnn_tui.models.registry import build_model
from rnn_tui.train.config import Config, ConfigError
from rnn_tui.train.optimizers import SGD, Adam
from rnn_tui.train.progress import Progress, plural_epochs
from rnn_tui.train.task import Task

# The options that shrink training's memory, where the task has them (classify has no
# --num-steps: advice that named it was refused when followed).
SHRINKING = ("hidden", "layers", "batch_size", "num_steps")
VOCAB_KEYS = ("vocab_size", "src_vocab_size", "tgt_vocab_size")


def advice(config: Config) -> str:
    """The advice "try a smaller --hidden, --layers, --batch-size or --num-steps", naming only
    the options the run's task declares."""
    flags = [config.spec.option(name).flag for name in SHRINKING if config.spec.has(name)]
    listed = ", ".join(flags[:-1]) + f" or {flags[-1]}" if len(flags) > 1 else flags[0]
    return f"try a smaller {listed}"


def memory_advice(model_config: dict, config: Config, need: int) -> str:
    """What to change when training needs `need` bytes too many. Where the vocabulary takes
    most of it (a word-level corpus of millions of distinct words: its output layer and logits,
    d2l's V-wide softmax at every step), --min-freq is the option that helps."""
    vocab = max((int(model_config.get(key) or 0) for key in VOCAB_KEYS), default=0)
    if vocab > 1000:
        small = {**model_config, **{key: 2 for key in VOCAB_KEYS if key in model_config}}
        steps = config.get("num_steps", 32)
        try:
            rest = training_bytes(small, config.batch_size, steps, config.optimizer)["total"]
        except ModelError:
            return advice(config)
        if rest < need / 2 and config.spec.has("min_freq"):
            char = " or --token char" if config.spec.has("token") else ""
            return (
                f"its {vocab:,}-token vocabulary takes most of it: raise --min-freq (rarer "
                f"tokens become <unk>){char}, or {advice(config).removeprefix('try ')}"
            )
    return advice(config)


def check_memory(
    model_config: dict, config: Config, device: torch.device, claims_here: bool = True
) -> None:
    """ConfigError when training the model would need more memory than `device` has free: on
    the CPU less what other trainers' claims have yet to take, and the need claimed in turn
    (`claims_here` False: a rank of a data-parallel run, whose ranks check at once and must
    agree, as the same free memory makes them)."""
    try:
        # A task without num_steps reads whole short sequences (names): 32 steps bound them.
        steps = config.get("num_steps", 32)
        need = training_bytes(model_config, config.batch_size, steps, config.optimizer)
    except ModelError as exc:
        raise ConfigError(str(exc)) from None
    # On the CPU, less what trainers started beside this one have yet to take (memory_claims);
    # the free memory read under their lock, with their resident memory.
    counted = device.type == "cpu" and claims_here
    with claiming() if counted else nullcontext(Claims(None, [])) as claims:
        have = available_memory(device)
        if have is not None and need["total"] > have - claims.outstanding:
            parts = ", ".join(
                f"{name} {size_text(need[name])}"
                for name in ("parameters", "gradients", "optimizer", "activations", "workspace")
                if need[name]
            )
            others = claims.describe()
            raise ConfigError(
                f"training this model needs about {size_text(need['total'])} ({parts}), more "
                f"than the {size_text(max(0, have - claims.outstanding))} free on {device}"
                f"{f' ({size_text(have)} available, of which {others})' if others else ''}: "
                f"{memory_advice(model_config, config, need['total'])}"
            )
        claims.record(need["total"])


def prepare_model(
    task: Task,
    config: Config,
    device: torch.device,
    resume: Checkpoint | None,
    distributed: bool = False,
) -> torch.nn.Module:
    """The model in train mode on `device`: the checkpoint's, or a fresh one (seeded)."""
    model_config = resume.model_config if resume is not None else task.model_config()
    check_memory(model_config, config, device, claims_here=not distributed)
    torch.manual_seed(config.seed)
    try:
        model = resume.build_model(device) if resume is not None else build_model(model_config)
        model = model.to(device)
    except ModelError as exc:
        raise ConfigError(str(exc)) from None
    except (RuntimeError, MemoryError) as exc:
        if is_out_of_memory(exc):
            raise ConfigError(
                f"out of memory while building the model on {device}: {advice(config)}"
            ) from None
        raise
    model.train()
    if resume is not None:
        model.prepack_preset = resumed_prepacking(resume)
        model.chain_preset = resumed_prepacking(resume, "chained")
    return model


def resumed_prepacking(resume: Checkpoint, field: str = "prepacked") -> bool | None:
    """The resumed run's measured choice of prepacked or plain products (models/step_matmul.py),
    or with field "chained" of its time loops in C (models/recurrent_chain.py), kept so that its
    later sessions compute what the first did; None where it made none."""
    chosen = resume.meta.get(field)
    if chosen is not None and not isinstance(chosen, bool):
        raise CheckpointError(
            f"checkpoint {resume.json_path}: {field!r} must be true, false or null, "
            f"not {type(chosen).__name__}"
        )
    return chosen


def prepare_optimizer(
    params: list, config: Config, device: torch.device | None = None, graph: bool = False
) -> torch.optim.Optimizer | SGD | Adam:
    """The seeds' `sgd` or Adam over `params` (optimizers.py: one multi-tensor update each,
    torch's very kernels without importing torch._dynamo). On a GPU, Adam is torch's: one fused
    kernel (`fused=True`), or under a CUDA graph capturable (its step count on the device)."""
    if config.optimizer != "adam":
        return SGD(params, lr=config.lr)
    if graph:
        return torch.optim.Adam(params, lr=config.lr, foreach=True, capturable=True)
    if device is not None and device.type == "cuda":
        return torch.optim.Adam(params, lr=config.lr, fused=True)
    return Adam(params, lr=config.lr)


def resumed_progress(
    resume: Checkpoint,
    optimizer: torch.optim.Optimizer | SGD | Adam,
    config: Config,
    num_batches: int,
) -> Progress:
    """Where the checkpoint's run stands, with its optimizer state restored and its RNG states
    checked (restored for real once the run starts); ConfigError when there is nothing left to
    train, CheckpointError for what cannot be restored."""
    resume.restore_optimizer(optimizer)
    # The restored state carries the learning rate it was saved with; the config's is the one
    # to continue at (the same unless `--resume … --lr` asked for another).
    for group in optimizer.param_groups:
        group["lr"] = config.lr
    resume.check_rng()
    progress = Progress.from_meta(resume.meta)
    # batch == num_batches: a stop after an epoch's last minibatch, saved before its
    # validation (earlier versions did): the resume runs no minibatch and ends that epoch.
    if not 0 <= progress.batch <= num_batches or progress.epoch < 0 or progress.step < 0:
        raise CheckpointError(
            f"checkpoint {resume.json_path}: progress out of range (epoch {progress.epoch}, "
            f"minibatch {progress.batch:,} of {num_batches:,}, step {progress.step:,})"
        )
    if progress.epoch >= config.epochs:
        # Stopped partway through an epoch, the run has that epoch yet to finish: with
        # --epochs equal to the epochs done it ended at once, "finished", its partial epoch
        # left behind.
        partway = (
            f" and {progress.batch:,} of {num_batches:,} minibatches of epoch {progress.epoch + 1}"
            if progress.batch
            else ""
        )
        raise ConfigError(
            f"the run already has {plural_epochs(progress.epoch)}{partway}; resume with "
            f"--epochs N, N > {progress.epoch}, to train further"
        )
    return progress


__all__ = [
    "check_memory",
    "prepare_model",
    "prepare_optimizer",
    "resumed_prepacking",
    "resumed_progress",
]
