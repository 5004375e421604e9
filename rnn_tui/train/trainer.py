"""The language-model trainer: the seeds' `train_ch8` loop, made resumable and observable.

Per minibatch (d2l §8.5 "循环神经网络的从零开始实现", `train_epoch_ch8`):

    state ← begin_state (random sampling: every batch; sequential: at the epoch start only,
            otherwise the previous batch's state, detached — truncated BPTT)
    ŷ, state ← net(X, state)
    l ← cross-entropy(ŷ, Y) averaged over all B·T time steps
    l.backward(); grad_clipping(θ): g ← min(1, θ/‖g‖) g; optimizer step (SGD lr 1 by default)

and per epoch perplexity = exp(mean loss per token). What the book's loop does not do and this one
does: hold out the last `val_fraction` of the token stream and report validation perplexity each
epoch (sequentially, state carried, no grad, eval mode), compare with the Laplace-smoothed trigram
on the same split, write everything to a run directory (rundir.py) and checkpoints (checkpoint.py),
and obey stop/pause requests between minibatches.

Speed: nothing reads a tensor on the host inside the loop. Loss and gradient-norm sums stay on
the device and are read at log points only (≈ 20 per epoch); an epoch's minibatches are gathered
with one numpy fancy-index and moved to the device once.

Reproducibility: the minibatches of epoch e come from `random.Random(f"{seed}:{e}")`, so any
epoch's batches are known without replaying the earlier ones and no batching RNG state needs
saving. Checkpoints carry weights, optimizer state, torch/Python/numpy RNG states and the metric
history, so a run stopped at an epoch boundary and resumed ends with the same per-epoch metrics
(on the CPU) as one that never stopped.

A stop in the middle of an epoch writes `last` with the batches done so far; resuming continues
that epoch with its next minibatch (same order) and a zero hidden state (the carried state is not
saved), and the epoch's metrics combine both sessions.
"""

from __future__ import annotations

import dataclasses
import math
import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from rnn_tui.checkpoints import CheckpointError
from rnn_tui.checkpoints.checkpoint import Checkpoint, save_checkpoint
from rnn_tui.checkpoints.device import describe_device, prepare_device, resolve_device
from rnn_tui.data.corpus import load_corpus
from rnn_tui.data.ngrams import ngram_perplexity
from rnn_tui.data.partition import STRATEGIES, batch_starts, min_batches
from rnn_tui.data.prefix import encode_prefix, join_tokens
from rnn_tui.data.vocab import Vocab
from rnn_tui.metrics.perplexity import perplexity
from rnn_tui.models.base import ModelError, detach_state
from rnn_tui.models.registry import MODEL_NAMES, build_model, count_parameters
from rnn_tui.runs.rundir import RunDir
from rnn_tui.train.clipping import grad_clipping

OPTIMIZERS = ("sgd", "adam")
TASKS = ("lm",)
MAX_VAL_FRACTION = 0.5
STEP_EVENTS_PER_EPOCH = 20
CONTROL_POLL_S = 0.25  # how often the loop stats control.json
PAUSE_POLL_S = 0.2
WORD_EMBED = 128  # default embedding size for word-level concise models


class ConfigError(ValueError):
    """An invalid training configuration; the message is one line naming the option."""


class NonFiniteLoss(RuntimeError):
    """The training loss became NaN or inf; the message names the epoch and what to try."""


