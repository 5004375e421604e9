"""Options declared once (rnn_tui.options): checking, parsing typed text, describing the range;
and the training declarations every task reads (rnn_tui.train.options, train.config)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnn_tui.options import SMALLEST_NORMAL, Option, OptionError
from rnn_tui.train.config import Config, ConfigError
from rnn_tui.train.options import OPTIONS
from rnn_tui.train.registry import TASKS

HIDDEN = Option("hidden", int, 256, "hidden units", minimum=1, maximum=16384)
LR = Option("lr", float, 1.0, "learning rate", minimum=0.0, maximum=1e6, open_minimum=True)
DROPOUT = Option("dropout", float, 0.0, "dropout", minimum=0.0, maximum=1.0, open_maximum=True)
TOKENS = Option(
    "max_tokens", int, -1, "tokens", minimum=1, maximum=10**12, unset=-1, unset_label="all"
)
EMBED = Option(
    "embed", int, None, "embed", minimum=0, maximum=16384, unset=None, unset_label="auto"
)
DEVICE = Option(
    "device", str, "auto", "device", choices=("auto", "cpu", "cuda"), pattern=r"cuda:\d+",
    extra={"pattern_help": "cuda:N"},
)  # fmt: skip
FLAG = Option("bidirectional", bool, False, "both ways")


def test_ranges_are_checked_with_one_line_naming_the_option():
    assert HIDDEN.check(1) == 1 and HIDDEN.check(16384) == 16384
    for bad in (0, 16385, -3, 2.5, True, "8", None):
        with pytest.raises(OptionError, match=r"^hidden must be an integer in \[1, 16,384\]"):
            HIDDEN.check(bad)
    assert LR.check(3) == 3.0 and isinstance(LR.check(3), float)
    for bad in (0.0, -1.0, math.inf, math.nan, 1e7, False):
        with pytest.raises(OptionError, match=r"lr must be a number in \(0, 1e\+06\]"):
            LR.check(bad)
    assert DROPOUT.check(0.0) == 0.0
    with pytest.raises(OptionError, match=r"in \[0, 1\)"):
        DROPOUT.check(1.0)


def test_not_set_values_and_choices():
    assert TOKENS.check(-1) == -1 and TOKENS.parse("") == -1 and TOKENS.parse("-1") == -1
    with pytest.raises(OptionError, match="or -1 for all"):
        TOKENS.check(0)
    assert "or empty for all" in TOKENS.describe(typed=True)
    assert EMBED.check(None) is None and EMBED.parse("  ") is None and EMBED.parse("0") == 0
    assert DEVICE.check("cuda:1") == "cuda:1" and DEVICE.parse("cpu") == "cpu"
    with pytest.raises(
        OptionError, match=r"unknown device 'tpu' \(choose from auto, cpu, cuda, cuda:N\)"
    ):
        DEVICE.check("tpu")
    assert FLAG.parse("yes") is True and FLAG.parse("off") is False
    with pytest.raises(OptionError):
        FLAG.check(1)


def test_the_name_of_a_not_set_value_is_that_value_as_help_shows_it():
    # `--help` says "(default: all)", and `--max-tokens all` was refused.
    assert TOKENS.parse("all") == -1 and TOKENS.parse(" ALL ") == -1
    assert EMBED.parse("auto") is None
    for bad in ("al", "all tokens", "none"):
        with pytest.raises(OptionError, match="or -1 for all"):
            TOKENS.parse(bad)


def test_every_help_default_can_be_typed_back():
    # Whatever --help and the form show as an option's default, the option takes as typed.
    from rnn_tui.cli.parser import _default_text
    from rnn_tui.decode.options import GENERATE_OPTIONS, TRANSLATE_OPTIONS
    from rnn_tui.probe.options import GRADIENT_OPTIONS

    tasks = (o for spec in TASKS.values() for o in spec.options)
    every = [*OPTIONS, *GENERATE_OPTIONS, *TRANSLATE_OPTIONS, *GRADIENT_OPTIONS, *tasks]
    for option in every:
        shown = _default_text(option)
        if option.kind is bool or " " in shown:  # "(default: a fresh cell)" names, not a value
            continue
        assert option.parse(shown) == option.default, (option.name, shown)


def test_typed_text_is_named_as_typed():
    with pytest.raises(OptionError, match=r"\(got '0'\)"):
        LR.parse("0")
    with pytest.raises(OptionError, match=r"\(got 'many'\)"):
        HIDDEN.parse("many")


@given(st.integers(-(2**70), 2**70))
def test_an_integer_is_accepted_exactly_when_it_is_in_range(value):
    inside = 1 <= value <= 16384
    try:
        assert HIDDEN.check(value) == value and inside
    except OptionError:
        assert not inside
    assert (HIDDEN.parse(f" {value} ") == value) if inside else True


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_number_is_accepted_exactly_when_it_is_finite_and_in_range(value):
    # A denormal value reads as 0 where the trainer computes (flush-to-zero).
    inside = math.isfinite(value) and SMALLEST_NORMAL <= value <= 1e6
    try:
        LR.check(value)
        assert inside
    except OptionError:
        assert not inside


@pytest.mark.parametrize("typed", ["5e-324", "1e-310", "-3e-320"])
def test_a_denormal_number_is_refused_saying_why(typed):
    """--lr 5e-324 passed the check, then the trainer's flush-to-zero made it 0 and Config
    refused '(got 0.0)', a value never typed. (A number float32 cannot hold, such as a
    temperature of 1e-46, is still taken: sampling then is greedy.)"""
    with pytest.raises(OptionError, match=r"a denormal number, .* reads as 0\)"):
        LR.parse(typed)
    with pytest.raises(OptionError, match=r"dropout must be a number in \[0, 1\) \(got "):
        DROPOUT.parse(typed)
    assert LR.parse("1e-46") == 1e-46 and DROPOUT.parse("0") == 0.0


def test_a_declaration_whose_default_is_out_of_range_is_refused():
    with pytest.raises(OptionError):
        Option("layers", int, 0, "layers", minimum=1)
    with pytest.raises(TypeError):
        Option("x", list, [], "a list")


def test_every_training_declaration_is_consistent():
    for option in OPTIONS:
        option.check(option.default)  # every default in range
        if option.kind in (int, float):
            assert option.minimum is not None and option.maximum is not None, option.name
    for spec in TASKS.values():
        config = Config(spec.name)
        assert config.to_dict() == {"task": spec.name, **spec.defaults()}
        assert Config.from_dict(config.to_dict()) == config


def test_a_config_checks_every_value_and_does_not_change():
    config = Config("lm", hidden=32, lr=0.5)
    assert (config.hidden, config.lr, config.optimizer) == (32, 0.5, "sgd")
    assert Config("seq2seq").optimizer == "adam"  # the task's own default
    with pytest.raises(ConfigError, match="hidden must be"):
        Config("lm", hidden=0)
    with pytest.raises(ConfigError, match="pairs does not apply to --task lm"):
        Config("lm", pairs="fra-eng")
    with pytest.raises(ConfigError, match="unknown task"):
        Config("classify-names")
    with pytest.raises(AttributeError):
        config.hidden = 64
    assert config.replace(hidden=64).hidden == 64 and config.hidden == 32
    # config.json and old checkpoints carry more keys (data sizes): they are ignored.
    assert Config.from_dict({"hidden": 32, "lr": 0.5, "vocab_size": 28}) == config


@pytest.mark.parametrize("typed", ["１２８", "٣", "1_000", "12\u0668"])
def test_numbers_are_ascii_digits_only(typed):
    """Python's int() and float() read full-width and Arabic-Indic digits and underscores: a
    hidden field showing "１２８" started a run of 128 units."""
    with pytest.raises(OptionError, match="^hidden must be an integer"):
        HIDDEN.parse(typed)
    with pytest.raises(OptionError, match="^lr must be a number"):
        LR.parse(typed)
    assert HIDDEN.parse(" 128 ") == 128 and HIDDEN.parse("+5") == 5 and LR.parse("1e-3") == 1e-3


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        # In range: read as the number it is (was "--gate-bias: expected one argument").
        (["gradients", "--cell", "lstm", "--gate-bias", "-1e1", "--length", "5", "--json"], 0),
        (["gradients", "--cell", "lstm", "--gate-bias", "-.5E+1", "--length", "5", "--json"], 0),
        # Out of range: the range is named, not "expected one argument".
        (["train", "--lr", "-1e-3"], "argument --lr: must be a number in (0, 1e+06] (got '-1e-3')"),
        (["train", "--lr", "-inf"], "argument --lr: must be a number in (0, 1e+06] (got '-inf')"),
        (["train", "--lr", "-NaN"], "argument --lr: must be a number in (0, 1e+06] (got '-NaN')"),
        # A word after an option that wants a value is still a missing value.
        (["train", "--lr", "-x"], "argument --lr: expected one argument"),
    ],
)
def test_a_negative_number_in_any_notation_is_a_value(argv, expected, capsys):
    from cli_helpers import call

    code, out, err = call(argv, capsys)
    if expected == 0:
        assert code == 0, err
        value = -10 if "-1e1" in argv else -5
        same = [f"--gate-bias={value}" if a == argv[4] else a for a in argv if a != "--gate-bias"]
        assert call(same, capsys)[:2] == (0, out)  # what --gate-bias=-10 measures
    else:
        assert code == 2 and expected in err and len(err.strip().splitlines()) == 1
