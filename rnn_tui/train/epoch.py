"""One epoch's minibatches: d2l §8.5 `train_epoch_ch8`'s loop, as the engine runs it.

    for each minibatch: l ← loss; l.backward(); grad_clipping(θ); updater.step()

The loss and gradient-norm sums stay on the device and are read at the log points only
(`log_every`, ≈ 20 per epoch, and at least every STEP_EVENT_MAX_S): a host read per minibatch
would make a GPU wait. The ranks of a distributed run agree on stops and step events about
every second (`Agreement`). Between minibatches the loop obeys the run's control (pause, resume,
stop) and the stop flag; a stop records the batches done so that a resume continues with the
next one. Split from engine.py, which owns the run around it (sessions, evaluation,
checkpoints, status).
"""

from __future__ import annotations

import time

import torch

from rnn_tui.train.distributed import stop_code
from rnn_tui.train.progress import (
    STEP_EVENT_MAX_S,
    STEP_EVENT_MIN_S,
    check_loss,
    finite_or_none,
    task_perplexity,
)


class Stopped(Exception):
    """A stop request ended the epoch early (after recording the batches done)."""


# How often the ranks of a distributed run compare notes between log points. torchrun kills its
# workers 30 s after a Ctrl+C; the log points of a 100 MB corpus came two minutes apart, so the
# stop was never agreed and the work since the last checkpoint was lost.
AGREE_EVERY_S = 1.0

# On a GPU the next epoch's minibatches are gathered while the last steps of this one run (the
# host is ahead of the device then, waiting to read the sums): otherwise the GPU idles while the
# host gathers, 0.3 of the book's 3.2 ms nn.RNN epoch on an H200. Only for epochs of up to this
# many units, since two epochs' minibatches are then held at once.
PREFETCH_MAX_UNITS = 4_000_000


def _prefetch(trainer, epoch: int) -> None:
    """Gather epoch `epoch`'s minibatches now, for `_epoch_data` to take."""
    task = trainer.task
    if (
        trainer.device.type == "cuda"
        and epoch <= trainer.config.epochs
        and task.units_per_epoch <= PREFETCH_MAX_UNITS
    ):
        trainer.prefetched = (epoch, task.epoch_data(trainer.model, epoch))


def _epoch_data(trainer, epoch: int):
    """Epoch `epoch`'s minibatches: those gathered ahead if they are this epoch's."""
    ahead, trainer.prefetched = trainer.prefetched, None
    if ahead is not None and ahead[0] == epoch:
        return ahead[1]
    return trainer.task.epoch_data(trainer.model, epoch)


class Agreement:
    """When the ranks of a distributed run decide together (a collective each time, so they
    must all choose the same minibatches): after the first, then about every AGREE_EVERY_S at
    the slowest rank's pace, and at every log point. Each decision is one all-reduce of
    (stop asked and by which signal, step event due, seconds a minibatch)."""

    def __init__(self, first: int) -> None:
        self.due = self.next_poll = first + 1
        self.every = 1  # minibatches in about AGREE_EVERY_S, at the slowest rank's pace
        self.since, self.since_batch = time.perf_counter(), first

    def decide(self, dist, done: int, stop, late: bool) -> tuple[bool, bool]:
        """(stop, late) on every rank after `done` minibatches of the epoch; the stop flag `stop`
        set where another rank's is (a signal may still reach this one after the decision: the
        flag is read at the next)."""
        pace = (time.perf_counter() - self.since) / max(done - self.since_batch, 1)
        stop_any, late_any, pace = dist.most([stop_code(stop), float(late), pace])
        self.since, self.since_batch = time.perf_counter(), done
        self.every = max(1, int(AGREE_EVERY_S / max(pace, 1e-6)))
        self.due = done + self.every
        return dist.set_stop(stop, stop_any), bool(late_any)

    def poll_due(self, done: int) -> bool:
        """Whether the ranks poll the run's control (a collective) at this decision, after
        `done` minibatches: about every AGREE_EVERY_S, however often log points come."""
        if done < self.next_poll:
            return False
        self.next_poll = done + self.every
        return True