@dataclass
class LMConfig:
    """Everything a language-model run is started with (config.json and checkpoints hold it)."""

    task: str = "lm"
    corpus: str = "timemachine"
    token: str = "char"
    mode: str = "clean"
    encoding: str = "utf-8"
    min_freq: int = 0
    model: str = "lstm"
    layers: int = 1
    bidirectional: bool = False
    hidden: int = 256
    embed: int | None = None  # None: 0 (one-hot) for char and scratch models, 128 for word
    dropout: float = 0.0
    batch_size: int = 32
    num_steps: int = 35
    lr: float = 1.0
    optimizer: str = "sgd"
    epochs: int = 50
    clip: float = 1.0
    sampling: str = "sequential"
    max_tokens: int = -1
    val_fraction: float = 0.1
    device: str = "auto"
    seed: int = 0
    sample_every: int = 1  # 0: never
    prefix: str = "time traveller"
    sample_length: int = 50
    log_every: int = 0  # 0: about STEP_EVENTS_PER_EPOCH step events per epoch

    def resolved(self) -> LMConfig:
        """A copy with `embed` decided (None → 0 for char level or a scratch model, else 128)."""
        if self.embed is not None:
            return dataclasses.replace(self)
        one_hot = self.token == "char" or self.model.endswith("-scratch")
        return dataclasses.replace(self, embed=0 if one_hot else WORD_EMBED)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> LMConfig:
        """The config from config.json or a checkpoint (other keys there are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def model_config(self, vocab_size: int) -> dict:
        """What registry.build_model needs."""
        return {
            "model": self.model,
            "vocab_size": vocab_size,
            "hidden": self.hidden,
            "layers": self.layers,
            "dropout": self.dropout,
            "bidirectional": self.bidirectional,
            "embed": self.embed if self.embed is not None else 0,
        }

    def validate(self) -> None:
        """ConfigError (one line) for the first option out of range."""
        if self.task not in TASKS:
            raise ConfigError(f"unknown task {self.task!r} (choose from {', '.join(TASKS)})")
        if self.model not in MODEL_NAMES:
            raise ConfigError(
                f"unknown model {self.model!r} (choose from {', '.join(MODEL_NAMES)})"
            )
        for name in ("layers", "hidden", "batch_size", "num_steps", "epochs", "sample_length"):
            _require_int(name, getattr(self, name), minimum=1)
        for name in ("min_freq", "seed", "sample_every", "log_every"):
            _require_int(name, getattr(self, name), minimum=0)
        if self.embed is not None:
            _require_int("embed", self.embed, minimum=0)
        max_tokens = _require_int("max_tokens", self.max_tokens, minimum=-1)
        if max_tokens == 0:
            raise ConfigError("max_tokens must be positive (or -1 for the whole corpus)")
        validate_training_options(self)
        if self.sampling not in STRATEGIES:
            raise ConfigError(
                f"unknown sampling {self.sampling!r} (choose from {', '.join(STRATEGIES)})"
            )
        if self.sample_every and not (isinstance(self.prefix, str) and self.prefix.strip()):
            raise ConfigError("the sample prefix is empty (give --prefix TEXT or --sample-every 0)")


def validate_training_options(config) -> None:
    """ConfigError (one line) for the options every task shares: lr, clip, dropout,
    val_fraction, optimizer, bidirectional."""
    if not _number(config.lr) or config.lr <= 0:
        raise ConfigError(f"lr must be a number > 0 (got {config.lr!r})")
    if not _number(config.clip) or config.clip <= 0:
        raise ConfigError(f"clip must be a number > 0 (got {config.clip!r})")
    if not _number(config.dropout) or not 0 <= config.dropout < 1:
        raise ConfigError(f"dropout must be in [0, 1) (got {config.dropout!r})")
    if not _number(config.val_fraction) or not 0 <= config.val_fraction <= MAX_VAL_FRACTION:
        raise ConfigError(
            f"val_fraction must be in [0, {MAX_VAL_FRACTION}] (got {config.val_fraction!r})"
        )
    if config.optimizer not in OPTIMIZERS:
        raise ConfigError(
            f"unknown optimizer {config.optimizer!r} (choose from {', '.join(OPTIMIZERS)})"
        )
    if not isinstance(config.bidirectional, bool):
        raise ConfigError(f"bidirectional must be true or false (got {config.bidirectional!r})")


def _number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _require_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ConfigError(f"{name} must be an integer ≥ {minimum} (got {value!r})")
    return value


def epoch_rng(seed: int, epoch: int) -> random.Random:
    """The batching RNG of one epoch: a pure function of (seed, epoch), so epoch e's minibatches
    are reproducible without replaying epochs 1..e−1 (str seeds hash with SHA-512: stable across
    processes and platforms)."""
    return random.Random(f"lm-batches:{seed}:{epoch}")


def memory_mb(device: torch.device) -> float:
    """Peak CUDA memory allocated on `device`, else this process's resident memory, in MiB."""
    if device.type == "cuda":
        return torch.cuda.max_memory_allocated(device) / 2**20
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError, AttributeError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _finite_or_none(value: float | None) -> float | None:
    """JSON has no NaN/inf: a non-finite metric is written as null."""
    return value if value is not None and math.isfinite(value) else None


