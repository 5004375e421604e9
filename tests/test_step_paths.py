"""The training step's paths (rnn_tui/train/step.py) compute what the plain step computes: the
static-buffer step a CUDA graph captures, run eagerly here, gives the plain path's losses; bf16
autocast follows them to bf16's precision; torch.compile to float tolerance. A path that cannot
run is refused (on) or noted (auto), never silent; the run reports the path it took."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import torch
from test_trainer import events, tiny
from torch.utils._python_dispatch import TorchDispatchMode

from rnn_tui.data.sources import read_text
from rnn_tui.models.registry import build_model
from rnn_tui.runs.rundir import RunDir
from rnn_tui.train import step as step_module
from rnn_tui.train.config import ConfigError
from rnn_tui.train.engine import Trainer
from rnn_tui.train.step import GraphTask, TrainStep, plan_path


@pytest.fixture(scope="module")
def corpus_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "tiny.txt"
    path.write_text(read_text("timemachine")[:4000], encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def _one_thread():
    """One intra-op thread: tiny models, and bitwise-stable comparisons."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


class StaticEagerStep(TrainStep):
    """What a CUDA graph replays — the batch copied into static buffers, then `static_step` —
    run without capture, so the CPU checks everything but the capture itself."""

    def run(self, data, b, fresh):
        if self._static is None:
            self.task.graph_buffers(self.model, data)
            self._static = ()
        self.task.load_static(data, b, fresh)
        self.optimizer.zero_grad(set_to_none=True)
        return self.static_step()


def _losses(config, tmp_path: Path, name: str, step_class=None) -> list[float]:
    torch.manual_seed(0)
    trainer = Trainer(config)
    trainer.begin_session(RunDir(tmp_path / name))
    if step_class is not None:
        trainer.step = step_class(
            trainer.task, trainer.model, trainer.optimizer, trainer.params, config, trainer.path
        )
    return [trainer.train_epoch(epoch)[0] for epoch in (1, 2, 3)]


@pytest.mark.parametrize(
    "overrides",
    [
        {"model": "lstm", "sampling": "sequential"},
        {"model": "gru-scratch", "sampling": "sequential"},
        {"model": "lstm-scratch", "sampling": "random", "optimizer": "adam", "lr": 0.01},
    ],
)
def test_the_graphed_step_on_static_buffers_equals_the_plain_step(corpus_file, tmp_path, overrides):
    config = tiny(corpus_file, **overrides)
    plain = _losses(config, tmp_path, "plain")
    static = _losses(config, tmp_path, "static", StaticEagerStep)
    torch.testing.assert_close(static, plain, rtol=1e-6, atol=1e-7)
    assert plain[2] < plain[0]  # it trains


def test_bf16_autocast_follows_the_fp32_losses(corpus_file, tmp_path):
    config = tiny(corpus_file, model="gru", hidden=32)
    fp32 = _losses(config, tmp_path, "fp32")
    bf16 = _losses(config.replace(precision="bf16"), tmp_path, "bf16")
    assert bf16 != fp32  # the autocast really ran
    torch.testing.assert_close(bf16, fp32, rtol=2e-2, atol=0)