def train_epoch(trainer, epoch: int) -> tuple[float, float, float]:
    """One pass over the training minibatches: (mean loss per token, mean gradient norm
    before clipping, training seconds). Raises Stopped (after recording the batches done)
    when a stop is requested, NonFiniteLoss when the loss stops being finite."""
    model, task = trainer.model, trainer.task
    p = trainer.progress
    # The clock includes gathering the minibatches, as d2l's timer includes its iterator.
    started = time.perf_counter()
    data = _epoch_data(trainer, epoch)
    nb = trainer.num_batches
    first = p.batch
    # Running sums on the device (float64: hundreds of float32 terms per epoch), seeded with
    # what an interrupted session had done of this epoch.
    sums = torch.zeros(2, dtype=torch.float64, device=trainer.device)
    if p.loss_sum or p.norm_sum:  # a copy from the host waits for the GPU: only when needed
        sums.copy_(torch.tensor([p.loss_sum, p.norm_sum], dtype=torch.float64))
    logged_batch, logged_loss, logged_norm = first, p.loss_sum, p.norm_sum
    units_per_batch = task.units_per_epoch / nb
    time_before = p.epoch_time
    paused = 0.0
    model.train()
    step = trainer.step
    cores = trainer.cores  # fewer threads while others take cores (begin_session's)
    # With the automatic rate, an epoch of 80k minibatches (100 MB of characters) logged its
    # first step after 30 s: a single process also logs once STEP_EVENT_MAX_S pass without one
    # (ranks of a distributed run log together, so only where they agree to).
    timed = not trainer.config.log_every
    quiet_since = max(trainer.last_step_event, started)
    agreement = Agreement(first) if trainer.dist.active else None
    b = first
    try:
        for b in range(first, nb):
            pair = step.run(data, b, fresh=b == first)  # [loss, gradient norm]
            if not step.reported:
                step.reported = True
                trainer.emit("path", **trainer.path.to_dict())
                # A capture, compilation or measurement is reported beside tokens/s, not
                # inside them.
                paused += (trainer.path.warmup_s or 0.0) + trainer.path.measure_s
            elif step.pending_s:
                paused += step.take_pending()  # a recompilation, reported beside tokens/s
            sums += pair
            p.step += 1
            cores.tick()
            if b + 1 == nb:
                _prefetch(trainer, epoch + 1)
            on_rate = (b + 1) % trainer.log_every == 0
            late = timed and not on_rate and time.perf_counter() - quiet_since >= STEP_EVENT_MAX_S
            agreed = agreement is not None and (b + 1 in (agreement.due, nb) or on_rate)
            stop = False
            if agreed:
                # One decision for every rank: ranks only ever stop or log together, here.
                stop, late = agreement.decide(trainer.dist, b + 1, trainer.stop, late)
            elif agreement is not None:
                late = False
            at_log = on_rate or late or b + 1 == nb
            if agreed and (at_log or stop):
                trainer.dist.mean(sums)  # every rank the same numbers: the global batch's means
            now = time.perf_counter() if at_log else 0.0
            # An explicit --log-every is obeyed; the automatic rate is capped in time.
            due = at_log and (
                trainer.config.log_every or now - trainer.last_step_event >= STEP_EVENT_MIN_S
            )
            emit = due and (on_rate or late)
            # Reading the sums checks the loss. On the CPU that costs nothing, so a non-finite
            # loss stops the run at its first log point; on a GPU it is a host sync (the queue
            # drains), so only where a step event is written (≤ STEP_EVENT_MIN_S apart): the
            # book's 9-minibatch epochs log every minibatch, and a read at each left the GPU
            # idle while the host launched the next step. Ranks of a distributed run read at
            # every log point (they agree on those; `emit` is each rank's own clock), so all
            # of them stop at the same minibatch.
            if emit or (at_log and (sums.device.type == "cpu" or agreement is not None)):
                loss_total, norm_total = sums.tolist()
                check_loss(loss_total / (b + 1), epoch, task, norm_total)
            if emit:
                trainer.last_step_event = quiet_since = now
                interval = b + 1 - logged_batch
                loss_mean = (loss_total - logged_loss) / interval
                trainer.emit(
                    "step",
                    epoch=epoch,
                    step=p.step,
                    batch=b + 1,
                    batches=nb,
                    loss=loss_mean,
                    ppl=finite_or_none(task_perplexity(task, loss_mean)),
                    grad_norm=finite_or_none((norm_total - logged_norm) / interval),
                    tokens_per_s=(b + 1 - first)
                    * units_per_batch
                    / max(now - started - paused, 1e-9),
                    elapsed=trainer.elapsed(),
                )
                logged_batch, logged_loss, logged_norm = b + 1, loss_total, norm_total
            if agreement is not None and not agreed:
                continue
            if b + 1 == nb:
                # A stop after the last minibatch lets the epoch end (validation, its event,
                # `last`) and stops after it: "minibatch n of n" is no place to resume from.
                break
            if stop if agreement is not None else trainer.stop.is_set():
                raise Stopped
            # The ranks poll control.json together (a collective), at decisions they share.
            if agreement.poll_due(b + 1) if agreement is not None else trainer.control.due():
                paused += trainer.obey_control(force=True)
                if trainer.stop.is_set() and not trainer.dist.active:
                    raise Stopped
    except Stopped:
        # Record the batches done (sums are read here: a stop is not per batch).
        loss_total, norm_total = sums.tolist()
        check_loss(loss_total / (b + 1), epoch, task, norm_total)
        p.batch = b + 1
        p.loss_sum, p.norm_sum = loss_total, norm_total
        p.epoch_time = time_before + time.perf_counter() - started - paused
        trainer.account(b + 1 - first, time.perf_counter() - started - paused)
        raise
    # The clock stops after the read: on a GPU it waits for the epoch's last steps to run.
    loss_total, norm_total = sums.tolist()
    train_seconds = time.perf_counter() - started - paused
    check_loss(loss_total / nb, epoch, task, norm_total)
    trainer.account(nb - first, train_seconds)
    return loss_total / nb, norm_total / nb, time_before + train_seconds


__all__ = ["Stopped", "train_epoch"]
