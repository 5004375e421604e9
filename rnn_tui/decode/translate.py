"""English → French with a trained seq2seq checkpoint: greedy and beam search (d2l §9.7–9.8).

The seeds' `predict_seq2seq(net, src_sentence, src_vocab, tgt_vocab, num_steps)`:

    src_tokens = src_vocab[src_sentence.lower().split(' ')] + [src_vocab['<eos>']]
    enc_X = truncate_pad(src_tokens, num_steps, src_vocab['<pad>'])     # valid_len = len(src)
    dec_state = net.decoder.init_state(net.encoder(enc_X, enc_valid_len))
    dec_X = <bos>
    for _ in range(num_steps):                 # greedy: feed back the argmax, stop at <eos>
        Y, dec_state = net.decoder(dec_X, dec_state); dec_X = Y.argmax(dim=2)

A source sentence is prepared exactly as the training pairs were (rnn_tui.data.translation):
`preprocess_nmt` (lower-case, a space before , . ! ?), split on single spaces as `tokenize_nmt`
does, ids + `<eos>`, truncated to the run's num_steps (`build_array_nmt`). Surrounding whitespace
is stripped and runs of whitespace become one space first: the corpus lines have none, and a
double space would otherwise become an empty, unknown token.

Beam search keeps the `beam_size` most probable prefixes each step and ranks the finished
candidates by (1/L^α) Σ log P (seeds / d2l §9.8, α = 0.75); greedy is beam size 1. Both run on
`rnn_tui.decode.search` through the model's `step` / `reorder`. A reference gives the seeds'
BLEU with k = 2 (`rnn_tui.metrics.bleu`).
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch

from rnn_tui.data.errors import DataError
from rnn_tui.data.kinds import MAX_NUM_STEPS
from rnn_tui.data.translation import BOS, EOS, build_array_nmt
from rnn_tui.decode.alignment import Alignment, Chosen, align_many
from rnn_tui.decode.options import (
    ALPHA,
    BEAM,
    DEFAULT_ALPHA,
    DEFAULT_BEAM,
    MAX_LEN_OPTION,
    OptionError,
)
from rnn_tui.decode.search import (
    Candidate,
    beam_search_many,
    greedy_search_many,
    sequence_score,
)
from rnn_tui.decode.translate_bleu import (
    corpus_bleu,
    greedy_and_beam_bleu,
    greedy_bleu,
    sentence_bleu,
)
from rnn_tui.decode.translate_text import (
    TranslateError,
    normalize,
    parse_line,
    parse_lines,
    tokenize,
)

# Sources encoded and decoded together: every step call advances all their beams at once,
# and the first translations of a file come out after one batch.
DECODE_BATCH = 64


class TranslationStopped(Exception):
    """The caller's `stop` said to stop: raised before the next decoding step."""


@dataclass
class Translation:
    """One source sentence and what the model made of it."""

    source: str  # as typed
    source_tokens: list[str]  # after preprocess_nmt + tokenize (what the vocabulary looks up)
    unknown: list[str]  # distinct source tokens mapped to <unk>, first-seen order
    greedy: Candidate
    greedy_text: str
    beam: list[Candidate]  # final beam, best first (beam_size > 1); [] otherwise
    beam_text: str  # best beam candidate's text (= greedy_text when beam_size is 1)
    reference: str | None = None  # as given
    bleu: float | None = None  # seeds' bleu(beam_text, reference, k=2)
    truncated: int = 0  # source tokens beyond num_steps, which the model never reads
    eos_cut: bool = False  # the source fills num_steps: its <eos> has no room (build_array_nmt)
    alignment: Alignment | None = None  # the best candidate's attention weights (attention models)

    @property
    def best(self) -> Candidate:
        """The candidate `beam_text` shows."""
        return self.beam[0] if self.beam else self.greedy

    @property
    def candidates(self) -> list[Candidate]:
        """The beam's candidates, or the greedy one when there was no beam."""
        return list(self.beam) if self.beam else [self.greedy]