class _MatmulDtypes(TorchDispatchMode):
    """The dtypes of every matrix product dispatched while it is on."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[tuple[str, torch.dtype]] = set()

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        name = func.overloadpacket.__name__
        if name in ("mm", "mm_", "addmm", "addmm_", "bmm", "baddbmm", "baddbmm_"):
            for arg in args:
                if isinstance(arg, torch.Tensor):
                    self.seen.add((name, arg.dtype))
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("name", ["rnn-scratch", "gru-scratch", "lstm-scratch"])
def test_bf16_autocast_runs_a_scratch_cells_recurrent_products_in_bf16(name):
    """The scratch cells add each step's product in place (addmm_), which autocast never casts:
    "bf16" ran only the output layer in bf16 and the whole recurrence in float32."""
    torch.manual_seed(0)
    model = build_model({"model": name, "vocab_size": 12, "hidden": 16})
    X, Y = torch.randint(0, 12, (4, 6)), torch.randint(0, 12, (4, 6))
    products = _MatmulDtypes()
    with products, torch.autocast("cpu", dtype=torch.bfloat16):
        logits, _ = model(X)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 12).float(), Y.reshape(-1))
        loss.backward()
    assert products.seen and {dtype for _, dtype in products.seen} == {torch.bfloat16}
    assert all(p.grad is not None and p.grad.dtype == torch.float32 for p in model.parameters())


def test_bf16_the_device_cannot_run_falls_back_to_fp32_and_says_so(
    corpus_file, tmp_path, monkeypatch
):
    """oneDNN on some CPUs has no bf16 kernel for nn.LSTM ("could not create a primitive
    descriptor"; an AMD EPYC in CI): the first step goes on in fp32, says so, and the losses
    are exactly fp32's."""
    config = tiny(corpus_file, model="lstm", hidden=16)
    fp32 = _losses(config, tmp_path, "fp32")
    forward = torch.nn.LSTM.forward

    def no_bf16(self, *args, **kwargs):
        if torch.is_autocast_enabled("cpu"):
            raise RuntimeError("could not create a primitive descriptor for the LSTM forward")
        return forward(self, *args, **kwargs)

    monkeypatch.setattr(torch.nn.LSTM, "forward", no_bf16)
    torch.manual_seed(0)
    trainer = Trainer(config.replace(precision="bf16"))
    trainer.begin_session(RunDir(tmp_path / "bf16"))
    assert [trainer.train_epoch(epoch)[0] for epoch in (1, 2, 3)] == fp32
    assert trainer.path.precision == "fp32"
    assert any("bf16 failed on this device, fp32 instead" in n for n in trainer.path.notes)
    # A departure from the path asked for: the Train screen tells it (runs/followed.py).
    assert trainer.path.departures == [n for n in trainer.path.notes if "bf16 failed" in n]


def test_torch_compile_equals_eager_to_float_tolerance(corpus_file, tmp_path):
    config = tiny(corpus_file, model="rnn", hidden=8, num_steps=5)
    eager = _losses(config, tmp_path, "eager")
    torch.manual_seed(0)
    trainer = Trainer(config.replace(compile="on"))
    trainer.begin_session(RunDir(tmp_path / "compiled"))
    compiled = [trainer.train_epoch(epoch)[0] for epoch in (1, 2, 3)]
    assert trainer.path.compiled, trainer.path.notes
    assert trainer.path.warmup_s > 0
    torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-6)


def test_a_compiled_forward_says_what_it_left_eager(corpus_file, tmp_path):
    # nn.RNN is not traced by torch.compile: the note says so, and no compiler warning leaks
    # to the user (reading the dtype through the parameters broke the graph and warned).
    torch.manual_seed(0)
    trainer = Trainer(tiny(corpus_file, model="rnn", hidden=8, num_steps=5, compile="on"))
    trainer.begin_session(RunDir(tmp_path / "compiled"))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trainer.train_epoch(1)
    assert trainer.path.compiled, trainer.path.notes
    assert "torch.compile does not trace nn.RNN: the layer runs eagerly" in trainer.path.notes
    assert trainer.path.to_dict()["departures"] == [
        "torch.compile does not trace nn.RNN: the layer runs eagerly"
    ]
    dynamo = [str(w.message) for w in caught if "Dynamo" in str(w.message)]
    assert not dynamo, dynamo[0]