@dataclass
class _Progress:
    """What a checkpoint must carry for training to continue exactly where it stopped."""

    epoch: int = 0  # epochs completed
    step: int = 0  # optimizer steps taken
    batch: int = 0  # minibatches of epoch `epoch + 1` already done (a stop mid-epoch)
    loss_sum: float = 0.0  # ... and their summed mean losses and gradient norms
    norm_sum: float = 0.0
    epoch_time: float = 0.0  # ... and the training time they took
    elapsed: float = 0.0  # wall time of all sessions so far
    best_metric: float | None = None  # lowest val ppl (train ppl without validation)
    best_epoch: int | None = None
    history: list[dict] = field(default_factory=list)  # one summary per completed epoch
    last_sample: str | None = None

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_meta(cls, meta: dict) -> _Progress:
        metrics = meta.get("metrics") if isinstance(meta.get("metrics"), dict) else {}
        partial = meta.get("partial") if isinstance(meta.get("partial"), dict) else {}
        try:
            return cls(
                epoch=int(meta.get("epoch", 0)),
                step=int(meta.get("step", 0)),
                batch=int(meta.get("batch", 0)),
                loss_sum=float(partial.get("loss_sum", 0.0)),
                norm_sum=float(partial.get("norm_sum", 0.0)),
                epoch_time=float(partial.get("epoch_time", 0.0)),
                elapsed=float(metrics.get("elapsed", 0.0)),
                best_metric=metrics.get("best_metric"),
                best_epoch=metrics.get("best_epoch"),
                history=list(metrics.get("history", [])),
                last_sample=metrics.get("last_sample"),
            )
        except (TypeError, ValueError):
            raise CheckpointError("malformed training progress in the checkpoint") from None


class _Stopped(Exception):
    """Internal: a stop request ended the epoch early."""


