"""Text from a trained language model: the seeds' prediction with warm-up, greedy or sampled.

The seeds' `predict_ch8(prefix, num_preds, net, vocab)`:

    state = net.begin_state(batch_size=1)
    outputs = [vocab[prefix[0]]]
    for y in prefix[1:]:                      # warm-up: update the state, ignore the outputs
        _, state = net(last_output, state); outputs.append(vocab[y])
    for _ in range(num_preds):                # prediction: feed back the chosen token
        y, state = net(last_output, state); outputs.append(int(y.argmax(dim=1)))
    return ''.join(vocab.idx_to_token[i] for i in outputs)

Greedy decoding is that argmax. Sampling draws the next token from softmax(o / T) — temperature
T > 0 sharpens (T < 1) or flattens (T > 1) the model's distribution — optionally restricted to
the k most probable tokens; a seeded torch.Generator makes a draw reproducible.

The prefix is tokenized as the model's corpus was (rnn_tui.data.prefix); the warm-up and each
step are the model's own (`LanguageModel.warm_up` / `next_logits`), so the trainer's greedy sample
(`LanguageModel.predict`) and this generator read a prefix the same way.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

from rnn_tui.checkpoints.device import resolve_device
from rnn_tui.data.corpus import CLEAN_MODES, TOKEN_LEVELS
from rnn_tui.data.errors import DataError
from rnn_tui.data.prefix import Prefix, encode_prefix, join_tokens
from rnn_tui.decode.options import (
    SEEDS_PREFIX,
    TOP_N,
    GenerateOptions,
    draw_seed,
    validate_options,
)
from rnn_tui.decode.top import top_k as top_k_of
from rnn_tui.quoting import quoted

NON_FINITE = (
    "the model's output is not finite (NaN or inf) at generated token {step}: its weights are "
    "broken or too large for float32"
)


@dataclass(frozen=True)
class Step:
    """One generated token: `top` lists the TOP_N most probable next tokens under the model
    (softmax of its output, before temperature or top-k) with their probabilities; `prob` is
    the chosen token's probability under that same distribution."""

    token: str
    index: int
    prob: float
    top: list[tuple[str, float]]


def _device(device: str | torch.device) -> torch.device:
    """A torch.device; a name goes through the trainer's resolve_device ("auto" = CUDA when
    present), whose DeviceError says when CUDA is asked for but absent."""
    return device if isinstance(device, torch.device) else resolve_device(device)


def _top(probs: torch.Tensor, idx_to_token: list[str]) -> list[tuple[str, float]]:
    values, indices = top_k_of(probs, min(TOP_N, probs.numel()))
    return [(idx_to_token[i], p) for i, p in zip(indices.tolist(), values.tolist())]


def _sampling_probs(logits: torch.Tensor, temperature: float, top_k: int) -> torch.Tensor:
    """softmax(o / T) over the top-k logits (all of them when k is 0 or ≥ |V|).

    In float64, with the maximum subtracted first, so a tiny T (even one that is 0 in float32)
    gives a one-hot distribution instead of inf/inf.
    """
    logits = logits.double()
    scaled = (logits - logits.max()) / temperature
    if 0 < top_k < scaled.numel():
        kept = top_k_of(scaled, top_k)[1]
        masked = torch.full_like(scaled, -math.inf)
        masked[kept] = scaled[kept]
        scaled = masked
    return torch.softmax(scaled, dim=0)