@pytest.mark.parametrize("model", ["rnn-scratch", "gru-scratch", "lstm-scratch"])
def test_a_compiled_scratch_model_compiles_once_whole_and_equals_eager(
    model, corpus_file, tmp_path
):
    # Its forward used to write an attribute at every call, a guard that failed at the second
    # step: a recompile hidden in tokens/s. The GRU's and LSTM's BPTT wrote into strided views
    # with out=, which broke the graph: they compile whole now (no note says otherwise).
    torch._dynamo.reset()
    # The process's earlier compilations count too (the suite's, here), and are not this
    # model's: the notes count the breaks since its own compilation began.
    from torch._dynamo.utils import counters

    counters["graph_break"]["Attempted to call function marked as skipped (earlier)"] += 2
    config = tiny(corpus_file, model=model, hidden=8, num_steps=5)
    eager = _losses(config, tmp_path, "eager")
    torch.manual_seed(0)
    trainer = Trainer(config.replace(compile="on"))
    trainer.begin_session(RunDir(tmp_path / "compiled"))
    with torch._dynamo.config.patch(error_on_recompile=True):
        compiled = [trainer.train_epoch(epoch)[0] for epoch in (1, 2, 3)]
    assert trainer.path.compiled and not trainer.path.notes, trainer.path.notes
    torch.testing.assert_close(compiled, eager, rtol=1e-5, atol=1e-6)


def test_a_recompilation_is_reported_and_left_out_of_tokens_per_s(
    corpus_file, tmp_path, monkeypatch
):
    # A later step that compiles again (here: the compiler's clock jumps 100 s during the
    # fourth step) is counted in the path, not in the epoch's training time.
    clock = iter([0.0, 0.0, 0.0, 0.0, 0.0, 100.0])
    monkeypatch.setattr(step_module, "compile_seconds", lambda: next(clock, 100.0))
    trainer = Trainer(tiny(corpus_file, model="rnn", hidden=8, num_steps=5, compile="on"))
    trainer.begin_session(RunDir(tmp_path / "compiled"))
    started = time.perf_counter()
    _, _, seconds = trainer.train_epoch(1)
    wall = time.perf_counter() - started
    assert trainer.path.recompiles == 1 and trainer.path.recompile_s == 100.0
    assert seconds == pytest.approx(wall - trainer.path.warmup_s - 100.0, abs=0.05)
    assert "; recompiled 1× in 100.0 s)" in trainer.path.text()
    assert trainer.summary()["recompiles"] == 1


def test_a_graph_is_planned_only_where_it_can_run(corpus_file):
    config = tiny(corpus_file)
    task = Trainer(config).task
    assert isinstance(task, GraphTask)
    cpu = torch.device("cpu")
    assert not plan_path(config, task, cpu).graph  # auto on a CPU: eager
    with pytest.raises(ConfigError, match="CUDA graphs need a GPU"):
        plan_path(config.replace(graph="on"), task, cpu)


