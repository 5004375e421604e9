"""Data-parallel training (rnn_tui/train/distributed.py): `torchrun --nproc_per_node 2 -m rnn_tui
train …` on the CPU with the gloo backend trains what one process trains with the same global
batch — the same epoch losses — with rank 0 alone writing the run, and a resume continues it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch.distributed as dist

from rnn_tui.models import fused_steps

pytestmark = pytest.mark.skipif(not dist.is_available(), reason="torch without distributed")

COMMON = [
    "--model", "gru", "--hidden", "16", "--max-tokens", "6000", "--batch-size", "8",
    "--num-steps", "10", "--sampling", "random", "--seed", "3", "--sample-every", "0",
    "--device", "cpu",
]  # fmt: skip


def _env() -> dict:
    # One thread per process: two ranks on a 2-core machine, and stable float sums. The C
    # loops on, untimed: timed, each process would choose for itself (a rank's batch is half
    # the single run's), and these tests compare processes' losses to 1e-6 and their paths.
    return {**os.environ, "OMP_NUM_THREADS": "1", "RNN_TUI_NATIVE": "on"}


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


def _same_epochs(run: Path, single: Path, epochs: int) -> None:
    """`run`'s epoch losses (training and held-out) are `single`'s, `epochs` of them."""
    expected, got = _epochs(single), _epochs(run)
    assert len(got) == epochs
    for (train, val), (train_1, val_1) in zip(got, expected, strict=True):
        assert train == pytest.approx(train_1, rel=1e-6)
        assert val == pytest.approx(val_1, rel=1e-6)


def test_two_processes_train_what_one_does_and_resume(tmp_path):
    single = _single(*COMMON, "--epochs", "3", "--run-dir", str(tmp_path / "single"))
    assert single.returncode == 0, single.stderr
    ddp = _torchrun(*COMMON, "--epochs", "2", "--run-dir", str(tmp_path / "ddp"), "--json")
    assert ddp.returncode == 0, ddp.stderr
    summary = json.loads(ddp.stdout)  # one summary: rank 0's
    assert summary["run_dir"] == str(tmp_path / "ddp") and summary["epochs"] == 2
    # The run says it ran across processes (the Train screen's header shows this line).
    loops = " · C loops" if fused_steps.load().lib is not None else ""  # the nn.GRU's chain
    assert summary["path"] == f"eager · fp32{loops} · DDP × 2 (gloo)"
    resumed = _torchrun("--resume", str(tmp_path / "ddp"), "--epochs", "3")
    assert resumed.returncode == 0, resumed.stderr
    _same_epochs(tmp_path / "ddp", tmp_path / "single", 3)
    # Rank 0 alone wrote: one run directory, its checkpoints.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ddp", "single"]
    assert (tmp_path / "ddp" / "checkpoints" / "last.json").is_file()


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("--batch-size", "7"),
            "rnn-tui: error: --batch-size 7 does not split over 2 processes: give a multiple of 2",
        ),
        (("--batch-size", "x"), "rnn-tui train: error: argument --batch-size: "),
    ],
)
def test_a_refused_option_is_one_line_from_rank_0(tmp_path, args, line):
    result = _torchrun(*COMMON, *args, "--epochs", "1", "--run-dir", str(tmp_path / "run"))
    assert result.returncode != 0
    # Every rank found it and each said it: the line came once per process. Rank 0 says it;
    # torchrun then reports the exit codes its own way.
    ours = [text for text in result.stderr.splitlines() if "rnn-tui" in text and "error" in text]
    assert len(ours) == 1 and ours[0].startswith(line), result.stderr
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


# Every task trains data-parallel: each rank's weighted loss (train/shard.py), averaged over the
# ranks as DDP averages gradients, is one process's loss, and so is the gradient. Three ranks
# over a full minibatch of 9 rows and the epoch's smallest one, of 1 row (two ranks without a
# row of their own); the language model's minibatches are all full, split in two.
SHARDED = {
    "lm": dict(max_tokens=3000, hidden=8, batch_size=6, num_steps=5),
    "seq2seq": dict(num_examples=81, embed=8, hidden=8, batch_size=9, num_steps=6, dropout=0.0),
    "classify": dict(max_names=406, hidden=8, batch_size=9, balance="weights"),
    "tag": dict(max_chars=2976, hidden=8, embed=4, batch_size=9, num_steps=6),
    "forecast": dict(model="gru", hidden=8, batch_size=9, num_steps=6),
    "forecast-mlp": dict(model="mlp", batch_size=9),
}


def _batch_rows(task, data, b: int) -> int:
    if hasattr(data, "rows"):  # seq2seq: each minibatch's pair indices
        return len(data.rows[b])
    if isinstance(data, tuple):  # the language model: X and Y, (batches, B, T)
        return data[0].shape[1]
    B = task.config.batch_size  # the others: one order of rows, B at a time
    return len(data[b * B : (b + 1) * B])


@pytest.mark.parametrize("name", sorted(SHARDED))
def test_ranks_weighted_losses_average_to_one_process_loss_and_gradient(name, tmp_path):
    import numpy as np
    import torch

    from rnn_tui.train.config import Config
    from rnn_tui.train.engine import Trainer

    task_name = name.split("-")[0]
    options = dict(SHARDED[name])
    if task_name == "forecast":  # 154 training pairs: 17 minibatches of 9 and one of 1
        values = np.sin(np.arange(196) / 5) + 2
        (tmp_path / "s.csv").write_text("v\n" + "\n".join(f"{v:.6f}" for v in values) + "\n")
        options["series"] = str(tmp_path / "s.csv")
    world = 2 if task_name == "lm" else 3
    torch.manual_seed(0)
    trainer = Trainer(Config(task_name, device="cpu", seed=5, **options))
    task, model = trainer.task, trainer.model
    params = [p for p in model.parameters() if p.requires_grad]
    data = task.epoch_data(model, 1)
    sizes = [_batch_rows(task, data, b) for b in range(trainer.num_batches)]
    batches = sorted({sizes.index(max(sizes)), sizes.index(min(sizes))})
    assert task_name == "lm" or min(sizes) == 1, sizes

    def loss_and_grads(b: int, data) -> tuple[torch.Tensor, list[torch.Tensor | None]]:
        loss = task.batch_loss(model, data, b, fresh=True)
        return loss.detach(), list(torch.autograd.grad(loss, params, allow_unused=True))

    whole = {b: loss_and_grads(b, data) for b in batches}
    ranks: dict[int, list] = {b: [] for b in batches}
    for rank in range(world):
        task.set_shard(rank, world)
        data = task.epoch_data(model, 1)
        for b in batches:
            ranks[b].append(loss_and_grads(b, data))
    for b in batches:
        loss, grads = whole[b]
        assert torch.stack([r[0] for r in ranks[b]]).mean() == pytest.approx(loss.item(), rel=1e-6)
        for i, grad in enumerate(grads):
            parts = [r[1][i] for r in ranks[b] if r[1][i] is not None]
            if grad is None:
                assert not parts
                continue
            averaged = torch.stack(parts).sum(0) / world
            assert torch.allclose(averaged, grad, rtol=1e-5, atol=1e-7), (name, b, i)


def test_a_two_process_translation_trains_what_one_process_does(tmp_path):
    args = [
        "--task", "seq2seq", "--num-examples", "300", "--embed", "8", "--hidden", "8",
        "--batch-size", "10", "--num-steps", "6", "--dropout", "0", "--epochs", "2",
        "--sample-every", "0", "--device", "cpu", "--seed", "2",
    ]  # fmt: skip
    single = _single(*args, "--run-dir", str(tmp_path / "single"))
    assert single.returncode == 0, single.stderr
    ddp = _torchrun(*args, "--run-dir", str(tmp_path / "ddp"))
    assert ddp.returncode == 0, ddp.stderr
    _same_epochs(tmp_path / "ddp", tmp_path / "single", 2)


_RELEASE_PROBE = """
import gc, sys
from torch.nn.parallel import DistributedDataParallel
from rnn_tui.train import distributed

