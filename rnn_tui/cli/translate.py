"""`rnn-tui translate`: English → French with a seq2seq checkpoint, beam search and greedy.

torch is imported inside run(), so `rnn-tui --help` stays fast.
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from rnn_tui.cli import fail, positive_int

NAME = "translate"
DEVICES = ("auto", "cpu", "cuda")
DEFAULT_BEAM = 4  # = rnn_tui.decode.translate.DEFAULT_BEAM (that module imports torch)
DEFAULT_ALPHA = 0.75


def _alpha(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text!r}")
    return value


def add_parser(sub: argparse._SubParsersAction) -> None:
    tr = sub.add_parser(
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
    tr.add_argument(
        "sentences",
        nargs="*",
        metavar="SENTENCE",
        help='a sentence to translate ("sentence => reference" carries its reference)',
    )
    tr.add_argument(
        "--checkpoint",
        required=True,
        metavar="PATH",
        help="a .safetensors checkpoint (or its .json), or a run directory (best, else last)",
    )
    tr.add_argument(
        "--file",
        metavar="F",
        help='sentences one per line (- for stdin); a line "sentence => reference" carries its '
        "reference; blank lines are skipped",
    )
    tr.add_argument(
        "--references",
        metavar="R",
        help="references one per line, as many as sentences (blank lines are skipped)",
    )
    tr.add_argument(
        "--beam",
        type=positive_int,
        default=DEFAULT_BEAM,
        metavar="K",
        help=f"beam size (default {DEFAULT_BEAM}; 1 = greedy only)",
    )
    tr.add_argument(
        "--alpha",
        type=_alpha,
        default=DEFAULT_ALPHA,
        metavar="A",
        help=f"length penalty exponent of the beam score (default {DEFAULT_ALPHA})",
    )
    tr.add_argument(
        "--max-len",
        type=positive_int,
        default=None,
        metavar="N",
        help="most target tokens per translation (default: the run's num_steps)",
    )
    tr.add_argument(
        "--device", choices=DEVICES, default="cpu", help="where the model runs (default cpu)"
    )
    tr.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _warn(message: str) -> None:
    print(f"rnn-tui: warning: {message}", file=sys.stderr)


def _read_lines(path: str, what: str) -> list[tuple[int, str]]:
    """(line number, line) for the non-blank lines of `path` (- = stdin); ValueError one line."""
    if path == "-":
        text = sys.stdin.read()
    else:
        try:
            with open(path, encoding="utf-8") as f:
                text = f.read()
        except UnicodeDecodeError:
            raise ValueError(f"{what} {path} is not UTF-8 text") from None
        except OSError as exc:
            raise ValueError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    return [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _inputs(args: argparse.Namespace) -> tuple[list[str], list[str | None]]:
    """Sentences and their references from the arguments, --file and --references."""
    from rnn_tui.decode.translate import TranslateError, parse_line

    sentences: list[str] = []
    references: list[str | None] = []
    items = [(f"argument {i}", text) for i, text in enumerate(args.sentences, 1)]
    if args.file is not None:
        where = "stdin" if args.file == "-" else args.file
        items += [(f"{where} line {n}", line) for n, line in _read_lines(args.file, "file")]
    for where, text in items:
        try:
            sentence, reference = parse_line(text)
        except TranslateError as exc:
            raise ValueError(f"{where}: {exc}") from None
        sentences.append(sentence)
        references.append(reference)
    if not sentences:
        raise ValueError("no sentence to translate: give SENTENCE arguments or --file")
    if args.references is not None:
        if any(ref is not None for ref in references):
            raise ValueError(
                "references given twice: use '=>' in the sentences or --references, not both"
            )
        given = [line.strip() for _, line in _read_lines(args.references, "references")]
        if len(given) != len(sentences):
            raise ValueError(
                f"{_count(len(given), 'reference')} in {args.references} for "
                f"{_count(len(sentences), 'sentence')} "
                "(give one per sentence)"
            )
        references = list(given)
    return sentences, references


def _candidate(translator, candidate) -> dict:
    return {
        "text": translator.text(candidate.tokens),
        "log_prob": candidate.log_prob,
        "length": candidate.length,
        "score": candidate.score,
        "finished": candidate.finished,
    }


def _record(translator, t) -> dict:
    return {
        "source": t.source,
        "source_tokens": t.source_tokens,
        "translation": t.beam_text,
        "greedy": t.greedy_text,
        "score": t.best.score,
        "unknown": t.unknown,
        "truncated": t.truncated,
        "candidates": [_candidate(translator, c) for c in t.candidates],
        "reference": t.reference,
        "bleu": t.bleu,
    }


def _plain(translations, bleu, beam: int) -> str:
    lines = []
    for t in translations:
        lines.append(f"{t.source} → {t.beam_text}")
        if beam > 1 and t.greedy_text != t.beam_text:
            lines.append(f"    greedy → {t.greedy_text}")
        if t.reference is not None:
            lines.append(f"    reference → {t.reference}   BLEU (k=2) {t.bleu:.3f}")
    if bleu is not None:
        scored = _count(bleu["sentences"], "sentence")
        lines.append(
            f"corpus BLEU {bleu['corpus']:.2f} (sacreBLEU, {scored}); "
            f"mean sentence BLEU (k=2) {bleu['mean_sentence']:.3f}"
        )
    return "\n".join(lines) + "\n"


def run(args: argparse.Namespace) -> int:
    try:
        sentences, references = _inputs(args)
    except ValueError as exc:
        return fail(str(exc))

    from rnn_tui.decode.translate import TranslateError, corpus_bleu, load_translator

    try:
        translator = load_translator(args.checkpoint, args.device)
        translations = translator.translate_many(
            sentences, args.beam, args.alpha, args.max_len, references
        )
    except TranslateError as exc:
        return fail(str(exc))
    bleu = corpus_bleu(translations)

    warnings = list(translator.warnings)
    for t in translations:
        if t.unknown:
            listed = ", ".join(repr(tok) for tok in t.unknown)
            warnings.append(f"{t.source!r}: not in the source vocabulary → <unk>: {listed}")
        if t.truncated:
            warnings.append(
                f"{t.source!r}: the model reads {translator.num_steps} tokens; the last "
                f"{t.truncated} are cut"
            )
    for message in warnings:
        _warn(message)

    if not args.json:
        sys.stdout.write(_plain(translations, bleu, args.beam))
        return 0
    record = {
        "translations": [_record(translator, t) for t in translations],
        "bleu": bleu,
        "checkpoint": str(translator.checkpoint),
        "beam": args.beam,
        "alpha": args.alpha,
        "max_len": args.max_len if args.max_len is not None else translator.num_steps,
        "device": str(translator.device),
        "warnings": warnings,
    }
    json.dump(record, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0
