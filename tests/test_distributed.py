"""Data-parallel training (rnn_tui/train/distributed.py): `torchrun --nproc_per_node 2 -m rnn_tui
train …` on the CPU with the gloo backend trains what one process trains with the same global
batch — the same epoch losses — with rank 0 alone writing the run, and a resume continues it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch.distributed as dist

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch without distributed")

COMMON = [
    "--model", "gru", "--hidden", "16", "--max-tokens", "6000", "--batch-size", "8",
    "--num-steps", "10", "--sampling", "random", "--seed", "3", "--sample-every", "0",
    "--device", "cpu",
]  # fmt: skip


def _env() -> dict:
    # One thread per process: two ranks on a 2-core machine, and stable float sums.
    return {**os.environ, "OMP_NUM_THREADS": "1"}


def _torchrun(*args: str) -> subprocess.CompletedProcess:
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
        "--standalone", "-m", "rnn_tui", "train", *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=_env())


def _single(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "rnn_tui", "train", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=_env())


def _epochs(run: Path) -> list[tuple[float, float]]:
    lines = (run / "metrics.jsonl").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines]
    return [(e["train_loss"], e["val_loss"]) for e in events if e["event"] == "epoch"]


def test_two_processes_train_what_one_does_and_resume(tmp_path):
    single = _single(*COMMON, "--epochs", "3", "--run-dir", str(tmp_path / "single"))
    assert single.returncode == 0, single.stderr
    ddp = _torchrun(*COMMON, "--epochs", "2", "--run-dir", str(tmp_path / "ddp"), "--json")
    assert ddp.returncode == 0, ddp.stderr
    summary = json.loads(ddp.stdout)  # one summary: rank 0's
    assert summary["run_dir"] == str(tmp_path / "ddp") and summary["epochs"] == 2
    resumed = _torchrun("--resume", str(tmp_path / "ddp"), "--epochs", "3")
    assert resumed.returncode == 0, resumed.stderr
    expected, got = _epochs(tmp_path / "single"), _epochs(tmp_path / "ddp")
    assert len(got) == 3
    for (train, val), (train_1, val_1) in zip(got, expected, strict=True):
        assert train == pytest.approx(train_1, rel=1e-6)
        assert val == pytest.approx(val_1, rel=1e-6)
    # Rank 0 alone wrote: one run directory, its checkpoints.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp", "single"]
    assert (tmp_path / "ddp" / "checkpoints" / "last.json").is_file()


def test_a_batch_that_does_not_split_is_one_line(tmp_path):
    result = _torchrun(*COMMON, "--batch-size", "7", "--epochs", "1",
                       "--run-dir", str(tmp_path / "run"))  # fmt: skip
    assert result.returncode != 0
    # A rank says it in one whole line (torchrun may stop the other rank before it says it,
    # then reports the exit codes its own way); two ranks' lines never run into each other.
    line = "rnn-tui: error: --batch-size 7 does not split over 2 processes: give a multiple of 2"
    ours = [text for text in result.stderr.splitlines() if "rnn-tui:" in text]
    assert ours and all(text == line for text in ours), ours
    assert "rnn_tui/" not in result.stderr  # no traceback of ours
    assert not (tmp_path / "run").exists()


def test_each_rank_takes_its_rows_of_every_minibatch():
    import torch

    from rnn_tui.train.config import Config
    from rnn_tui.train.tasks.lm import LanguageModelTask

    config = Config("lm", max_tokens=6000, batch_size=8, num_steps=10, device="cpu")
    whole = LanguageModelTask(config, torch.device("cpu")).epoch_batches(1)
    for rank in (0, 1):
        task = LanguageModelTask(config, torch.device("cpu"))
        task.set_shard(rank, 2)
        X, Y = task.epoch_batches(1)
        assert X.shape[1] == 4
        assert torch.equal(X, whole[0][:, 4 * rank : 4 * rank + 4])
        assert torch.equal(Y, whole[1][:, 4 * rank : 4 * rank + 4])
