"""What a GPU's failures look like, emulated on the CPU: torch's out-of-memory error (a
RuntimeError, not a MemoryError) raised where a GPU would raise it. Each is one line, exit 2, no
traceback."""

from __future__ import annotations

import contextlib

import pytest
import torch
from cli_helpers import status_and_err as call
from cli_helpers import the_line as one_line
from cli_helpers import tiny_args, tiny_corpus

from rnn_tui.checkpoints.checkpoint import Checkpoint
from rnn_tui.checkpoints.device import gpu_unavailable, to_device
from rnn_tui.runs.rundir import RunDir
from rnn_tui.train.config import Config, ConfigError
from rnn_tui.train.engine import Trainer
from rnn_tui.train.step import plan_path
from rnn_tui.train.tasks import lm as lm_task

GPU_FULL = "CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.15 GiB total capacity)"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> str:
    return tiny_corpus(tmp_path_factory)


def tiny_options(corpus: str, **overrides) -> dict:
    options = dict(
        corpus=corpus, model="gru", hidden=16, batch_size=4, num_steps=10, epochs=1,
        sample_every=0, device="cpu",
    )  # fmt: skip
    return {**options, **overrides}


def gpu_full(*args, **kwargs):
    raise torch.OutOfMemoryError(GPU_FULL)


@pytest.mark.parametrize(
    "args",
    [
        ["generate", "--checkpoint", "timemachine-char-lstm", "--length", "5"],
        ["translate", "--checkpoint", "fra-eng-gru", "go ."],
    ],
)
def test_a_gpu_too_full_for_the_model_is_one_line(args, monkeypatch, capsys):
    # `generate --device cuda` on a GPU another job fills: the model's copy to it raised
    # torch.OutOfMemoryError, which the CLI's MemoryError handler did not catch (a traceback).
    monkeypatch.setattr(Checkpoint, "build_model", gpu_full)
    code, err = call(args, capsys)
    line = one_line(err)
    assert code == 2
    assert line == (
        f"rnn-tui: error: out of memory in {args[0]} on the GPU: try a smaller file, model or "
        "batch, or --device cpu"
    )


def test_a_gpu_too_full_for_the_training_data_is_one_line(corpus, tmp_path, monkeypatch, capsys):
    # The trainer copies the task's data to the device before the first step (the language
    # model's validation batches): out of memory there was a traceback, and no run was made.
    monkeypatch.setattr(lm_task, "to_device", gpu_full)
    code, err = call(tiny_args(corpus, "--run-dir", str(tmp_path / "run")), capsys)
    assert code == 2
    assert one_line(err) == (
        "rnn-tui: error: out of memory while preparing the run on cpu: try a smaller --hidden, "
        "--layers, --batch-size or --num-steps"
    )
    assert not (tmp_path / "run").exists()