class Translator:
    """A seq2seq model with its vocabularies, ready to translate (see the module docstring)."""

    def __init__(
        self,
        model: torch.nn.Module,
        src_vocab,
        tgt_vocab,
        config: dict,
        checkpoint: Path | None = None,
        device: torch.device | str = "cpu",
        warnings: Sequence[str] = (),
    ) -> None:
        self.model = model
        self.src_vocab = src_vocab
        self.tgt_vocab = tgt_vocab
        self.config = dict(config)
        self.checkpoint = Path(checkpoint) if checkpoint is not None else None
        self.device = torch.device(device)
        self.warnings = list(warnings)
        # Checked here is NAME.json's: NAME.safetensors may be no file (NAME.<sha>.safetensors).
        where = f"checkpoint {self.checkpoint.with_suffix('.json')}" if checkpoint else "the model"
        num_steps = self.config.get("num_steps")
        if (
            isinstance(num_steps, bool)
            or not isinstance(num_steps, int)
            or not 1 <= num_steps <= MAX_NUM_STEPS
        ):
            raise TranslateError(
                f"{where}: num_steps must be an integer in [1, {MAX_NUM_STEPS:,}] "
                f"(got {num_steps!r})"
            )
        self.num_steps = num_steps
        for side, vocab, size in (
            ("source", src_vocab, getattr(model, "src_vocab_size", len(src_vocab))),
            ("target", tgt_vocab, getattr(model, "tgt_vocab_size", len(tgt_vocab))),
        ):
            if size != len(vocab):
                raise TranslateError(
                    f"{where}: the model's {side} side has {size} tokens but its {side} "
                    f"vocabulary has {len(vocab)}"
                )
        for side, vocab, needed in (
            ("source", src_vocab, (EOS,)),
            ("target", tgt_vocab, (BOS, EOS)),
        ):
            missing = [tok for tok in needed if tok not in vocab]
            if missing:
                raise TranslateError(f"{where}: the {side} vocabulary lacks {', '.join(missing)}")
        self.bos = tgt_vocab[BOS]
        self.eos = tgt_vocab[EOS]

    # -----------------------------------------------------------------------------------------

    def text(self, tokens: Sequence[int]) -> str:
        """Target ids → their tokens joined by spaces (the seeds' ' '.join(to_tokens(...)))."""
        return " ".join(self.tgt_vocab.to_tokens(list(tokens)))

    def translate(
        self,
        sentence: str,
        beam_size: int = DEFAULT_BEAM,
        alpha: float = DEFAULT_ALPHA,
        max_len: int | None = None,
        reference: str | None = None,
    ) -> Translation:
        """One sentence: greedy, plus beam search when beam_size > 1 (see translate_many)."""
        references = None if reference is None else [reference]
        return self.translate_many([sentence], beam_size, alpha, max_len, references)[0]

    def translate_many(self, sentences: Sequence[str], *args, **kwargs) -> list[Translation]:
        """Every translation of `translations` (same arguments), as a list."""
        return list(self.translations(sentences, *args, **kwargs))

    def translations(
        self,
        sentences: Sequence[str],
        beam_size: int = DEFAULT_BEAM,
        alpha: float = DEFAULT_ALPHA,
        max_len: int | None = None,
        references: Sequence[str | None] | None = None,
        *,
        stop: Callable[[], bool] | None = None,
        progress: Callable[[float], None] | None = None,
    ) -> Iterator[Translation]:
        """Translate each sentence, yielded a batch of DECODE_BATCH at a time as each batch is
        decoded (a file of 20,000 sentences takes a while): each batch is encoded, then decoded
        greedily and (beam_size > 1) by beam search, every sentence's beams advancing in the
        same step calls and each choosing as it would alone, at most `max_len` target tokens
        (default the run's num_steps, as d2l). `references` (one per sentence, None where
        there is none) add the seeds' BLEU (k = 2) of the best translation. TranslateError (one
        line), before the first is returned, for bad options, an empty sentence or a reference
        count that does not match.

        `stop()` is asked before every decoding step (greedy and beam): when it says yes,
        TranslationStopped is raised, so a stop waits for one step, not a batch. `progress(done)`
        gets the sentences done so far before every step, a fraction within a batch (its steps
        out of max_len, greedy then beam), so a long batch shows it is moving."""
        beam_size, alpha, max_len = self._options(beam_size, alpha, max_len)
        sentences = list(sentences)
        if references is None:
            references = [None] * len(sentences)
        references = list(references)
        if len(references) != len(sentences):
            raise TranslateError(
                f"{len(references)} reference(s) for {len(sentences)} sentence(s) "
                "(give one reference per sentence)"
            )
        tokens = []
        for sentence in sentences:
            if not isinstance(sentence, str) or not sentence.strip():
                raise TranslateError("a sentence to translate is empty")
            tokens.append(tokenize(sentence))
        watch = None if stop is None and progress is None else (stop, progress)
        return self._decoded(sentences, tokens, references, beam_size, alpha, max_len, watch)

    def _decoded(self, sentences, tokens, references, beam_size, alpha, max_len, watch):
        was_training = self.model.training
        self.model.eval()
        try:
            for start in range(0, len(sentences), DECODE_BATCH):
                batch = slice(start, start + DECODE_BATCH)
                on_step = None
                if watch is not None:
                    size = len(sentences[batch])
                    on_step = _step_watcher(*watch, start, size, beam_size > 1, max_len)
                    on_step(0, 0)  # before the encoder too
                # No gradient mode left on across a yield: the caller runs in between.
                with torch.no_grad():
                    state = self._encode(tokens[batch])
                    done = self._decode_many(
                        sentences[batch], tokens[batch], references[batch], state,
                        beam_size, alpha, max_len, on_step,
                    )  # fmt: skip
                yield from done
        finally:
            self.model.train(was_training)

    # -----------------------------------------------------------------------------------------

    def _options(self, beam_size, alpha, max_len) -> tuple[int, float, int]:
        try:
            beam_size = BEAM.check(beam_size)
            alpha = ALPHA.check(alpha)
            max_len = MAX_LEN_OPTION.check(max_len)
        except OptionError as exc:
            raise TranslateError(str(exc)) from None
        return beam_size, alpha, self.num_steps if max_len is None else max_len

    def _encode(self, token_lists: list[list[str]]):
        # build_array_nmt is the training pipeline's own: ids + <eos>, truncated/padded to
        # num_steps; the encoder packs the rows, so the padding never reaches its state.
        array, valid_len = build_array_nmt(token_lists, self.src_vocab, self.num_steps)
        X = torch.as_tensor(array, device=self.device)
        lengths = torch.as_tensor(valid_len, device=self.device)
        return self.model.encode(X, lengths)

    def _step(self, tokens: torch.Tensor, state):
        log_probs, state = self.model.step(tokens.to(self.device), state)
        log_probs = log_probs.float()
        # −inf is a zero probability, fine; NaN or +inf means broken or overflowing weights.
        if bool(torch.isnan(log_probs).any()) or bool(torch.isposinf(log_probs).any()):
            raise TranslateError(
                "the model's output is not finite (NaN or inf): its weights are broken or too "
                "large for float32"
            )
        return log_probs, state

    def _reorder(self, state, index: torch.Tensor):
        return self.model.reorder(state, index.to(self.device))

    def _decode_many(
        self, sentences, tokens, references, state, beam_size, alpha, max_len, on_step=None
    ) -> list[Translation]:
        """Greedy and (beam_size > 1) beam search for a batch of encoded sources: each
        sequence chooses exactly as it would alone (search.py), with every step batched.
        `on_step(phase, t)` (0 greedy, 1 beam) runs before each step."""
        n = len(sentences)
        greedy = greedy_search_many(
            self._step, state, n, self.bos, self.eos, max_len, reorder=self._reorder,
            on_step=None if on_step is None else lambda t: on_step(0, t),
        )  # fmt: skip
        # greedy_search scores with the default α; rescore so every candidate uses this one.
        greedy = [
            dataclasses.replace(g, score=sequence_score(g.log_prob, g.length, alpha))
            for g in greedy
        ]
        beams: list[list[Candidate]] = [[] for _ in range(n)]
        if beam_size > 1:
            beams = beam_search_many(
                self._step, self._reorder, state, n, self.bos, self.eos, max_len, beam_size,
                alpha, on_step=None if on_step is None else lambda t: on_step(1, t),
            )  # fmt: skip
        bests = [beam[0] if beam else g for beam, g in zip(beams, greedy, strict=True)]
        alignments = self._alignments(tokens, bests)
        done = []
        for i, (sentence, toks, reference) in enumerate(zip(sentences, tokens, references)):
            greedy_text = self.text(greedy[i].tokens)
            beam_text = self.text(beams[i][0].tokens) if beams[i] else greedy_text
            done.append(
                Translation(
                    source=sentence,
                    source_tokens=list(toks),
                    unknown=list(dict.fromkeys(tok for tok in toks if tok not in self.src_vocab)),
                    greedy=greedy[i],
                    greedy_text=greedy_text,
                    beam=beams[i],
                    beam_text=beam_text,
                    reference=reference,
                    bleu=None if reference is None else sentence_bleu(beam_text, reference),
                    truncated=max(0, len(toks) - self.num_steps),
                    eos_cut=len(toks) >= self.num_steps,
                    alignment=alignments[i],
                )
            )
        return done

    def _alignments(self, token_lists, bests: list[Candidate]) -> list[Alignment | None]:
        # Each source as the encoder read it: ids + <eos>, cut at num_steps (build_array_nmt).
        array, valid_len = build_array_nmt(token_lists, self.src_vocab, self.num_steps)
        chosen = []
        for toks, row, valid, best in zip(token_lists, array, valid_len, bests, strict=True):
            source_ids = [int(i) for i in row[: int(valid)]]
            chosen.append(
                Chosen(
                    source_ids,
                    (list(toks) + [EOS])[: len(source_ids)],
                    best.tokens,
                    self.tgt_vocab.to_tokens(list(best.tokens)),
                    best.finished,
                )
            )
        return align_many(self.model, chosen, self.bos, self.device)


