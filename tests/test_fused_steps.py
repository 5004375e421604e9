"""The scratch GRU's and LSTM's element-wise steps as C loops (rnn_tui/models/fused_steps.py):
built once into a private cache folder, the same values and gradients as torch's kernels, the
same training losses, and where they cannot run (no compiler, a failed build, a disagreement,
slower here, $RNN_TUI_NATIVE=off) torch's kernels run and the run's path notes say why."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from test_trainer import tiny

from rnn_tui.data.sources import read_text
from rnn_tui.models import fused_check, fused_steps
from rnn_tui.models.gru_scratch import GRURecurrence
from rnn_tui.models.lstm_scratch import LSTMRecurrence
from rnn_tui.runs.rundir import RunDir
from rnn_tui.train.engine import Trainer

HAS_CC = fused_steps._compiler() is not None
needs_cc = pytest.mark.skipif(not HAS_CC, reason="no C compiler here")


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def fresh(cache, tmp_path, monkeypatch):
    """A process that has not looked for the loops yet, with its cache folder and its temp
    directory (the fallbacks) in tmp."""
    monkeypatch.setenv("RNN_TUI_CACHE", str(cache))
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temp"))
    (tmp_path / "temp").mkdir()
    monkeypatch.setenv(fused_steps.NATIVE_ENV, "on")  # no timing: see test_the_timing_decides
    monkeypatch.delenv("CC", raising=False)
    monkeypatch.setattr(fused_steps, "_loaded", [])
    return cache


@needs_cc
def test_the_loops_build_once_into_a_private_folder_and_are_used(fresh):
    first = fused_steps.load()
    assert first.lib is not None, first.note
    assert first.note.startswith("element-wise steps fused in C loops (built in")
    assert first.note.endswith("; $RNN_TUI_NATIVE=on, not timed)")
    folder = fresh / "native"
    built = [p for p in folder.iterdir() if p.name.endswith(".so")]
    assert len(built) == 1 and not built[0].name.startswith(".")  # no temp file left behind
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert fused_steps.loops_for(torch.zeros(2)) is first.lib
    fused_steps._loaded.clear()
    assert "built before" in fused_steps.load().note


@needs_cc
def test_where_the_loops_do_not_apply(fresh, monkeypatch):
    assert fused_steps.loops_for(torch.zeros(2, dtype=torch.float64)) is None
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert fused_steps.loops_for(torch.zeros(2)) is None
    monkeypatch.setenv(fused_steps.NATIVE_ENV, "OFF")
    assert fused_steps.loops_for(torch.zeros(2)) is None
    assert fused_steps.note() == "element-wise steps in torch: $RNN_TUI_NATIVE=off"


def _gru_inputs(T, B, n, V, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randint(0, V, (T, B), generator=gen)
    shapes = ((V, 2 * n), (V, n), (B, n), (n, 2 * n), (n, n))
    return X, [(torch.randn(*s, generator=gen) * scale).requires_grad_() for s in shapes]


def _lstm_inputs(T, B, n, V, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    X = torch.randint(0, V, (T, B), generator=gen)
    shapes = ((V, 4 * n), (B, n), (B, n), (n, 4 * n))
    return X, [(torch.randn(*s, generator=gen) * scale).requires_grad_() for s in shapes]


def _outputs_and_gradients(function, X, inputs):
    for x in inputs:
        x.grad = None
    # The time loop in torch (its C chain: tests/test_recurrent_chain.py), unprepacked.
    out = function.apply(X, *inputs, False, False)
    outs = out if isinstance(out, tuple) else (out,)
    gen = torch.Generator().manual_seed(1)
    loss = sum((o * torch.randn(o.shape, generator=gen, dtype=o.dtype)).sum() for o in outs)
    loss.backward()
    return [o.detach() for o in outs] + [x.grad.clone() for x in inputs]


def _three_ways(function, X, inputs, monkeypatch):
    """Outputs and every input's gradient: float32 with the loops, float32 with torch's kernels,
    and float64 (torch's kernels) as the truth both are measured against."""
    results = []
    for native in ("on", "off"):
        monkeypatch.setenv(fused_steps.NATIVE_ENV, native)
        results.append(_outputs_and_gradients(function, X, inputs))
    wide = [x.detach().double().requires_grad_() for x in inputs]
    results.append(_outputs_and_gradients(function, X, wide))
    return results


@needs_cc
@settings(max_examples=40, deadline=None)
# Saturated (scale 8): ours 1.9e-4 from float64 where torch's kernels were 3.8e-5 off, a gradient
# near 10 read through 1 − H̃² at its last places; a wrong formula is orders of magnitude off.
@example(T=5, B=1, n=30, V=8, scale=8.0, seed=132)
# Saturated again: ours 1.1e-5 off where torch's kernels were 2.4e-7, by luck, for values near 4:
# about 20 float32 places of the largest value, within the rounding allowance below.
@example(T=4, B=1, n=14, V=8, scale=8.0, seed=10)
@given(
    T=st.integers(1, 6),
    B=st.integers(1, 5),
    n=st.integers(1, 40),
    V=st.integers(2, 9),
    scale=st.sampled_from([0.1, 1.0, 8.0]),
    seed=st.integers(0, 1000),
)
def test_the_loops_are_as_close_to_the_truth_as_torchs_kernels(T, B, n, V, scale, seed):
    """Every output and gradient of the loops is as far from float64's as torch's own float32
    kernels are (within a factor of 8, plus float32's rounding of the largest value, up to ~80
    places: saturation amplifies each, and torch's may be exact by luck): with weights 8× the
    usual, tanh and σ saturate and 1 − H̃² amplifies a last-place difference, so no fixed
    tolerance between the two float32 ways holds, while a wrong buffer or formula is off by
    orders of magnitude more."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(fused_steps, "_loaded", [])
        assert fused_steps.load().lib is not None
        for function, inputs in ((GRURecurrence, _gru_inputs), (LSTMRecurrence, _lstm_inputs)):
            X, xs = inputs(T, B, n, V, scale, seed)
            ours, theirs, truth = _three_ways(function, X, xs, monkeypatch)
            for a, b, c in zip(ours, theirs, truth, strict=True):
                c = c.float()
                rounding = 1e-5 * max(1.0, float(c.abs().max()))
                assert float((a - c).abs().max()) <= 8 * float((b - c).abs().max()) + rounding


def _losses(config, tmp_path, name):
    torch.manual_seed(0)
    trainer = Trainer(config)
    trainer.begin_session(RunDir(tmp_path / name))
    return [trainer.train_epoch(epoch)[0] for epoch in (1, 2, 3)], trainer.path


@needs_cc
@pytest.mark.parametrize("model", ["gru-scratch", "lstm-scratch"])
def test_training_with_the_loops_follows_the_torch_kernels_losses(
    model, fresh, tmp_path, monkeypatch
):
    corpus = tmp_path / "tiny.txt"
    corpus.write_text(read_text("timemachine")[:4000], encoding="utf-8")
    config = tiny(corpus, model=model, hidden=24, num_steps=7, sampling="sequential")
    monkeypatch.setenv(fused_steps.NATIVE_ENV, "off")
    plain, plain_path = _losses(config, tmp_path, "plain")
    monkeypatch.setenv(fused_steps.NATIVE_ENV, "on")
    fused, fused_path = _losses(config, tmp_path, "fused")
    torch.testing.assert_close(fused, plain, rtol=1e-5, atol=1e-6)
    assert "element-wise steps in torch: $RNN_TUI_NATIVE=off" in plain_path.notes
    assert any(note.startswith("element-wise steps fused in C loops") for note in fused_path.notes)
    # What the Train screen's header and --json's "path" say.
    assert (plain_path.text(), fused_path.text()) == ("eager · fp32", "eager · fp32 · C loops")


@pytest.mark.parametrize(
    ("setup", "says"),
    [
        ("no compiler", "element-wise steps in torch: no C compiler (cc, gcc or clang, or $CC)"),
        ("windows", "element-wise steps in torch: the C loops are built on Linux and macOS"),
        ("CC=false", "element-wise steps in torch: the C loops did not build or load (exit 1)"),
        ("CC=/nowhere/cc", "element-wise steps in torch: no C compiler"),
        ("disagrees", "element-wise steps in torch: the C loops disagreed with torch's kernels"),
        ("slower", "element-wise steps in torch, faster here (timed here on a GRU step: 90 µs"),
    ],
)
def test_where_the_loops_cannot_run_torch_runs_and_the_note_says_why(
    setup, says, fresh, tmp_path, monkeypatch
):
    if setup == "no compiler":
        monkeypatch.setattr(fused_steps, "_compiler", lambda: None)
    elif setup == "windows":
        monkeypatch.setattr(fused_steps, "POSIX", False)
    elif setup.startswith("CC="):
        monkeypatch.setenv("CC", setup[3:])
    elif not HAS_CC:
        pytest.skip("no C compiler here")
    elif setup == "disagrees":
        monkeypatch.setattr(fused_check, "agrees", lambda lib: False)
    else:
        monkeypatch.delenv(fused_steps.NATIVE_ENV)  # the default: timed
        monkeypatch.setattr(fused_check, "timed", lambda lib: (90.0, 30.0))
    assert fused_steps.loops_for(torch.zeros(2)) is None
    assert fused_steps.note().startswith(says)
    corpus = tmp_path / "tiny.txt"
    corpus.write_text(read_text("timemachine")[:2000], encoding="utf-8")
    losses, path = _losses(tiny(corpus, model="gru-scratch", hidden=8), tmp_path, "run")
    assert all(loss == loss for loss in losses)
    assert any(note.startswith(says) for note in path.notes)
    assert path.text() == "eager · fp32"


@needs_cc
@pytest.mark.parametrize(
    ("value", "times", "used", "says"),
    [
        (None, (20.0, 60.0), True, "timed here on a GRU step: 20 µs against 60 µs in torch)"),
        (None, (90.0, 30.0), False, "timed here on a GRU step: 90 µs against 30 µs in torch)"),
        ("on", (90.0, 30.0), True, "; $RNN_TUI_NATIVE=on, not timed)"),
        (" On ", None, True, "; $RNN_TUI_NATIVE=on, not timed)"),
    ],
)
def test_the_timing_decides_unless_the_loops_are_asked_for(
    value, times, used, says, fresh, monkeypatch
):
    if value is None:
        monkeypatch.delenv(fused_steps.NATIVE_ENV)
    else:
        monkeypatch.setenv(fused_steps.NATIVE_ENV, value)

    def timed(lib):
        assert times is not None, "timed although asked for"
        return times

    monkeypatch.setattr(fused_check, "timed", timed)
    loaded = fused_steps.load()
    assert (loaded.lib is not None) is used and fused_steps.in_use() is used
    assert loaded.note.endswith(says)


@needs_cc
def test_a_folder_or_library_others_may_write_is_not_loaded_from(fresh):
    folder = fresh / "native"
    folder.mkdir(exist_ok=True)
    os.chmod(folder, 0o777)
    try:
        instead = fused_steps._folder()  # this user's private folder in the temp directory
        assert instead != folder and instead.parent == Path(tempfile.gettempdir())
        assert stat.S_IMODE(instead.stat().st_mode) == 0o700
    finally:
        os.chmod(folder, 0o700)
    assert fused_steps._folder() == folder
    compiler = fused_steps._compiler()
    planted = folder / f"steps-{fused_steps._key(compiler)}.so"
    planted.unlink(missing_ok=True)  # a new file: this process may have the old one mapped
    planted.write_bytes(b"not a library")
    os.chmod(planted, 0o666)
    path, how = fused_steps._built(compiler)  # rebuilt over it, not loaded
    assert path == planted and how.startswith("built in")
    assert stat.S_IMODE(planted.stat().st_mode) & 0o022 == 0


@pytest.mark.parametrize("value", ["", "on", "off", " OFF ", "On"])
def test_on_and_off_are_the_values(value, monkeypatch):
    monkeypatch.setenv(fused_steps.NATIVE_ENV, value)
    assert fused_steps.env_problem() is None


def test_another_value_is_one_line_at_the_cli():
    env = {**os.environ, fused_steps.NATIVE_ENV: "maybe\x1b[2J"}
    done = subprocess.run(
        [sys.executable, "-m", "rnn_tui", "stats"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    said = "rnn-tui: error: $RNN_TUI_NATIVE must be on or off (got 'maybe\\x1b[2J')\n"
    assert done.stderr == said


@needs_cc
def test_a_damaged_library_in_the_cache_is_built_again(fresh):
    """In a new process: this one has the library mapped already, and the dynamic loader hands
    back a loaded library by its name."""
    fused_steps.load()
    compiler = fused_steps._compiler()
    path = fresh / "native" / f"steps-{fused_steps._key(compiler)}.so"
    # Cut short, as by a full disk: a new file, as the build writes one (a library truncated in
    # place under a process that has it mapped would crash that process).
    damaged = path.with_name("damaged")
    damaged.write_bytes(path.read_bytes()[:100])
    os.replace(damaged, path)
    code = "from rnn_tui.models import fused_steps; print(fused_steps.load().note)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.startswith("element-wise steps fused in C loops (built in"), done.stderr


@pytest.mark.parametrize(
    ("script", "says"),
    [
        ("exit 0", "did not build or load ("),  # "succeeds" without writing a library
        ("echo 'cc: error: no space left' >&2; exit 1", "did not build or load (cc: error: no"),
        ("sleep 30", "did not build or load (Command"),  # past the build's timeout
    ],
)
def test_a_compiler_that_misbehaves_leaves_torchs_kernels_and_one_line(
    script, says, fresh, tmp_path, monkeypatch
):
    cc = tmp_path / "cc"
    cc.write_text(f'#!/bin/sh\ncase "$1" in --version) echo 1;; *) {script};; esac\n')
    cc.chmod(0o755)
    monkeypatch.setenv("CC", shlex.quote(str(cc)))  # $CC is split as a shell would
    monkeypatch.setattr(fused_steps, "BUILD_TIMEOUT_S", 1.0)
    loaded = fused_steps.load()
    assert loaded.lib is None
    assert loaded.note.startswith(f"element-wise steps in torch: the C loops {says}")
    assert "\n" not in loaded.note and len(loaded.note) < 300
    assert [p.name for p in (fresh / "native").glob(".steps-*")] == []  # no temp file left


@needs_cc
def test_loading_the_loops_imports_no_symbolic_maths(fresh):
    """The check at load runs at a model's first forward, in the app's Generate worker too:
    given gradient tensors, torch.autograd.backward imported sympy there (0.4-0.8 s with the
    GIL, the event loop held ~160 ms at the first generation). In a new process."""
    fused_steps.load()  # built here, into the fresh cache, before the child loads it
    code = (
        "import sys; from rnn_tui.models import fused_steps; loaded = fused_steps.load(); "
        "print(loaded.lib is not None, 'sympy' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.split() == ["True", "False"], done.stderr
