"""The `rnn-tui` command line, built from the options' declarations.

Every flag that sets an option comes from its one `Option` declaration (rnn_tui.options): the
training options from the task registry (rnn_tui.train.registry), generation and translation
from rnn_tui.decode.options, corpus statistics from rnn_tui.data.stats. Nothing here imports
torch, so `rnn-tui --help`, `rnn-tui train --help` and `rnn-tui stats` start in a fraction of a
second; the commands import what they need when they run.
"""

from __future__ import annotations

import argparse

from rnn_tui import __version__
from rnn_tui.cli.serve import SERVE_OPTIONS
from rnn_tui.cli.task_flags import by_task, ranges
from rnn_tui.cli.usage import Parser, converter
from rnn_tui.data.sources import ENCODING, MAX_FILE_MB
from rnn_tui.data.stats import STATS_OPTIONS
from rnn_tui.decode.options import GENERATE_OPTIONS, TRANSLATE_OPTIONS
from rnn_tui.options import Option, with_changes
from rnn_tui.probe.options import GRADIENT_OPTIONS
from rnn_tui.train.registry import DEFAULT_TASK, TASKS

COLOR_SYSTEMS = {"auto": None, "truecolor": "truecolor", "256": "256", "16": "standard"}
COMMANDS = (
    "stats",
    "train",
    "generate",
    "translate",
    "classify",
    "tag",
    "gradients",
    "runs",
    "serve",
)
TOP_OPTION = Option("top", int, 3, "classes shown per name", minimum=1, maximum=1000, metavar="K")
# What `train --resume` may change; everything else comes from the run's own config. A new
# learning rate continues a run with a step decay (the optimizer's state is kept).
# What --resume may change: how long, where and how fast it trains (the step paths compute the
# same thing, within floating-point tolerance); never what the model or its data are.
RESUME_OPTIONS = ("epochs", "device", "lr", "graph", "compile", "log_every")


