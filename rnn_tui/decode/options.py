"""Generation and translation options, declared once (rnn_tui.options), without torch.

`rnn-tui generate` / `rnn-tui translate` build their arguments from these declarations, the
Generate and Translate consoles check their fields with them, and the decoders check the values
they are called with: a default or a range lives here only.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnn_tui.checkpoints import DEVICE
from rnn_tui.data.errors import DataError
from rnn_tui.options import Option, OptionError, with_changes

STRATEGIES = ("greedy", "sample")
DEFAULT_LENGTH = 100
MAX_LENGTH = 100_000
TOP_N = 5  # next-token candidates reported per step
SEEDS_PREFIX = "time traveller"  # what the seeds continue (d2l 9.5 predict_ch8)
SEED_LIMIT = 2**63  # torch.Generator takes seeds in [0, 2**64); JSON and the UI keep 2**63 exact

# -- generation -----------------------------------------------------------------------------

LENGTH = Option(
    "length",
    int,
    DEFAULT_LENGTH,
    "tokens to generate",
    minimum=1,
    maximum=MAX_LENGTH,
    metavar="N",
)
STRATEGY = Option(
    "strategy", str, "greedy", "greedy (the argmax, the seeds') or sample", choices=STRATEGIES
)
TEMPERATURE = Option(
    "temperature",
    float,
    1.0,
    "sampling temperature: below 1 sharper, above 1 flatter",
    minimum=0.0,
    maximum=1000.0,
    open_minimum=True,
    label="T",
    metavar="T",
)
TOP_K = Option(
    "top_k",
    int,
    0,
    "sample among the K most probable tokens only (0: all)",
    minimum=0,
    maximum=1_000_000,
    label="top-k",
    noun="top-k",
    metavar="K",
)
SEED = Option(
    "seed",
    int,
    None,
    "random seed for sampling (empty: a fresh one, reported)",
    minimum=0,
    maximum=SEED_LIMIT - 1,
    unset=None,
    unset_label="random",
    metavar="S",
)
GENERATE_DEVICE = with_changes(
    DEVICE,
    default="cpu",
    help="where the model runs (cpu: one token at a time is rarely faster on a GPU)",
)
GENERATE_OPTIONS = (LENGTH, STRATEGY, TEMPERATURE, TOP_K, SEED, GENERATE_DEVICE)

# -- translation ----------------------------------------------------------------------------

DEFAULT_BEAM = 4
DEFAULT_ALPHA = 0.75  # the seeds' length-penalty exponent
MAX_BEAM = 64
MAX_LEN = 200

BEAM = Option(
    "beam",
    int,
    DEFAULT_BEAM,
    "beam size: prefixes kept at each step (1 = greedy only)",
    minimum=1,
    maximum=MAX_BEAM,
    label="beam size",
    noun="beam size",
    metavar="K",
)
ALPHA = Option(
    "alpha",
    float,
    DEFAULT_ALPHA,
    "length penalty of the beam score log P / L^α (0.75 in the seeds)",
    minimum=0.0,
    maximum=10.0,
    label="α",
    noun="α (alpha)",
    metavar="A",
)
MAX_LEN_OPTION = Option(
    "max_len",
    int,
    None,
    "most target tokens per translation (num_steps: the run's, as d2l)",
    minimum=1,
    maximum=MAX_LEN,
    unset=None,
    unset_label="num_steps",
    label="max length",
    noun="max length",
    metavar="N",
)
TRANSLATE_DEVICE = with_changes(DEVICE, default="cpu", help="where the model runs")
TRANSLATE_OPTIONS = (BEAM, ALPHA, MAX_LEN_OPTION, TRANSLATE_DEVICE)


def _data_error(option: Option, value: object) -> object:
    try:
        return option.check(value)
    except OptionError as exc:
        raise DataError(str(exc)) from None


def validate_options(
    num_preds: int, strategy: str, temperature: float, top_k: int, seed: int | None
) -> None:
    """DataError (one line) for generation options out of their declared ranges."""
    for option, value in (
        (LENGTH, num_preds),
        (STRATEGY, strategy),
        (TEMPERATURE, temperature),
        (TOP_K, top_k),
        (SEED, seed),
    ):
        _data_error(option, value)


@dataclass(frozen=True)
class GenerateOptions:
    """Checked generation options (see validate_options)."""

    length: int = DEFAULT_LENGTH
    strategy: str = "greedy"
    temperature: float = 1.0
    top_k: int = 0
    seed: int | None = None


def parse_options(
    length: str, strategy: str, temperature: str, top_k: str, seed: str
) -> GenerateOptions:
    """Options as typed in a form (strings; an empty seed means "draw one"), checked; the first
    problem is a one-line DataError."""
    try:
        return GenerateOptions(
            length=LENGTH.parse(length),
            strategy=STRATEGY.parse(strategy),
            temperature=TEMPERATURE.parse(temperature),
            top_k=TOP_K.parse(top_k),
            seed=SEED.parse(seed),
        )
    except OptionError as exc:
        raise DataError(str(exc)) from None


def draw_seed() -> int:
    """A fresh seed for a sampling run that did not ask for one (reported, so it can be reused)."""
    import secrets  # here: importing it costs the CLI ~15 ms at start-up

    return secrets.randbelow(2**31)


def parse_temperature(text: str) -> float:
    """A typed temperature, checked; DataError otherwise."""
    try:
        return TEMPERATURE.parse(text)
    except OptionError as exc:
        raise DataError(str(exc)) from None


@dataclass(frozen=True)
class TranslateOptions:
    """Checked search options: beam size, length penalty α, most target tokens (None: the
    run's num_steps, as d2l)."""

    beam_size: int = DEFAULT_BEAM
    alpha: float = DEFAULT_ALPHA
    max_len: int | None = None


def parse_translate_options(beam: str, alpha: str, max_len: str) -> TranslateOptions:
    """The three fields as typed in a form; OptionError (one line) for the first bad one."""
    return TranslateOptions(BEAM.parse(beam), ALPHA.parse(alpha), MAX_LEN_OPTION.parse(max_len))


__all__ = [
    "ALPHA",
    "BEAM",
    "DEFAULT_ALPHA",
    "DEFAULT_BEAM",
    "DEFAULT_LENGTH",
    "GENERATE_OPTIONS",
    "MAX_BEAM",
    "MAX_LEN",
    "MAX_LENGTH",
    "SEED_LIMIT",
    "STRATEGIES",
    "TOP_N",
    "TRANSLATE_OPTIONS",
    "GenerateOptions",
    "OptionError",
    "TranslateOptions",
    "draw_seed",
    "parse_options",
    "parse_temperature",
    "parse_translate_options",
    "validate_options",
]