class LMTrainer:
    """A prepared language-model run. The constructor does every check that can fail on bad
    input (options, corpus, sizes, model, device, a resume checkpoint) and writes nothing, so a
    caller can report the error before creating a run directory; `run` trains."""

    def __init__(self, config: LMConfig, resume: Checkpoint | None = None) -> None:
        config = config.resolved()
        config.validate()
        self.config = config
        self.device = resolve_device(config.device)
        corpus = load_corpus(
            config.corpus,
            token=config.token,
            mode=config.mode,
            min_freq=config.min_freq,
            encoding=config.encoding,
            max_tokens=config.max_tokens,
        )
        self.vocab: Vocab = corpus.vocab
        if resume is not None and resume.vocab.idx_to_token != self.vocab.idx_to_token:
            raise ConfigError(
                f"the corpus {config.corpus} changed since the run started: its vocabulary "
                "differs from the checkpoint's"
            )
        ids = np.asarray(corpus.ids, dtype=np.int64)
        num_val = round(len(ids) * config.val_fraction) if config.val_fraction > 0 else 0
        self.train_ids, self.val_ids = ids[: len(ids) - num_val], ids[len(ids) - num_val :]
        # Raises DataError ("corpus too short: ...") when not even one minibatch fits.
        self._starts(1)
        # The random offset can change an epoch's batch count by one: every epoch takes the
        # fewest any offset gives, so epochs (and the progress bar, ETA, resume) are all alike.
        self.num_batches = min_batches(
            len(self.train_ids), config.batch_size, config.num_steps, config.sampling
        )
        if num_val == 1:
            raise ConfigError(
                "validation part too short: 1 token has nothing to predict "
                "(raise --val-fraction, or 0 for no validation)"
            )
        self.tokens_per_epoch = self.num_batches * config.batch_size * config.num_steps
        if config.sample_every:
            encode_prefix(config.prefix, self.vocab, config.token, config.mode)

        self._prepare_training(resume, config.model_config(len(self.vocab)))
        self.baseline_ppl = (
            (resume.meta.get("metrics") or {}).get("baseline_ppl") if resume is not None else None
        )
        self._val_batches = self._validation_batches()

    def _prepare_training(self, resume: Checkpoint | None, model_config: dict) -> None:
        """The model (fresh from `model_config`, or the checkpoint's), its optimizer (restored
        on resume), the progress so far and the logging interval; ConfigError for a model
        config out of range or a resume that has nothing left to train."""
        config = self.config
        torch.manual_seed(config.seed)
        if resume is not None:
            self.model = resume.build_model(self.device)
            self.progress = _Progress.from_meta(resume.meta)
        else:
            try:
                self.model = build_model(model_config).to(self.device)
            except ModelError as exc:
                raise ConfigError(str(exc)) from None
            self.progress = _Progress()
        self.model.train()
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        if config.optimizer == "adam":
            self.optimizer = torch.optim.Adam(self.params, lr=config.lr, foreach=True)
        else:
            # foreach: one fused update over all parameters instead of a Python loop.
            self.optimizer = torch.optim.SGD(self.params, lr=config.lr, foreach=True)
        if resume is not None:
            resume.restore_optimizer(self.optimizer)
            if self.progress.epoch > config.epochs or (
                self.progress.epoch == config.epochs and self.progress.batch == 0
            ):
                raise ConfigError(
                    f"the run already has {_epochs(self.progress.epoch)}; resume with "
                    f"--epochs N, N > {self.progress.epoch}, to train further"
                )
        self.resume = resume
        self.num_params = count_parameters(self.model)
        self.log_every = config.log_every or self._auto_log_every()

    # -----------------------------------------------------------------------------------------
    # Data

    def _auto_log_every(self) -> int:
        # About 20 step events per epoch; an epoch of fewer than 20 minibatches logs its end only
        # (its epoch event follows at once), so tiny epochs do not read the device per batch.
        if self.num_batches < STEP_EVENTS_PER_EPOCH:
            return self.num_batches
        return max(1, round(self.num_batches / STEP_EVENTS_PER_EPOCH))

    def _starts(self, epoch: int) -> list[list[int]]:
        cfg = self.config
        return batch_starts(
            len(self.train_ids),
            cfg.batch_size,
            cfg.num_steps,
            cfg.sampling,
            epoch_rng(cfg.seed, epoch),
        )

    def epoch_batches(self, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """All minibatches of `epoch` as two int64 tensors (num_batches, B, T) on the device:
        X and Y = X shifted by one token (rnn_tui.data.partition's layout)."""
        starts = np.asarray(self._starts(epoch)[: self.num_batches], dtype=np.int64)
        index = starts[:, :, None] + np.arange(self.config.num_steps)
        X, Y = torch.from_numpy(self.train_ids[index]), torch.from_numpy(self.train_ids[index + 1])
        return self._to_device(X), self._to_device(Y)

    def _to_device(self, tensor: torch.Tensor) -> torch.Tensor:
        if self.device.type == "cuda":
            return tensor.pin_memory().to(self.device, non_blocking=True)
        return tensor.to(self.device)

    def _validation_batches(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The validation stream cut into `rows` parallel rows read num_steps at a time (the
        last chunk may be shorter), as sequential partitioning does without a random offset."""
        n = len(self.val_ids)
        if n == 0:
            return []
        T = self.config.num_steps
        rows = max(1, min(self.config.batch_size, (n - 1) // T))
        length = (n - 1) // rows
        self.val_tokens_scored = rows * length
        X = torch.from_numpy(self.val_ids[: rows * length].reshape(rows, length))
        Y = torch.from_numpy(self.val_ids[1 : rows * length + 1].reshape(rows, length))
        X, Y = self._to_device(X), self._to_device(Y)
        return [
            (X[:, i : i + T].contiguous(), Y[:, i : i + T].contiguous())
            for i in range(0, length, T)
        ]

    def baseline(self) -> float | None:
        """Perplexity of the Laplace-smoothed trigram (rnn_tui.data.ngrams) fitted on the
        training part and scored on the validation part; None without validation."""
        if not len(self.val_ids):
            return None
        tokens = self.vocab.to_tokens(np.concatenate((self.train_ids, self.val_ids)).tolist())
        return ngram_perplexity(tokens, n=3, val_fraction=self.config.val_fraction).perplexity

    # -----------------------------------------------------------------------------------------
    # Evaluation and sampling

    @torch.no_grad()
    def evaluate(self) -> float | None:
        """Mean cross-entropy per token on the validation part (state carried across chunks,
        eval mode); None without validation."""
        if not self._val_batches:
            return None
        model = self.model
        model.eval()
        try:
            state = model.begin_state(self._val_batches[0][0].shape[0], self.device)
            total = torch.zeros((), dtype=torch.float64, device=self.device)
            V = model.vocab_size
            for X, Y in self._val_batches:
                logits, state = model(X, state)
                total += F.cross_entropy(logits.reshape(-1, V), Y.reshape(-1), reduction="sum")
            return total.item() / self.val_tokens_scored
        finally:
            model.train()

    def sample(self) -> str:
        """Greedy text after the prefix, with the seeds' warm-up (rnn_tui.decode.generate)."""
        cfg = self.config
        prefix = encode_prefix(cfg.prefix, self.vocab, cfg.token, cfg.mode)
        ids = self.model.predict(prefix.ids, cfg.sample_length, self.device)
        return join_tokens(prefix.shown + self.vocab.to_tokens(ids), cfg.token)

    # -----------------------------------------------------------------------------------------
    # Records

    def run_config(self) -> dict:
        """config.json: the LMConfig, the model's own config and the data sizes."""
        return {
            **self.config.to_dict(),
            "model_config": self.model.config(),
            "vocab_size": len(self.vocab),
            "train_tokens": len(self.train_ids),
            "val_tokens": len(self.val_ids),
            "batches_per_epoch": self.num_batches,
            "num_params": self.num_params,
        }

    def _meta(self) -> dict:
        p = self.progress
        return {
            "config": self.config.to_dict(),
            **self._vocab_meta(),
            "epoch": p.epoch,
            "step": p.step,
            "batch": p.batch,
            "partial": {"loss_sum": p.loss_sum, "norm_sum": p.norm_sum, "epoch_time": p.epoch_time},
            "metrics": {
                "elapsed": p.elapsed,
                "best_metric": p.best_metric,
                "best_epoch": p.best_epoch,
                "baseline_ppl": self.baseline_ppl,
                "history": p.history,
                "last_sample": p.last_sample,
            },
            # Minibatches are a function of (seed, epoch): no batching RNG state to save.
            "batching": "random.Random(f'lm-batches:{seed}:{epoch}') per epoch",
        }

    def _vocab_meta(self) -> dict:
        return {"vocab": self.vocab.to_dict()}

    def save(self, name: str) -> Path:
        return save_checkpoint(
            self.run_dir.checkpoints, name, self.model, self.optimizer, self._meta()
        )

    # -----------------------------------------------------------------------------------------
    # The run

    def run(
        self,
        run: RunDir,
        stop: threading.Event | None = None,
        on_event: Callable[[dict], None] | None = None,
    ) -> dict:
        """Train to `config.epochs`, writing `run`; return the summary (see `summary`).

        Ends "finished", "stopped" (stop set, by a signal or a "stop" request in control.json)
        or "failed" (NaN/inf loss, or an exception, which is re-raised after status.json says
        so). Pause/resume requests in control.json are obeyed between minibatches.
        """
        self.begin_session(run, stop, on_event)
        run.write_config(self.run_config())
        if self.baseline_ppl is None:
            self.baseline_ppl = self.baseline()
        start = {
            "config": self.run_config(),
            "device": describe_device(self.device),
            "num_params": self.num_params,
            "train_tokens": len(self.train_ids),
            "val_tokens": len(self.val_ids),
            "baseline_ppl": self.baseline_ppl,
        }
        if self.resume is not None:
            start["resumed"] = {"epoch": self.progress.epoch, "batch": self.progress.batch}
        self._emit("start", **start)
        self._set_status("running", self._where())
        if self.resume is not None:
            # Last, after building the model and optimizer (which draw from torch's RNG).
            self.resume.restore_rng()
        try:
            self._epochs()
        except (NonFiniteLoss, CheckpointError) as exc:
            # CheckpointError: save_checkpoint refused non-finite weights (the loss was still
            # finite); the previous checkpoint is kept either way.
            self._set_status("failed", str(exc))
        except _Stopped:
            self._finish_stopped()
        except KeyboardInterrupt:
            # A second Ctrl+C: out at once, without the usual checkpoint.
            self._set_status("stopped", "interrupted; the last checkpoint is the previous one")
            raise
        except BaseException as exc:
            reason = str(exc).splitlines()[0] if str(exc) else ""
            self._set_status("failed", f"{type(exc).__name__}: {reason}".rstrip(": "))
            raise
        else:
            if self.stop.is_set():
                self._finish_stopped()
            else:
                self._set_status("finished", self._finished_message())
        self._tick()
        return self.summary()

    def begin_session(
        self,
        run: RunDir,
        stop: threading.Event | None = None,
        on_event: Callable[[dict], None] | None = None,
    ) -> None:
        """What `run` sets up before its first epoch (device settings, the stop flag, clocks).
        `run` calls it; a benchmark calls it once and then `train_epoch` directly."""
        self.run_dir = run
        prepare_device(self.device)
        self.stop = stop if stop is not None else threading.Event()
        self.stop_reason: str | None = None
        self.on_event = on_event
        self._session_start = time.perf_counter()
        self._elapsed_before = self.progress.elapsed
        self._session_tokens = 0
        self._session_train_time = 0.0
        self._next_poll = 0.0
        self._session_first_epoch = self.progress.epoch + 1
        self.status = "running"
        self.message = ""

    def train_epoch(self, epoch: int) -> tuple[float, float, float]:
        """One epoch's minibatches, as `run` trains them, without validation, samples or
        checkpoints: (mean loss, mean gradient norm, training seconds). After begin_session."""
        self.progress.batch = 0
        return self._train_epoch(epoch)

    def _epochs(self) -> None:
        cfg = self.config
        while self.progress.epoch < cfg.epochs:
            epoch = self.progress.epoch + 1
            train_loss, grad_norm, train_time = self._train_epoch(epoch)
            val_loss = self.evaluate()
            p = self.progress
            p.epoch, p.batch = epoch, 0
            p.loss_sum = p.norm_sum = p.epoch_time = 0.0
            train_ppl = perplexity(train_loss)
            val_ppl = perplexity(val_loss) if val_loss is not None else None
            metric = self._selection_metric(train_ppl, val_ppl)
            best = math.isfinite(metric) and (p.best_metric is None or metric < p.best_metric)
            if best:
                p.best_metric, p.best_epoch = metric, epoch
            sample = None
            if cfg.sample_every and epoch % cfg.sample_every == 0:
                sample = p.last_sample = self.sample()
            tokens_per_s = self.tokens_per_epoch / train_time if train_time > 0 else 0.0
            record = {
                "epoch": epoch,
                "train_ppl": _finite_or_none(train_ppl),
                "val_ppl": _finite_or_none(val_ppl),
                "grad_norm": _finite_or_none(grad_norm),
                "tokens_per_s": tokens_per_s,
                **self._epoch_extras(),
            }
            p.history.append(record)
            self._tick()
            # Checkpoints before the epoch event: a UI that sees the event finds them on disk.
            self.save("last")
            if best:
                self.save("best")
            # ETA from this session's mean epoch time (training, validation, sample, saves).
            done_here = epoch - self._session_first_epoch + 1
            session_wall = time.perf_counter() - self._session_start
            eta = (cfg.epochs - epoch) * session_wall / done_here
            self._emit(
                "epoch",
                epoch=epoch,
                epochs=cfg.epochs,
                train_loss=_finite_or_none(train_loss),
                train_ppl=_finite_or_none(train_ppl),
                val_loss=_finite_or_none(val_loss),
                val_ppl=_finite_or_none(val_ppl),
                grad_norm=_finite_or_none(grad_norm),
                tokens_per_s=tokens_per_s,
                elapsed=p.elapsed,
                eta=eta,
                memory_mb=memory_mb(self.device),
                lr=self.optimizer.param_groups[0]["lr"],
                best=best,
                batches=self.num_batches,
                step=p.step,
                **self._epoch_extras(),
            )
            if sample is not None:
                self._emit("sample", epoch=epoch, prefix=cfg.prefix, text=sample)
            if self.stop.is_set():
                raise _Stopped
            self._poll_control(force=True)
            if self.stop.is_set():
                raise _Stopped

    def _train_epoch(self, epoch: int) -> tuple[float, float, float]:
        """One pass over the training minibatches: (mean loss per token, mean gradient norm
        before clipping, training seconds). Raises _Stopped (after recording the batches done)
        when a stop is requested, NonFiniteLoss when the loss stops being finite."""
        cfg, model, optimizer, params = self.config, self.model, self.optimizer, self.params
        p = self.progress
        # The clock includes gathering the minibatches, as d2l's timer includes its iterator.
        started = time.perf_counter()
        data = self._epoch_data(epoch)
        nb, clip = self.num_batches, cfg.clip
        first = p.batch
        # Running sums on the device (float64: hundreds of float32 terms per epoch), seeded with
        # what an interrupted session had done of this epoch.
        sums = torch.tensor([p.loss_sum, p.norm_sum], dtype=torch.float64, device=self.device)
        loss_sum, norm_sum = sums[0], sums[1]
        logged_batch, logged_loss, logged_norm = first, p.loss_sum, p.norm_sum
        tokens_per_batch = self.tokens_per_epoch / nb
        time_before = p.epoch_time
        paused = 0.0
        model.train()
        b = first
        try:
            for b in range(first, nb):
                loss = self._batch_loss(data, b, fresh=b == first)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                norm = grad_clipping(params, clip)
                optimizer.step()
                loss_sum += loss.detach()
                norm_sum += norm
                p.step += 1
                if (b + 1) % self.log_every == 0 or b + 1 == nb:
                    loss_total, norm_total = sums.tolist()
                    _check_loss(loss_total / (b + 1), epoch)
                    if (b + 1) % self.log_every == 0:
                        now = time.perf_counter()
                        interval = b + 1 - logged_batch
                        loss_mean = (loss_total - logged_loss) / interval
                        self._emit(
                            "step",
                            epoch=epoch,
                            step=p.step,
                            batch=b + 1,
                            batches=nb,
                            loss=loss_mean,
                            ppl=_finite_or_none(perplexity(loss_mean)),
                            grad_norm=_finite_or_none((norm_total - logged_norm) / interval),
                            tokens_per_s=(b + 1 - first)
                            * tokens_per_batch
                            / max(now - started - paused, 1e-9),
                            elapsed=self._elapsed(),
                        )
                        logged_batch, logged_loss, logged_norm = b + 1, loss_total, norm_total
                if self.stop.is_set():
                    raise _Stopped
                if time.perf_counter() >= self._next_poll:
                    paused += self._poll_control()
                    if self.stop.is_set():
                        raise _Stopped
        except _Stopped:
            # Record the batches done (sums are read here: a stop is not per batch).
            loss_total, norm_total = sums.tolist()
            _check_loss(loss_total / (b + 1), epoch)
            p.batch = b + 1
            p.loss_sum, p.norm_sum = loss_total, norm_total
            p.epoch_time = time_before + time.perf_counter() - started - paused
            self._account(b + 1 - first, time.perf_counter() - started - paused)
            raise
        train_seconds = time.perf_counter() - started - paused
        loss_total, norm_total = sums.tolist()
        _check_loss(loss_total / nb, epoch)
        self._account(nb - first, train_seconds)
        return loss_total / nb, norm_total / nb, time_before + train_seconds

    def _epoch_data(self, epoch: int):
        """What `_batch_loss` reads for the minibatches of `epoch` (here: X and Y, all batches)."""
        self._zero_state = self.model.begin_state(self.config.batch_size, self.device)
        self._state = self._zero_state
        return self.epoch_batches(epoch)

    def _batch_loss(self, data, b: int, fresh: bool) -> torch.Tensor:
        """Mean cross-entropy per token of minibatch `b` (forward only). `fresh`: the first
        minibatch of this session's epoch, which starts from a zero state."""
        X_all, Y_all = data
        if self.config.sampling == "sequential" and not fresh:
            state = detach_state(self._state)  # truncated BPTT
        else:
            state = self._zero_state
        logits, self._state = self.model(X_all[b], state)
        V = self.model.vocab_size
        return F.cross_entropy(logits.reshape(-1, V), Y_all[b].reshape(-1))

    def _selection_metric(self, train_ppl: float, val_ppl: float | None) -> float:
        """What `best` minimises: validation perplexity, else training perplexity."""
        return val_ppl if val_ppl is not None else train_ppl

    def _epoch_extras(self) -> dict:
        """Task-specific per-epoch metrics added to the history record and the epoch event."""
        return {}

    def _account(self, batches: int, seconds: float) -> None:
        self._session_tokens += batches * self.tokens_per_epoch / self.num_batches
        self._session_train_time += seconds

    def _elapsed(self) -> float:
        return self._elapsed_before + time.perf_counter() - self._session_start

    def _tick(self) -> None:
        self.progress.elapsed = self._elapsed()

    # -----------------------------------------------------------------------------------------
    # Control: stop, pause, resume

    def _poll_control(self, force: bool = False) -> float:
        """Obey a command in control.json; return the seconds spent paused."""
        now = time.perf_counter()
        if not force and now < self._next_poll:
            return 0.0
        self._next_poll = now + CONTROL_POLL_S
        command = self.run_dir.pending_command()
        if command == "stop":
            self._request_stop()
        elif command == "pause":
            return self._pause()
        return 0.0

    def _request_stop(self) -> None:
        self.stop_reason = "requested"
        request = getattr(self.stop, "request", None)
        if callable(request):
            request(None)
        else:
            self.stop.set()

    def _pause(self) -> float:
        started = time.perf_counter()
        self._set_status("paused", f"paused in {self._where()}")
        while not self.stop.is_set():
            command = self.run_dir.pending_command()
            if command == "stop":
                self._request_stop()
                break
            if command == "resume":
                self._set_status("running", self._where())
                break
            self.stop.wait(PAUSE_POLL_S)
        return time.perf_counter() - started

    def _where(self) -> str:
        p = self.progress
        epoch = min(p.epoch + 1, self.config.epochs)
        return f"epoch {epoch}/{self.config.epochs}"

    def _finish_stopped(self) -> None:
        p = self.progress
        self._tick()
        self.save("last")
        signum = getattr(self.stop, "signum", None)
        if self.stop_reason is None:
            self.stop_reason = f"signal {signum}" if signum is not None else "requested"
        where = (
            f"in epoch {p.epoch + 1} after minibatch {p.batch}/{self.num_batches}"
            if p.batch
            else f"after epoch {p.epoch}/{self.config.epochs}"
        )
        by = _signal_name(signum) if signum is not None else "request"
        self._set_status(
            "stopped",
            f"stopped {where} ({by}); continue with: rnn-tui train --resume {self.run_dir.path}",
            epoch=p.epoch,
            batch=p.batch,
        )

    def _finished_message(self) -> str:
        p = self.progress
        what = "val" if len(self.val_ids) else "train"
        best = (
            f"; best {what} ppl {p.best_metric:.3f} (epoch {p.best_epoch})" if p.best_metric else ""
        )
        return f"{_epochs(p.epoch)}{best}"

    # -----------------------------------------------------------------------------------------
    # Events

    def _emit(self, event: str, **fields) -> None:
        self.run_dir.log(event, **fields)
        if self.on_event is not None:
            self.on_event({"event": event, **fields})

    def _set_status(self, status: str, message: str = "", **fields) -> None:
        self.status, self.message = status, message
        self.run_dir.set_status(status, message, **fields)
        if self.on_event is not None:
            self.on_event({"event": "status", "status": status, "message": message, **fields})

    def summary(self) -> dict:
        """What `rnn-tui train --json` prints."""
        p = self.progress
        last = p.history[-1] if p.history else {}
        val_ppls = [h["val_ppl"] for h in p.history if h.get("val_ppl") is not None]
        checkpoints = self.run_dir.checkpoints
        best_path = checkpoints / "best.safetensors"
        last_path = checkpoints / "last.safetensors"
        return {
            "run_dir": str(self.run_dir.path),
            "status": self.status,
            "message": self.message,
            "task": self.config.task,
            "model": self.config.model,
            "device": describe_device(self.device),
            "num_params": self.num_params,
            "epochs": p.epoch,
            "epochs_total": self.config.epochs,
            "tokens_per_s": (
                self._session_tokens / self._session_train_time
                if self._session_train_time > 0
                else None
            ),
            "train_ppl": last.get("train_ppl"),
            "val_ppl": last.get("val_ppl"),
            "best_val_ppl": min(val_ppls) if val_ppls else None,
            "best_epoch": p.best_epoch,
            "baseline_ppl": self.baseline_ppl,
            "sample": p.last_sample,
            "checkpoint": str(best_path)
            if best_path.exists()
            else (str(last_path) if last_path.exists() else None),
            "last_checkpoint": str(last_path) if last_path.exists() else None,
            "elapsed": p.elapsed,
        }


def _check_loss(mean_loss: float, epoch: int) -> None:
    """NonFiniteLoss when the mean loss is NaN or inf, or so large that its perplexity
    overflows (> e^709: the weights have diverged even if no NaN has appeared yet)."""
    advice = "try a smaller --lr or --clip"
    if math.isnan(mean_loss) or math.isinf(mean_loss):
        kind = "nan" if math.isnan(mean_loss) else "inf"
        raise NonFiniteLoss(f"loss became {kind} in epoch {epoch}: {advice}")
    if math.isinf(perplexity(mean_loss)):
        raise NonFiniteLoss(
            f"loss diverged to {mean_loss:.3g} in epoch {epoch} (perplexity overflows): {advice}"
        )


def _epochs(n: int) -> str:
    return f"{n} epoch" if n == 1 else f"{n} epochs"


def _signal_name(signum: int) -> str:
    import signal

    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"


def train_lm(
    config: LMConfig,
    run: RunDir,
    resume: Checkpoint | None = None,
    stop: threading.Event | None = None,
    on_event: Callable[[dict], None] | None = None,
) -> dict:
    """Prepare (LMTrainer: every input check) and train; return the run's summary."""
    return LMTrainer(config, resume).run(run, stop, on_event)


__all__ = [
    "OPTIMIZERS",
    "TASKS",
    "ConfigError",
    "LMConfig",
    "LMTrainer",
    "NonFiniteLoss",
    "epoch_rng",
    "memory_mb",
    "train_lm",
]
