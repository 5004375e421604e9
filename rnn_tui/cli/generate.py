"""`rnn-tui generate`: text from a language-model checkpoint, greedy or sampled.

torch is imported inside run(), so `rnn-tui --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys
import time

from rnn_tui.cli.output import (
    TerminalProgress,
    Waiting,
    fail,
    on_terminal,
    print_json,
    say,
    warn,
)

# What sampling alone reads: greedy takes the argmax whatever they say.
_SAMPLING_ONLY = ("temperature", "top_k", "seed")


def run(args: argparse.Namespace) -> int:
    from rnn_tui.checkpoints import CheckpointError
    from rnn_tui.data.errors import DataError
    from rnn_tui.decode.options import GenerateOptions, draw_seed, validate_options

    try:
        validate_options(args.length, args.strategy, args.temperature, args.top_k, args.seed)
    except DataError as exc:
        return fail(str(exc))
    typed = getattr(args, "typed", lambda name: False)
    if args.strategy == "greedy" and (given := [n for n in _SAMPLING_ONLY if typed(n)]):
        # Refused as train refuses an option of another task: a greedy text that ignored
        # them would pass for a sample drawn at that temperature and seed.
        flag = "--" + given[0].replace("_", "-")
        return fail(f"{flag} does not apply to --strategy greedy (add --strategy sample)")

    from rnn_tui.checkpoints.device import DeviceError
    from rnn_tui.data.prefix import join_tokens
    from rnn_tui.decode.generate import load_lm
    from rnn_tui.models.base import ModelError

    seed = None
    if args.strategy == "sample":
        seed = args.seed if args.seed is not None else draw_seed()
    # A seed drawn here is said on stderr too, not only in --json: the one way to draw this
    # text again. Once the text is out (or stopped by Ctrl+C); an error stays one line.
    drawn = seed if args.strategy == "sample" and args.seed is None else None
    try:
        with Waiting(f"loading {args.checkpoint}…"):
            lm = load_lm(args.checkpoint, args.device)
        options = GenerateOptions(args.length, args.strategy, args.temperature, args.top_k, seed)
        prefix = args.prefix if args.prefix is not None else lm.default_prefix
        encoded, steps = lm.generate(prefix, options)
    except (DataError, CheckpointError, ModelError, DeviceError) as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot read {args.checkpoint}: {exc.strerror or exc}")

    warnings = list(lm.warnings) + encoded.warnings()
    for message in warnings:
        warn(message)

    prefix_text = join_tokens(encoded.shown, lm.token)
    separator = "" if lm.token == "char" else " "
    stream = sys.stdout.isatty() and not args.json
    generated: list[str] = []
    # Output kept for the end (a pipe, --json): a count on the terminal meanwhile, since
    # 100,000 tokens take a minute or more.
    count = None if stream else TerminalProgress()
    started = time.perf_counter()
    try:
        if stream:
            sys.stdout.write(on_terminal(prefix_text))
            sys.stdout.flush()
        for step in steps:
            generated.append(step.token)
            if stream:
                sys.stdout.write(on_terminal(separator + step.token))
                sys.stdout.flush()
            else:
                count.show(f"generated {len(generated):,} / {args.length:,} tokens")
    except KeyboardInterrupt:
        if stream:
            sys.stdout.write("\n")
        _say_seed(drawn)
        return 130
    except DataError as exc:
        # The model's output stopped being finite: a broken checkpoint, reported as such.
        if stream:
            sys.stdout.write("\n")
        return fail(str(exc))
    finally:
        if count is not None:
            count.clear()
    elapsed = time.perf_counter() - started
    text = join_tokens(encoded.shown + generated, lm.token)
    if stream:
        # The streamed line ends first: on a terminal the seed shared the text's line.
        sys.stdout.write("\n")
        sys.stdout.flush()
        _say_seed(drawn)
        return 0
    if not args.json:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
        _say_seed(drawn)
        return 0
    _say_seed(drawn)
    record = {
        "text": text,
        "prefix": prefix,
        "generated": join_tokens(generated, lm.token),
        "checkpoint": str(lm.path),
        "unknown": encoded.unknown,
        "strategy": args.strategy,
        # Greedy reads neither: null, not values that were never used.
        "temperature": args.temperature if args.strategy == "sample" else None,
        "top_k": args.top_k if args.strategy == "sample" else None,
        "seed": seed,
        "length": len(generated),
        "token": lm.token,
        "model": getattr(lm.model, "model_name", None),
        "device": str(lm.device),
        "tokens_per_s": len(generated) / elapsed if elapsed > 0 else None,
        "warnings": warnings,
    }
    print_json(record)
    return 0


def _say_seed(seed: int | None) -> None:
    if seed is not None:
        say(f"rnn-tui: seed {seed} (--seed {seed} repeats this sample)")