leave = distributed.Distributed.close

def close(self, together=False):
    leave(self, together)
    alive = sum(isinstance(o, DistributedDataParallel) for o in gc.get_objects())
    print(f"rank {self.rank}: {alive} DDP wrappers after close", file=sys.stderr)

distributed.Distributed.close = close
from rnn_tui.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_each_rank_frees_its_ddp_wrapper_before_leaving_the_group(tmp_path):
    # The wrapper lived on in reference cycles to the interpreter's teardown, where freeing
    # it (and the gloo group its reducer holds) aborted a rank after a finished run, now and
    # then: "terminate called without an active exception", exit code -6.
    probe = tmp_path / "probe.py"
    probe.write_text(_RELEASE_PROBE, encoding="utf-8")
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
        str(probe), "train", "--task", "seq2seq", "--num-examples", "100", "--embed", "8",
        "--hidden", "8", "--batch-size", "10", "--epochs", "1", "--sample-every", "0",
        "--device", "cpu", "--run-dir", str(tmp_path / "run"),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=120, env=_env())
    assert done.returncode == 0, done.stderr
    # Both ranks share one stderr pipe, so one rank's line can land inside the other's.
    found = sorted(re.findall(r"rank (\d+): (\d+) DDP wrappers after close", done.stderr))
    assert found == [("0", "0"), ("1", "0")]


