"""Steering a data-parallel run (train/distributed.py, control.py, cli/train.py) under
`torchrun --nproc_per_node 2` on the CPU: a run rank 0 refuses after the ranks joined."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import torch.distributed as dist

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch without distributed")

TINY = [
    "--model", "gru", "--hidden", "16", "--batch-size", "8", "--sample-every", "0",
    "--device", "cpu",
]  # fmt: skip


def _env(**extra: str) -> dict:
    # One thread per process: two ranks on a 2-core machine.
    return {**os.environ, "OMP_NUM_THREADS": "1", **extra}


def _command(*args: str, program: tuple[str, ...] = ("-m", "rnn_tui")) -> list[str]:
    return [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
        *program, "train", *args,
    ]  # fmt: skip


@pytest.mark.parametrize("where", ["runs-root-is-a-file", "run-dir-cannot-be-made"])
def test_a_run_rank_0_refuses_after_joining_is_its_one_line(where, tmp_path):
    # Rank 0 refused the run after every rank had joined the process group; rank 1 then met
    # its exit in DDP's first collective: 35 lines of traceback ending "Connection closed".
    (tmp_path / "afile").write_text("")
    args, env = list(TINY), _env(RNN_TUI_RUNS=str(tmp_path / "afile"))
    if where == "run-dir-cannot-be-made":
        args += ["--run-dir", str(tmp_path / "afile" / "run")]
    command = _command(*args, "--max-tokens", "20000", "--epochs", "1")
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode != 0
    ours = [line for line in done.stderr.splitlines() if line.startswith("rnn-tui")]
    assert len(ours) == 1 and ours[0].startswith("rnn-tui: error: "), done.stderr
    assert "afile" in ours[0]
    assert "[rank1]" not in done.stderr and "rnn_tui/" not in done.stderr, done.stderr
