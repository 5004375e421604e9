# ruff: noqa: F811 (the corpus_file fixture imported from test_step_paths)
"""On a GPU, the CUDA paths compute what the CPU's plain path computes (issue 13: "on CUDA the same
check runs when a GPU is present"). Every test here needs CUDA and is skipped without it; the CPU
halves of these checks (the static-buffer step a graph captures, run eagerly) are in
tests/test_step_paths.py."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from test_seq2seq_trainer import PAIRS
from test_seq2seq_trainer import tiny as tiny_seq2seq
from test_step_paths import corpus_file  # noqa: F401
from test_trainer import tiny

from rnn_tui.runs.rundir import RunDir
from rnn_tui.train.engine import Trainer

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a GPU")

LM_MODELS = ["rnn-scratch", "gru-scratch", "lstm-scratch", "rnn", "gru", "lstm"]


@pytest.fixture(scope="module")
def pairs_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("pairs") / "pairs.txt"
    path.write_text("".join(f"{en}\t{fr}\n" for en, fr in PAIRS * 3), encoding="utf-8")
    return path


def _epochs(config, folder: Path, epochs: int = 3) -> tuple[list[float], Trainer]:
    torch.manual_seed(0)
    trainer = Trainer(config)
    trainer.begin_session(RunDir(folder))
    return [trainer.train_epoch(epoch)[0] for epoch in range(1, epochs + 1)], trainer


@pytest.mark.parametrize("model", LM_MODELS)
def test_the_cuda_graph_equals_the_plain_step_for_every_model(corpus_file, tmp_path, model):
    config = tiny(corpus_file, model=model, device="cuda", hidden=32)
    plain, eager = _epochs(config.replace(graph="off"), tmp_path / "plain")
    graphed, trainer = _epochs(config.replace(graph="on"), tmp_path / "graph")
    assert not eager.path.graph
    assert trainer.path.graph, trainer.path.notes
    torch.testing.assert_close(graphed, plain, rtol=1e-4, atol=1e-5)
    assert plain[2] < plain[0]  # it trains


@pytest.mark.parametrize("model", ["lstm-scratch", "gru"])
def test_an_epoch_on_the_gpu_follows_the_cpu(corpus_file, tmp_path, model):
    """Same seed, same minibatches: the GPU's losses are the CPU's to float tolerance (different
    kernels sum in different orders)."""
    config = tiny(corpus_file, model=model, hidden=32, graph="off")
    cpu, _ = _epochs(config, tmp_path / "cpu")
    gpu, trainer = _epochs(config.replace(device="cuda"), tmp_path / "gpu")
    assert trainer.path.device == "cuda"
    torch.testing.assert_close(gpu, cpu, rtol=2e-3, atol=1e-4)


def test_bf16_graph_follows_fp32_on_the_gpu(corpus_file, tmp_path):
    config = tiny(corpus_file, model="lstm", device="cuda", hidden=32)
    fp32, _ = _epochs(config.replace(graph="off"), tmp_path / "fp32")
    bf16, trainer = _epochs(config.replace(graph="on", precision="bf16"), tmp_path / "bf16")
    assert trainer.path.graph and trainer.path.precision == "bf16", trainer.path.notes
    torch.testing.assert_close(bf16, fp32, rtol=3e-2, atol=0)


def test_seq2seq_trains_on_the_gpu_as_on_the_cpu(pairs_file, tmp_path):
    config = tiny_seq2seq(pairs_file, dropout=0.0)
    cpu, _ = _epochs(config, tmp_path / "cpu")
    gpu, trainer = _epochs(config.replace(device="cuda"), tmp_path / "gpu")
    assert trainer.path.device == "cuda"
    torch.testing.assert_close(gpu, cpu, rtol=2e-3, atol=1e-4)


def test_the_cli_says_the_graph_path_and_its_capture_time(corpus_file, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "rnn_tui", "train", "--corpus", str(corpus_file), "--epochs", "2",
         "--hidden", "32", "--batch-size", "4", "--num-steps", "10", "--device", "cuda",
         "--graph", "on", "--sample-every", "0", "--run-dir", str(tmp_path / "run"), "--json"],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert "CUDA graph" in summary["path"], summary
    assert summary["warmup_s"] > 0
    assert summary["tokens_per_s"] > 0


@pytest.mark.parametrize(
    "attention, bidirectional", [("none", False), ("additive", False), ("none", True)]
)
def test_the_translation_cuda_graph_equals_the_plain_step(
    pairs_file, tmp_path, attention, bidirectional
):
    """The static (batch_size, num_steps) step through the padded model, captured, gives the
    packed eager step's losses; the short last minibatch is padded with rows of no tokens."""
    config = tiny_seq2seq(pairs_file, dropout=0.0, attention=attention, device="cuda", epochs=3,
                          bidirectional=bidirectional)  # fmt: skip
    plain, eager = _epochs(config.replace(graph="off"), tmp_path / "plain")
    graphed, trainer = _epochs(config.replace(graph="on"), tmp_path / "graph")
    assert not eager.path.graph
    assert trainer.path.graph, trainer.path.notes
    torch.testing.assert_close(graphed, plain, rtol=1e-4, atol=1e-5)
    assert plain[2] < plain[0]


def test_the_translation_graph_replays_fresh_dropout_masks(pairs_file, tmp_path):
    """Dropout between the GRU's layers draws new masks at each replay of a captured graph, and a
    run with dropout under the graph trains."""
    from rnn_tui.models.gru_layers import gru_by_layer

    rnn = torch.nn.GRU(8, 16, num_layers=2, dropout=0.5, batch_first=True).cuda()
    x = torch.randn(4, 6, 8, device="cuda")
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):
        gru_by_layer(rnn, x)  # warm-up outside the capture
    torch.cuda.current_stream().wait_stream(side)
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        out, _ = gru_by_layer(rnn, x)
    graph.replay()
    first = out.clone()
    graph.replay()
    assert not torch.equal(first, out)
    config = tiny_seq2seq(pairs_file, dropout=0.3, device="cuda", graph="on", epochs=4)
    losses, trainer = _epochs(config, tmp_path / "drop", epochs=4)
    assert trainer.path.graph, trainer.path.notes
    assert losses[3] < losses[0]