def listed(items: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return " and ".join(filter(None, [", ".join(items[:-1]), items[-1]])) if items else ""


def _loosest(options: list[Option]) -> Option:
    """One declaration standing for an option several tasks share: the widest range, every
    choice (the task's own check narrows it once the task is known)."""
    first = options[0]
    if len(options) == 1:
        return first
    lows = [o.minimum for o in options]
    highs = [o.maximum for o in options]
    choices = tuple(dict.fromkeys(c for o in options for c in o.choices))
    optional = next((o for o in options if o.optional), first)
    return Option(
        first.name,
        first.kind,
        first.default,
        first.help,
        minimum=None if None in lows else min(lows),
        maximum=None if None in highs else max(highs),
        open_minimum=all(o.open_minimum for o in options),
        open_maximum=all(o.open_maximum for o in options),
        choices=choices,
        pattern=first.pattern,
        unset=optional.unset,
        unset_label=optional.unset_label,
        noun=first.noun,
        metavar=first.metavar,
        empty_ok=any(o.empty_ok for o in options),
        typed_unset=all(o.typed_unset for o in options),
        extra=first.extra,
    )


def _default_text(option: Option) -> str:
    if option.optional and option.default == option.unset:
        return option.unset_label
    return option.text(option.default) if not isinstance(option.default, str) else option.default


def add_option(
    parser: argparse.ArgumentParser, option: Option, help: str, default=None, accepted: str = ""
) -> None:
    """`option` as a flag of `parser`; `default=None` leaves the option out of the namespace's
    values when it is not given (so a task's own default applies). `accepted`: each task's
    range, where they differ (task_flags.py), said instead of the declaration's."""
    if option.kind in (int, float) and not option.choices:
        help = f"{help}: {accepted or option.describe()}"
    kwargs: dict = {"help": help.replace("%", "%%"), "default": default}
    if option.kind is bool:
        parser.add_argument(option.flag, action="store_true", **{**kwargs, "default": default})
        return
    if option.choices and not option.pattern:
        kwargs["choices"] = list(option.choices)
    else:
        kwargs["type"] = by_task(option, accepted) if accepted else converter(option)
        kwargs["metavar"] = option.metavar or option.name.upper()
    switches = bool(option.extra.get("switches"))
    # Two of them at once (--drop --pad) is refused: the last one silently won.
    group = parser.add_mutually_exclusive_group() if switches else parser
    group.add_argument(option.flag, dest=option.name, **kwargs)
    if switches:
        # Each choice is also a bare switch (--pad for --first pad), as the seeds speak of it.
        for choice in option.choices:
            group.add_argument(
                f"--{choice}",
                dest=option.name,
                action="store_const",
                const=choice,
                help=f"the same as {option.flag} {choice}",
            )


def _max_file(parser: argparse.ArgumentParser) -> None:
    """--max-file-mb: the size cap on the files a command reads (not set: the usual one)."""
    add_option(parser, MAX_FILE_MB, f"{MAX_FILE_MB.help} (default: {MAX_FILE_MB.unset_label})")


def _plain(parser: argparse.ArgumentParser, options: tuple[Option, ...]) -> None:
    """Flags that take their declared default when left out."""
    for option in options:
        default = _default_text(option)
        text = f"{option.help} (default: {default})" if default else option.help
        add_option(parser, option, text, default=option.default)


# -- train ----------------------------------------------------------------------------------


def train_option_names() -> list[str]:
    """Every training option of every task, in first-declared order."""
    return list(dict.fromkeys(o.name for spec in TASKS.values() for o in spec.options))


def _train_help(name: str) -> tuple[Option, str]:
    declared = [(spec, spec.option(name)) for spec in TASKS.values() if spec.has(name)]
    option = _loosest([o for _, o in declared])
    defaults = {spec.name: _default_text(o) for spec, o in declared}
    if len(declared) < len(TASKS):
        tasks = ", ".join(spec.name for spec, _ in declared)
        first, *others = defaults.items()
        differ = "".join(f"; {task}: {value}" for task, value in others if value != first[1])
        default = f"; default: {first[1]}" if first[1] else ""  # --column's is in its help
        text = f"{declared[0][1].help} ({tasks} only{default}{differ})"
    elif len(set(defaults.values())) == 1:
        text = f"{option.help} (default: {next(iter(defaults.values()))})"
    else:
        first = defaults.pop(DEFAULT_TASK)
        others = "; ".join(f"{task}: {value}" for task, value in defaults.items())
        text = f"{option.help} (default: {first}; {others})"
    return option, text  # add_option escapes its % for argparse


def _add_train(sub) -> None:
    titles = "; ".join(f"{spec.name}: {spec.title}" for spec in TASKS.values())
    p = sub.add_parser(
        "train",
        help="train a language model, a seq2seq translator, a series forecaster, a names "
        "classifier or a character tagger headless "
        "(writes a run directory)",
        description=(
            "Train a character- or word-level language model as the d2l.ai RNN chapters do "
            "(cross-entropy over all steps, SGD, gradient clipping), or with --task seq2seq a GRU "
            "encoder-decoder on English-French pairs (masked cross-entropy, teacher forcing, "
            "Adam; held-out loss and BLEU each epoch), or with --task forecast the seeds' "
            "sequence models on a series (an autoregressive MLP or a latent RNN/GRU/LSTM, MSE; "
            "k-step-ahead errors against naive baselines each epoch), with --task classify a "
            "character RNN naming a surname's language (many-to-one), or with --task tag one "
            "restoring the Time Machine's capitals and punctuation (many-to-many; held-out "
            "accuracy and macro-F1 each epoch), writing runs/<name>/ "
            "(config.json, metrics.jsonl, status.json, checkpoints/). Ctrl+C stops after the "
            "current minibatch and saves; --resume continues."
        ),
        epilog=(
            "The book's 10,000-character setting: --max-tokens 10000 --val-fraction 0. "
            "The book's translation run: --task seq2seq --num-examples 600 --embed 32 "
            "--hidden 32 --epochs 300 --val-fraction 0. "
            "Runs go to ./runs unless --run-dir or $RNN_TUI_RUNS says otherwise. "
            "Several GPUs (any task): torchrun --standalone --nproc_per_node N -m rnn_tui "
            "train ... (data-parallel; --batch-size is the global batch, a multiple of N)."
        ),
    )
    p.add_argument(
        "--task", choices=list(TASKS), default=None, help=f"{titles} (default: {DEFAULT_TASK})"
    )
    for name in train_option_names():
        option, text = _train_help(name)
        add_option(p, option, text, accepted=ranges(name))
    p.add_argument("--run-dir", metavar="DIR", help="this run's directory (default: runs/<task>-…)")
    p.add_argument(
        "--resume",
        metavar="RUN_DIR",
        help="continue a stopped run: its directory, or its name as `rnn-tui runs` lists it (only "
        + listed([TASKS[DEFAULT_TASK].option(n).flag for n in RESUME_OPTIONS])
        + " may change)",
    )
    _max_file(p)
    p.add_argument(
        "--json", action="store_true", help="print one JSON summary on stdout at the end"
    )


# -- the other commands ---------------------------------------------------------------------


def _add_stats(sub) -> None:
    p = sub.add_parser(
        "stats",
        help="corpus size, vocabulary and top n-grams of a corpus",
        description="Print corpus size, vocabulary size, the top tokens and top n-grams.",
    )
    _plain(p, STATS_OPTIONS)
    _max_file(p)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _add_generate(sub) -> None:
    p = sub.add_parser(
        "generate",
        help="text from a trained language model (greedy or sampled)",
        description=(
            "Warm a language model up on a prefix, then predict the next tokens one at a time: "
            "greedy (the argmax, as the seeds' prediction) or sampled from softmax(o / T), "
            "optionally among the top-k tokens. Prints the prefix and the generated text."
        ),
    )
    p.add_argument(
        "--checkpoint",
        required=True,
        metavar="PATH",
        help="a .safetensors checkpoint (or its .json), a run directory or a run's name as "
        "`rnn-tui runs` lists it (its best checkpoint), or a shipped checkpoint's name",
    )
    p.add_argument(
        "--prefix",
        metavar="TEXT",
        help="the text to continue (default: the text the checkpoint's training samples began "
        "with, else the seeds' 'time traveller')",
    )
    _plain(p, GENERATE_OPTIONS)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _add_translate(sub) -> None:
    p = sub.add_parser(
        "translate",
        help="translate sentences with a trained seq2seq model (beam search)",
        description=(
            "Translate English sentences with a seq2seq checkpoint: beam search keeps the K most "
            "probable prefixes and ranks finished ones by (1/L^alpha) sum log P (d2l 9.8); "
            "greedy is shown too when it differs. With references, prints the seeds' BLEU "
            "(k=2) per sentence and sacreBLEU over all of them."
        ),
        epilog='example: rnn-tui translate --checkpoint runs/NAME "go ." "i lost ."',
    )
    p.add_argument(
        "sentences",
        nargs="*",
        metavar="SENTENCE",
        help='a sentence to translate ("sentence => reference" carries its reference)',
    )
    p.add_argument(
        "--checkpoint",
        required=True,
        metavar="PATH",
        help="a .safetensors checkpoint (or its .json), a run directory or a run's name as "
        "`rnn-tui runs` lists it (best, else last), or a shipped checkpoint's name",
    )
    p.add_argument(
        "--file",
        metavar="F",
        help='sentences one per line (- for stdin); a line "sentence => reference" carries its '
        "reference; blank lines are skipped",
    )
    p.add_argument(
        "--references",
        metavar="R",
        help="references one per line, as many as sentences (blank lines are skipped)",
    )
    _plain(p, TRANSLATE_OPTIONS)
    _plain(p, (with_changes(ENCODING, help="text encoding of --file and --references"),))
    _max_file(p)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _add_classify(sub) -> None:
    p = sub.add_parser(
        "classify",
        help="the languages of names with a trained classifier (train --task classify)",
        description=(
            "Read each name with a many-to-one checkpoint and print its most probable "
            "languages, softmax(W h_T + b) of the final state."
        ),
        epilog="example: rnn-tui classify --checkpoint runs/NAME Dovesky Jackson Satoshi",
    )
    p.add_argument("names", nargs="+", metavar="NAME", help="a name to classify")
    p.add_argument(
        "--checkpoint",
        required=True,
        metavar="PATH",
        help="a classify checkpoint (.safetensors or its .json), its run directory or run name",
    )
    _plain(p, (TOP_OPTION,))
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _add_tag(sub) -> None:
    p = sub.add_parser(
        "tag",
        help="restore capitals and punctuation with a trained tagger (train --task tag)",
        description=(
            "Read each text, lower-cased and without punctuation, with a many-to-many checkpoint "
            "and print it restored: one tag per character, softmax(W h_t + b) at every step."
        ),
        epilog='example: rnn-tui tag --checkpoint runs/NAME "the time traveller said so"',
    )
    p.add_argument("texts", nargs="+", metavar="TEXT", help="a text to restore")
    p.add_argument(
        "--checkpoint",
        required=True,
        metavar="PATH",
        help="a tag checkpoint (.safetensors or its .json), its run directory or run name",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _add_gradients(sub) -> None:
    p = sub.add_parser(
        "gradients",
        help="backpropagation through time measured on one cell (vanishing, exploding, "
        "clipping, truncation)",
        description=(
            "Unroll one recurrent cell over T steps and measure the norm of the gradient of the "
            "loss at step T with respect to every hidden state h_t (d2l 8.7): it shrinks or "
            "grows like rho(W_hh)^(T-t) for a linear cell, printed beside the closed form. Also "
            "the gradient norm before and after clipping (and that its direction is kept) and "
            "what truncating BPTT after tau steps drops. A fresh cell has a random orthogonal "
            "W_hh times --init-scale; --checkpoint looks into a trained language model."
        ),
        epilog="example: rnn-tui gradients --cell linear --init-scale 0.9 --length 50 --json",
    )
    _plain(p, GRADIENT_OPTIONS)
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _add_runs(sub) -> None:
    p = sub.add_parser(
        "runs",
        help="list training runs (name, model, status, epochs, best score of their task)",
        description=(
            "List the run directories under ./runs ($RNN_TUI_RUNS, or --dir), newest first, "
            "with each run's best score: val ppl, BLEU, RMSE or macro-F1 by its task."
        ),
    )
    p.add_argument(
        "--dir",
        metavar="ROOT",
        help="the folder holding the runs (default: $RNN_TUI_RUNS when set, else ./runs)",
    )
    p.add_argument("--json", action="store_true", help='print one JSON object {"runs": [...]}')


def _add_serve(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="serve the app to web browsers (each tab runs its own app)",
        description=(
            "Serve the app over HTTP: open the printed address in a browser. It listens on this "
            "machine alone; from elsewhere, forward the port: ssh -L 8000:localhost:8000 HOST."
        ),
    )
    _plain(p, SERVE_OPTIONS)
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="listen on an address other machines reach (anyone there runs the app, no password)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="rnn-tui",
        description=(
            "Explore recurrent neural networks end to end, the way the d2l.ai RNN chapters "
            "teach them. With no command, opens the terminal app."
        ),
        epilog="Keys in the app: 1 Dataset, ? help, ctrl+p command palette, ctrl+q quit.",
    )
    parser.add_argument("--version", action="version", version=f"rnn-tui {__version__}")
    parser.add_argument(
        "--no-mouse",
        action="store_true",
        help="do not capture the mouse (over flaky SSH links; everything works by keyboard)",
    )
    parser.add_argument(
        "--color",
        choices=list(COLOR_SYSTEMS),
        default="auto",
        help="colour system of the terminal (SSH does not forward COLORTERM: try 256)",
    )
    # The app reads files too (Dataset, Forecast); its too-big-file message names this option.
    _max_file(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    adders = (
        _add_stats,
        _add_train,
        _add_generate,
        _add_translate,
        _add_classify,
        _add_tag,
        _add_gradients,
        _add_runs,
        _add_serve,
    )
    for add in adders:
        add(sub)
    parser.commands = dict(sub.choices)
    return parser


__all__ = ["COLOR_SYSTEMS", "COMMANDS", "RESUME_OPTIONS", "Parser", "build_parser", "listed"]