def predict(
    prefix: str,
    num_preds: int,
    model,
    vocab,
    token: str = "char",
    strategy: str = "greedy",
    temperature: float = 1.0,
    top_k: int = 0,
    seed: int | None = None,
    device: str | torch.device = "cpu",
    mode: str = "clean",
    warm_up_progress: Callable[[int, int], None] | None = None,
) -> Iterator[Step]:
    """The seeds' prediction: warm up on the prefix, then yield `num_preds` new tokens, one Step
    each, as they are produced (`warm_up_progress`: LanguageModel.warm_up's `progress`).

    Warm-up feeds all prefix tokens but the last (one forward pass; token by token for a
    bidirectional model, as the seeds do, since its backward half would otherwise read ahead);
    each step then feeds the latest token and picks the next one: greedy = argmax of the output
    o; sample = a draw from softmax(o / T) restricted to the top-k tokens (k = 0: all), from a
    torch.Generator seeded with `seed` (None: a fresh seed). The model runs in eval mode and is
    put back in the mode it was in when the iterator ends.

    Bad options, an empty prefix or a model/vocabulary mismatch raise DataError here, at the
    call, before any token is produced.
    """
    validate_options(num_preds, strategy, temperature, top_k, seed)
    if getattr(model, "vocab_size", len(vocab)) != len(vocab):
        raise DataError(
            f"the model predicts {model.vocab_size} tokens but the vocabulary has {len(vocab)}"
        )
    encoded = encode_prefix(prefix, vocab, token, mode)
    device = _device(device)
    generator = None
    if strategy == "sample":
        # Drawn on the CPU, so a seed gives the same text whichever device runs the model.
        generator = torch.Generator().manual_seed(draw_seed() if seed is None else seed)
    return _steps(
        encoded.ids,
        num_preds,
        model,
        vocab.idx_to_token,
        generator,
        temperature,
        top_k,
        device,
        warm_up_progress,
    )


@torch.no_grad()
def _steps(
    ids: list[int],
    num_preds: int,
    model,
    idx_to_token: list[str],
    generator: torch.Generator | None,
    temperature: float,
    top_k: int,
    device: torch.device,
    warm_up_progress: Callable[[int, int], None] | None = None,
) -> Iterator[Step]:
    # torch.no_grad on a generator function applies around each resumption only, so the
    # caller's own grad mode is untouched between steps.
    was_training = model.training
    model.eval()
    try:
        with model.frozen_weights():  # the gate weights joined once
            state, current = model.warm_up(ids, device, warm_up_progress)
            for step in range(1, num_preds + 1):
                logits, state = model.next_logits(current, state, device)
                last = logits.float()
                if not bool(torch.isfinite(last).all()):
                    raise DataError(NON_FINITE.format(step=step))
                probs = torch.softmax(last, dim=0).cpu()
                if generator is None:
                    current = int(last.argmax())
                else:
                    weights = _sampling_probs(last.cpu(), temperature, top_k)
                    if not bool(torch.isfinite(weights).all()) or float(weights.sum()) <= 0:
                        raise DataError(NON_FINITE.format(step=step))
                    current = int(torch.multinomial(weights, 1, generator=generator))
                yield Step(
                    token=idx_to_token[current],
                    index=current,
                    prob=float(probs[current]),
                    top=_top(probs, idx_to_token),
                )
    finally:
        model.train(was_training)


def generate_text(
    prefix: str,
    num_preds: int,
    model,
    vocab,
    token: str = "char",
    mode: str = "clean",
    **options,
) -> tuple[str, list[str]]:
    """(text, unknown): the prefix as the model read it (unknown tokens shown as `<unk>`)
    followed by `num_preds` generated tokens, joined as the token level reads; and the prefix's
    tokens that are not in the vocabulary. `options` are predict's (strategy, temperature,
    top_k, seed, device)."""
    encoded = encode_prefix(prefix, vocab, token, mode)
    steps = predict(prefix, num_preds, model, vocab, token, mode=mode, **options)
    generated = [step.token for step in steps]
    return join_tokens(encoded.shown + generated, token), encoded.unknown


# ---------------------------------------------------------------------------------------------
# Loading a language model from a checkpoint


