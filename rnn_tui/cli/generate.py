"""`rnn-tui generate`: text from a language-model checkpoint, greedy or sampled.

torch is imported inside run(), so `rnn-tui --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from rnn_tui.cli import fail, non_negative_int, positive_int
from rnn_tui.decode.options import DEFAULT_LENGTH, DEVICES, STRATEGIES, parse_temperature

NAME = "generate"


def _temperature(text: str) -> float:
    from rnn_tui.data.errors import DataError

    try:
        return parse_temperature(text)
    except DataError:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}") from None


def add_parser(sub: argparse._SubParsersAction) -> None:
    gen = sub.add_parser(
        "generate",
        help="text from a trained language model (greedy or sampled)",
        description=(
            "Warm a language model up on a prefix, then predict the next tokens one at a time: "
            "greedy (the argmax, as the seeds' prediction) or sampled from softmax(o / T), "
            "optionally among the top-k tokens. Prints the prefix and the generated text."
        ),
    )
    gen.add_argument(
        "--checkpoint",
        required=True,
        metavar="PATH",
        help="a .safetensors checkpoint (or its .json), or a run directory (its best checkpoint)",
    )
    gen.add_argument("--prefix", required=True, metavar="TEXT", help="the text to continue")
    gen.add_argument(
        "--length",
        type=positive_int,
        default=DEFAULT_LENGTH,
        metavar="N",
        help=f"tokens to generate (default {DEFAULT_LENGTH})",
    )
    gen.add_argument(
        "--strategy", choices=STRATEGIES, default="greedy", help="greedy (default) or sample"
    )
    gen.add_argument(
        "--temperature",
        type=_temperature,
        default=1.0,
        metavar="T",
        help="sampling temperature > 0: below 1 sharper, above 1 flatter (default 1)",
    )
    gen.add_argument(
        "--top-k",
        type=non_negative_int,
        default=0,
        metavar="K",
        help="sample among the K most probable tokens only (default 0: all)",
    )
    gen.add_argument(
        "--seed",
        type=non_negative_int,
        default=None,
        metavar="S",
        help="random seed for sampling (default: a fresh one, reported with --json)",
    )
    gen.add_argument(
        "--device",
        choices=DEVICES,
        default="cpu",
        help="where the model runs (default cpu: one token at a time is rarely faster on a GPU)",
    )
    gen.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _warn(message: str) -> None:
    print(f"rnn-tui: warning: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from rnn_tui.checkpoints import CheckpointError
    from rnn_tui.data.errors import DataError
    from rnn_tui.decode.options import draw_seed, validate_options

    try:
        validate_options(args.length, args.strategy, args.temperature, args.top_k, args.seed)
    except DataError as exc:
        return fail(str(exc))

    from rnn_tui.checkpoints.device import DeviceError
    from rnn_tui.data.prefix import encode_prefix, join_tokens, unknown_message
    from rnn_tui.decode.generate import load_lm, predict
    from rnn_tui.models.base import ModelError

    seed = None
    if args.strategy == "sample":
        seed = args.seed if args.seed is not None else draw_seed()
    try:
        lm = load_lm(args.checkpoint, args.device)
        encoded = encode_prefix(args.prefix, lm.vocab, lm.token, lm.mode)
        steps = predict(
            args.prefix,
            args.length,
            lm.model,
            lm.vocab,
            lm.token,
            strategy=args.strategy,
            temperature=args.temperature,
            top_k=args.top_k,
            seed=seed,
            device=lm.device,
            mode=lm.mode,
        )
    except (DataError, CheckpointError, ModelError, DeviceError) as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot read {args.checkpoint}: {exc.strerror or exc}")

    warnings = list(lm.warnings)
    if encoded.unknown:
        warnings.append(unknown_message(encoded.unknown))
    for message in warnings:
        _warn(message)

    prefix_text = join_tokens(encoded.shown, lm.token)
    separator = "" if lm.token == "char" else " "
    stream = sys.stdout.isatty() and not args.json
    generated: list[str] = []
    started = time.perf_counter()
    try:
        if stream:
            sys.stdout.write(prefix_text)
            sys.stdout.flush()
        for step in steps:
            generated.append(step.token)
            if stream:
                sys.stdout.write(separator + step.token)
                sys.stdout.flush()
    except KeyboardInterrupt:
        if stream:
            sys.stdout.write("\n")
        return 130
    elapsed = time.perf_counter() - started
    text = join_tokens(encoded.shown + generated, lm.token)
    if stream:
        sys.stdout.write("\n")
        return 0
    if not args.json:
        sys.stdout.write(text + "\n")
        return 0
    record = {
        "text": text,
        "prefix": args.prefix,
        "generated": join_tokens(generated, lm.token),
        "checkpoint": str(lm.path),
        "unknown": encoded.unknown,
        "strategy": args.strategy,
        "temperature": args.temperature,
        "top_k": args.top_k,
        "seed": seed,
        "length": len(generated),
        "token": lm.token,
        "model": getattr(lm.model, "model_name", None),
        "device": str(lm.device),
        "tokens_per_s": len(generated) / elapsed if elapsed > 0 else None,
        "warnings": warnings,
    }
    json.dump(record, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
