"""Generation options and their checks, without torch (the CLI parser and the UI form use them
before anything heavy is imported)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rnn_tui.data.errors import DataError

STRATEGIES = ("greedy", "sample")
DEVICES = ("auto", "cpu", "cuda")
DEFAULT_LENGTH = 100
MAX_LENGTH = 100_000
TOP_N = 5  # next-token candidates reported per step
SEED_LIMIT = 2**63  # torch.Generator takes seeds in [0, 2**64); JSON and the UI keep 2**63 exact


def validate_options(
    num_preds: int, strategy: str, temperature: float, top_k: int, seed: int | None
) -> None:
    """DataError (one line) for options the generator cannot honour: length in [1, MAX_LENGTH],
    a known strategy, temperature > 0 and finite, top-k ≥ 0 (0 = no limit), seed None or in
    [0, SEED_LIMIT)."""
    if isinstance(num_preds, bool) or not isinstance(num_preds, int) or num_preds < 1:
        raise DataError(f"length must be a whole number ≥ 1 (got {num_preds!r})")
    if num_preds > MAX_LENGTH:
        raise DataError(f"length must be at most {MAX_LENGTH:,} (got {num_preds:,})")
    if strategy not in STRATEGIES:
        raise DataError(f"unknown strategy {strategy!r} (choose from {', '.join(STRATEGIES)})")
    if (
        isinstance(temperature, bool)
        or not isinstance(temperature, int | float)
        or not math.isfinite(temperature)
        or temperature <= 0
    ):
        raise DataError(f"temperature must be a number > 0 (got {temperature!r})")
    if isinstance(top_k, bool) or not isinstance(top_k, int) or top_k < 0:
        raise DataError(f"top-k must be a whole number ≥ 0, 0 = no limit (got {top_k!r})")
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < SEED_LIMIT
    ):
        raise DataError(f"seed must be a whole number in [0, 2**63) (got {seed!r})")


@dataclass(frozen=True)
class GenerateOptions:
    """Checked generation options (see validate_options)."""

    length: int = DEFAULT_LENGTH
    strategy: str = "greedy"
    temperature: float = 1.0
    top_k: int = 0
    seed: int | None = None


def _whole(text: str, what: str, minimum: int) -> int:
    text = text.strip()
    if not (text.isascii() and text.isdigit()) or int(text) < minimum:
        raise DataError(f"{what} must be a whole number ≥ {minimum} (got {text!r})")
    return int(text)


def parse_options(
    length: str, strategy: str, temperature: str, top_k: str, seed: str
) -> GenerateOptions:
    """Options as typed in a form (strings; an empty seed means "draw one"), checked; the first
    problem is a one-line DataError."""
    options = GenerateOptions(
        length=_whole(length, "length", 1),
        strategy=strategy,
        temperature=parse_temperature(temperature),
        top_k=_whole(top_k, "top-k", 0),
        seed=_whole(seed, "seed", 0) if seed.strip() else None,
    )
    validate_options(
        options.length, options.strategy, options.temperature, options.top_k, options.seed
    )
    return options


def draw_seed() -> int:
    """A fresh seed for a sampling run that did not ask for one (reported, so it can be reused)."""
    import secrets  # here: importing it costs the CLI ~15 ms at start-up

    return secrets.randbelow(2**31)


def parse_temperature(text: str) -> float:
    """A typed temperature: a finite number > 0, else DataError."""
    try:
        value = float(text)
    except ValueError:
        raise DataError(f"temperature must be a number > 0 (got {text!r})") from None
    if not math.isfinite(value) or value <= 0:
        raise DataError(f"temperature must be a number > 0 (got {text!r})")
    return value


__all__ = [
    "DEFAULT_LENGTH",
    "DEVICES",
    "MAX_LENGTH",
    "SEED_LIMIT",
    "STRATEGIES",
    "TOP_N",
    "GenerateOptions",
    "draw_seed",
    "parse_options",
    "parse_temperature",
    "validate_options",
]