@dataclass
class LoadedLM:
    """A checkpoint's language model ready to generate, with what tokenizing a prefix needs."""

    path: Path  # the .safetensors file loaded
    model: torch.nn.Module
    vocab: object  # rnn_tui.data.vocab.Vocab
    token: str  # "char" | "word"
    mode: str  # "clean" | "raw"
    meta: dict
    device: torch.device
    warnings: list[str] = field(default_factory=list)

    @property
    def trained_prefix(self) -> str | None:
        """The prefix its training samples started from (config.json's "prefix": the corpus's
        opening where "time traveller" was outside the vocabulary); None when the checkpoint
        names none fit for a one-line field (text, printable, at most 200 characters)."""
        config = self.meta.get("config")
        prefix = config.get("prefix") if isinstance(config, dict) else None
        if isinstance(prefix, str) and prefix.strip() and len(prefix) <= 200:
            return prefix if prefix.isprintable() else None
        return None

    @property
    def default_prefix(self) -> str:
        """What a generation continues when given no prefix: the trained prefix, else the
        seeds' "time traveller" (the Generate console's placeholder too)."""
        return self.trained_prefix or SEEDS_PREFIX

    def generate(
        self,
        prefix: str,
        options: GenerateOptions,
        warm_up_progress: Callable[[int, int], None] | None = None,
    ) -> tuple[Prefix, Iterator[Step]]:
        """The prefix as this model reads it, and the steps `predict` yields for it with
        `options` (what the CLI and the Generate console both run)."""
        encoded = encode_prefix(prefix, self.vocab, self.token, self.mode)
        steps = predict(
            prefix,
            options.length,
            self.model,
            self.vocab,
            self.token,
            strategy=options.strategy,
            temperature=options.temperature,
            top_k=options.top_k,
            seed=options.seed,
            device=self.device,
            mode=self.mode,
            warm_up_progress=warm_up_progress,
        )
        return encoded, steps


def load_lm(
    path: str | os.PathLike, device: str | torch.device = "cpu", purpose: str = "generate"
) -> LoadedLM:
    """Load a language-model checkpoint (a .safetensors file, its .json or a run directory)
    onto `device`. CheckpointError for an unreadable or refused file (a pickle), DataError for
    a checkpoint that is not a language model (`purpose` says what needs one) or lacks its
    token level, DeviceError for CUDA asked for but absent."""
    from rnn_tui.checkpoints.checkpoint import load_checkpoint

    device = _device(device)
    checkpoint = load_checkpoint(path)
    config = checkpoint.config
    task = checkpoint.task
    if task != "lm":
        raise DataError(
            f"{checkpoint.file} is a {task!r} checkpoint; {purpose} needs a language model (lm)"
        )
    token = config.get("token")
    if token is None:
        raise DataError(f"checkpoint {checkpoint.json_path} does not say its token level")
    if token not in TOKEN_LEVELS:
        raise DataError(
            f"checkpoint {checkpoint.json_path}: config.token is {quoted(token)}, "
            f"not a token level ({' or '.join(TOKEN_LEVELS)})"
        )
    mode = config.get("mode", "clean")
    if mode not in CLEAN_MODES:
        raise DataError(f"checkpoint {checkpoint.json_path} has unknown cleaning mode {mode!r}")
    vocab = checkpoint.vocab
    model = checkpoint.build_model(device)
    if model.vocab_size != len(vocab):
        raise DataError(
            f"checkpoint {checkpoint.json_path}: the model predicts {model.vocab_size} tokens "
            f"but its vocabulary has {len(vocab)}"
        )
    warnings = [checkpoint.warning] if checkpoint.warning else []
    if getattr(model, "bidirectional", False):
        warnings.append(
            "a bidirectional model reads the future during training, so it predicts poorly "
            "(the seeds' 'wrong application')"
        )
    return LoadedLM(
        path=checkpoint.path,
        model=model,
        vocab=vocab,
        token=token,
        mode=mode,
        meta=checkpoint.meta,
        device=device,
        warnings=warnings,
    )


__all__ = [
    "LoadedLM",
    "Step",
    "generate_text",
    "load_lm",
    "predict",
]
