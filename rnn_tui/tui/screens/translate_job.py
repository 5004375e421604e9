"""The Translate console's job, run in its worker thread: translate the typed sentences with a
loaded seq2seq model (rnn_tui.decode.translate) and post the rows as they are done.

Sentences go to the model CHUNK at a time (one encoder batch); a stop is checked before every
decoding step, so it waits for one step, not a chunk. Finished rows, and the progress within a
chunk, are posted at most every UPDATE_INTERVAL seconds. The scores
(the seeds' BLEU of the greedy output, the corpus BLEU of greedy against beam) are
rnn_tui.decode.translate's. torch is imported here only when the job runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from textual.message import Message
from textual.worker import Worker

from rnn_tui.decode.options import TranslateOptions
from rnn_tui.runs.discover import describe, read_meta
from rnn_tui.tui.widgets.translate_tables import BEAM_ROWS, ResultRow

if TYPE_CHECKING:  # the module itself needs torch: imported by the worker only
    from rnn_tui.decode.translate import Translator

# Sentences per translate_many call: one encoder batch, decoded together, whose rows show
# together. 16 took 14.0 s for 1,000 sentences (attention model, beam 4), 32 takes 9.6 s
# (the CLI's 64: 8.7 s, with rows coming half as often).
CHUNK = 32
UPDATE_INTERVAL = 0.25  # seconds between two batches of results posted by the worker


@dataclass(frozen=True)
class TranslateJob:
    """What to translate: `lines` ("sentence" or "sentence => reference") with `options`."""

    lines: tuple[str, ...]
    options: TranslateOptions = TranslateOptions()

    @property
    def with_bleu(self) -> bool:
        """Whether a line gives a reference (the results then show BLEU)."""
        return any("=>" in line for line in self.lines)


@dataclass(frozen=True)
class Outcome:
    """How a translation request ended; `corpus` holds {"greedy", "beam", "undefined",
    "references"} (sacreBLEU 0–100, None with the reason in "undefined" where the translations
    hold no 4-gram) when two sentences or more had a reference."""

    count: int
    total: int
    elapsed: float
    cancelled: bool
    corpus: dict | None

    def text(self, options: TranslateOptions) -> str:
        """ "translated 4 sentences in 0.31 s · beam 4, α 0.75 · corpus BLEU (4 references):
        greedy 61.5, beam 100.0"; a score without 4-grams is "—", the reason after it."""
        verb = "stopped after" if self.cancelled else "translated"
        noun = "sentence" if self.total == 1 else "sentences"
        count = f"{self.count:,} of {self.total:,}" if self.cancelled else f"{self.count:,}"
        text = f"{verb} {count} {noun}"
        if self.elapsed > 0:
            text += f" in {self.elapsed:.2f} s"
        text += f" · beam {options.beam_size}, α {options.alpha:g}"
        if self.corpus is not None:
            c = self.corpus
            greedy, beam = (f"{v:.1f}" if v is not None else "—" for v in (c["greedy"], c["beam"]))
            text += f" · corpus BLEU ({c['references']} references): greedy {greedy}, beam {beam}"
            if c.get("undefined"):
                text += f" ({c['undefined']})"
        return text


class SentencesTranslated(Message):
    """Rows finished since the last message; `done` of `total` sentences so far."""

    def __init__(self, request_id: int, rows: list[ResultRow], done: int, total: int):
        super().__init__()
        self.request_id, self.rows, self.done, self.total = request_id, rows, done, total


class TranslationProgress(Message):
    """`done` (a fraction within the chunk being decoded) of `total` sentences."""

    def __init__(self, request_id: int, done: float, total: int):
        super().__init__()
        self.request_id, self.done, self.total = request_id, done, total


def load_translator(path: str) -> Translator:
    """The seq2seq model of a checkpoint, on the CPU."""
    from rnn_tui.decode.translate import load_translator

    return load_translator(path, "cpu")


def checkpoint_of(translator: Translator, path: str) -> Path:
    """The checkpoint `translator` was loaded from (`path` when it does not say)."""
    return Path(getattr(translator, "checkpoint", None) or path)


def translator_facts(translator: Translator, path: str) -> tuple[str, dict, list[str]]:
    """(checkpoint path, facts, warnings): describe()'s facts from the checkpoint's JSON plus
    the loaded model's vocabulary sizes and num_steps (worker: reads the JSON)."""
    checkpoint = checkpoint_of(translator, path)
    meta = read_meta(checkpoint.with_suffix(".json"))
    facts = describe(meta) if meta else {}
    facts.update(
        src_vocab=len(translator.src_vocab),
        tgt_vocab=len(translator.tgt_vocab),
        num_steps=translator.config.get("num_steps"),
    )
    return str(checkpoint), facts, list(getattr(translator, "warnings", []))


def translate(
    translator: Translator,
    job: TranslateJob,
    request_id: int,
    worker: Worker,
    post: Callable[[Message], object],
    clock: Callable[[], float],
) -> Outcome:
    """Translate job.lines in chunks, posting SentencesTranslated as rows are done and
    TranslationProgress in between; stop before the next decoding step when `worker` is
    cancelled. TranslateError (one line) for a bad line."""
    from rnn_tui.decode.translate import (
        TranslationStopped,
        greedy_and_beam_bleu,
        greedy_bleu,
        parse_lines,
    )

    parsed = parse_lines(job.lines)
    opts = job.options
    total = len(parsed)
    started = last_post = clock()
    rows: list[ResultRow] = []
    pending: list[ResultRow] = []

    def progress(done: float) -> None:
        nonlocal last_post
        now = clock()
        if now - last_post >= UPDATE_INTERVAL:
            post(TranslationProgress(request_id, len(rows) + done, total))
            last_post = now

    for start in range(0, total, CHUNK):
        if worker.is_cancelled:
            break
        chunk = parsed[start : start + CHUNK]
        try:
            translations = translator.translate_many(
                [sentence for sentence, _ in chunk],
                beam_size=opts.beam_size,
                alpha=opts.alpha,
                max_len=opts.max_len,
                references=[reference for _, reference in chunk],
                stop=lambda: worker.is_cancelled,
                progress=progress,
            )
        except TranslationStopped:
            break
        for t in translations:
            # A long sentence's beam finishes thousands of candidates (4,246 at beam 64): a
            # row keeps the best BEAM_ROWS the table shows, and how many there were.
            count = len(t.beam) if t.beam else 1
            if count > BEAM_ROWS:
                t = replace(t, beam=t.beam[:BEAM_ROWS])
            texts = tuple(translator.text(c.tokens) for c in t.candidates)
            row = ResultRow(len(rows) + 1, t, texts, greedy_bleu(t), candidate_count=count)
            rows.append(row)
            pending.append(row)
        now = clock()
        if now - last_post >= UPDATE_INTERVAL or len(rows) == total:
            post(SentencesTranslated(request_id, pending, len(rows), total))
            pending, last_post = [], now
    if pending:
        post(SentencesTranslated(request_id, pending, len(rows), total))
    elapsed = clock() - started
    corpus = greedy_and_beam_bleu([row.translation for row in rows])
    return Outcome(len(rows), total, elapsed, worker.is_cancelled, corpus)


__all__ = [
    "CHUNK",
    "UPDATE_INTERVAL",
    "Outcome",
    "SentencesTranslated",
    "TranslateJob",
    "TranslationProgress",
    "checkpoint_of",
    "load_translator",
    "translate",
    "translator_facts",
]
