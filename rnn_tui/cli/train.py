"""`rnn-tui train`: train a language model or a seq2seq translator headless, writing a run
directory.

Every check that can fail on bad input (options, corpus, sizes, model, device, the run directory,
a resume checkpoint) runs before anything is written: one line on stderr, exit 2. Progress goes to
stderr (a Rich bar and one line per epoch on a terminal, plain lines otherwise); `--json` prints
one summary object on stdout at the end. Exit status: 0 finished or stopped on request
(control.json), 1 failed (NaN loss, crash), 2 bad input, 128 + N after signal N (SIGINT 130,
SIGTERM 143, SIGHUP 129), each of those after writing the `last` checkpoint.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import traceback
from pathlib import Path

from rnn_tui.cli import fail, integer, non_negative_int, positive_int

NAME = "train"

# The LMConfig defaults, for the help text only (LMConfig itself lives with torch; a test keeps
# the two in step). Options left out on the command line take LMConfig's defaults.
DEFAULTS = {
    "task": "lm",
    "corpus": "timemachine",
    "token": "char",
    "mode": "clean",
    "encoding": "utf-8",
    "min_freq": 0,
    "model": "lstm",
    "layers": 1,
    "hidden": 256,
    "dropout": 0.0,
    "batch_size": 32,
    "num_steps": 35,
    "lr": 1.0,
    "optimizer": "sgd",
    "epochs": 50,
    "clip": 1.0,
    "sampling": "sequential",
    "val_fraction": 0.1,
    "device": "auto",
    "seed": 0,
    "sample_every": 1,
    "prefix": "time traveller",
    "sample_length": 50,
    "log_every": 0,
}
MODEL_CHOICES = ("rnn-scratch", "gru-scratch", "lstm-scratch", "rnn", "gru", "lstm", "seq2seq")
# Seq2SeqConfig's defaults where they differ (a test keeps them in step too).
SEQ2SEQ_DEFAULTS = {
    "pairs": "fra-eng",
    "min_freq": 2,
    "model": "seq2seq",
    "layers": 2,
    "embed": 256,
    "hidden": 256,
    "dropout": 0.1,
    "batch_size": 64,
    "num_steps": 10,
    "lr": 0.005,
    "optimizer": "adam",
    "epochs": 10,
}
LM_ONLY = ("corpus", "token", "mode", "sampling", "max_tokens", "prefix", "sample_length")
SEQ2SEQ_ONLY = ("pairs", "num_examples")
# What --resume may change; everything else comes from the run's own config.
RESUME_OPTIONS = ("epochs", "device")
HYPER_OPTIONS = (
    "pairs",
    "num_examples",
    "corpus",
    "token",
    "mode",
    "encoding",
    "min_freq",
    "model",
    "layers",
    "bidirectional",
    "hidden",
    "embed",
    "dropout",
    "batch_size",
    "num_steps",
    "lr",
    "optimizer",
    "epochs",
    "clip",
    "sampling",
    "max_tokens",
    "val_fraction",
    "device",
    "seed",
    "sample_every",
    "prefix",
    "sample_length",
    "log_every",
)


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"must be a finite number, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = _number(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return value


def val_fraction(text: str) -> float:
    value = _number(text)
    if not 0 <= value <= 0.5:
        raise argparse.ArgumentTypeError(f"must be in [0, 0.5] (0 = no validation), got {text!r}")
    return value


def dropout(text: str) -> float:
    value = _number(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be in [0, 1), got {text!r}")
    return value


def max_tokens(text: str) -> int:
    value = integer(text)
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer (or -1 for the whole corpus), got {text!r}"
        )
    return value


def _help(text: str, key: str | None = None) -> str:
    if not key:
        return text
    if key in SEQ2SEQ_DEFAULTS and key in DEFAULTS:
        return f"{text} (default: {DEFAULTS[key]}; seq2seq: {SEQ2SEQ_DEFAULTS[key]})"
    return f"{text} (default: {(DEFAULTS | SEQ2SEQ_DEFAULTS)[key]})"


def num_examples(text: str) -> int:
    value = integer(text)
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(
            f"must be a positive integer (or -1 for all pairs), got {text!r}"
        )
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a language model or a seq2seq translator headless (writes a run directory)",
        description=(
            "Train a character- or word-level language model as the d2l.ai RNN chapters do "
            "(cross-entropy over all steps, SGD, gradient clipping), or with --task seq2seq a GRU "
            "encoder-decoder on English-French pairs (masked cross-entropy, teacher forcing, "
            "Adam; held-out loss and BLEU each epoch), writing runs/<name>/ "
            "(config.json, metrics.jsonl, status.json, checkpoints/). Ctrl+C stops after the "
            "current minibatch and saves; --resume continues."
        ),
        epilog=(
            "The book's 10,000-character setting: --max-tokens 10000 --val-fraction 0. "
            "The book's translation run: --task seq2seq --num-examples 600 --embed 32 "
            "--hidden 32 --epochs 300 --val-fraction 0. "
            "Runs go to ./runs unless --run-dir or $RNN_TUI_RUNS says otherwise."
        ),
    )
    a = p.add_argument
    a(
        "--task",
        choices=["lm", "seq2seq"],
        default=None,
        help=_help("lm: a language model; seq2seq: English→French translation", "task"),
    )
    a(
        "--pairs",
        metavar="fra-eng|PATH",
        help=_help("seq2seq: the bundled pairs or a file of tab-separated pairs", "pairs"),
    )
    a(
        "--num-examples",
        metavar="N",
        type=num_examples,
        help="seq2seq: use only the first N pairs (default: -1 = all)",
    )
    a(
        "--corpus",
        metavar="timemachine|PATH",
        help=_help("a bundled corpus or a text file", "corpus"),
    )
    a("--token", choices=["char", "word"], help=_help("token level", "token"))
    a(
        "--mode",
        choices=["clean", "raw"],
        help=_help("clean: the seeds' [^A-Za-z]+ -> space, lower-case; raw: as written", "mode"),
    )
    a("--encoding", metavar="NAME", help=_help("text encoding of a corpus file", "encoding"))
    a(
        "--min-freq",
        metavar="N",
        type=non_negative_int,
        help=_help("rarer tokens become <unk>", "min_freq"),
    )
    a("--model", choices=MODEL_CHOICES, help=_help("architecture", "model"))
    a(
        "--layers",
        metavar="L",
        type=positive_int,
        help=_help("recurrent layers (concise models)", "layers"),
    )
    a(
        "--bidirectional",
        action="store_true",
        default=None,
        help="bidirectional layers (concise models; reads the future, so it predicts poorly)",
    )
    a("--hidden", metavar="H", type=positive_int, help=_help("hidden units", "hidden"))
    a(
        "--embed",
        metavar="E",
        type=non_negative_int,
        help="embedding size, 0 = one-hot inputs (default: 0 for char level, 128 for word)",
    )
    a("--dropout", metavar="P", type=dropout, help=_help("dropout between layers", "dropout"))
    a(
        "--batch-size",
        metavar="B",
        type=positive_int,
        help=_help("sequences per minibatch", "batch_size"),
    )
    a(
        "--num-steps",
        metavar="T",
        type=positive_int,
        help=_help("time steps per sequence", "num_steps"),
    )
    a("--lr", metavar="LR", type=positive_float, help=_help("learning rate", "lr"))
    a("--optimizer", choices=["sgd", "adam"], help=_help("optimizer", "optimizer"))
    a("--epochs", metavar="N", type=positive_int, help=_help("epochs in total", "epochs"))
    a(
        "--clip",
        metavar="THETA",
        type=positive_float,
        help=_help("gradient clipping threshold θ", "clip"),
    )
    a(
        "--sampling",
        choices=["sequential", "random"],
        help=_help(
            "minibatches: sequential carries the state (truncated BPTT), random resets it",
            "sampling",
        ),
    )
    a(
        "--max-tokens",
        metavar="N",
        type=max_tokens,
        help="use only the first N tokens of the corpus (default: -1 = all)",
    )
    a(
        "--val-fraction",
        metavar="F",
        type=val_fraction,
        help=_help("held-out tail of the token stream, 0 = none", "val_fraction"),
    )
    a("--device", metavar="auto|cpu|cuda", help=_help("where to train", "device"))
    a("--seed", metavar="S", type=non_negative_int, help=_help("random seed", "seed"))
    a(
        "--sample-every",
        metavar="N",
        type=non_negative_int,
        help=_help("print a sample every N epochs, 0 = never", "sample_every"),
    )
    a("--prefix", metavar="TEXT", help=_help("prefix of the samples", "prefix"))
    a(
        "--sample-length",
        metavar="N",
        type=positive_int,
        help=_help("tokens per sample", "sample_length"),
    )
    a(
        "--log-every",
        metavar="N",
        type=non_negative_int,
        help="a step event every N minibatches (default: 0 = about 20 per epoch)",
    )
    a("--run-dir", metavar="DIR", help="this run's directory (default: runs/<task>-<model>-<time>)")
    a(
        "--resume",
        metavar="RUN_DIR",
        help="continue a stopped run (only --epochs and --device may change)",
    )
    a("--json", action="store_true", help="print one JSON summary on stdout at the end")


def _given(args: argparse.Namespace) -> dict:
    return {k: getattr(args, k) for k in HYPER_OPTIONS if getattr(args, k, None) is not None}


def _option(name: str) -> str:
    return "--" + name.replace("_", "-")


def _holds_run(path: Path) -> bool:
    return any(
        (path / name).exists()
        for name in ("config.json", "metrics.jsonl", "status.json", "checkpoints")
    )


def _pid_is_live(pid: object) -> bool:
    from rnn_tui.runs.rundir import process_alive

    # Our own pid is not "another trainer": a resumed run rewrites the status it read.
    return pid != os.getpid() and process_alive(pid) is True


def run(args: argparse.Namespace) -> int:
    from rnn_tui.runs.rundir import RunDir, RunError

    given = _given(args)
    if args.resume is not None:
        extra = sorted(set(given) - set(RESUME_OPTIONS))
        if extra:
            names = ", ".join(_option(k) for k in extra)
            return fail(
                f"{names} cannot change on --resume (the run keeps its config); "
                "only --epochs and --device can"
            )
        if args.run_dir is not None:
            return fail("--run-dir cannot be combined with --resume (a run continues in its own)")
        folder = Path(args.resume)
        if not folder.is_dir() or not (folder / "config.json").is_file():
            return fail(f"not a run directory: {folder} (--resume takes runs/<name>)")
        try:
            status = RunDir(folder).read_status()
        except RunError as exc:
            return fail(str(exc))
        if status.get("status") in ("running", "paused") and _pid_is_live(status.get("pid")):
            return fail(f"run {folder} is being trained right now by process {status['pid']}")
    elif args.run_dir is not None:
        folder = Path(args.run_dir)
        if folder.exists() and not folder.is_dir():
            return fail(f"--run-dir {folder} is a file, not a directory")
        if folder.is_dir() and _holds_run(folder):
            return fail(
                f"{folder} already holds a run: continue it with --resume {folder}, "
                "or choose another --run-dir"
            )
    try:
        # torch loads here (a second or two); a Ctrl+C meanwhile ends quietly.
        return _train(args, given)
    except KeyboardInterrupt:
        print("rnn-tui: interrupted", file=sys.stderr)
        return 130


def _train(args: argparse.Namespace, given: dict) -> int:
    from rnn_tui.checkpoints import CheckpointError
    from rnn_tui.checkpoints.checkpoint import load_checkpoint
    from rnn_tui.checkpoints.device import DeviceError
    from rnn_tui.data.errors import DataError
    from rnn_tui.models.base import ModelError
    from rnn_tui.runs.rundir import RunDir, RunError, default_runs_root, new_run_dir
    from rnn_tui.train.seq2seq_trainer import Seq2SeqConfig, Seq2SeqTrainer
    from rnn_tui.train.signals import StopRequest, stop_on_signals
    from rnn_tui.train.trainer import ConfigError, LMConfig, LMTrainer

    bad_input = (DataError, ModelError, CheckpointError, DeviceError, ConfigError, RunError)
    checkpoint = None
    try:
        if args.resume is not None:
            checkpoint = load_checkpoint(args.resume, prefer=("last", "best"))
            if checkpoint.warning:
                print(f"rnn-tui: warning: {checkpoint.warning}", file=sys.stderr)
            seq2seq = checkpoint.task == "seq2seq"
            config = (Seq2SeqConfig if seq2seq else LMConfig).from_dict(checkpoint.config)
            for key in RESUME_OPTIONS:
                if key in given:
                    setattr(config, key, given[key])
        else:
            seq2seq = args.task == "seq2seq" or given.get("model") == "seq2seq"
            wrong = [k for k in (LM_ONLY if seq2seq else SEQ2SEQ_ONLY) if k in given]
            if wrong:
                task = "seq2seq" if seq2seq else "lm"
                return fail(f"{_option(wrong[0])} does not apply to --task {task}")
            if seq2seq and args.task == "lm":
                return fail("--model seq2seq needs --task seq2seq")
            config = Seq2SeqConfig(**given) if seq2seq else LMConfig(**given)
        trainer = (Seq2SeqTrainer if seq2seq else LMTrainer)(config, resume=checkpoint)
        if args.resume is not None:
            run_dir = RunDir(Path(args.resume).absolute())
        elif args.run_dir is not None:
            path = Path(args.run_dir).absolute()
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise RunError(f"cannot create {path}: {exc.strerror or exc}") from None
            run_dir = RunDir(path)
        else:
            run_dir = RunDir(
                new_run_dir(default_runs_root(), prefix=config.task, model=config.model)
            )
    except bad_input as exc:
        return fail(str(exc))

    stop = StopRequest()
    reporter = Reporter(trainer, run_dir)
    try:
        with stop_on_signals(stop), reporter:
            summary = trainer.run(run_dir, stop, on_event=reporter)
    except KeyboardInterrupt:
        print(
            f"rnn-tui: interrupted; resume with: rnn-tui train --resume {run_dir.path}",
            file=sys.stderr,
        )
        return 130
    except Exception as exc:
        traceback.print_exc()
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"rnn-tui: error: training failed: {reason}", file=sys.stderr)
        return 1
    if args.json:
        json.dump(summary, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        sys.stdout.flush()
    if summary["status"] == "failed":
        print(f"rnn-tui: error: {summary['message']}", file=sys.stderr)
        return 1
    if summary["status"] == "stopped":
        return stop.exit_code
    return 0


def _fmt(value, spec: str = ".2f") -> str:
    return "—" if value is None else format(value, spec)


def _duration(seconds) -> str:
    if seconds is None or not math.isfinite(seconds):
        return "—"
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Reporter:
    """Training progress on stderr: a Rich progress bar (epoch n/N, perplexity, tokens/s, ETA)
    and one line per epoch on a terminal; the same lines without the bar otherwise (a log file
    such as the UI's train.log)."""

    def __init__(self, trainer, run_dir) -> None:
        from rich.console import Console

        self.console = Console(stderr=True, highlight=False)
        self.live = self.console.is_terminal
        self.trainer = trainer
        self.run_dir = run_dir
        self.epochs = trainer.config.epochs
        self.batches = trainer.num_batches
        self.progress = None
        self.task = None
        self.gone = False

    def __enter__(self) -> Reporter:
        if self.live:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("ppl {task.fields[ppl]}"),
                TextColumn("{task.fields[speed]} tok/s"),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self.console,
                transient=True,
                refresh_per_second=4,  # a light redraw thread next to the training loop
            )
            p = self.trainer.progress
            self.task = self.progress.add_task(
                f"epoch {min(p.epoch + 1, self.epochs)}/{self.epochs}",
                total=self.epochs * self.batches,
                completed=p.epoch * self.batches + p.batch,
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

    def line(self, text: str) -> None:
        if self.live:
            self.console.print(text, markup=False)
        else:
            print(text, file=sys.stderr, flush=True)

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
        cfg = e["config"]
        resumed = e.get("resumed")
        what = f"resuming after epoch {resumed['epoch']}" if resumed else "training"
        if cfg.get("task") == "seq2seq":
            self.line(
                f"{what} seq2seq ({e['num_params']:,} parameters) on {e['device']}: "
                f"{cfg['train_pairs']:,} training / {cfg['val_pairs']:,} held-out pairs, "
                f"vocabularies {cfg['src_vocab_size']:,} / {cfg['tgt_vocab_size']:,}, "
                f"{self.batches} minibatches of ≤ {cfg['batch_size']} per epoch "
                f"→ {self.run_dir.path}"
            )
            if cfg.get("malformed_lines"):
                self.line(f"skipped {cfg['malformed_lines']:,} malformed lines in {cfg['pairs']}")
            return
        self.line(
            f"{what} {cfg['model']} ({e['num_params']:,} parameters) on {e['device']}: "
            f"{e['train_tokens']:,} training / {e['val_tokens']:,} validation {cfg['token']} "
            f"tokens, {self.batches} minibatches of {cfg['batch_size']}×{cfg['num_steps']} "
            f"per epoch → {self.run_dir.path}"
        )
        if e.get("baseline_ppl") is not None:
            self.line(f"Laplace-smoothed trigram baseline: val ppl {e['baseline_ppl']:.2f}")

    def on_step(self, e: dict) -> None:
        if self.progress is not None:
            self.progress.update(
                self.task,
                completed=(e["epoch"] - 1) * self.batches + e["batch"],
                description=f"epoch {e['epoch']}/{self.epochs}",
                ppl=_fmt(e.get("ppl")),
                speed=f"{e['tokens_per_s']:,.0f}",
            )

    def on_epoch(self, e: dict) -> None:
        if self.progress is not None:
            self.progress.update(
                self.task,
                completed=e["epoch"] * self.batches,
                description=f"epoch {min(e['epoch'] + 1, self.epochs)}/{self.epochs}",
                ppl=_fmt(e.get("train_ppl")),
                speed=f"{e['tokens_per_s']:,.0f}",
            )
        val = f"  val ppl {_fmt(e.get('val_ppl'))}" if len(self.trainer.val_ids) else ""
        self.line(
            f"epoch {e['epoch']}/{e['epochs']}  train ppl {_fmt(e.get('train_ppl'))}{val}  "
            f"grad norm {_fmt(e.get('grad_norm'))}  {e['tokens_per_s']:,.0f} tok/s  "
            f"elapsed {_duration(e.get('elapsed'))}  ETA {_duration(e.get('eta'))}"
            + (f"  BLEU {e['bleu']:.1f}" if e.get("bleu") is not None else "")
            + (f" (≤5 words {e['bleu_short']:.1f})" if e.get("bleu_short") is not None else "")
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


__all__ = ["NAME", "add_parser", "run"]