def test_a_compiled_step_runs_through_the_ddp_wrapper(tmp_path, monkeypatch):
    # --compile on under torchrun compiled the bare model in place of its DDP wrapper: no
    # gradient was averaged, each rank trained on its own rows, and the run's losses were not
    # one process's (val ppl 17.36 for 17.19 after one epoch of a tiny LSTM).
    import torch
    from test_trainer import tiny

    from rnn_tui.data.sources import read_text
    from rnn_tui.runs.rundir import RunDir
    from rnn_tui.train import step
    from rnn_tui.train.engine import Trainer

    class Wrapper(torch.nn.Module):  # stands for DistributedDataParallel
        def __init__(self, module):
            super().__init__()
            self.module, self.calls = module, 0

        def forward(self, *args, **kwargs):
            self.calls += 1
            return self.module(*args, **kwargs)

    compiled = []
    monkeypatch.setattr(step.torch, "compile", lambda module: compiled.append(module) or module)
    corpus = tmp_path / "tiny.txt"
    corpus.write_text(read_text("timemachine")[:3000], encoding="utf-8")
    trainer = Trainer(tiny(corpus, epochs=1, sample_every=0, compile="on"))
    trainer.begin_session(RunDir(tmp_path / "run"))
    wrapper = trainer.step.forward_model = Wrapper(trainer.model)  # as the engine wraps it
    trainer.train_epoch(1)
    assert trainer.path.compiled, trainer.path.notes
    assert compiled == [wrapper]
    assert wrapper.calls == trainer.num_batches


def test_a_task_without_shards_is_refused_in_one_line():
    from types import SimpleNamespace

    from rnn_tui.train.config import ConfigError
    from rnn_tui.train.distributed import Distributed

    task = SimpleNamespace(config=SimpleNamespace(task="toy"))  # no set_shard
    with pytest.raises(ConfigError, match="^--task toy does not train data-parallel: run it in"):
        Distributed(rank=0, world=2).check(task, 8)


@pytest.mark.parametrize("together", [True, False])
def test_ranks_that_end_together_wait_for_each_other_before_leaving(together, monkeypatch):
    # A finished run's ranks leave the group together, none while rank 0 still writes its last
    # checkpoint; after a failure on one rank the others never arrive, so a wait would hang.
    from rnn_tui.train.distributed import Distributed

    calls = []
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "barrier", lambda: calls.append("barrier"))
    monkeypatch.setattr(dist, "destroy_process_group", lambda: calls.append("destroy"))
    Distributed(rank=1, world=2).close(together)
    assert calls == (["barrier", "destroy"] if together else ["destroy"])


