"""The sequence-to-sequence trainer: the seeds' `train_seq2seq`, on the language-model trainer's
run directories, checkpoints, progress, signals, pause/stop and resume (trainer.LMTrainer).

Per minibatch (d2l §9.7 "序列到序列学习"):

    dec_input ← [<bos>, Y_1 … Y_{T′−1}]                      (teacher forcing)
    ŷ ← net(X, X_valid_len, dec_input)
    l ← Σ_valid −log softmax(ŷ)_Y / #valid tokens             (masked softmax cross-entropy)
    l.backward(); grad_clipping(θ = 1); Adam (lr 0.005)

The loss is the mean over valid target tokens; d2l's `MaskedSoftmaxCELoss` averages each row over
all num_steps positions (`.mean(dim=1)`, d2l issue #2076), so its printed loss is about num_steps
times too small. Epoch perplexity = exp(mean of the minibatch losses).

What the book's loop does not do and this one does: hold out a fixed random part of the pairs
(rnn_tui.data.nmt_batches.split_pairs; the vocabularies come from the training part only, so an
unseen word is `<unk>` as it would be for a user), report each epoch the held-out loss and corpus
BLEU (sacreBLEU, lower-cased, greedy decoding) on all of them and on those of at most five English
words, and show the greedy translations of the seeds' four sentences as the epoch's sample.

Speed: minibatches are bucketed by length and trimmed to their longest pair (nmt_batches), which
skips most `<pad>` time steps; nothing is read on the host inside the loop.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import torch

from rnn_tui.checkpoints.checkpoint import Checkpoint
from rnn_tui.checkpoints.device import resolve_device
from rnn_tui.data.nmt_batches import bucketed_batches, split_pairs, word_count
from rnn_tui.data.translation import (
    BOS,
    EOS,
    RESERVED_TOKENS,
    build_array_nmt,
    preprocess_pairs,
    read_raw_pairs,
    tokenize_nmt,
)
from rnn_tui.data.vocab import Vocab
from rnn_tui.train.masked_loss import masked_cross_entropy
from rnn_tui.train.trainer import (
    ConfigError,
    LMTrainer,
    _epochs,
    _require_int,
    validate_training_options,
)

# The seeds' four test sentences (d2l §9.7) and their references: the sample of every epoch.
SEED_SENTENCES = (
    ("go .", "va !"),
    ("i lost .", "j'ai perdu ."),
    ("he's calm .", "il est calme ."),
    ("i'm home .", "je suis chez moi ."),
)
SHORT_WORDS = 5  # "held-out pairs of up to five English words"
EVAL_BATCH = 512


@dataclass
class Seq2SeqConfig:
    """Everything a translation run is started with (config.json and checkpoints hold it).

    `--num-examples 600 --embed 32 --hidden 32 --epochs 300 --val-fraction 0` is the book's run;
    the defaults are sized for all ~68.8k bundled pairs."""

    task: str = "seq2seq"
    pairs: str = "fra-eng"
    num_examples: int = -1  # -1: all
    encoding: str = "utf-8"
    min_freq: int = 2
    model: str = "seq2seq"
    layers: int = 2
    bidirectional: bool = False
    embed: int = 256
    hidden: int = 256
    dropout: float = 0.1
    batch_size: int = 64
    num_steps: int = 10
    lr: float = 0.005
    optimizer: str = "adam"
    epochs: int = 10
    clip: float = 1.0
    val_fraction: float = 0.1
    device: str = "auto"
    seed: int = 0
    sample_every: int = 1  # 0: never
    log_every: int = 0
    # The LM trainer's sample event names a prefix; a translation sample has none.
    prefix: ClassVar[str] = ""

    def resolved(self) -> Seq2SeqConfig:
        return dataclasses.replace(self)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Seq2SeqConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def model_config(self, src_vocab_size: int, tgt_vocab_size: int) -> dict:
        return {
            "model": "seq2seq",
            "src_vocab_size": src_vocab_size,
            "tgt_vocab_size": tgt_vocab_size,
            "embed": self.embed,
            "hidden": self.hidden,
            "layers": self.layers,
            # Dropout acts between stacked layers only: one layer has nowhere to apply it.
            "dropout": self.dropout if self.layers > 1 else 0.0,
            "bidirectional": self.bidirectional,
        }

    def validate(self) -> None:
        """ConfigError (one line) for the first option out of range."""
        if self.task != "seq2seq":
            raise ConfigError(f"task must be seq2seq here (got {self.task!r})")
        if self.model != "seq2seq":
            raise ConfigError(
                f"--task seq2seq trains the GRU encoder–decoder; --model {self.model} is a "
                "language model"
            )
        for name in ("layers", "embed", "hidden", "batch_size", "num_steps", "epochs"):
            _require_int(name, getattr(self, name), minimum=1)
        for name in ("min_freq", "seed", "sample_every", "log_every"):
            _require_int(name, getattr(self, name), minimum=0)
        num_examples = _require_int("num_examples", self.num_examples, minimum=-1)
        if num_examples == 0:
            raise ConfigError("num_examples must be positive (or -1 for all pairs)")
        validate_training_options(self)


def epoch_rng(seed: int, epoch: int) -> random.Random:
    """The bucketing RNG of one epoch, a pure function of (seed, epoch) as for language models."""
    return random.Random(f"seq2seq-batches:{seed}:{epoch}")


class Seq2SeqTrainer(LMTrainer):
    """A prepared translation run: the constructor checks everything and writes nothing;
    `run` (inherited) trains, logs, checkpoints, obeys stop/pause and signals."""

    def __init__(self, config: Seq2SeqConfig, resume: Checkpoint | None = None) -> None:
        config = config.resolved()
        config.validate()
        self.config = config
        self.device = resolve_device(config.device)
        limit = config.num_examples if config.num_examples > 0 else None
        raw, self.malformed = read_raw_pairs(config.pairs, config.encoding, limit)
        if not raw:
            raise ConfigError(f"{config.pairs} holds no sentence pairs")
        pairs = preprocess_pairs(raw)
        source, target = tokenize_nmt(pairs)
        train_idx, val_idx = split_pairs(len(pairs), config.val_fraction)
        reserved, min_freq = RESERVED_TOKENS, config.min_freq
        self.src_vocab = Vocab([source[i] for i in train_idx], min_freq, reserved)
        self.tgt_vocab = Vocab([target[i] for i in train_idx], min_freq, reserved)
        if resume is not None and (
            resume.src_vocab.idx_to_token != self.src_vocab.idx_to_token
            or resume.tgt_vocab.idx_to_token != self.tgt_vocab.idx_to_token
        ):
            raise ConfigError(
                f"the pairs {config.pairs} changed since the run started: the vocabularies "
                "differ from the checkpoint's"
            )
        T = config.num_steps
        src, src_len = build_array_nmt(source, self.src_vocab, T)
        tgt, tgt_len = build_array_nmt(target, self.tgt_vocab, T)
        self.train_idx, self.val_idx = np.asarray(train_idx), np.asarray(val_idx)
        self.bos, self.eos = self.tgt_vocab[BOS], self.tgt_vocab[EOS]
        # Whole arrays on the device once; minibatches are index gathers.
        self._src, self._tgt = (
            self._to_device(torch.from_numpy(src)),
            self._to_device(torch.from_numpy(tgt)),
        )
        self._src_len_np, self._tgt_len_np = src_len, tgt_len
        # pack_padded_sequence wants the lengths on the CPU, the loss mask on the device.
        self._src_len_cpu = torch.from_numpy(src_len)
        self._tgt_len = self._to_device(torch.from_numpy(tgt_len))
        self.val_references = [" ".join(target[i]) for i in val_idx]
        self.val_short = [j for j, i in enumerate(val_idx) if word_count(source[i]) <= SHORT_WORDS]
        self.train_ids = self.train_idx  # LMTrainer's name for "the training part"
        self.val_ids = self.val_idx
        self.num_batches = -(-len(train_idx) // config.batch_size)
        self.tokens_per_epoch = int(tgt_len[self.train_idx].sum())
        self._sort_key = (tgt_len * (T + 1) + src_len)[self.train_idx].tolist()
        self._extras: dict = {}

        self._prepare_training(
            resume, config.model_config(len(self.src_vocab), len(self.tgt_vocab))
        )
        self.baseline_ppl = None
        self._val_batches = []  # unused: evaluate() batches the held-out pairs itself

    # -----------------------------------------------------------------------------------------
    # Data

    def _batch(self, rows: np.ndarray) -> tuple[torch.Tensor, ...]:
        """(X, X_valid_len on the CPU, dec_input, Y, Y_valid_len) for pair indices `rows`,
        trimmed to the longest source and target among them."""
        Ts = int(self._src_len_np[rows].max())
        Tt = int(self._tgt_len_np[rows].max())
        index = self._to_device(torch.from_numpy(rows))
        X = self._src[index, :Ts]
        Y = self._tgt[index, :Tt]
        bos = torch.full((len(rows), 1), self.bos, dtype=Y.dtype, device=Y.device)
        dec_input = torch.cat([bos, Y[:, :-1]], dim=1)
        return X, self._src_len_cpu[torch.from_numpy(rows)], dec_input, Y, self._tgt_len[index]

    def _epoch_data(self, epoch: int) -> list[tuple[torch.Tensor, ...]]:
        batches = bucketed_batches(
            self._sort_key, self.config.batch_size, epoch_rng(self.config.seed, epoch)
        )
        return [self._batch(self.train_idx[b]) for b in batches]

    def _batch_loss(self, data, b: int, fresh: bool) -> torch.Tensor:
        X, X_len, dec_input, Y, Y_len = data[b]
        logits = self.model(X, X_len, dec_input)
        total, count = masked_cross_entropy(logits, Y, Y_len)
        return total / count

    # -----------------------------------------------------------------------------------------
    # Evaluation and samples

    def baseline(self) -> float | None:
        return None

    @torch.no_grad()
    def evaluate(self) -> float | None:
        """Mean masked cross-entropy per token on the held-out pairs (eval mode); also sets
        this epoch's held-out corpus BLEU (all, and ≤ 5 English words). None without them."""
        self._extras = {}
        if not len(self.val_idx):
            return None
        from rnn_tui.metrics.bleu import corpus_bleu

        model = self.model
        model.eval()
        try:
            total = torch.zeros((), dtype=torch.float64, device=self.device)
            count = torch.zeros((), dtype=torch.float64, device=self.device)
            hypotheses: list[str] = []
            for start in range(0, len(self.val_idx), EVAL_BATCH):
                X, X_len, dec_input, Y, Y_len = self._batch(
                    self.val_idx[start : start + EVAL_BATCH]
                )
                s, c = masked_cross_entropy(model(X, X_len, dec_input), Y, Y_len)
                total += s
                count += c
                ids = model.greedy_batch(X, X_len, self.bos, self.eos, self.config.num_steps)
                hypotheses.extend(self.tgt_text(row) for row in ids)
            refs = self.val_references
            self._extras = {"bleu": corpus_bleu(hypotheses, refs)}
            if self.val_short:
                self._extras["bleu_short"] = corpus_bleu(
                    [hypotheses[j] for j in self.val_short], [refs[j] for j in self.val_short]
                )
            return (total / count).item()
        finally:
            model.train()

    def _epoch_extras(self) -> dict:
        return dict(self._extras)

    def _selection_metric(self, train_ppl: float, val_ppl: float | None) -> float:
        """`best` is the epoch with the highest held-out BLEU (stored negated: lower is better),
        since held-out loss stops tracking translation quality once the model overfits; without
        held-out pairs, the lowest training perplexity."""
        bleu = self._extras.get("bleu")
        return -bleu if bleu is not None else super()._selection_metric(train_ppl, val_ppl)

    def tgt_text(self, ids: list[int]) -> str:
        return " ".join(self.tgt_vocab.to_tokens(list(ids)))

    @torch.no_grad()
    def translate(self, sentences: list[str]) -> list[str]:
        """Greedy translations of already-preprocessed English sentences."""
        tokens = [s.split(" ") for s in sentences]
        src, src_len = build_array_nmt(tokens, self.src_vocab, self.config.num_steps)
        X = self._to_device(torch.from_numpy(src))
        model = self.model
        model.eval()
        try:
            ids = model.greedy_batch(
                X, torch.from_numpy(src_len), self.bos, self.eos, self.config.num_steps
            )
        finally:
            model.train()
        return [self.tgt_text(row) for row in ids]

    def sample(self) -> str:
        """The seeds' four sentences and their greedy translations, one "src => out" per line."""
        sources = [src for src, _ in SEED_SENTENCES]
        return "\n".join(
            f"{src} => {out}" for src, out in zip(sources, self.translate(sources), strict=True)
        )

    # -----------------------------------------------------------------------------------------
    # Records

    def run_config(self) -> dict:
        return {
            **self.config.to_dict(),
            "model_config": self.model.config(),
            "src_vocab_size": len(self.src_vocab),
            "tgt_vocab_size": len(self.tgt_vocab),
            "train_pairs": len(self.train_idx),
            "val_pairs": len(self.val_idx),
            "val_pairs_short": len(self.val_short),
            "malformed_lines": self.malformed,
            "batches_per_epoch": self.num_batches,
            "num_params": self.num_params,
        }

    def _meta(self) -> dict:
        meta = super()._meta()
        meta["batching"] = "random.Random(f'seq2seq-batches:{seed}:{epoch}') per epoch"
        return meta

    def _vocab_meta(self) -> dict:
        return {"src_vocab": self.src_vocab.to_dict(), "tgt_vocab": self.tgt_vocab.to_dict()}

    def _finished_message(self) -> str:
        p = self.progress
        text = _epochs(p.epoch)
        bleu = (p.history[-1] if p.history else {}).get("bleu")
        if bleu is not None:
            text += f"; held-out BLEU {bleu:.1f}, best {-p.best_metric:.1f} (epoch {p.best_epoch})"
        elif p.best_metric is not None:
            text += f"; best train ppl {p.best_metric:.3f} (epoch {p.best_epoch})"
        return text

    def summary(self) -> dict:
        out = super().summary()
        last = self.progress.history[-1] if self.progress.history else {}
        bleus = [h["bleu"] for h in self.progress.history if h.get("bleu") is not None]
        out.update(
            train_loss=float(np.log(last["train_ppl"])) if last.get("train_ppl") else None,
            val_loss=float(np.log(last["val_ppl"])) if last.get("val_ppl") else None,
            bleu=last.get("bleu"),
            bleu_short=last.get("bleu_short"),
            best_bleu=max(bleus) if bleus else None,
            malformed_lines=self.malformed,
        )
        return out


__all__ = ["SEED_SENTENCES", "Seq2SeqConfig", "Seq2SeqTrainer"]
