"""Sequence to sequence: the seeds' `train_seq2seq`, as a task of the training engine.

Per minibatch (d2l §9.7 "序列到序列学习"):

    dec_input ← [<bos>, Y_1 … Y_{T′−1}]                      (teacher forcing)
    ŷ ← net(X, X_valid_len, dec_input)
    l ← Σ_valid −log softmax(ŷ)_Y / #valid tokens             (masked softmax cross-entropy)

The loss is the mean over valid target tokens; d2l's `MaskedSoftmaxCELoss` averages each row over
all num_steps positions (`.mean(dim=1)`, d2l issue #2076), so its printed loss is about num_steps
times too small. Epoch perplexity = exp(mean of the minibatch losses).

What the book's loop does not do and this task does: hold out a fixed random part of the pairs
(rnn_tui.data.nmt_batches.split_pairs; the vocabularies come from the training part only, so an
unseen word is `<unk>` as it would be for a user), report each epoch the held-out loss and corpus
BLEU (sacreBLEU, lower-cased, greedy decoding) on all of them and on those of at most five English
words, and show the greedy translations of the seeds' four sentences as the epoch's sample.

Minibatches are bucketed by length and trimmed to their longest pair (nmt_batches), which skips
most `<pad>` time steps; the whole arrays live on the device and a minibatch is an index gather.
On a GPU the step can instead be captured in a CUDA graph (train/step.py): every minibatch then
fills static (batch_size, num_steps) buffers and the model runs its padded form, which computes
what the packed one does (seq2seq_graph.py).
"""

from __future__ import annotations

import gc
import hashlib
import os
import random
from collections.abc import Callable

import numpy as np
import torch

from rnn_tui.checkpoints.checkpoint import Checkpoint
from rnn_tui.checkpoints.device import to_device
from rnn_tui.data.nmt_batches import bucketed_batches, split_pairs, word_count
from rnn_tui.data.sources import pairs_remarks, read_raw_pairs
from rnn_tui.data.translation import (
    BOS,
    EOS,
    RESERVED_TOKENS,
    SEED_SENTENCES,
    build_array_nmt,
    build_array_sentences,
    preprocess_in_place,
    side_counts,
)
from rnn_tui.data.vocab import Vocab
from rnn_tui.metrics.bleu import corpus_bleu
from rnn_tui.metrics.perplexity import fmt_perplexity
from rnn_tui.train.config import Config, ConfigError
from rnn_tui.train.masked_loss import masked_cross_entropy
from rnn_tui.train.preparing import progress_for
from rnn_tui.train.progress import Progress
from rnn_tui.train.shard import Sharded
from rnn_tui.train.task import Evaluation
from rnn_tui.train.tasks.seq2seq_graph import Batches, Seq2SeqGraph
from rnn_tui.train.vocab_room import check_vocab_room

SHORT_WORDS = 5  # "held-out pairs of up to five English words"
EVAL_BATCH = 512


def epoch_rng(seed: int, epoch: int) -> random.Random:
    """The bucketing RNG of one epoch, a pure function of (seed, epoch) as for language models."""
    return random.Random(f"seq2seq-batches:{seed}:{epoch}")


class _Stages:
    """One (done, total) progress over consecutive stages of known sizes: each stage's own
    (done, total) callback is shifted by the sizes of the stages before it. It stops one short
    of the total, which a listener reads as "tokenized, now the vocabulary" (the LM's order;
    here the vocabularies come in the middle)."""

    def __init__(self, report: Callable[[int, int], None] | None, total: int) -> None:
        self.report, self.total, self.start = report, max(1, total), 0

    def next(self, size: int) -> Callable[[int, int], None] | None:
        if self.report is None:
            return None
        start, self.start = self.start, self.start + size
        report, total = self.report, self.total
        return lambda done, _of: report(min(start + done, total - 1), total)


