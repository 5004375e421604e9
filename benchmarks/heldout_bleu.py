"""Held-out corpus BLEU of a seq2seq checkpoint, greedy and beam, on all held-out pairs and on
those of at most N English words — the figures checkpoints/README.md reports.

    python benchmarks/heldout_bleu.py CHECKPOINT [--max-words 5] [--beam 4] [--alpha 0.75]

Every held-out pair is translated once (greedy and beam); the short ones are a subset of them.

The held-out pairs are rebuilt from the checkpoint's own config (pairs, num_examples,
val_fraction) with the trainer's fixed split (rnn_tui.data.nmt_batches.split_pairs), so they are
exactly the pairs the run never trained on. BLEU is sacreBLEU, lower-cased, one reference each.
"""

from __future__ import annotations

import json
import sys
import time

from _args import converter, int_in, parser  # beside this script

from rnn_tui.data.nmt_batches import split_pairs, word_count
from rnn_tui.data.sources import read_raw_pairs
from rnn_tui.data.translation import preprocess_pairs, tokenize_nmt
from rnn_tui.decode.options import ALPHA, BEAM
from rnn_tui.decode.translate import TranslateError, load_translator
from rnn_tui.metrics.bleu import corpus_bleu
from rnn_tui.runs.discover import resolve_shipped, unknown_name
from rnn_tui.runs.rundir import resolve_run


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, __file__)
    ap.add_argument("checkpoint")
    ap.add_argument(
        "--max-words", type=int_in("max-words", 1, 1000), default=5,
        help="the short pairs' English words",
    )  # fmt: skip
    ap.add_argument("--beam", type=converter(BEAM), default=4)
    ap.add_argument("--alpha", type=converter(ALPHA), default=0.75)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    # A shipped checkpoint's bare name or a run's, as `rnn-tui translate --checkpoint` takes it.
    path = resolve_shipped(resolve_run(args.checkpoint))
    try:
        if problem := unknown_name(path):
            raise TranslateError(problem)
        translator = load_translator(path)
    except TranslateError as exc:
        print(f"heldout_bleu.py: error: {exc}", file=sys.stderr)
        return 2  # refused, as the other benchmarks' bad input
    cfg = translator.config
    limit = cfg.get("num_examples", -1)
    read = read_raw_pairs(cfg.get("pairs", "fra-eng"), cfg.get("encoding", "utf-8"),
                          limit if limit and limit > 0 else None)  # fmt: skip
    pairs = preprocess_pairs(read.pairs)
    source, _ = tokenize_nmt(pairs)
    _, held = split_pairs(len(pairs), cfg["val_fraction"])
    short = [j for j, i in enumerate(held) if word_count(source[i]) <= args.max_words]
    sentences = [pairs[i][0] for i in held]
    references = [pairs[i][1] for i in held]
    started = time.perf_counter()
    out = translator.translate_many(sentences, beam_size=args.beam, alpha=args.alpha)
    seconds = time.perf_counter() - started

    def bleu(texts, rows):
        return round(corpus_bleu([texts[j] for j in rows], [references[j] for j in rows]), 2)

    greedy, beam = [t.greedy_text for t in out], [t.beam_text for t in out]
    every = range(len(held))
    result = {
        "checkpoint": str(translator.checkpoint),
        "attention": translator.config.get("attention", "none"),
        "pairs": len(held),
        "greedy_bleu": bleu(greedy, every),
        f"beam{args.beam}_bleu": bleu(beam, every),
        f"pairs_le{args.max_words}": len(short),
        f"greedy_bleu_le{args.max_words}": bleu(greedy, short),
        f"beam{args.beam}_bleu_le{args.max_words}": bleu(beam, short),
        "alpha": args.alpha,
        "seconds": round(seconds, 1),
    }
    print(json.dumps(result) if args.json else "  ".join(f"{k}={v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
