"""Property: whatever option values a user types, across and beyond their declared ranges, the
CLI exits 0 (or 1 for a run that failed, e.g. diverged) or prints ONE line on stderr and exits 2
— never a traceback. Values are drawn from each option's own declaration (rnn_tui.options), so
an option added later is covered without touching this file."""

from __future__ import annotations

import contextlib
import io
import itertools
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnn_tui.cli import main
from rnn_tui.data.sources import read_text
from rnn_tui.decode.options import GENERATE_OPTIONS, TRANSLATE_OPTIONS
from rnn_tui.options import Option
from rnn_tui.train.registry import TASKS

# Training options that cost time or memory when valid: drawn small (or out of range).
CHEAP = {
    "hidden": (1, 24), "embed": (0, 16), "layers": (1, 2), "batch_size": (1, 8),
    "num_steps": (1, 12), "epochs": (1, 1), "sample_length": (1, 10), "max_tokens": (200, 2000),
    "num_examples": (10, 60), "log_every": (0, 5), "sample_every": (0, 2),
}  # fmt: skip
# Options whose valid values name a file or a corpus: left to the fixtures.
SKIP = {"corpus", "pairs", "prefix", "encoding", "device"}
_runs = itertools.count()


def invalid_texts(option: Option) -> st.SearchStrategy[str]:
    """Text the option must refuse (or, for a choice, one it lacks)."""
    texts = ["abc", "", "1e400", "nan", "-inf", str(2**70), "2.5.1"]
    if option.minimum is not None:
        texts += [str(option.minimum - 1), str(-(10**9))]
    if option.maximum is not None:
        texts += [str(option.maximum * 10 + 1), "1e308"]
    if option.choices:
        texts += ["none-of-these", "CPU"]
    return st.sampled_from(texts)


def valid_texts(option: Option) -> st.SearchStrategy[str]:
    if option.choices:
        return st.sampled_from([str(c) for c in option.choices])
    low, high = CHEAP.get(option.name, (option.minimum, option.maximum))
    if option.kind is int:
        return st.integers(int(low), int(high)).map(str)
    if option.kind is float:
        high = min(high, 10.0)
        return st.floats(low, high, exclude_min=option.open_minimum, exclude_max=True).map(
            lambda v: f"{v:g}"
        )
    return st.just(option.text(option.default))


@st.composite
def option_args(draw, options, skip=SKIP) -> list[str]:
    """A random subset of the options with valid values, and in half the cases one of them
    given a value its declaration refuses. (Mostly valid: a refused value ends the run at the
    parser, and the deeper checks — a config valid option by option but not as a whole, the
    data, the model, the memory — need the rest to pass.)"""
    usable = [o for o in options if o.name not in skip and o.kind is not bool]
    values = draw(st.fixed_dictionaries({}, optional={o.name: valid_texts(o) for o in usable}))
    if draw(st.booleans()):
        option = draw(st.sampled_from(usable))
        values[option.name] = draw(invalid_texts(option))
    flags = {o.name: o.flag for o in options}
    return [part for name, value in values.items() for part in (flags[name], value)]


def run_cli(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = exc.code
        finally:
            # A trainer flushes denormals process-wide; hypothesis draws floats next.
            torch.set_flush_denormal(False)
    return code, err.getvalue()


def check(code: int, err: str) -> None:
    assert "Traceback" not in err, err
    assert code in (0, 1, 2), (code, err)
    if code == 2:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "error:" in lines[0], err


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("corpus") / "tiny.txt"
    path.write_text(read_text("timemachine")[:4000], encoding="utf-8")
    return str(path)


@pytest.fixture(scope="module")
def pairs(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("pairs") / "pairs.txt"
    lines = [f"Go {i}.\tVa {i} !" for i in range(40)] + ["I lost.\tJ'ai perdu."] * 10
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(path)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@SETTINGS
@given(args=option_args(TASKS["lm"].options))
def test_train_lm_never_tracebacks(corpus, tmp_path_factory, args):
    run = tmp_path_factory.getbasetemp() / f"lm-{next(_runs)}"
    base = ["train", "--corpus", corpus, "--epochs", "1", "--hidden", "8", "--device", "cpu"]
    check(*run_cli([*base, "--sample-every", "0", *args, "--run-dir", str(run)]))


@SETTINGS
@given(args=option_args(TASKS["seq2seq"].options))
def test_train_seq2seq_never_tracebacks(pairs, tmp_path_factory, args):
    run = tmp_path_factory.getbasetemp() / f"s2s-{next(_runs)}"
    base = ["train", "--task", "seq2seq", "--pairs", pairs, "--epochs", "1", "--hidden", "8",
            "--embed", "8", "--min-freq", "1", "--device", "cpu"]  # fmt: skip
    check(*run_cli([*base, *args, "--run-dir", str(run)]))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=option_args(GENERATE_OPTIONS, skip={"device"}), prefix=st.text(max_size=12))
def test_generate_never_tracebacks(char_checkpoint, args, prefix):
    check(*run_cli(["generate", "--checkpoint", str(char_checkpoint), "--prefix", prefix, *args]))


SHIPPED = Path(__file__).resolve().parent.parent / "checkpoints" / "fra-eng-gru.safetensors"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    args=option_args(TRANSLATE_OPTIONS, skip={"device"}),
    sentence=st.text(max_size=20).filter(lambda s: not s.startswith("-")),
)
def test_translate_never_tracebacks(args, sentence):
    check(*run_cli(["translate", "--checkpoint", str(SHIPPED), *args, "--", sentence]))
