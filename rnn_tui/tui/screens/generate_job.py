"""The Generate console's job, run in its worker thread: continue a prefix with a loaded
language model (rnn_tui.decode.generate.predict) and post the tokens as they come.

Tokens are posted in batches, at most one message every UPDATE_INTERVAL seconds, never one per
token, so the UI redraws a few times a second however fast the model writes. torch is imported
here only when the job runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from textual.message import Message
from textual.worker import Worker

from rnn_tui.decode.options import GenerateOptions

if TYPE_CHECKING:  # the module itself needs torch: imported by the worker only
    from rnn_tui.decode.generate import LoadedLM

# Seconds between two batches of tokens posted by the worker. Each batch re-lays the output out
# (two or three frames), and the worker waits for the GIL while the UI draws: at 0.1 s the loop
# was busy 0.45 of the time and the shipped LSTM wrote 11,300–12,600 tokens in 10 s; at 0.25 s,
# 0.15 and 19,800–28,700.
UPDATE_INTERVAL = 0.25


@dataclass(frozen=True)
class Generation:
    """What to generate: `prefix` continued with `options`."""

    prefix: str
    options: GenerateOptions


@dataclass(frozen=True)
class Summary:
    """How a generation ended."""

    count: int
    elapsed: float
    cancelled: bool

    def text(self, options: GenerateOptions) -> str:
        """ "generated 30 tokens in 0.12 s (250 tokens/s) · sample, T 0.7, top-k 4, seed 11"."""
        how = "greedy"
        if options.strategy == "sample":
            how = f"sample, T {options.temperature:g}"
            if options.top_k:
                how += f", top-k {options.top_k}"
            how += f", seed {options.seed}"
        verb = "stopped after" if self.cancelled else "generated"
        timing = ""
        if self.elapsed > 0:
            rate = self.count / self.elapsed
            timing = f" in {self.elapsed:.2f} s ({rate:,.0f} tokens/s)"
        return f"{verb} {self.count:,} tokens{timing} · {how}"


class GenerationStarted(Message):
    """The prefix as the model reads it: its tokens, those mapped to `<unk>` and the warning
    that says so ("" when none is)."""

    def __init__(
        self, request_id: int, tokens: list[str], unknown: list[str], token: str, warning: str
    ):
        super().__init__()
        self.request_id, self.tokens, self.unknown, self.token = request_id, tokens, unknown, token
        self.warning = warning


class PrefixRead(Message):
    """How much of the prefix the model has read before its first token (`read` of `total`)."""

    def __init__(self, request_id: int, read: int, total: int):
        super().__init__()
        self.request_id, self.read, self.total = request_id, read, total


class _Stopped(Exception):
    """The worker was cancelled while the model read the prefix."""


class TokensGenerated(Message):
    """New tokens since the last message, and the latest step's top next tokens."""

    def __init__(
        self,
        request_id: int,
        tokens: list[str],
        top: list[tuple[str, float]],
        chosen: str,
        count: int,
    ):
        super().__init__()
        self.request_id, self.tokens, self.top = request_id, tokens, top
        self.chosen, self.count = chosen, count


def load_lm(path: str) -> LoadedLM:
    """The language model of a checkpoint, on the CPU (one token at a time is rarely faster on
    a GPU)."""
    from rnn_tui.decode.generate import load_lm

    return load_lm(path, "cpu")


def generate(
    lm: LoadedLM,
    job: Generation,
    request_id: int,
    worker: Worker,
    post: Callable[[Message], object],
    clock: Callable[[], float],
) -> Summary:
    """Run `job` with `lm`: post GenerationStarted, then TokensGenerated batches; stop early
    when `worker` is cancelled (worker thread)."""
    last_read = [clock()]

    def reading(read: int, total: int) -> None:
        # A prefix of 100,000 characters takes seconds to read: shown, and the stop obeyed.
        if worker.is_cancelled:
            raise _Stopped
        now = clock()
        if now - last_read[0] >= UPDATE_INTERVAL or read in (0, total):
            post(PrefixRead(request_id, read, total))
            last_read[0] = now

    encoded, steps = lm.generate(job.prefix, job.options, reading)
    warning = " · ".join(encoded.warnings())
    post(GenerationStarted(request_id, encoded.tokens, encoded.unknown, lm.token, warning))
    started = last_post = clock()
    pending: list[str] = []
    count = 0
    step = None
    try:
        for step in steps:
            pending.append(step.token)
            count += 1
            if worker.is_cancelled:
                break
            now = clock()
            if now - last_post >= UPDATE_INTERVAL:
                post(TokensGenerated(request_id, pending, step.top, step.token, count))
                pending, last_post = [], now
    except _Stopped:
        pass
    steps.close()
    if pending and step is not None:
        post(TokensGenerated(request_id, pending, step.top, step.token, count))
    return Summary(count, clock() - started, worker.is_cancelled)


__all__ = [
    "UPDATE_INTERVAL",
    "Generation",
    "GenerationStarted",
    "PrefixRead",
    "Summary",
    "TokensGenerated",
    "generate",
    "load_lm",
]
