"""`rnn-tui train`'s progress on stderr: a Rich bar and one line per epoch on a terminal, the
same lines without the bar otherwise (a log file such as the app's train.log), with a plain
progress line a minute inside a long epoch."""

from __future__ import annotations

import math
import time
from contextlib import AbstractContextManager, nullcontext

from rnn_tui.cli.output import TerminalProgress, say
from rnn_tui.data.ngrams import baseline_name
from rnn_tui.files import waiting_notice
from rnn_tui.metrics.perplexity import fmt_overflowed, fmt_perplexity
from rnn_tui.quoting import visible

# Without a terminal (a log file, `nohup … > train.log`) an epoch of a large corpus can take an
# hour: a plain progress line at most this often shows that the run is alive and how far it is.
PLAIN_STEP_EVERY_S = 60.0


def _fmt(value, spec: str = ".2f") -> str:
    if value is None:
        return "—"
    if spec == ".2f":  # a perplexity: a diverged run's has hundreds of digits
        return fmt_perplexity(value)
    return format(value, spec)


def _duration(seconds) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Reporter:
    """Training progress on stderr: a Rich progress bar (epoch n/N, perplexity, tokens/s, ETA)
    and one line per epoch on a terminal; otherwise the same lines, and within a long epoch a
    plain progress line at most every PLAIN_STEP_EVERY_S (a log file such as the UI's
    train.log)."""

    def __init__(self, trainer, run_dir) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        # Rich draws no bar on a TERM=dumb terminal: the plain lines are shown there instead.
        self.live = self.console.is_terminal and not self.console.is_dumb_terminal
        self.trainer = trainer
        self.run_dir = run_dir
        self.epochs = trainer.config.epochs
        self.batches = trainer.num_batches
        self.progress = None
        self.bar = None
        self.gone = False
        self.has_validation = False
        self.plain_since = self.started = time.monotonic()
        p = getattr(trainer, "progress", None)
        self.done_at_start = p.epoch * self.batches + p.batch if p is not None else 0

    def __enter__(self) -> Reporter:
        if self.live:
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),  # the whole run, as the ETA; the count is the epoch's own
                TextColumn("batch {task.fields[batch]}"),
                TextColumn("ppl {task.fields[ppl]}"),
                TextColumn("{task.fields[speed]} tok/s"),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
                refresh_per_second=4,  # a light redraw thread next to the training loop
            )
            p = self.trainer.progress
            self.bar = self.progress.add_task(
                f"epoch {min(p.epoch + 1, self.epochs)}/{self.epochs}",
                total=self.epochs * self.batches,
                completed=p.epoch * self.batches + p.batch,
                batch=self._batch_text(p.batch),
                ppl="—",
                speed="—",
            )
            self.progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress is not None:
            try:
                self.progress.stop()
            except OSError:
                pass

    def _batch_text(self, batch: int) -> str:
        """Where the epoch stands: "127/11,972" (the bar and the ETA cover the whole run)."""
        return f"{batch:,}/{self.batches:,}"

    def line(self, text: str) -> None:
        if self.live:
            # rich strips a few control characters, not ESC: a run folder's name holding one
            # would reach the terminal.
            self.console.print(visible(text), markup=False)
        else:
            say(text)

    def __call__(self, event: dict) -> None:
        handler = getattr(self, f"on_{event.get('event')}", None)
        if handler is None or self.gone:
            return
        try:
            handler(event)
        except OSError:
            # The terminal went away (SIGHUP after an SSH drop): keep training and saving, quietly.
            self.gone = True
            self.__exit__()
            self.progress = None

    def on_start(self, e: dict) -> None:
        resumed = e.get("resumed")
        what, where = "training", ""
        if resumed and resumed.get("batch"):  # stopped within an epoch: it goes on from there
            what = "resuming"
            where = f" at minibatch {resumed['batch']:,} of epoch {resumed['epoch'] + 1}"
        elif resumed:
            what, where = "resuming", f" after epoch {resumed['epoch']}"
        self.has_validation = bool(e.get("val_tokens"))
        config = e["config"]
        model = config.get("model") or config.get("model_config", {}).get("model") or config["task"]
        self.line(
            f"{what} {model} ({e['num_params']:,} parameters) on {e['device']}{where}: "
            f"{e['data']} per epoch → {self.run_dir.path}"
        )
        rewound = resumed.get("rewound_from") if resumed else None
        if rewound:  # resumed from best: the epochs logged after it run again
            first = resumed["epoch"] + 1
            again = f"epoch {first} runs" if first == rewound else f"epochs {first}-{rewound} run"
            self.line(f"metrics.jsonl has epochs up to {rewound}: {again} again")
        for note in e.get("notes") or ():
            self.line(note)
        if e.get("baseline_ppl") is not None:
            name = baseline_name(e.get("baseline_name"))
            self.line(f"Laplace-smoothed {name} baseline: val ppl {_fmt(e['baseline_ppl'])}")

    def on_path(self, e: dict) -> None:
        # After the first step: how the steps run (eager, bf16, compiled, CUDA graph) and why.
        self.line("; ".join([f"path: {e.get('path')}", *(e.get("notes") or ())]))

    def on_step(self, e: dict) -> None:
        if self.progress is None:
            now = time.monotonic()
            if now - self.plain_since >= PLAIN_STEP_EVERY_S:
                self.plain_since = now
                self.line(self._plain_step(e))
            return
        self.progress.update(
            self.bar,
            completed=(e["epoch"] - 1) * self.batches + e["batch"],
            description=f"epoch {e['epoch']}/{self.epochs}",
            batch=self._batch_text(e["batch"]),
            ppl=_fmt(e.get("ppl") if e.get("ppl") is not None else e.get("loss")),
            speed=f"{e['tokens_per_s']:,.0f}",
        )

    def _plain_step(self, e: dict) -> str:
        """'epoch 1/5  batch 1,200/26,571 (4.5 %)  ppl 212.40  13,912 tok/s  ETA 1:52:05'."""
        done = (e["epoch"] - 1) * self.batches + e["batch"]
        total = self.epochs * self.batches
        share = 100 * e["batch"] / max(self.batches, 1)
        ppl = e.get("ppl") if e.get("ppl") is not None else e.get("loss")
        what = "ppl" if e.get("ppl") is not None else "loss"
        # The ETA from this process's own pace (a resumed run's earlier epochs are not counted).
        elapsed = time.monotonic() - self.started
        rate = (done - self.done_at_start) / elapsed if elapsed > 0 else 0.0
        eta = (total - done) / rate if rate > 0 else None
        return (
            f"epoch {e['epoch']}/{self.epochs}  batch {self._batch_text(e['batch'])} "
            f"({share:.1f} %)  {what} {_fmt(ppl)}  {e['tokens_per_s']:,.0f} tok/s  "
            f"ETA {_duration(eta)}"
        )

    def on_epoch(self, e: dict) -> None:
        self.plain_since = time.monotonic()
        if self.progress is not None:
            self.progress.update(
                self.bar,
                completed=e["epoch"] * self.batches,
                description=f"epoch {min(e['epoch'] + 1, self.epochs)}/{self.epochs}",
                batch=self._batch_text(0),
                ppl=_fmt(_score(e, "train")),
                speed=f"{e['tokens_per_s']:,.0f}",
            )
        # A task without perplexity (a forecast's MSE) shows its loss instead.
        what = "ppl" if e.get("train_ppl") is not None else "loss"
        spec = ".2f" if what == "ppl" else ".4g"
        train = _score_text(e, "train", what, spec)
        val = f"  val {what} {_score_text(e, 'val', what, spec)}" if self.has_validation else ""
        self.line(
            f"epoch {e['epoch']}/{e['epochs']}  train {what} {train}{val}  "
            f"grad norm {_fmt(e.get('grad_norm'), '.4g')}  {e['tokens_per_s']:,.0f} tok/s  "
            f"elapsed {_duration(e.get('elapsed'))}  ETA {_duration(e.get('eta'))}"
            + self.trainer.task.epoch_text(e)
            + ("  *best" if e.get("best") else "")
        )

    def on_sample(self, e: dict) -> None:
        for line in str(e["text"]).splitlines() or [""]:
            self.line(f"  sample: {line}")

    def on_status(self, e: dict) -> None:
        # "failed" is reported by the command itself, as an error line.
        status, message = e.get("status"), e.get("message") or ""
        if status in ("running", "failed") or not message:
            return
        self.line(message if message.startswith(status) else f"{status}: {message}")