def _step_watcher(stop, progress, start: int, size: int, beam: bool, max_len: int):
    """on_step(phase, t) for the batch of `size` sentences from `start`: stop, or report the
    sentences done as start + the batch's share of its steps (greedy, then beam)."""
    phases = 2 if beam else 1

    def on_step(phase: int, t: int) -> None:
        if stop is not None and stop():
            raise TranslationStopped
        if progress is not None:
            progress(start + size * (phase + t / max_len) / phases)

    return on_step


# ---------------------------------------------------------------------------------------------
# Loading


def load_translator(path: str | os.PathLike, device: str | torch.device = "cpu") -> Translator:
    """The seq2seq model of a checkpoint: a .safetensors file (or its .json), or a run
    directory (its best checkpoint, else its last). TranslateError (one line) for a missing,
    unreadable or refused file (a pickle), a language-model checkpoint, or CUDA asked for but
    absent."""
    from rnn_tui.checkpoints import CheckpointError
    from rnn_tui.checkpoints.checkpoint import load_checkpoint
    from rnn_tui.checkpoints.device import DeviceError, resolve_device
    from rnn_tui.models.base import ModelError

    try:
        device = device if isinstance(device, torch.device) else resolve_device(device)
        checkpoint = load_checkpoint(path)
        config = checkpoint.config
        task = checkpoint.task
        if task != "seq2seq":
            kind = "a language-model" if task == "lm" else f"a {task!r}"
            raise TranslateError(
                f"{checkpoint.file} is {kind} checkpoint; translate needs a seq2seq one"
            )
        src_vocab, tgt_vocab = checkpoint.src_vocab, checkpoint.tgt_vocab
        model = checkpoint.build_model(device)
    except TranslateError:
        raise
    except (CheckpointError, DeviceError, ModelError, DataError) as exc:
        raise TranslateError(str(exc)) from None
    except OSError as exc:
        raise TranslateError(f"cannot read {path}: {exc.strerror or exc}") from None
    warnings = [checkpoint.warning] if checkpoint.warning else []
    return Translator(model, src_vocab, tgt_vocab, config, checkpoint.path, device, warnings)


__all__ = [
    "Alignment",
    "DEFAULT_ALPHA",
    "DEFAULT_BEAM",
    "TranslateError",
    "Translation",
    "TranslationStopped",
    "Translator",
    "corpus_bleu",
    "greedy_and_beam_bleu",
    "greedy_bleu",
    "load_translator",
    "normalize",
    "parse_line",
    "parse_lines",
    "tokenize",
]
