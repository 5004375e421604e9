"""`rnn-tui classify`: the top languages of names with a trained classify checkpoint.

torch is imported inside run(), so `rnn-tui --help` stays fast.
"""

from __future__ import annotations

import argparse

from rnn_tui.cli.output import Waiting, fail, on_terminal, print_json, warn


def run(args: argparse.Namespace) -> int:
    from rnn_tui.decode.classify import ClassifyError, classify, load_classifier

    try:
        with Waiting(f"loading {args.checkpoint}…"):
            model, classes, warnings, loaded = load_classifier(args.checkpoint)
        guesses = classify(model, classes, list(args.names), args.top)
    except ClassifyError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot read {args.checkpoint}: {exc.strerror or exc}")
    for message in warnings:  # as generate and translate say it: a best that failed its check
        warn(message)
    for number, g in enumerate(guesses, start=1):
        if g.not_read:
            warn(f"name {number}: {g.note()}" if len(guesses) > 1 else g.note())
    if args.json:
        rows = [
            {
                "name": g.name,
                "read": g.read,
                "not_read": list(g.not_read),
                "top": [{"class": c, "p": p} for c, p in g.top],
            }
            for g in guesses
        ]
        # The file loaded (a run's last where its best failed its check), as generate says.
        print_json({"checkpoint": loaded, "names": rows, "warnings": warnings})
        return 0
    width = max(len(g.name) for g in guesses)
    for g in guesses:
        top = "  ".join(f"{c} {p:.2f}" for c, p in g.top)
        print(on_terminal(f"{g.name:<{width}}  {top}"))
    return 0
