"""Steering a data-parallel run (train/distributed.py, control.py, cli/train.py) under
`torchrun --nproc_per_node 2` on the CPU: a run rank 0 refuses after the ranks joined, a pause
longer than the process group's timeout, and a signal sent to a rank other than 0."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch.distributed as dist

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch without distributed")

TINY = [
    "--model", "gru", "--hidden", "16", "--batch-size", "8", "--sample-every", "0",
    "--device", "cpu",
]  # fmt: skip
# Long enough to be steered while it trains: a stop ends it.
LONG = [*TINY, "--max-tokens", "all", "--batch-size", "2", "--num-steps", "5", "--epochs", "50"]

# torchrun's workers with the process group's timeout cut to PROBE_TIMEOUT_S (gloo's is 30 min).
_SHORT_TIMEOUT = """
import datetime, os, sys
import torch.distributed as dist

join = dist.init_process_group

def init_process_group(*args, **kwargs):
    kwargs["timeout"] = datetime.timedelta(seconds=float(os.environ["PROBE_TIMEOUT_S"]))
    return join(*args, **kwargs)

dist.init_process_group = init_process_group
from rnn_tui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _env(**extra: str) -> dict:
    # One thread per process: two ranks on a 2-core machine.
    return {**os.environ, "OMP_NUM_THREADS": "1", **extra}


def _command(*args: str, program: tuple[str, ...] = ("-m", "rnn_tui")) -> list[str]:
    return [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
        *program, "train", *args,
    ]  # fmt: skip


@contextlib.contextmanager
def _job(command: list[str], env: dict, stdout=subprocess.PIPE) -> Iterator[subprocess.Popen]:
    """torchrun in its own session, killed with its ranks if the test leaves it running."""
    proc = subprocess.Popen(
        command, env=env, start_new_session=True, stdout=stdout, stderr=subprocess.PIPE, text=True
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _status(run: Path) -> dict:
    try:
        return json.loads((run / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _wait(proc: subprocess.Popen, what: str, ready, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not ready():
        assert proc.poll() is None, f"ended before {what}: {proc.communicate()[1][-3000:]}"
        assert time.monotonic() < deadline, f"no {what} in {seconds} s"
        time.sleep(0.2)


def _training(run: Path) -> bool:
    metrics = run / "metrics.jsonl"
    return '"event": "path"' in (metrics.read_text() if metrics.exists() else "")


def _rank_pid(parent: int, rank: int) -> int:
    """The pid of torchrun `parent`'s worker of `rank` (read from its environment)."""
    children = Path(f"/proc/{parent}/task/{parent}/children").read_text().split()
    for pid in children:
        environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        if f"RANK={rank}".encode() in environ:
            return int(pid)
    raise AssertionError(f"no rank {rank} among {children}")


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


def test_a_pause_longer_than_the_process_groups_timeout_resumes(tmp_path):
    # Paused, rank 0 did no collective while rank 1 waited in its next all-reduce: the run
    # failed after the timeout, rank 0 blaming "another process of this run".
    from rnn_tui.runs.rundir import RunDir

    # The timeout bounds every collective, the first ones too: 8 s leaves a busy machine's
    # start-up (rank 0 writes the run folder first) room.
    probe, run, timeout_s = tmp_path / "probe.py", tmp_path / "run", 8.0
    probe.write_text(_SHORT_TIMEOUT, encoding="utf-8")
    command = _command(*LONG, "--run-dir", str(run), program=(str(probe),))
    with _job(command, _env(PROBE_TIMEOUT_S=str(timeout_s)), subprocess.DEVNULL) as proc:
        _wait(proc, "training", lambda: _training(run))
        RunDir(run).request("pause")
        _wait(proc, "pause", lambda: _status(run).get("status") == "paused", 30)
        time.sleep(2.5 * timeout_s)
        assert _status(run).get("status") == "paused"
        RunDir(run).request("resume")
        _wait(proc, "resume", lambda: _status(run).get("status") == "running", 30)
        time.sleep(1.0)  # trains on
        RunDir(run).request("stop")
        _, stderr = proc.communicate(timeout=60)
    status = _status(run)
    assert status.get("status") == "stopped", (status, stderr[-3000:])
    assert "(request)" in status["message"]
    assert proc.returncode == 0, stderr[-3000:]


def test_a_signal_to_another_rank_is_named_and_its_exit_status(tmp_path):
    # A SIGTERM to rank 1 stopped the run as "(request)", every rank exiting 0.
    run = tmp_path / "run"
    with _job(_command(*LONG, "--run-dir", str(run), "--json"), _env()) as proc:
        _wait(proc, "training", lambda: _training(run))
        os.kill(_rank_pid(proc.pid, 1), signal.SIGTERM)
        stdout, stderr = proc.communicate(timeout=60)
    status = _status(run)
    assert status.get("status") == "stopped", (status, stderr[-3000:])
    assert "(SIGTERM)" in status["message"]
    assert "(SIGTERM)" in json.loads(stdout)["message"]
    # Rank 0 exits 143 as one process would, and torchrun reports it.
    assert proc.returncode != 0 and "exitcode: 143" in stderr, stderr[-3000:]


GLOO_TIMEOUT = (
    "[/__w/pytorch/pytorch/third_party/gloo/gloo/transport/tcp/unbound_buffer.cc:81] Timed out "
    "waiting 1800000ms for recv operation to complete"
)
GLOO_LOST = "[/__w/pytorch/pytorch/third_party/gloo/gloo/transport/tcp/pair.cc:553] Connection closed by peer [127.0.0.1]:13184"  # noqa: E501


@pytest.mark.parametrize(
    ("error", "own"), [(GLOO_TIMEOUT, True), (GLOO_LOST, False)], ids=["timed-out", "peer-gone"]
)
def test_a_rank_that_waited_out_the_timeout_says_so_itself(error, own, tmp_path):
    # A rank whose collective timed out was silent (a lost peer is rank 0's to report), and
    # rank 0 then blamed "another process" for closing the connection: the waiting rank knows.
    from test_trainer import tiny

    from rnn_tui.data.sources import read_text
    from rnn_tui.train.distributed import WAITED, Distributed, NullRun
    from rnn_tui.train.engine import Trainer

    corpus = tmp_path / "tiny.txt"
    corpus.write_text(read_text("timemachine")[:3000], encoding="utf-8")
    trainer = Trainer(tiny(corpus, epochs=1, sample_every=0))

    def collective_fails():
        trainer.dist = Distributed(rank=1, world=2)  # no process group: nothing to leave
        raise RuntimeError(error)

    trainer._epochs = collective_fails
    summary = trainer.run(NullRun())
    assert summary["status"] == "failed"
    assert summary["message"].startswith(WAITED) == own, summary["message"]
    assert trainer.own_failure == own  # rank 1's CLI says it in one line (test_distributed.py)