def test_the_run_reports_its_path(corpus_file, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "rnn_tui", "train", "--corpus", str(corpus_file), "--model", "rnn",
         "--hidden", "8", "--epochs", "1", "--precision", "bf16", "--device", "cpu", "--json",
         "--run-dir", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["path"] == "eager · bf16"
    (path,) = events(tmp_path / "run", "path")
    assert path["precision"] == "bf16" and path["graph"] is False
    (start,) = events(tmp_path / "run", "start")
    assert start["path"] == "eager · bf16"


def test_the_printed_report_says_the_path_and_its_notes(corpus_file, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "rnn_tui", "train", "--corpus", str(corpus_file), "--model",
         "rnn-scratch", "--hidden", "512", "--epochs", "1", "--device", "cpu",
         "--run-dir", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    # The report goes to stderr (stdout is kept for --json).
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("path: ")]
    assert line.startswith("path: eager · fp32")
    (path,) = events(tmp_path / "run", "path")
    assert line == "; ".join([f"path: {path['path']}", *path["notes"]])


def test_graph_on_without_a_gpu_is_one_line_and_writes_nothing(corpus_file, tmp_path):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    result = subprocess.run(
        [sys.executable, "-m", "rnn_tui", "train", "--corpus", str(corpus_file), "--epochs", "1",
         "--graph", "on", "--run-dir", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "rnn-tui: error: --graph on: CUDA graphs need a GPU (this run is on cpu) "
        "(use --graph auto or off)"
    ]
    assert not (tmp_path / "run").exists()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")
def test_the_cuda_graph_equals_the_plain_step_on_a_gpu(corpus_file, tmp_path):
    config = tiny(corpus_file, model="lstm", device="cuda")
    plain = _losses(config.replace(graph="off"), tmp_path, "plain")
    torch.manual_seed(0)
    trainer = Trainer(config.replace(graph="on"))
    trainer.begin_session(RunDir(tmp_path / "graph"))
    graphed = [trainer.train_epoch(epoch)[0] for epoch in (1, 2, 3)]
    assert trainer.path.graph, trainer.path.notes
    torch.testing.assert_close(graphed, plain, rtol=1e-4, atol=1e-5)


def test_the_warm_up_before_a_capture_is_undone_in_place():
    """A capture warms up with real updates; _restore puts the weights and Adam's state back
    into the same tensors (the graph captures those), so the first replayed update equals a
    fresh optimizer's first update."""
    from rnn_tui.train.step import _restore, _snapshot

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.1, foreach=True)
    start = [p.detach().clone() for p in model.parameters()]
    ids = [id(p) for p in model.parameters()]

    def update():
        optimizer.zero_grad()
        (model(torch.ones(1, 3)) ** 2).sum().backward()
        optimizer.step()

    saved = _snapshot(model, optimizer)
    for _ in range(3):
        update()
    _restore(model, optimizer, saved)
    assert [id(p) for p in model.parameters()] == ids
    for p, p0 in zip(model.parameters(), start, strict=True):
        torch.testing.assert_close(p.detach(), p0)
    update()
    after_restore = [p.detach().clone() for p in model.parameters()]
    fresh = torch.nn.Linear(3, 2)
    with torch.no_grad():
        for p, p0 in zip(fresh.parameters(), start, strict=True):
            p.copy_(p0)
    reference = torch.optim.Adam(fresh.parameters(), lr=0.1, foreach=True)
    reference.zero_grad()
    (fresh(torch.ones(1, 3)) ** 2).sum().backward()
    reference.step()
    for ours, theirs in zip(after_restore, fresh.parameters(), strict=True):
        torch.testing.assert_close(ours, theirs.detach())


def test_the_device_resident_stream_gathers_the_same_minibatches(corpus_file):
    """On a GPU the training stream stays on the device and each epoch's minibatches are
    gathered there; the CPU runs the same gather here and gets the host path's batches."""
    config = tiny(corpus_file, sampling="random")
    host = Trainer(config).task
    resident = Trainer(config).task
    resident._force_resident = True
    for epoch in (1, 2):
        X, Y = host.epoch_batches(epoch)
        X_r, Y_r = resident.epoch_batches(epoch)
        assert X_r.dtype == torch.int64
        assert torch.equal(X_r, X.long()) and torch.equal(Y_r, Y.long())
    assert resident._stream is not None and resident._stream.dtype == torch.int32


def test_a_compiler_failure_names_its_cause_in_one_line():
    class InvalidCxxCompiler(RuntimeError):
        pass

    class BackendCompilerFailed(RuntimeError):
        def __init__(self, inner):
            super().__init__(f"backend='inductor' raised:\n{inner}\n\nSet TORCHDYNAMO_VERBOSE=1")
            self.inner_exception = inner

    missing = InvalidCxxCompiler("No working C++ compiler found: (None, 'g++')")
    line = step_module._line(BackendCompilerFailed(missing))
    assert line == "InvalidCxxCompiler: No working C++ compiler found: (None, 'g++')"
    # Without an inner exception, a first line that only introduces the next keeps both.
    bare = RuntimeError("backend='inductor' raised:\nLoweringException: no lowering\nmore")
    assert step_module._line(bare) == (
        "RuntimeError: backend='inductor' raised: LoweringException: no lowering"
    )
    assert step_module._line(RuntimeError("")) == "RuntimeError"
