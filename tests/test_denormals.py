"""A CPU trainer flushes denormals on every thread that computes for it, not only the main one.

The flag is per thread, and torch's worker threads copy it when its first parallel operation
starts them; set afterwards, it reaches the calling thread only. A resumed run loads its
checkpoint before training, and those copies started the worker thread: half of every product
was computed with denormals. Each check runs in a fresh process, where no thread has started.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

# Two threads, then a product over a denormal vector large enough to be split between them:
# the number of its entries that were not flushed to zero (0 when every thread flushes). The
# denormal is written as its bits: a float literal would be flushed already as it is converted.
COUNT_UNFLUSHED = """
x = torch.full((1 << 20,), 0x00400000, dtype=torch.int32).view(torch.float32)
print("unflushed", int(((x * 0.75) != 0).sum()))
"""


def _run(body: str, tmp_path) -> int:
    code = "import torch\ntorch.set_num_threads(2)\n" + textwrap.dedent(body) + COUNT_UNFLUSHED
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        # The test's environment (its private token cache among it), its runs in tmp_path.
        env={**os.environ, "RNN_TUI_RUNS": str(tmp_path / "runs")},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return int(done.stdout.split("unflushed")[-1])


needs_daz = pytest.mark.skipif(
    not torch.set_flush_denormal(False), reason="this CPU cannot flush denormals"
)


@needs_daz
def test_the_flag_set_after_the_threads_start_misses_one(tmp_path):
    """Why the trainer sets it first: the mechanism this file guards against."""
    late = """
    torch.ones(1 << 20).mul_(2.0)  # any parallel operation starts the worker thread
    torch.set_flush_denormal(True)
    """
    assert _run(late, tmp_path) > 0


@needs_daz
@pytest.mark.parametrize("resume", [False, True], ids=["new", "resumed"])
def test_rnn_tui_train_flushes_denormals_on_all_its_threads(tmp_path, resume):
    """`rnn-tui train` on the CPU, as a shell runs it, then the count in the same process."""
    corpus = tmp_path / "tiny.txt"
    corpus.write_text("the time traveller for so it will be convenient to speak of him " * 40)
    run = tmp_path / "run"
    # The book's size: weights large enough that copying them is a parallel operation.
    first = ["train", "--corpus", str(corpus), "--model", "lstm", "--hidden", "256",
             "--batch-size", "8", "--num-steps", "10", "--epochs", "1", "--device", "cpu",
             "--run-dir", str(run)]  # fmt: skip
    args = ["train", "--resume", str(run), "--epochs", "2"] if resume else first
    if resume:
        assert _run(f"from rnn_tui.cli import main\nassert main({first!r}) == 0", tmp_path) == 0
    assert _run(f"from rnn_tui.cli import main\nassert main({args!r}) == 0", tmp_path) == 0