class PreparingLine:
    """The preparation's progress before the first epoch ("tokenizing wiki.txt: 45 %", then
    "vocabulary of wiki.txt…"): a line rewritten in place on a terminal, else a
    plain line every PLAIN_PREPARING_EVERY_S (the app shows a starting run's last train.log
    line)."""

    PLAIN_PREPARING_EVERY_S = 1.0  # and not before: a small corpus writes nothing

    def __init__(self, shown: bool = True) -> None:
        self.line = TerminalProgress()
        self.last = time.monotonic()
        self.shown = shown
        self.said = False

    def __call__(self, name: str, done: int, total: int, verb: str = "tokenizing") -> None:
        if not self.shown:
            return
        if done < total:
            text = f"{verb} {name}: {100 * done // max(1, total)} %"
        elif verb == "tokenizing":  # then the vocabulary (seconds for millions of distinct
            text = f"vocabulary of {name}…"  # words), the batches
        else:
            text = f"{verb} {name}: 100 %"
        if self.line.on:
            self.line.show(text, now_too=done >= total)
            return
        now = time.monotonic()
        # The last step's line also follows a shorter wait, once the first has been written.
        if now - self.last >= self.PLAIN_PREPARING_EVERY_S or (done >= total and self.said):
            self.last, self.said = now, True
            say(text)

    def waiting_notice(self, followed: bool) -> AbstractContextManager:
        """Where this trainer's wait on a pipe is said: a terminal already has the command's
        progress line; the app's own child (`followed`) writes it as a plain line, which the
        app shows until the next one (the data's progress, or the refusal) replaces it; any
        other log gets nothing, so a refused pipe leaves one line alone."""
        if not self.shown or self.line.on or not followed:
            return nullcontext()
        return waiting_notice(lambda line: say(line) if line else None)

    def __enter__(self) -> PreparingLine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.line.clear()


def _score(event: dict, part: str) -> float | None:
    """The epoch's perplexity of `part` (train, val), or its loss where there is none."""
    ppl = event.get(f"{part}_ppl")
    return ppl if ppl is not None else event.get(f"{part}_loss")


def _score_text(event: dict, part: str, what: str, spec: str) -> str:
    """`_score` as written in an epoch line. A perplexity too large for a float is written as
    the power of e it is: its loss under the name "ppl" read as a perplexity of 807."""
    ppl, loss = event.get(f"{part}_ppl"), event.get(f"{part}_loss")
    if what == "ppl" and ppl is None and isinstance(loss, int | float):
        return fmt_overflowed(loss)
    return _fmt(_score(event, part), spec)


__all__ = ["PreparingLine", "Reporter"]
