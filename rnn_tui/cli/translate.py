"""`rnn-tui translate`: English → French with a seq2seq checkpoint, beam search and greedy.

torch is imported inside run(), so `rnn-tui --help` stays fast.
"""

from __future__ import annotations

import argparse
import sys

from rnn_tui.cli.output import TerminalProgress, Waiting, fail, on_terminal, print_json, warn
from rnn_tui.quoting import quoted

UNKNOWN_LISTED = 10  # words named in the <unk> warning; more are counted


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _read_lines(path: str, what: str, encoding: str) -> list[tuple[int, str]]:
    """(line number, line) for the non-blank lines of `path` (- = stdin); ValueError one line.

    Files are read as corpora are (regular files and pipes, capped, never waiting for good);
    standard input is read to its end, capped."""
    from rnn_tui.data.errors import DataError
    from rnn_tui.data.sources import decode_bytes, read_path
    from rnn_tui.files import FileProblem, read_stream

    try:
        if path == "-":
            text = decode_bytes(read_stream(sys.stdin.fileno()), "standard input", encoding)
        else:
            text = read_path(path, encoding, what=f"{what} file")
    except (DataError, FileProblem) as exc:
        raise ValueError(str(exc)) from None
    return [(n, line) for n, line in enumerate(text.splitlines(), 1) if line.strip()]


def _inputs(args: argparse.Namespace) -> tuple[list[str], list[str | None]]:
    """Sentences and their references from the arguments, --file and --references."""
    from rnn_tui.decode.translate_text import TranslateError, parse_line

    if args.references == "-" and args.file == "-":
        # Standard input is read once: the references found it "empty".
        raise ValueError("--file - and --references - both read standard input: one may")
    sentences: list[str] = []
    references: list[str | None] = []
    # Numbered among the sentences: argparse's "argument N" would count every word of argv.
    items = [(f"sentence {i}", text) for i, text in enumerate(args.sentences, 1)]
    if args.file is not None:
        where = "stdin" if args.file == "-" else args.file
        items += [
            (f"{where} line {n}", line)
            for n, line in _read_lines(args.file, "sentences", args.encoding)
        ]
    for where, text in items:
        if not text.strip():  # a file's blank lines are skipped: an argument's is a mistake
            raise ValueError(f"{where} is blank")
        try:
            sentence, reference = parse_line(text)
        except TranslateError as exc:
            raise ValueError(f"{where}: {exc}") from None
        sentences.append(sentence)
        references.append(reference)
    if not sentences and args.file is not None:
        raise ValueError(f"no sentence to translate: {args.file} holds only blank lines")
    if not sentences:
        raise ValueError("no sentence to translate: give SENTENCE arguments or --file")
    if args.references is not None:
        if any(ref is not None for ref in references):
            raise ValueError(
                "references given twice: use '=>' in the sentences or --references, not both"
            )
        given = [
            line.strip() for _, line in _read_lines(args.references, "references", args.encoding)
        ]
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
        "eos_cut": t.eos_cut,
        "candidates": [_candidate(translator, c) for c in t.candidates],
        "reference": t.reference,
        "bleu": t.bleu,
        # target × source weights of "translation" (attention models; null otherwise)
        "attention": t.alignment.to_dict() if t.alignment is not None else None,
    }


# An empty translation (an undertrained model writes <eos> first) printed as nothing after →.
EMPTY = "(nothing: <eos> came first)"


def _plain(t, beam: int) -> str:
    """A translation as `rnn-tui translate` prints it: source → beam (greedy, reference)."""
    lines = [f"{t.source} → {t.beam_text or EMPTY}"]
    if beam > 1 and t.greedy_text != t.beam_text:
        lines.append(f"    greedy → {t.greedy_text or EMPTY}")
    if t.reference is not None:
        lines.append(f"    reference → {t.reference}   BLEU (k=2) {t.bleu:.3f}")
    return "\n".join(lines) + "\n"


def _bleu_line(bleu) -> str:
    scored = _count(bleu["sentences"], "sentence")
    if bleu["corpus"] is None:  # no 4-gram: sacreBLEU's 0 would read as a score
        corpus = f"corpus BLEU — ({bleu['corpus_undefined']}; {scored})"
    else:
        corpus = f"corpus BLEU {bleu['corpus']:.2f} (sacreBLEU, {scored})"
    return f"{corpus}; mean sentence BLEU (k=2) {bleu['mean_sentence']:.3f}\n"


def _warnings_of(translator, t) -> list[str]:
    out = []
    if t.unknown:
        listed = ", ".join(quoted(tok) for tok in t.unknown[:UNKNOWN_LISTED])
        if len(t.unknown) > UNKNOWN_LISTED:
            listed += f" and {len(t.unknown) - UNKNOWN_LISTED:,} more"
        out.append(f"{quoted(t.source)}: not in the source vocabulary → <unk>: {listed}")
    if t.truncated:
        out.append(
            f"{quoted(t.source)}: the model reads {translator.num_steps} tokens; the last "
            f"{t.truncated} are cut"
        )
    elif t.eos_cut:
        out.append(
            f"{quoted(t.source)}: the model reads {translator.num_steps} tokens and this one has "
            f"{translator.num_steps}, so its <eos> is cut (it reads as unfinished)"
        )
    return out


def _stdout_on_terminal() -> bool:
    try:
        return sys.stdout.isatty()
    except (AttributeError, ValueError):  # replaced, or closed
        return False


def run(args: argparse.Namespace) -> int:
    try:
        sentences, references = _inputs(args)
    except ValueError as exc:  # the arguments' own problem: said as argparse says its own
        return fail(str(exc), command="translate")

    from rnn_tui.decode.translate import TranslateError, corpus_bleu, load_translator

    translations = []
    warnings: list[str] = []
    # Plain output to a terminal is its own progress. To a file or a pipe (20,000 sentences: a
    # silent 80 s) and with --json, which waits for the last sentence, a count on stderr.
    printing = not args.json
    count = None if printing and _stdout_on_terminal() else TerminalProgress()
    try:
        with Waiting(f"loading {args.checkpoint}…"):
            translator = load_translator(args.checkpoint, args.device)
        warnings = list(translator.warnings)
        for message in warnings:
            warn(message)
        # Each translation printed as it is decoded: a file of sentences takes minutes.
        for t in translator.translations(
            sentences, args.beam, args.alpha, args.max_len, references
        ):
            translations.append(t)
            for message in _warnings_of(translator, t):
                warnings.append(message)
                if printing:
                    if count is not None:
                        count.clear()  # the warning on a line of its own
                    warn(message)
            if printing:
                sys.stdout.write(on_terminal(_plain(t, args.beam)))
                sys.stdout.flush()
            if count is not None:
                count.show(f"translated {len(translations):,} / {len(sentences):,}")
    except TranslateError as exc:
        if count is not None:
            count.clear()  # the error on a line of its own
        return fail(str(exc))
    finally:
        if count is not None:
            count.clear()
    bleu = corpus_bleu(translations)

    if not args.json:
        if bleu is not None:
            sys.stdout.write(_bleu_line(bleu))
        return 0
    for message in warnings[len(translator.warnings) :]:
        warn(message)
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
    print_json(record)
    return 0