def test_out_of_memory_mid_run_names_only_the_tasks_own_options(tmp_path):
    # The advice was written out for a language model: a classify run out of memory was told
    # to lower --num-steps, an option classify refuses.
    config = Config("classify", max_names=300, hidden=8, epochs=2, device="cpu")
    trainer = Trainer(config)
    batch_loss = trainer.task.batch_loss
    calls = {"n": 0}

    def starving(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > trainer.num_batches:  # in epoch 2
            gpu_full()
        return batch_loss(*args, **kwargs)

    trainer.task.batch_loss = starving
    summary = trainer.run(RunDir(tmp_path / "run"))
    assert summary["status"] == "failed"
    assert summary["message"] == (
        "out of memory in epoch 2 on cpu: try a smaller --hidden, --layers or --batch-size; "
        "the last checkpoint is kept"
    )


@pytest.mark.parametrize("option", [{"precision": "bf16"}, {"compile": "on"}])
def test_out_of_memory_at_the_first_step_is_not_taken_for_a_missing_kernel(
    corpus, tmp_path, option
):
    # The first step's fallbacks (bf16 to fp32 where a CPU lacks a bf16 kernel, compiled to
    # eager where the compiler fails) took a GPU out of memory for their own failure: the run
    # went on in fp32 (more memory) or eager, noting "bf16 failed on this device".
    trainer = Trainer(Config("lm", **tiny_options(corpus), **option))
    batch_loss = trainer.task.batch_loss
    calls = {"n": 0}

    def full_once(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            gpu_full()
        return batch_loss(*args, **kwargs)

    trainer.task.batch_loss = full_once
    summary = trainer.run(RunDir(tmp_path / "run"))
    assert summary["status"] == "failed", trainer.path.notes
    assert summary["message"].startswith("out of memory in epoch 1 on cpu: try a smaller")
    assert not trainer.path.departures


class _Stream:
    def wait_stream(self, other) -> None:
        pass


def test_a_capture_that_runs_out_of_memory_falls_back_to_eager_cleanly(
    corpus, tmp_path, monkeypatch
):
    # On a GPU Adam is torch's, which makes a parameter's state a tensor at a time: out of
    # memory in the capture's warm-up between exp_avg and exp_avg_sq left a half-made state,
    # zeroed by the undo and then read by every eager step (KeyError: 'exp_avg_sq'). The CUDA
    # calls around the warm-up are stood in for; the warm-up itself runs here.
    for name, value in {
        "Stream": _Stream,
        "current_stream": _Stream,
        "stream": lambda s: contextlib.nullcontext(),
        "synchronize": lambda: None,
    }.items():
        monkeypatch.setattr(torch.cuda, name, value)

    def losses(graph: bool) -> list[float]:
        torch.manual_seed(0)
        trainer = Trainer(Config("lm", **tiny_options(corpus, epochs=2, optimizer="adam", lr=0.01)))
        trainer.optimizer = torch.optim.Adam(trainer.params, lr=trainer.config.lr)
        trainer.path.graph = graph
        trainer.begin_session(RunDir(tmp_path / f"run-{graph}"))
        out = [trainer.train_epoch(epoch)[0] for epoch in (1, 2)]
        if graph:
            assert not trainer.path.graph
            assert trainer.path.departures == [
                f"CUDA graph capture failed, eager instead: OutOfMemoryError: {GPU_FULL}"
            ]
        return out

    eager = losses(graph=False)
    init_group = torch.optim.Adam._init_group
    failed = {"once": False}

    def half_made(self, group, *args):
        made = init_group(self, group, *args)
        if not failed["once"]:
            failed["once"] = True
            params = group["params"]
            del self.state[params[1]]["exp_avg_sq"]  # its allocation failed
            for p in params[2:]:
                self.state[p].clear()  # never reached
            gpu_full()
        return made

    monkeypatch.setattr(torch.optim.Adam, "_init_group", half_made)
    # The eager run's losses exactly: no minibatch skipped, no update made twice or lost.
    assert losses(graph=True) == eager


def test_bf16_on_a_gpu_without_bf16_units_is_refused(monkeypatch):
    # torch.cuda.is_bf16_supported() asks the current GPU (cuda:0, here an A100), not the
    # run's, and says yes to a T4 anyway (it can hold a bf16 tensor: emulated arithmetic,
    # slower than fp32); the refusal written for pre-Ampere GPUs never came.
    gpus = {0: ("NVIDIA A100-SXM4-80GB", (8, 0)), 1: ("Tesla T4", (7, 5))}

    def index(device=None) -> int:
        return 0 if device is None else torch.device(device).index or 0

    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "current_device", lambda: 0)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda device=None: gpus[index(device)][0])
    monkeypatch.setattr(
        torch.cuda, "get_device_capability", lambda device=None: gpus[index(device)][1]
    )
    config = Config("lm", precision="bf16", graph="off", device="cpu")
    with pytest.raises(ConfigError) as refused:
        plan_path(config, None, torch.device("cuda", 1))
    assert str(refused.value) == (
        "--precision bf16: Tesla T4 (compute capability 7.5) has no bf16 units (GPUs from 8.0, "
        "Ampere, have): use --precision fp32"
    )
    assert plan_path(config, None, torch.device("cuda", 0)).precision == "bf16"