def test_a_finished_run_leaves_together_and_a_failed_one_does_not(tmp_path, monkeypatch):
    from test_trainer import tiny

    from rnn_tui.data.sources import read_text
    from rnn_tui.runs.rundir import RunDir
    from rnn_tui.train.distributed import Distributed
    from rnn_tui.train.engine import Trainer
    from rnn_tui.train.progress import NonFiniteLoss

    corpus = tmp_path / "tiny.txt"
    corpus.write_text(read_text("timemachine")[:3000], encoding="utf-8")
    config = tiny(corpus, epochs=1, sample_every=0)
    seen = []
    monkeypatch.setattr(Distributed, "close", lambda self, together=False: seen.append(together))
    trainer = Trainer(config)
    assert trainer.run(RunDir(tmp_path / "finished"))["status"] == "finished"

    def diverge(*args, **kwargs):
        raise NonFiniteLoss("loss is nan")

    failing = Trainer(config)
    monkeypatch.setattr(failing, "_epochs", diverge)
    assert failing.run(RunDir(tmp_path / "failed"))["status"] == "failed"
    assert seen == [True, False]


def test_ctrl_c_stops_every_rank_within_seconds_between_log_points(tmp_path):
    # Ranks decided to stop only at the log points, two minutes apart on a 100 MB corpus, and
    # torchrun kills its workers 30 s after Ctrl+C: the run stayed "running" and lost its work.
    import signal
    import time

    run = tmp_path / "run"
    command = [
        sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone",
        "-m", "rnn_tui", "train", *COMMON, "--max-tokens", "all", "--batch-size", "2",
        "--num-steps", "5", "--epochs", "50", "--log-every", "1000000000",
        "--run-dir", str(run),
    ]  # fmt: skip
    proc = subprocess.Popen(
        command, env=_env(), start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        metrics = run / "metrics.jsonl"
        while '"event": "path"' not in (metrics.read_text() if metrics.exists() else ""):
            assert proc.poll() is None and time.monotonic() < deadline, "training never began"
            time.sleep(0.2)
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGINT)  # what Ctrl+C sends to the terminal's processes
        asked = time.monotonic()
        _, stderr = proc.communicate(timeout=60)
        took = time.monotonic() - asked
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "stopped", (status, stderr[-2000:])
    # Stopped by the ranks themselves, not by torchrun's kill 30 s after the Ctrl+C (which
    # leaves the run "running"): 5-6 s on a loaded 2-core machine, where 15 s was too close.
    assert took < 25, took
    assert status["epoch"] == 0 and 0 < status["batch"]  # within the first epoch, saved
    assert (run / "checkpoints" / "last.json").is_file()


