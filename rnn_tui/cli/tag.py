"""`rnn-tui tag`: restore capitals and punctuation with a trained tag checkpoint.

torch is imported inside run(), so `rnn-tui --help` stays fast.
"""

from __future__ import annotations

import argparse

from rnn_tui.cli.output import Waiting, fail, on_terminal, print_json, warn


def run(args: argparse.Namespace) -> int:
    from rnn_tui.decode.tag import TagError, load_tagger, tag_text

    try:
        with Waiting(f"loading {args.checkpoint}…"):
            model, vocab, warnings, loaded = load_tagger(args.checkpoint)
        restored = [tag_text(model, vocab, text) for text in args.texts]
    except TagError as exc:
        return fail(str(exc))
    except OSError as exc:
        return fail(f"cannot read {args.checkpoint}: {exc.strerror or exc}")
    for message in warnings:  # as generate and translate say it: a best that failed its check
        warn(message)
    for number, r in enumerate(restored, start=1):
        if r.stand_ins or r.left_out:
            warn(f"text {number}: {r.note()}" if len(restored) > 1 else r.note())
    if args.json:
        rows = [
            {
                "text": text,
                "read": r.read,
                "tags": r.tags,
                "restored": r.text,
                "stand_ins": r.stand_ins,
                "left_out": r.left_out,
            }
            for text, r in zip(args.texts, restored, strict=True)
        ]
        # The file loaded (a run's last where its best failed its check), as generate says.
        print_json({"checkpoint": loaded, "texts": rows, "warnings": warnings})
        return 0
    for r in restored:
        print(on_terminal(r.text))
    return 0