GPU_BUSY = (
    "CUDA error: CUDA-capable device(s) is/are busy or unavailable\n"
    "CUDA kernel errors might be asynchronously reported at some other API call, so the "
    "stacktrace below might be incorrect.\nFor debugging consider passing CUDA_LAUNCH_BLOCKING=1"
)


def gpu_busy(*args, **kwargs):
    raise torch.AcceleratorError(GPU_BUSY)


@pytest.mark.parametrize("command", ["generate", "train"])
def test_a_gpu_another_process_holds_is_one_line(command, corpus, tmp_path, monkeypatch, capsys):
    # A GPU in exclusive mode that another job holds: the first copy to it raised a CUDA error
    # (torch.AcceleratorError, a RuntimeError), and the command ended in a traceback.
    monkeypatch.setattr(Checkpoint, "build_model", gpu_busy)
    monkeypatch.setattr(lm_task, "to_device", gpu_busy)
    if command == "generate":
        args = ["generate", "--checkpoint", "timemachine-char-lstm", "--length", "5"]
    else:
        args = tiny_args(corpus, "--run-dir", str(tmp_path / "run"))
    code, err = call(args, capsys)
    assert code == 2
    assert one_line(err) == (
        f"rnn-tui: error: the GPU cannot be used in {command} (CUDA error: CUDA-capable "
        "device(s) is/are busy or unavailable): another process may hold it (nvidia-smi lists "
        "them), or use --device cpu"
    )
    assert not (tmp_path / "run").exists()


def test_only_a_gpu_that_cannot_be_used_is_told_so():
    assert not gpu_unavailable(RuntimeError("CUDA error: an illegal memory access was encountered"))
    assert gpu_unavailable(RuntimeError("CUDA error: no CUDA-capable device is detected\nmore"))


def test_page_locked_memory_refused_is_a_plain_copy(monkeypatch):
    # Pinning only speeds the copy to the GPU; cudaHostAlloc's refusal ("CUDA error: out of
    # memory", the GPU itself free) failed the run as out of memory, naming --hidden.
    copies = []

    def refused(self):
        raise RuntimeError("CUDA error: out of memory")

    def copy(self, *args, **kwargs):
        copies.append((args, kwargs))
        return self

    monkeypatch.setattr(torch.Tensor, "pin_memory", refused)
    monkeypatch.setattr(torch.Tensor, "to", copy)
    tensor = torch.arange(3)
    assert to_device(tensor, torch.device("cuda", 0)) is tensor
    assert copies == [((torch.device("cuda", 0),), {})]


@pytest.mark.parametrize("failure", ["full", "busy"])
def test_a_rank_whose_own_gpu_fails_says_so_naming_itself(
    failure, corpus, tmp_path, monkeypatch, capsys
):
    # Under torchrun only rank 0 speaks for a refusal every rank shares; rank 1's own GPU, full
    # or held by another job, went unsaid, and rank 0 saw only a lost peer.
    from rnn_tui.cli import output
    from rnn_tui.train import engine

    monkeypatch.setenv("RANK", "1")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setattr(output, "quiet_exit_wait", lambda: None)
    monkeypatch.setattr(engine, "Trainer", gpu_full if failure == "full" else gpu_busy)
    code, err = call(tiny_args(corpus, "--run-dir", str(tmp_path / "run")), capsys)
    assert code == 2
    assert one_line(err).startswith(
        "rnn-tui: error: rank 1: out of memory while preparing the run on cpu: "
        if failure == "full"
        else "rnn-tui: error: rank 1: the GPU cannot be used in train (CUDA error"
    )
    # A refusal every rank finds alike stays rank 0's to say.
    code, err = call(tiny_args(corpus, "--hidden", "0"), capsys)
    assert (code, err) == (2, "")
