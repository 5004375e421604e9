"""Language modelling: the seeds' `train_ch8`, as a task of the training engine.

Per minibatch (d2l §8.5 "循环神经网络的从零开始实现", `train_epoch_ch8`):

    state ← begin_state (random sampling: every batch; sequential: at the epoch start only,
            otherwise the previous batch's state, detached — truncated BPTT)
    ŷ, state ← net(X, state)
    l ← cross-entropy(ŷ, Y) averaged over all B·T time steps

and per epoch perplexity = exp(mean loss per token). Beyond the book's loop: the last
`val_fraction` of the stream is held out and scored each epoch (sequentially, state carried, no
grad, eval mode) beside the Laplace-smoothed trigram on the same split, and each epoch ends with a
sample from "time traveller" (from the corpus's opening tokens where its vocabulary lacks those).

Epoch e's minibatches come from `random.Random(f"lm-batches:{seed}:{e}")`, so any epoch's are
known without replaying the earlier ones. A stop in the middle of an epoch resumes with the next
minibatch and a zero state (the carried state is not saved).
"""

from __future__ import annotations

import hashlib
import os
import random

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view

from rnn_tui.checkpoints.checkpoint import Checkpoint
from rnn_tui.checkpoints.device import to_device
from rnn_tui.data.decoding import vocabulary_changed
from rnn_tui.data.errors import DataError
from rnn_tui.data.ngrams import NGRAM_NAMES, LaplaceNGramLM, best_order
from rnn_tui.data.partition import batch_starts, min_batches
from rnn_tui.data.prefix import corpus_prefix, encode_prefix, join_tokens, tokenize_prefix
from rnn_tui.data.token_cache import cache_dir, load_token_array
from rnn_tui.data.vocab import Vocab
from rnn_tui.metrics.perplexity import best_text
from rnn_tui.models.base import detach_state, state_tensors
from rnn_tui.models.names import MAX_VOCAB
from rnn_tui.train.config import Config, ConfigError
from rnn_tui.train.options import OPTION
from rnn_tui.train.preparing import progress_for
from rnn_tui.train.progress import Progress
from rnn_tui.train.task import Evaluation
from rnn_tui.train.vocab_room import check_vocab_room

WORD_EMBED = 128  # the embedding size of a word-level concise model when none is given
# Auto: one-hot inputs for a concise model at char level up to this many characters. enwik8 read
# raw has 5,436: its one-hot inputs ran 5.7k tokens/s against 14.7k with an embedding.
ONE_HOT_MOST = 256
BASELINE_MAX_TOKENS = 2_000_000  # the trigram baseline's tokens at most (train + validation)


def epoch_rng(seed: int, epoch: int) -> random.Random:
    """The batching RNG of one epoch: a pure function of (seed, epoch), so epoch e's minibatches
    are reproducible without replaying epochs 1..e−1 (str seeds hash with SHA-512: stable across
    processes and platforms)."""
    return random.Random(f"lm-batches:{seed}:{epoch}")


def resolve_embed(config: Config, vocab_size: int = 0) -> Config:
    """`config` with `embed` decided: not set → 0 (one-hot) for a scratch model (its input
    product is a row gather) or at char level up to ONE_HOT_MOST characters, else 128."""
    if config.embed is not None:
        return config
    one_hot = config.model.endswith("-scratch") or (
        config.token == "char" and vocab_size <= ONE_HOT_MOST
    )
    return config.replace(embed=0 if one_hot else WORD_EMBED)