@pytest.mark.parametrize(
    ("env", "start"),
    [
        ({"WORLD_SIZE": "2"}, "WORLD_SIZE=2 but RANK, MASTER_ADDR and MASTER_PORT are not set"),
        ({"WORLD_SIZE": "2", "RANK": "0", "MASTER_PORT": "1"}, "WORLD_SIZE=2 but MASTER_ADDR is"),
        (
            {"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "localhost", "MASTER_PORT": "99999"},
            "MASTER_PORT='99999' is out of range 0..65535",
        ),
        (
            {"WORLD_SIZE": "2", "RANK": "0", "MASTER_ADDR": "a..b", "MASTER_PORT": "29500"},
            "MASTER_ADDR='a..b' cannot be resolved",
        ),
        ({"RANK": "9" * 5000}, "RANK='99999"),
    ],
)
def test_a_launch_environment_torchrun_did_not_set_is_one_line(env, start, monkeypatch, capsys):
    """WORLD_SIZE set by hand without the rest of torchrun's variables ended in torch's
    ValueError (a traceback); a MASTER_ADDR that does not resolve was retried, a warning at a
    time, for torch's 30-minute timeout."""
    from cli_helpers import one_line

    for name in ("WORLD_SIZE", "RANK", "LOCAL_RANK", "MASTER_ADDR", "MASTER_PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code, line = one_line(capsys, ["train", "--epochs", "1", "--max-tokens", "3000"])
    assert code == 2
    assert line.startswith(f"rnn-tui: error: {start}")
    assert len(line) < 400


def test_a_resumed_run_that_does_not_split_is_told_which_process_counts_do():
    # "give a multiple of 3" could not be followed: a resumed run keeps its batch size.
    from rnn_tui.train.config import ConfigError
    from rnn_tui.train.distributed import Distributed

    three = Distributed(rank=0, world=3, local_rank=0)
    task = type("Task", (), {"set_shard": None})()
    with pytest.raises(ConfigError) as exc:
        three.check(task, 32, resumed=True)
    assert str(exc.value) == (
        "--batch-size 32 does not split over 3 processes: the run keeps its batch size: "
        "resume it with --nproc_per_node 1, 2, 4 or 8"
    )
    with pytest.raises(ConfigError, match="give a multiple of 3"):
        three.check(task, 32)


@pytest.mark.parametrize("own", [True, False])
def test_a_rank_other_than_0_reports_a_failure_of_its_own_only(own, capsys):
    """Rank 0 sees another rank's out-of-memory only as a lost peer: that rank says why, in one
    line naming itself; a failure every rank shares (a NaN loss) is rank 0's to report."""
    import argparse
    from types import SimpleNamespace

    from rnn_tui.cli import train as cli_train

    message = "out of memory in epoch 2 on cuda:2: try a smaller --batch-size"
    trainer = SimpleNamespace(
        dist=SimpleNamespace(writer=False, rank=2),
        own_failure=own,
        run=lambda run_dir, stop: {"status": "failed", "message": message},
    )
    assert cli_train._train_claimed(argparse.Namespace(), trainer, None) == 1
    err = capsys.readouterr().err
    assert err == (f"rnn-tui train: rank 2: {message}\n" if own else "")


@pytest.mark.parametrize(("rank", "said"), [("0", "rnn-tui: interrupted\n"), ("1", "")])
def test_a_ctrl_c_while_starting_is_said_by_rank_0_alone(rank, said, monkeypatch, capsys):
    # Ctrl+C to torchrun while its ranks loaded torch printed "rnn-tui: interrupted" per rank.
    import rnn_tui.cli.train as cli_train
    from rnn_tui.cli import main

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli_train, "_train", interrupted)
    monkeypatch.setenv("RANK", rank)
    monkeypatch.setenv("WORLD_SIZE", "2")
    assert main(["train", "--epochs", "1"]) == 130
    assert capsys.readouterr().err == said


@pytest.mark.parametrize(("local_world", "local_rank", "refused"), [(4, 0, True), (2, 1, False)])
def test_more_processes_than_gpus_is_one_line_from_every_rank(
    local_world, local_rank, refused, monkeypatch
):
    """--nproc_per_node 4 on a 2-GPU machine: rank 0 (LOCAL_RANK 0, which has a GPU) refuses
    too, so the line is said; ranks 2 and 3 alone would have failed in set_device, unsaid."""
    import torch

    from rnn_tui.train.config import ConfigError
    from rnn_tui.train.distributed import Distributed

    chosen = []
    monkeypatch.setenv("LOCAL_WORLD_SIZE", str(local_world))
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", chosen.append)
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    rank = Distributed(rank=local_rank, world=local_world, local_rank=local_rank)
    if refused:
        with pytest.raises(ConfigError, match="4 processes on this machine but it has 2 GPUs"):
            rank.start(torch.device("cuda"))
        assert chosen == []
    else:
        assert rank.start(torch.device("cuda")) == torch.device("cuda", 1)
        assert chosen == [torch.device("cuda", 1)]


@pytest.mark.parametrize(("asked", "refused"), [("cuda:1", True), ("cuda", False), ("auto", False)])
def test_a_numbered_gpu_under_torchrun_is_refused_not_replaced(asked, refused, monkeypatch):
    """Each rank trains on cuda:LOCAL_RANK: --device cuda:1 was silently replaced by it."""
    import torch

    from rnn_tui.train.config import ConfigError
    from rnn_tui.train.distributed import Distributed

    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    monkeypatch.setattr(torch.cuda, "set_device", lambda device: None)
    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    rank = Distributed(rank=0, world=2, local_rank=0)
    if refused:
        with pytest.raises(ConfigError, match="^--device cuda:1 under torchrun: each process"):
            rank.start(torch.device("cuda", 1), asked)
    else:
        assert rank.start(torch.device("cuda", 0), asked) == torch.device("cuda", 0)
