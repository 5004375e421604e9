"""A checkpoint is one atomic commit: a writer killed (-9) at any moment leaves the previous
checkpoint or the new one, complete and loadable, never neither (checkpoints/store.py)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from rnn_tui.checkpoints.checkpoint import load_checkpoint, save_checkpoint
from rnn_tui.checkpoints.store import clean_stale

WRITER = textwrap.dedent(
    """
    import sys, torch
    from rnn_tui.checkpoints.checkpoint import save_checkpoint
    folder, start = sys.argv[1], int(sys.argv[2])
    model = torch.nn.Linear(64, 64)
    version = start
    while True:
        with torch.no_grad():
            model.weight.fill_(float(version))
        save_checkpoint(folder, "last", model, None, {"version": version})
        print(version, flush=True)
        version += 1
    """
)


def _check(folder: Path, at_least: int) -> int:
    checkpoint = load_checkpoint(folder / "last.json")
    version = checkpoint.meta["version"]
    assert version >= at_least
    weight = checkpoint.model_state()["weight"]
    assert torch.all(weight == float(version))  # tensors and JSON from the same save
    return version


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs kill -9")
def test_a_writer_killed_at_random_leaves_the_old_or_the_new_checkpoint(tmp_path):
    folder = tmp_path / "checkpoints"
    save_checkpoint(folder, "last", torch.nn.Linear(64, 64), None, {"version": 0})
    rng = random.Random(0)
    survived = 0
    for _ in range(12):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(folder), str(survived + 1)],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        proc.stdout.readline()  # it has started saving
        time.sleep(rng.uniform(0.0, 0.15))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        survived = _check(folder, survived)
        # Cleaning leaves exactly the committed pair.
        clean_stale(folder, ("last",))
        names = sorted(p.name for p in folder.iterdir())
        committed = json.loads((folder / "last.json").read_text())["tensors_file"]
        assert names == sorted(["last.json", committed])
        assert _check(folder, survived) == survived
    assert survived >= 1