class Seq2SeqTask(Seq2SeqGraph, Sharded):
    """English→French pairs split into training and held-out parts (see the module docstring)."""

    batching = "random.Random(f'seq2seq-batches:{seed}:{epoch}') per epoch"
    sample_prefix = ""  # a translation sample has no prefix

    def __init__(self, config: Config, device: torch.device) -> None:
        self.config, self.device = config, device
        # Millions of pairs and strings, none in a reference cycle: the collector's passes
        # over them (and the token lists then held) were 9 of the 22 s that 100 MB of pairs
        # (2M) took to prepare.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._prepare(config, device)
        finally:
            if was_enabled:
                gc.enable()

    def _prepare(self, config: Config, device: torch.device) -> None:
        limit = config.num_examples if config.num_examples > 0 else None
        report = progress_for(os.path.basename(str(config.pairs)))
        if report is not None:
            report(0, 1)  # reading and parsing 100 MB of pairs takes seconds too
        read = read_raw_pairs(config.pairs, config.encoding, limit)
        # What a person is told about the file is kept; the raw pairs are replaced by their
        # preprocessed form, and no sentence is held as a list of tokens (for 2M pairs those
        # lists took 1.6 GB): each side is split again where it is counted or encoded.
        self.malformed, self._remarks = read.malformed, pairs_remarks(read, config.pairs)
        pairs = read.pairs
        del read
        train_idx, val_idx = split_pairs(len(pairs), config.val_fraction)
        # The progress of what follows, in sentences: preprocessing (pairs), counting (both
        # sides of the training pairs) and encoding (both sides of every pair).
        stages = _Stages(report, 3 * len(pairs) + 2 * len(train_idx))
        preprocess_in_place(pairs, progress=stages.next(len(pairs)))
        english = [src for src, _ in pairs]
        french = [tgt for _, tgt in pairs]
        del pairs
        reserved, min_freq = RESERVED_TOKENS, config.min_freq
        counts = [
            side_counts([side[i] for i in train_idx], progress=stages.next(len(train_idx)))
            for side in (english, french)
        ]
        self.src_vocab = Vocab.from_counts(counts[0].items(), min_freq, reserved)
        self.tgt_vocab = Vocab.from_counts(counts[1].items(), min_freq, reserved)
        del counts
        self.src_vocab.check_not_empty(f"the English side of {config.pairs}")
        self.tgt_vocab.check_not_empty(f"the French side of {config.pairs}")
        check_vocab_room([self.src_vocab, self.tgt_vocab], f"{config.pairs} (both sides)")
        T = config.num_steps
        src, src_len = build_array_sentences(
            english, self.src_vocab, T, progress=stages.next(len(english))
        )
        tgt, tgt_len = build_array_sentences(
            french, self.tgt_vocab, T, progress=stages.next(len(french))
        )
        self.train_idx, self.val_idx = np.asarray(train_idx), np.asarray(val_idx)
        self.bos, self.eos = self.tgt_vocab[BOS], self.tgt_vocab[EOS]
        # Whole arrays on the device once; minibatches are index gathers.
        self._src = to_device(torch.from_numpy(src), device)
        self._tgt = to_device(torch.from_numpy(tgt), device)
        self._src_len_np, self._tgt_len_np = src_len, tgt_len
        # pack_padded_sequence wants the lengths on the CPU, the loss mask on the device.
        self._src_len_cpu = torch.from_numpy(src_len)
        self._tgt_len = to_device(torch.from_numpy(tgt_len), device)
        self._src_len = to_device(torch.from_numpy(src_len), device)  # a graph's padded form
        self.val_short = [
            j for j, i in enumerate(val_idx) if word_count(english[i].split(" ")) <= SHORT_WORDS
        ]
        # The held-out French sentences (each the " ".join of its tokens) are kept as fresh
        # strings made after the rest is freed: kept in place, one string in ten of the file
        # held most blocks of the interpreter's memory that the pairs had used (~250 MB).
        held = [french[i] for i in val_idx]
        ends = np.cumsum([len(sentence) for sentence in held]).tolist()
        text = "".join(held)
        del english, french, held
        starts = [0, *ends][: len(ends)]  # none when nothing is held out
        self.val_references = [text[a:b] for a, b in zip(starts, ends, strict=True)]
        self.num_batches = -(-len(train_idx) // config.batch_size)
        # Target tokens (with <eos>): what the loss averages over and tokens/s counts.
        self.units_per_epoch = int(tgt_len[self.train_idx].sum())
        self.val_units = int(tgt_len[self.val_idx].sum()) if len(val_idx) else 0
        self._sort_key = (tgt_len * (T + 1) + src_len)[self.train_idx].tolist()
        # What a resume checks beside the vocabularies: pairs added in words already known
        # change the data, not the vocabularies.
        digest = hashlib.blake2b(digest_size=16)
        for part in (src, src_len, tgt, tgt_len, self.train_idx, self.val_idx):
            digest.update(np.ascontiguousarray(part, dtype=np.int64).data)
        self._fingerprint = digest.hexdigest()

    # -- the model --------------------------------------------------------------------------

    def model_config(self) -> dict:
        cfg = self.config
        return {
            "model": "seq2seq",
            "src_vocab_size": len(self.src_vocab),
            "tgt_vocab_size": len(self.tgt_vocab),
            "embed": cfg.embed,
            "hidden": cfg.hidden,
            "layers": cfg.layers,
            # Dropout acts between stacked layers only: one layer has nowhere to apply it.
            "dropout": cfg.dropout if cfg.layers > 1 else 0.0,
            "bidirectional": cfg.bidirectional,
            "attention": cfg.attention,
        }

    def check_resume(self, checkpoint: Checkpoint) -> None:
        if (
            checkpoint.src_vocab.idx_to_token != self.src_vocab.idx_to_token
            or checkpoint.tgt_vocab.idx_to_token != self.tgt_vocab.idx_to_token
        ):
            raise ConfigError(
                f"the pairs {self.config.pairs} changed since the run started: the vocabularies "
                "differ from the checkpoint's"
            )
        saved = (checkpoint.meta.get("pairs") or {}).get("fingerprint")
        # A checkpoint from before fingerprints has none: only the vocabularies are compared.
        if saved is not None and saved != self._fingerprint:
            raise ConfigError(
                f"the pairs {self.config.pairs} changed since the run started: their tokens "
                "differ from the checkpoint's (same vocabularies)"
            )

    def checkpoint_meta(self) -> dict:
        return {
            "src_vocab": self.src_vocab.to_dict(),
            "tgt_vocab": self.tgt_vocab.to_dict(),
            "pairs": {"fingerprint": self._fingerprint},
        }

    # -- data -------------------------------------------------------------------------------

    def data_sizes(self) -> dict:
        return {
            "src_vocab_size": len(self.src_vocab),
            "tgt_vocab_size": len(self.tgt_vocab),
            "train_pairs": len(self.train_idx),
            "val_pairs": len(self.val_idx),
            "val_pairs_short": len(self.val_short),
            "train_tokens": self.units_per_epoch,
            "val_tokens": self.val_units,
            "malformed_lines": self.malformed,
        }

    def data_text(self) -> str:
        return (
            f"{len(self.train_idx):,} training / {len(self.val_idx):,} held-out pairs, "
            f"vocabularies {len(self.src_vocab):,} / {len(self.tgt_vocab):,}, "
            f"{self.num_batches:,} minibatches of ≤ {self.config.batch_size}"
        )

    def notes(self) -> list[str]:
        return list(self._remarks)

    def baseline(self) -> float | None:
        return None

    def batch(self, rows: np.ndarray) -> tuple[torch.Tensor, ...]:
        """(X, X_valid_len on the CPU, dec_input, Y, Y_valid_len) for pair indices `rows`,
        trimmed to the longest source and target among them."""
        Ts = int(self._src_len_np[rows].max())
        Tt = int(self._tgt_len_np[rows].max())
        index = to_device(torch.from_numpy(rows), self.device)
        X = self._src[index, :Ts]
        Y = self._tgt[index, :Tt]
        bos = torch.full((len(rows), 1), self.bos, dtype=Y.dtype, device=Y.device)
        dec_input = torch.cat([bos, Y[:, :-1]], dim=1)
        return X, self._src_len_cpu[torch.from_numpy(rows)], dec_input, Y, self._tgt_len[index]

    # -- training ---------------------------------------------------------------------------

    def epoch_data(self, model, epoch: int) -> list[tuple]:
        """The epoch's minibatches, each `batch` of its pairs (this process's part of them
        under data parallelism), then the whole minibatch's target tokens and this part's
        weight."""
        batches = bucketed_batches(
            self._sort_key, self.config.batch_size, epoch_rng(self.config.seed, epoch)
        )
        data = Batches(self.batch)
        for b in batches:
            rows = self.train_idx[b]
            mine, weight = self.shard.rows(rows)
            data.add(mine, int(self._tgt_len_np[rows].sum()), weight)
        if self._static is not None:
            self._epoch_rows(data)  # under a CUDA graph: on its way to the device now
        return data

    def batch_loss(self, model, data, b: int, fresh: bool) -> torch.Tensor:
        X, X_len, dec_input, Y, Y_len, tokens, weight = data[b]
        logits = model(X, X_len, dec_input)
        total, count = masked_cross_entropy(logits, Y, Y_len)
        # One process: the count on the device (no host read); W processes: the minibatch's.
        return self.shard.mean(total, tokens if self.shard.active else count, weight)

    # -- evaluation and samples -------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self, model) -> Evaluation:
        """Mean masked cross-entropy per token on the held-out pairs (eval mode) and their
        corpus BLEU of greedy translations (all, and ≤ 5 English words)."""
        if not len(self.val_idx):
            return Evaluation(None)
        model.eval()
        try:
            total = torch.zeros((), dtype=torch.float64, device=self.device)
            count = torch.zeros((), dtype=torch.float64, device=self.device)
            hypotheses: list[str] = []
            for start in range(0, len(self.val_idx), EVAL_BATCH):
                X, X_len, dec_input, Y, Y_len = self.batch(self.val_idx[start : start + EVAL_BATCH])
                s, c = masked_cross_entropy(model(X, X_len, dec_input), Y, Y_len)
                total += s
                count += c
                ids = model.greedy_batch(X, X_len, self.bos, self.eos, self.config.num_steps)
                hypotheses.extend(self.tgt_text(row) for row in ids)
            refs = self.val_references
            metrics = {"bleu": corpus_bleu(hypotheses, refs)}
            if self.val_short:
                metrics["bleu_short"] = corpus_bleu(
                    [hypotheses[j] for j in self.val_short], [refs[j] for j in self.val_short]
                )
            return Evaluation((total / count).item(), metrics)
        finally:
            model.train()

    def selection(self, train_ppl: float, val_ppl: float | None, metrics: dict) -> float:
        """`best` is the epoch with the highest held-out BLEU (stored negated: lower is better),
        since held-out loss stops tracking translation quality once the model overfits; without
        held-out pairs, the lowest training perplexity."""
        bleu = metrics.get("bleu")
        return -bleu if bleu is not None else train_ppl

    def tgt_text(self, ids: list[int]) -> str:
        return " ".join(self.tgt_vocab.to_tokens(list(ids)))

    @torch.no_grad()
    def translate(self, model, sentences: list[str]) -> list[str]:
        """Greedy translations of already-preprocessed English sentences."""
        tokens = [s.split(" ") for s in sentences]
        src, src_len = build_array_nmt(tokens, self.src_vocab, self.config.num_steps)
        X = to_device(torch.from_numpy(src), self.device)
        model.eval()
        try:
            ids = model.greedy_batch(
                X, torch.from_numpy(src_len), self.bos, self.eos, self.config.num_steps
            )
        finally:
            model.train()
        return [self.tgt_text(row) for row in ids]

    def sample(self, model) -> str:
        """The seeds' four sentences and their greedy translations, one "src => out" per line."""
        sources = [src for src, _ in SEED_SENTENCES]
        outputs = self.translate(model, sources)
        return "\n".join(f"{src} => {out}" for src, out in zip(sources, outputs, strict=True))

    # -- what people read -------------------------------------------------------------------

    def best_text(self, best_metric: float | None, best_epoch: int | None, last: dict) -> str:
        bleu = last.get("bleu")
        if bleu is not None and best_metric is not None:
            return f"; held-out BLEU {bleu:.1f}, best {-best_metric:.1f} (epoch {best_epoch})"
        if best_metric is not None:
            return f"; best train ppl {fmt_perplexity(best_metric, 3)} (epoch {best_epoch})"
        return ""

    def epoch_text(self, event: dict) -> str:
        text = f"  BLEU {event['bleu']:.1f}" if event.get("bleu") is not None else ""
        if event.get("bleu_short") is not None:
            text += f" (≤5 words {event['bleu_short']:.1f})"
        return text

    def summary(self, progress: Progress) -> dict:
        last = progress.history[-1] if progress.history else {}
        return {
            "train_loss": float(np.log(last["train_ppl"])) if last.get("train_ppl") else None,
            "val_loss": float(np.log(last["val_ppl"])) if last.get("val_ppl") else None,
            "bleu": last.get("bleu"),
            "bleu_short": last.get("bleu_short"),
            "best_bleu": progress.highest("bleu"),
            "malformed_lines": self.malformed,
        }


TASK = Seq2SeqTask

__all__ = ["SEED_SENTENCES", "TASK", "Seq2SeqTask", "epoch_rng"]
