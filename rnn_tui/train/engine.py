"""The training engine: one loop for every task (task.py says what a task supplies).

Per minibatch, whatever the task (d2l §8.5 `train_epoch_ch8`, §9.7 `train_seq2seq`):

    l ← task.batch_loss(…)                        the mean loss per token, forward only
    l.backward(); grad_clipping(θ): g ← min(1, θ/‖g‖) g; optimizer step

and per epoch perplexity = exp(mean loss per token), the task's held-out evaluation, a sample,
the checkpoints (`last`, and `best` by the task's selection metric) and an epoch event. The run
directory (config.json, metrics.jsonl, status.json, checkpoints/) is the contract with whoever
follows the run; it is written through the `RunSink` interface (RunDir implements it). Nothing
reads a tensor on the host inside the loop: loss and gradient-norm sums stay on the device and
are read at log points only (≈ 20 per epoch).

Control: between minibatches the engine obeys pause/resume/stop requests (control.json, see
control.py) and a stop flag that signals set (signals.py). A stop finishes the batch,
writes `last` (with the batches done of the epoch) and marks the run stopped; resuming continues
with the next minibatch. Checkpoints carry weights, optimizer state, RNG states and the history,
so a run stopped at an epoch boundary and resumed ends with the same per-epoch metrics (on the
CPU) as one that never stopped. A NaN or infinite loss stops the run at once and never
overwrites a good checkpoint.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from pathlib import Path

from rnn_tui.checkpoints import CheckpointError
from rnn_tui.checkpoints.checkpoint import CHECKPOINT_NAMES, Checkpoint, save_checkpoint
from rnn_tui.checkpoints.device import (
    describe_device,
    is_out_of_memory,
    prepare_device,
    resolve_device,
)
from rnn_tui.checkpoints.store import clean_stale
from rnn_tui.data.ngrams import baseline_name
from rnn_tui.models.registry import count_parameters
from rnn_tui.train.config import Config, ConfigError
from rnn_tui.train.control import RunControl
from rnn_tui.train.core_share import CoreShare
from rnn_tui.train.distributed import WAITED, Distributed
from rnn_tui.train.epoch import Stopped, train_epoch
from rnn_tui.train.prepare import advice, prepare_model, prepare_optimizer, resumed_progress
from rnn_tui.train.progress import (
    NonFiniteLoss,
    Progress,
    auto_log_every,
    finite_or_none,
    memory_mb,
    plural_epochs,
    signal_name,
    task_perplexity,
)
from rnn_tui.train.recorder import RunRecorder
from rnn_tui.train.records import checkpoint_meta, run_summary, unlogged_epochs
from rnn_tui.train.step import TrainStep, plan_path
from rnn_tui.train.task import RunSink, Task
from rnn_tui.train.write_errors import RunLost, RunWriteError, failure_message, writing


class Trainer(RunRecorder):
    """A prepared run of one task. The constructor does every check that can fail on bad input
    (options, data, sizes, model, device, a resume checkpoint) and writes nothing, so a caller
    can report the error before creating a run directory; `run` trains."""

    def __init__(self, config: Config, resume: Checkpoint | None = None) -> None:
        if resume is not None and resume.task != config.task:
            raise ConfigError(f"the checkpoint is a {resume.task} run, not {config.task}")
        self.device = resolve_device(config.device)
        # Under torchrun: this process's rank (train/distributed.py); else rank 0 of 1.
        self.dist = Distributed.from_env()
        if self.dist.active:
            self.device = self.dist.start(self.device, config.device)
        # The task of `config` (registry.TASKS), prepared: its data read and checked.
        self.task: Task = config.spec.load()(config, self.device)
        self.config = config = self.task.config
        if self.dist.active:
            self.dist.check(self.task, config.batch_size, resumed=resume is not None)
            self.task.set_shard(self.dist.rank, self.dist.world)
        if resume is not None:
            self.task.check_resume(resume)
        self.model = prepare_model(self.task, config, self.device, resume, self.dist.active)
        self.params = [p for p in self.model.parameters() if p.requires_grad]
        # The step's path (eager, bf16, compiled, CUDA graph), refused here if asked for and
        # impossible on this device.
        self.path = plan_path(config, self.task, self.device)
        if self.dist.active:
            self.path.processes, self.path.backend = self.dist.world, self.dist.backend
            if self.path.graph:
                self.path.graph = False
                self.path.depart("no CUDA graph under data parallelism (DDP)")
        self.optimizer = prepare_optimizer(self.params, config, self.device, self.path.graph)
        self.progress = (
            resumed_progress(resume, self.optimizer, config, self.task.num_batches)
            if resume is not None
            else Progress()
        )
        self.resume = resume
        self.num_batches = self.task.num_batches
        self.prefetched: tuple[int, object] | None = None  # (epoch, minibatches): epoch.py
        self.own_failure = False  # a failure of this process alone (out of memory)
        self.num_params = count_parameters(self.model)
        self.log_every = config.log_every or auto_log_every(self.num_batches)
        saved = (resume.meta.get("metrics") or {}) if resume is not None else {}
        self.baseline_ppl = saved.get("baseline_ppl")
        # Named only beside its perplexity (classify has none); older runs had the trigram's.
        name = baseline_name(saved.get("baseline_name"))
        self.baseline_name = name if self.baseline_ppl is not None else None

    # -----------------------------------------------------------------------------------------
    # The run

    def run(
        self,
        run: RunSink,
        stop: threading.Event | None = None,
        on_event: Callable[[dict], None] | None = None,
    ) -> dict:
        """Train to `config.epochs`, writing `run`; return the summary (see `summary`).

        Ends "finished", "stopped" (stop set, by a signal or a "stop" request in control.json)
        or "failed": a NaN/inf loss, a write the disk refused (full, read-only, I/O error: one
        line naming the file, write_errors.py), or an exception, which is re-raised after
        status.json says so. A failed status that the disk refuses too is still in the summary,
        for the caller to report. Pause/resume requests in control.json are obeyed between
        minibatches.
        """
        self.begin_session(run, stop, on_event)
        together = False  # every rank ends here too: finished, or stopped at an agreed point
        try:
            self._start()
            try:
                self._epochs()
            except Stopped:
                self._finish_stopped()
            else:
                if self.stop.is_set():
                    self._finish_stopped()
                else:
                    self._set_status("finished", self._finished_message())
            together = True
        except (NonFiniteLoss, CheckpointError) as exc:
            # CheckpointError: save_checkpoint refused non-finite weights (the loss was still
            # finite); the previous checkpoint is kept either way.
            self._end_status("failed", str(exc))
        except (RunWriteError, RunLost) as exc:
            # A write refused because the folder was removed under it: the run is lost, too.
            if lost := str(exc) if isinstance(exc, RunLost) else self.run_dir.lost():
                self._report_status("failed", f"{lost} while training: stopped, writing no more")
            else:
                self._end_status("failed", failure_message(exc, run.checkpoints))
        except KeyboardInterrupt:
            # A second Ctrl+C: out at once, without the usual checkpoint.
            self._end_status("stopped", "interrupted; the last checkpoint is the previous one")
            raise
        except BaseException as exc:
            lost = self.dist.lost_peer(exc)
            if lost:
                # Not a bug here: another rank was killed or crashed. One line, not gloo's.
                self.own_failure = lost.startswith(WAITED)  # a timeout: this rank says it
                self._end_status(
                    "failed",
                    f"{lost} in epoch {self.progress.epoch + 1}; the last checkpoint is kept "
                    "(--resume continues the run)",
                )
            elif not is_out_of_memory(exc):
                reason = str(exc).splitlines()[0] if str(exc) else ""
                self._end_status("failed", f"{type(exc).__name__}: {reason}".rstrip(": "))
                raise
            else:
                # Not a bug: the run was too big for this device. One line, the checkpoints kept.
                # Under torchrun it may be this rank's alone: its CLI says so (rank 0 cannot).
                self.own_failure = True
                self._end_status(
                    "failed",
                    f"out of memory in epoch {self.progress.epoch + 1} on "
                    f"{describe_device(self.device)}: {advice(self.config)}; the last "
                    "checkpoint is kept",
                )
        self._tick()
        self.cores.restore()  # a caller training in this process gets its threads back
        if self.dist.active:
            # DDP's reducer holds the process group: released here (close collects it), not
            # in the interpreter's teardown, where gloo could abort the process.
            self.step.forward_model = self.model
        self.dist.close(together)
        return self.summary()

    def _start(self) -> None:
        """config.json, the start event and the running status: what begins a session."""
        if self.resume is not None:
            # What a killed session left: temporary files, tensor files no JSON names.
            clean_stale(self.run_dir.checkpoints, CHECKPOINT_NAMES)
            clean_stale(self.run_dir.path, ())  # .status.json.*.tmp and the like
        with writing("config.json"):
            self.run_dir.write_config(self.run_config())
        if self.baseline_ppl is None and (ppl := self.task.baseline()) is not None:
            self.baseline_ppl, self.baseline_name = ppl, self.task.baseline_name
        start = {
            "config": self.run_config(),
            "device": describe_device(self.device),
            "path": self.path.text(),
            "num_params": self.num_params,
            **self.task.data_sizes(),
            "data": self.task.data_text(),
            "notes": self.task.notes(),
            "baseline_ppl": self.baseline_ppl,
            "baseline_name": self.baseline_name,
        }
        if self.resume is not None:
            start["resumed"] = {"epoch": self.progress.epoch, "batch": self.progress.batch}
            # What metrics.jsonl lacks of the epochs the checkpoint completed (records.py).
            logged = self.run_dir.last_logged_epoch()
            if logged > self.progress.epoch:
                # An earlier checkpoint (best, last.json being unusable): the epochs after it
                # are trained again, and readers drop their earlier lines (runs/follow.py).
                start["resumed"]["rewound_from"] = logged
            epochs, batches = self.config.epochs, self.num_batches
            for event in unlogged_epochs(self.progress, logged, epochs, batches):
                self.emit("epoch", **event)
        self.emit("start", **start)
        self._set_status("running", self._where())
        if self.resume is not None:
            # Last, after building the model and optimizer (which draw from torch's RNG).
            self.resume.restore_rng()

    def begin_session(
        self,
        run: RunSink,
        stop: threading.Event | None = None,
        on_event: Callable[[dict], None] | None = None,
    ) -> None:
        """What `run` sets up before its first epoch (device settings, the stop flag, clocks).
        `run` calls it; a benchmark calls it once and then `train_epoch` directly."""
        self.run_dir = run
        prepare_device(self.device)
        self.step = TrainStep(
            self.task, self.model, self.optimizer, self.params, self.config, self.path
        )
        if self.dist.active:
            self.step.forward_model = self.dist.wrap(self.model, self.device)
        self.cores = CoreShare.for_trainer(self.device, self.dist.active)
        self.stop = stop if stop is not None else threading.Event()
        commands = self.dist.agreed(run.pending_command, self.stop)  # rank 0's, to every rank
        self.control = RunControl(commands, self.stop, self._set_status, self._where)
        self.on_event = on_event
        self._session_start = time.perf_counter()
        self._paused_s = 0.0  # of this session, left out of elapsed and the ETA
        self._elapsed_before = self.progress.elapsed
        self._session_units = 0.0
        self._session_train_time = 0.0
        self._session_batches = 0
        # The resumed epoch's minibatches done in earlier sessions and their training time.
        self._before = (self.progress.batch, self.progress.epoch_time)
        self._session_first_epoch = self.progress.epoch + 1
        self.last_step_event = -math.inf
        self.status = "running"
        self.message = ""

    def train_epoch(self, epoch: int) -> tuple[float, float, float]:
        """One epoch's minibatches, as `run` trains them, without evaluation, samples or
        checkpoints: (mean loss, mean gradient norm, training seconds). After begin_session."""
        self.progress.batch = 0
        return train_epoch(self, epoch)

    def _epochs(self) -> None:
        cfg, task = self.config, self.task
        while self.progress.epoch < cfg.epochs:
            epoch = self.progress.epoch + 1
            train_loss, grad_norm, train_time = train_epoch(self, epoch)
            evaluation = task.evaluate(self.model)
            val_loss, metrics = evaluation.loss, dict(evaluation.metrics)
            p = self.progress
            p.epoch, p.batch = epoch, 0
            p.loss_sum = p.norm_sum = p.epoch_time = 0.0
            train_ppl = task_perplexity(task, train_loss)
            val_ppl = task_perplexity(task, val_loss)
            metric = task.selection(train_ppl, val_ppl, metrics)
            tiebreak = val_loss if val_loss is not None and math.isfinite(val_loss) else train_loss
            best = math.isfinite(metric) and (
                p.best_metric is None
                or metric < p.best_metric
                or (metric == p.best_metric and tiebreak < (p.best_tiebreak or math.inf))
            )
            if best:
                p.best_metric, p.best_epoch, p.best_tiebreak = metric, epoch, tiebreak
            sample = None
            if cfg.sample_every and epoch % cfg.sample_every == 0:
                sample = p.last_sample = task.sample(self.model)
            tokens_per_s = task.units_per_epoch / train_time if train_time > 0 else 0.0
            # What the history keeps of the epoch; the epoch event carries it and more.
            record = {
                "epoch": epoch,
                "train_loss": finite_or_none(train_loss),
                "val_loss": finite_or_none(val_loss),
                "train_ppl": finite_or_none(train_ppl),
                "val_ppl": finite_or_none(val_ppl),
                "grad_norm": finite_or_none(grad_norm),
                "tokens_per_s": tokens_per_s,
                **metrics,
            }
            p.add_epoch(record)
            self._tick()
            # Checkpoints before the epoch event: a UI that sees the event finds them on disk.
            self.save("last")
            if best:
                self.save("best")
            eta = (cfg.epochs - epoch) * self._epoch_seconds(epoch)
            self.emit(
                "epoch",
                **record,
                epochs=cfg.epochs,
                elapsed=p.elapsed,
                eta=eta,
                memory_mb=memory_mb(self.device),
                lr=self.optimizer.param_groups[0]["lr"],
                best=best,
                batches=self.num_batches,
                step=p.step,
            )
            if sample is not None:
                self.emit("sample", epoch=epoch, prefix=task.sample_prefix, text=sample)
            if self._stop_requested():
                raise Stopped
            self.obey_control(force=True)
            if self._stop_requested():
                raise Stopped
            if epoch < cfg.epochs and self.status == "running":
                # status.json names the epoch under way: one write an epoch, not a minibatch,
                # and no event (the log keeps changes of status).
                self.message = self._where()
                with writing("status.json"):
                    self.run_dir.set_status("running", self.message, log=False)

    def _stop_requested(self) -> bool:
        """The stop flag; under data parallelism set on every rank when set on any (and why)."""
        return self.dist.agree_stop(self.stop) if self.dist.active else self.stop.is_set()

    def account(self, batches: int, seconds: float) -> None:
        self._session_units += batches * self.task.units_per_epoch / self.num_batches
        self._session_batches += batches
        self._session_train_time += seconds

    def _epoch_seconds(self, epoch: int) -> float:
        """What a whole epoch takes: seconds per minibatch (this session's and those of the
        epoch it resumed) × the minibatches of an epoch, plus this session's mean time between
        epochs' minibatches (validation, sample, saves). Not the session's time over its
        epochs: a session resumed late in an epoch trained only that epoch's last minibatches,
        and its ETA ran 5× short; nor its last minibatches alone, whose one-off costs (a new
        process's first steps) would count 5× over."""
        ends = epoch - self._session_first_epoch + 1
        wall = time.perf_counter() - self._session_start - self._paused_s
        batches, seconds = self._before
        per_batch = (self._session_train_time + seconds) / max(self._session_batches + batches, 1)
        between = max(0.0, wall - self._session_train_time) / ends
        return per_batch * self.num_batches + between

    def elapsed(self) -> float:
        """Training time of every session so far: time spent paused is not counted (a 40 s
        pause showed as 40 s more "elapsed")."""
        return self._elapsed_before + time.perf_counter() - self._session_start - self._paused_s

    def obey_control(self, force: bool = False) -> float:
        """control.json obeyed (pause waits here); the seconds paused, left out of `elapsed`."""
        waited = self.control.poll(force=force)
        self._paused_s += waited
        return waited

    def _tick(self) -> None:
        self.progress.elapsed = self.elapsed()

    def _where(self) -> str:
        epoch = min(self.progress.epoch + 1, self.config.epochs)
        return f"epoch {epoch}/{self.config.epochs}"

    def _finish_stopped(self) -> None:
        p = self.progress
        self._tick()
        self.save("last")
        signum = getattr(self.stop, "signum", None)
        where = (
            f"in epoch {p.epoch + 1} after minibatch {p.batch:,}/{self.num_batches:,}"
            if p.batch
            else f"after epoch {p.epoch}/{self.config.epochs}"
        )
        by = signal_name(signum) if signum is not None else "request"
        self._set_status(
            "stopped",
            f"stopped {where} ({by}); continue with: rnn-tui train --resume {self.run_dir.path}",
            epoch=p.epoch,
            batch=p.batch,
        )

    def _finished_message(self) -> str:
        p = self.progress
        last = p.history[-1] if p.history else {}
        return plural_epochs(p.epoch) + self.task.best_text(p.best_metric, p.best_epoch, last)

    # -----------------------------------------------------------------------------------------
    # Records

    def run_config(self) -> dict:
        """config.json: the options, the model's own config and the data sizes."""
        return {
            **self.config.to_dict(),
            "model_config": self.model.config(),
            **self.task.data_sizes(),
            "batches_per_epoch": self.num_batches,
            "num_params": self.num_params,
        }

    def save(self, name: str) -> Path:
        if not self.dist.writer:
            return self.run_dir.checkpoints / f"{name}.safetensors"  # rank 0 writes
        meta = checkpoint_meta(
            self.config, self.task, self.progress, self.baseline_ppl, self.baseline_name
        )
        # The measured choices a resume keeps: prepacked products (train/prepare.py) and the
        # scratch RNN's time loops in C (models/recurrent_chain.py).
        for key, attr in (("prepacked", "prepack_verdict"), ("chained", "chain_verdict")):
            verdict = getattr(self.model, attr, None)
            meta[key] = verdict.packed if verdict is not None else None
        self._check_ours()
        with writing(f"checkpoint {name}"):
            return save_checkpoint(self.run_dir.checkpoints, name, self.model, self.optimizer, meta)

    def summary(self) -> dict:
        """What `rnn-tui train --json` prints (records.run_summary)."""
        seconds = self._session_train_time
        return run_summary(self, self._session_units / seconds if seconds > 0 else None)


def train(
    config: Config,
    run: RunSink,
    resume: Checkpoint | None = None,
    stop: threading.Event | None = None,
    on_event: Callable[[dict], None] | None = None,
) -> dict:
    """Prepare (Trainer: every input check) and train; return the run's summary."""
    return Trainer(config, resume).run(run, stop, on_event)


__all__ = ["RunSink", "Trainer", "train"]