class LanguageModelTask:
    """A corpus cut into a training stream and a validation tail (see the module docstring)."""

    batching = "random.Random(f'lm-batches:{seed}:{epoch}') per epoch"

    def __init__(self, config: Config, device: torch.device) -> None:
        self.config, self.device = config, device
        # d2l's load_corpus_time_machine as a compact id array (uint8/16/32), memory-mapped from
        # the token cache for a corpus file: a 100 MB corpus holds no Python list of tokens.
        self._notes: list[str] = []
        corpus = load_token_array(
            config.corpus,
            token=config.token,
            mode=config.mode,
            min_freq=config.min_freq,
            encoding=config.encoding,
            progress=progress_for(os.path.basename(str(config.corpus))),
            cache_problem=self._notes.append,  # shown with the run's first line
        )
        self.vocab: Vocab = corpus.vocab
        self._check_vocab_size(config)
        self.config = config = self._resolve_embed(config)
        ids = corpus.ids[: config.max_tokens] if config.max_tokens > 0 else corpus.ids
        num_val = round(len(ids) * config.val_fraction) if config.val_fraction > 0 else 0
        # Both slices of the memory map, compact: validation in int64 took 0.15 GB of 1.1 GB.
        self.train_ids = ids[: len(ids) - num_val]
        self.val_ids = ids[len(ids) - num_val :]
        self._digest: str | None = None
        try:
            self._starts(1)
        except DataError as exc:  # not even one minibatch fits: say where the count comes from
            raise DataError(
                f"{exc}{_counted(len(corpus.ids), len(ids), num_val, config)}"
            ) from None
        # The random offset can change an epoch's batch count by one: every epoch takes the
        # fewest any offset gives, so epochs (and the progress bar, ETA, resume) are all alike.
        self.num_batches = min_batches(
            len(self.train_ids), config.batch_size, config.num_steps, config.sampling
        )
        if num_val == 1:
            raise ConfigError(
                "validation part too short: 1 token has nothing to predict "
                "(raise --val-fraction, or 0 for no validation)"
            )
        self.units_per_epoch = self.num_batches * config.batch_size * config.num_steps
        if config.sample_every:
            self.config = config = self._sample_prefix(config)
        self.sample_prefix = config.prefix if config.sample_every else ""
        self._val_batches = self._validation_batches()

    def _resolve_embed(self, config: Config) -> Config:
        """`resolve_embed` for this corpus's vocabulary, saying so where auto chose an embedding
        over one-hot inputs at char level."""
        resolved = resolve_embed(config, len(self.vocab))
        if config.embed is None and config.token == "char" and resolved.embed:
            self._notes.append(
                f"inputs: an embedding of {resolved.embed} (auto), not one-hot: "
                f"{len(self.vocab):,} characters (--embed 0 for one-hot)"
            )
        return resolved

    def _check_vocab_size(self, config: Config) -> None:
        """ConfigError naming the min_freq that fits, where the vocabulary is more than a model
        takes (a log of ids has a word for nearly every token) or a checkpoint holds."""
        size = len(self.vocab)
        if size <= MAX_VOCAB:
            other = "or --token char" if config.token == "word" else ""
            check_vocab_room([self.vocab], str(config.corpus), other=other)
            return
        least, kept = self.vocab.min_freq_within(MAX_VOCAB)
        hint = f"--min-freq {least} keeps {kept:,} of them"
        raise ConfigError(
            f"the vocabulary of {config.corpus} has {size:,} tokens, more than a model takes "
            f"({MAX_VOCAB:,}): {hint}" + (" (or --token char)" if config.token == "word" else "")
        )

    def _sample_prefix(self, config: Config) -> Config:
        """`config` with a prefix the samples can start from. The default, the seeds' "time
        traveller", gives way to the corpus's opening tokens where the vocabulary lacks some of
        its tokens (another language, another alphabet); a prefix the user gave is kept, with a
        note naming its unknown tokens."""
        if not config.prefix.strip():
            raise ConfigError("the sample prefix is empty (give --prefix TEXT or --sample-every 0)")
        prefix = encode_prefix(config.prefix, self.vocab, config.token, config.mode)
        unknown, notes = prefix.unknown, [f"samples: {line}" for line in prefix.warnings()]
        if not unknown:
            self._notes += notes  # the characters a clean model reads as spaces ('9', '!', 'É')
            return config
        default = OPTION["prefix"].default
        if config.prefix == default:
            length = len(tokenize_prefix(default, config.token, config.mode))
            opening = self.vocab.to_tokens([int(i) for i in self.train_ids[: 4 * length + 64]])
            chosen = corpus_prefix(opening, config.token, length)
            if chosen is not None:
                kind = "character" if config.token == "char" else "word"
                self._notes.append(
                    f"samples start from the corpus's opening {chosen!r} ({default!r} has "
                    f"{len(unknown)} {kind}{'s' if len(unknown) != 1 else ''} outside the "
                    "vocabulary; --prefix TEXT chooses)"
                )
                return config.replace(prefix=chosen)
        self._notes += notes
        return config

    # -- the model --------------------------------------------------------------------------

    def model_config(self) -> dict:
        cfg = self.config
        return {
            "model": cfg.model,
            "vocab_size": len(self.vocab),
            "hidden": cfg.hidden,
            "layers": cfg.layers,
            "dropout": cfg.dropout,
            "bidirectional": cfg.bidirectional,
            "embed": cfg.embed,
        }

    def _fingerprint(self) -> str:
        """A digest of the token ids trained and validated on, made once: lines added to a
        corpus whose vocabulary they leave alone change the data, not the vocabulary."""
        if self._digest is None:
            digest = hashlib.blake2b(digest_size=16)
            for part in (self.train_ids, self.val_ids):
                # The ids in the corpus's compact dtype (a memory map's slice, or a list's).
                digest.update(np.ascontiguousarray(part, dtype=self.train_ids.dtype).data)
            self._digest = digest.hexdigest()
        return self._digest

    def check_resume(self, checkpoint: Checkpoint) -> None:
        if checkpoint.vocab.idx_to_token != self.vocab.idx_to_token:
            was, now = checkpoint.vocab.idx_to_token, self.vocab.idx_to_token
            raise ConfigError(vocabulary_changed(self.config.corpus, was, now))
        saved = (checkpoint.meta.get("corpus") or {}).get("fingerprint")
        # A checkpoint from before fingerprints has none: only its vocabulary is compared.
        if saved is not None and saved != self._fingerprint():
            raise ConfigError(
                f"the corpus {self.config.corpus} changed since the run started: its tokens "
                "differ from the checkpoint's (same vocabulary; if the file did not change, "
                f"its cached tokens in {cache_dir()} are damaged: remove that folder)"
            )

    def checkpoint_meta(self) -> dict:
        return {"vocab": self.vocab.to_dict(), "corpus": {"fingerprint": self._fingerprint()}}

    # -- data -------------------------------------------------------------------------------

    def data_sizes(self) -> dict:
        return {
            "vocab_size": len(self.vocab),
            "train_tokens": len(self.train_ids),
            "val_tokens": len(self.val_ids),
        }

    def data_text(self) -> str:
        cfg = self.config
        return (
            f"{len(self.train_ids):,} training / {len(self.val_ids):,} validation {cfg.token} "
            f"tokens, {self.num_batches:,} minibatches of {cfg.batch_size}×{cfg.num_steps}"
        )

    def notes(self) -> list[str]:
        return list(self._notes)

    def _starts(self, epoch: int) -> list[list[int]]:
        cfg = self.config
        return batch_starts(
            len(self.train_ids),
            cfg.batch_size,
            cfg.num_steps,
            cfg.sampling,
            epoch_rng(cfg.seed, epoch),
        )

    def set_shard(self, rank: int, world: int) -> None:
        """Data-parallel training (train/distributed.py): this process takes rows
        [rank·B/world, (rank+1)·B/world) of every minibatch."""
        rows = self.config.batch_size // world
        self.rows, self.batch_rows = slice(rank * rows, (rank + 1) * rows), rows

    rows = slice(None)  # all of them, in one process
    batch_rows: int | None = None

    def epoch_batches(self, epoch: int) -> tuple[torch.Tensor, torch.Tensor]:
        """All minibatches of `epoch` as two tensors (num_batches, B, T) on the device: X and
        Y = X shifted by one token (rnn_tui.data.partition's layout); under data parallelism
        this process's rows of each. On a GPU int64, gathered there; on the CPU in the corpus's
        compact dtype (views of one gather of T + 1 tokens a row), widened a minibatch at a
        time (`batch_loss`): as int64, with their index arrays, a 100 MB corpus's epoch took
        2.5 GB."""
        starts = np.asarray(self._starts(epoch)[: self.num_batches], dtype=np.int64)[:, self.rows]
        T = self.config.num_steps
        if self.resident:
            # The stream lives on the device: only the starts travel, the gather runs there.
            index = to_device(torch.from_numpy(starts), self.device)[:, :, None]
            index = index + torch.arange(T, device=self.device)
            stream = self._resident_stream()
            return stream[index].long(), stream[index + 1].long()
        rows = torch.from_numpy(sliding_window_view(self.train_ids, T + 1)[starts])
        return to_device(rows[..., :T], self.device), to_device(rows[..., 1:], self.device)

    @property
    def resident(self) -> bool:
        """On a GPU the training stream is copied to it once (int32: 4 bytes a token) and each
        epoch gathers its minibatches there, instead of copying them over every epoch."""
        return self.device.type == "cuda" or self._force_resident

    _force_resident = False  # a test runs the resident path on the CPU
    _stream: torch.Tensor | None = None

    def _resident_stream(self) -> torch.Tensor:
        if self._stream is None:
            ids = torch.from_numpy(np.asarray(self.train_ids, dtype=np.int32))
            self._stream = to_device(ids, self.device)
        return self._stream

    def _validation_batches(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The validation stream cut into `rows` parallel rows read num_steps at a time (the
        last chunk may be shorter), as sequential partitioning does without a random offset:
        on a GPU as int64 there, on the CPU in the compact dtype, widened a chunk at a time."""
        n = len(self.val_ids)
        if n == 0:
            return []
        T = self.config.num_steps
        rows = max(1, min(self.config.batch_size, (n - 1) // T))
        length = (n - 1) // rows
        self.val_tokens_scored = rows * length
        wide = np.int64 if self.resident else None
        X, Y = (
            to_device(torch.from_numpy(np.array(part, dtype=wide)).view(rows, length), self.device)
            for part in (self.val_ids[: rows * length], self.val_ids[1 : rows * length + 1])
        )
        return [
            (X[:, i : i + T].contiguous(), Y[:, i : i + T].contiguous())
            for i in range(0, length, T)
        ]

    def baseline(self) -> float | None:
        """Perplexity on the validation part of the Laplace-smoothed n-gram fitted on the training
        part, of the order ≤ 3 scoring best (`baseline_name`); None without validation."""
        if not len(self.val_ids):
            return None
        train, val = self.train_ids, self.val_ids
        if len(train) + len(val) > BASELINE_MAX_TOKENS:
            # A big corpus: the training tokens just before the cut and the validation tokens just
            # after it, in proportion (Counters of all its trigrams: minutes and gigabytes).
            share = len(val) / (len(train) + len(val))
            num_val = max(1, round(BASELINE_MAX_TOKENS * share))
            train, val = train[-(BASELINE_MAX_TOKENS - num_val) :], val[:num_val]
        tokens = self.vocab.to_tokens(np.concatenate((train, val)).tolist())
        fitted = LaplaceNGramLM(3).fit(tokens[: len(train)])
        order, perplexity = best_order(fitted, tokens[len(train) :])
        self.baseline_name = NGRAM_NAMES[order]
        return perplexity

    # -- training ---------------------------------------------------------------------------

    def epoch_data(self, model, epoch: int):
        self._zero_state = model.begin_state(self.batch_rows or self.config.batch_size, self.device)
        self._state = self._zero_state
        return self.epoch_batches(epoch)

    def batch_loss(self, model, data, b: int, fresh: bool) -> torch.Tensor:
        """Mean cross-entropy per token of minibatch `b`; sequential partitioning carries the
        previous batch's state, detached (truncated BPTT), from the session's first batch on."""
        X_all, Y_all = data
        if self.config.sampling == "sequential" and not fresh:
            state = detach_state(self._state)
        else:
            state = self._zero_state
        logits, self._state = model(X_all[b].long(), state)
        # The vocabulary size from the logits: `model` may be a DistributedDataParallel wrapper.
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y_all[b].long().reshape(-1))

    # -- a CUDA graph's static step (train/step.py GraphTask): every minibatch has one shape -

    def graph_buffers(self, model, data) -> None:
        """Static inputs, targets and state for a captured step."""
        X_all, Y_all = data
        self._static_X = torch.empty_like(X_all[0], dtype=torch.long)
        self._static_Y = torch.empty_like(Y_all[0], dtype=torch.long)
        self._static_state = state_tensors(self._zero_state, clone=True)

    def load_static(self, data, b: int, fresh: bool) -> None:
        """Minibatch `b` into the static buffers; the state zeroed where batch_loss would start
        from the zero state (the epoch's first batch, or every batch of random sampling)."""
        X_all, Y_all = data
        self._static_X.copy_(X_all[b], non_blocking=True)
        self._static_Y.copy_(Y_all[b], non_blocking=True)
        if fresh or self.config.sampling != "sequential":
            for s in self._static_state:
                s.zero_()

    def static_loss(self, model) -> torch.Tensor:
        """batch_loss on the static buffers; the state they hold carries no gradient history,
        which is the detach of truncated BPTT."""
        state = self._static_state
        logits, self._static_next = model(
            self._static_X, state if isinstance(self._zero_state, tuple) else state[0]
        )
        V = model.vocab_size
        return F.cross_entropy(logits.reshape(-1, V), self._static_Y.reshape(-1))

    @torch.no_grad()
    def carry_static(self) -> None:
        """The step's final state into the static state (after backward, which may still read
        the old one)."""
        for s, new in zip(self._static_state, state_tensors(self._static_next), strict=True):
            s.copy_(new)
        # Dropped: kept, it holds the step's autograd graph (and its AccumulateGrad nodes,
        # made on the warm-up's stream) alive into the capture, which warns of the mismatch.
        self._static_next = None

    # -- evaluation and samples -------------------------------------------------------------

    @torch.no_grad()
    def evaluate(self, model) -> Evaluation:
        """Mean cross-entropy per token on the validation part (state carried across chunks,
        eval mode); no loss without validation."""
        if not self._val_batches:
            return Evaluation(None)
        model.eval()
        try:
            state = model.begin_state(self._val_batches[0][0].shape[0], self.device)
            total = torch.zeros((), dtype=torch.float64, device=self.device)
            V = model.vocab_size
            for X, Y in self._val_batches:
                logits, state = model(X.long(), state)
                total += F.cross_entropy(logits.reshape(-1, V), Y.long().view(-1), reduction="sum")
            return Evaluation(total.item() / self.val_tokens_scored)
        finally:
            model.train()

    def selection(self, train_ppl: float, val_ppl: float | None, metrics: dict) -> float:
        """`best` is the lowest validation perplexity, else the lowest training perplexity."""
        return val_ppl if val_ppl is not None else train_ppl

    def sample(self, model) -> str:
        """Greedy text after the prefix, with the seeds' warm-up (LanguageModel.predict)."""
        cfg = self.config
        prefix = encode_prefix(cfg.prefix, self.vocab, cfg.token, cfg.mode)
        ids = model.predict(prefix.ids, cfg.sample_length, self.device)
        return join_tokens(prefix.shown + self.vocab.to_tokens(ids), cfg.token)

    # -- what people read -------------------------------------------------------------------

    def best_text(self, best_metric: float | None, best_epoch: int | None, last: dict) -> str:
        what = "val" if len(self.val_ids) else "train"
        return best_text(best_metric, best_epoch, len(self.vocab), what, bool(last))

    def epoch_text(self, event: dict) -> str:
        return ""

    def summary(self, progress: Progress) -> dict:
        return {}


TASK = LanguageModelTask


def _counted(total: int, used: int, held: int, config: Config) -> str:
    """How the training tokens were counted, when not all the corpus's ("the first …")."""
    parts = []
    if used < total:
        parts.append(f"the first {used:,} of {total:,} by --max-tokens")
    if held:
        read = "" if parts else f"the {used:,} read, "
        parts.append(f"{read}less {held:,} held out by --val-fraction {config.val_fraction:g}")
    return f" ({', '.join(parts)})" if parts else ""


__all__ = ["ONE_HOT_MOST", "TASK", "WORD_EMBED", "LanguageModelTask", "epoch_rng", "resolve_embed"]
