"""Data-parallel training across processes: `torchrun --nproc_per_node N -m rnn_tui train …`.

torchrun starts N copies of `rnn-tui train` with RANK, WORLD_SIZE and LOCAL_RANK set. Each
builds the same model from the same seed (DistributedDataParallel also broadcasts rank 0's
weights), draws the same epoch minibatches, and trains on its own rows of every minibatch: rank r
of N takes rows [r·n/N, (r+1)·n/N) of a minibatch of n. DDP averages the gradients, and each
rank's loss is its rows' share of the minibatch's mean (train/shard.py: a translation's rows
count different numbers of target tokens, a last minibatch may be short), so the update is the
single-process one for the global batch, in every task; clipping then sees the averaged
gradient, as one process would. Loss and norm sums are averaged across ranks at the log points
only, so every rank reads the same numbers; the ranks agree on a stop there and about every
second between them (train/epoch.py `Agreement`). Dropout draws its masks
per rank, so a run with dropout trains as one process would in distribution, not bit for bit.

Rank 0 alone writes: the run directory, metrics, checkpoints; the other ranks write nothing
(`NullRun`). A resume reads the same checkpoint on every rank. Backend: NCCL on GPUs (one per
rank, cuda:LOCAL_RANK), gloo on the CPU.
"""

from __future__ import annotations

import gc
import os
import re
import socket
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist

from rnn_tui.quoting import quoted
from rnn_tui.train.config import ConfigError

_COLLECTIVE = re.compile(r"gloo|nccl|Connection (closed|reset)", re.IGNORECASE)
_SOURCE = re.compile(r"^\[[^\]]*\]\s*")  # "[/__w/…/pair.cc:553] "
_TIMED_OUT = re.compile(r"timed out|timeout", re.IGNORECASE)
WAITED = "waited longer than the process group's timeout for the other processes of this run"
MAX_WORLD = 4096
MAX_PORT = 65535
RENDEZVOUS_ENV = ("RANK", "MASTER_ADDR", "MASTER_PORT")
COMMANDS = (None, "pause", "resume", "stop")  # control.json's, as numbers in a collective


def stop_code(stop) -> float:
    """The stop flag as a number whose largest value over the ranks is the stop they agree on:
    0 not asked, 1 asked without a signal (control.json), 1 + N after signal N."""
    if not stop.is_set():
        return 0.0
    signum = getattr(stop, "signum", None)
    return 1.0 + signum if signum else 1.0


def _env_int(name: str, default: int, maximum: int) -> int:
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={quoted(raw)} is not a whole number (set by torchrun)") from None
    if not 0 <= value <= maximum:
        raise ConfigError(f"{name}={quoted(raw)} is out of range 0..{maximum} (set by torchrun)")
    return value


def _check_address(host: str) -> None:
    """A MASTER_ADDR that does not resolve is one line now: torch's rendezvous would retry it,
    a warning at a time, until its 30-minute timeout."""
    try:
        socket.getaddrinfo(host, None)
    except (OSError, UnicodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"MASTER_ADDR={quoted(host)} cannot be resolved: {reason}") from None


@dataclass(frozen=True)
class Distributed:
    """This process's place in a torchrun job (a single process: rank 0 of 1)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @classmethod
    def from_env(cls) -> Distributed:
        world = _env_int("WORLD_SIZE", 1, MAX_WORLD)
        if world < 1:
            raise ConfigError("WORLD_SIZE=0: no process to train on")
        if world > 1:
            # torch's env:// rendezvous needs these too; missing, it raised a traceback.
            missing = [name for name in RENDEZVOUS_ENV if not os.environ.get(name, "").strip()]
            if missing:
                names = (
                    ", ".join(missing[:-1]) + (" and " if len(missing) > 1 else "") + missing[-1]
                )
                raise ConfigError(
                    f"WORLD_SIZE={world} but {names} {'is' if len(missing) == 1 else 'are'} not "
                    f"set: start data-parallel training with torchrun --nproc_per_node {world} "
                    "-m rnn_tui train …"
                )
            _env_int("MASTER_PORT", 0, MAX_PORT)
            _check_address(os.environ["MASTER_ADDR"].strip())
        rank = _env_int("RANK", 0, world - 1)
        return cls(rank=rank, world=world, local_rank=_env_int("LOCAL_RANK", 0, MAX_WORLD))

    @property
    def active(self) -> bool:
        return self.world > 1

    def lost_peer(self, exc: BaseException) -> str:
        """One line when `exc` is a collective that failed because another process of the job
        ended (killed, crashed, its machine gone), else "". gloo's own message names a source
        file and "GLHF"; its "Connection closed by peer [127.0.0.1]:13184" is what is kept.

        A collective that timed out is this process's news, starting WAITED: the others were
        alive but elsewhere (stuck, or paused before pauses were agreed), and the one that
        closed the connection next is not to blame."""
        if not self.active or not isinstance(exc, RuntimeError):
            return ""
        text = str(exc).strip()
        if not isinstance(exc, dist.DistError) and not _COLLECTIVE.search(text):
            return ""
        detail = _SOURCE.sub("", text.splitlines()[0] if text else "").split(". This is")[0]
        detail = detail.strip().rstrip(".")[:160]
        if _TIMED_OUT.search(detail):
            return f"{WAITED} ({detail})"
        return "another process of this run stopped answering" + (f" ({detail})" if detail else "")

    @property
    def backend(self) -> str:
        """The process group's backend (nccl, gloo), once joined."""
        return dist.get_backend() if dist.is_initialized() else ""

    @property
    def writer(self) -> bool:
        """Rank 0: the one process that writes the run directory."""
        return self.rank == 0

    def start(self, device: torch.device, asked: str = "") -> torch.device:
        """Join the process group; the device this rank trains on (its own GPU under NCCL).
        `asked`: the --device given; a numbered GPU is refused, not silently replaced."""
        if device.type == "cuda":
            if re.fullmatch(r"cuda:\d+", asked.strip().lower()):
                raise ConfigError(
                    f"--device {asked.strip()} under torchrun: each process trains on the GPU "
                    "of its LOCAL_RANK; give --device cuda (CUDA_VISIBLE_DEVICES picks the GPUs)"
                )
            # Every rank knows LOCAL_WORLD_SIZE, so rank 0 says this for all: checked by each
            # rank's own LOCAL_RANK alone, ranks past the last GPU failed and rank 0 said nothing.
            gpus = torch.cuda.device_count()
            local = max(_env_int("LOCAL_WORLD_SIZE", 1, MAX_WORLD), self.local_rank + 1)
            if local > gpus:
                raise ConfigError(
                    f"{local} processes on this machine but it has {gpus} GPU"
                    f"{'' if gpus == 1 else 's'}: NCCL needs one a process — start "
                    f"torchrun --nproc_per_node {gpus}, or train on the CPU with --device cpu"
                )
            device = torch.device("cuda", self.local_rank)
            torch.cuda.set_device(device)
        if not dist.is_initialized():
            try:
                dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
            except (RuntimeError, ValueError) as exc:  # an address that cannot be reached, …
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise ConfigError(f"cannot join the torchrun process group: {first}") from None
        return device

    def check(self, task, batch_size: int, resumed: bool = False) -> None:
        if not hasattr(task, "set_shard"):
            raise ConfigError(
                f"--task {task.config.task} does not train data-parallel: run it in one process"
            )
        if batch_size % self.world:
            # A resumed run keeps its batch size: the number of processes is what can change.
            counts = [str(n) for n in range(1, min(batch_size, 8) + 1) if batch_size % n == 0]
            listed = counts[0] if len(counts) == 1 else f"{', '.join(counts[:-1])} or {counts[-1]}"
            advice = (
                f"the run keeps its batch size: resume it with --nproc_per_node {listed}"
                if resumed
                else f"give a multiple of {self.world}"
            )
            raise ConfigError(
                f"--batch-size {batch_size} does not split over {self.world} processes: {advice}"
            )

    def wrap(self, model: torch.nn.Module, device: torch.device) -> torch.nn.Module:
        from torch.nn.parallel import DistributedDataParallel

        ids = [device.index] if device.type == "cuda" else None
        return DistributedDataParallel(model, device_ids=ids)

    def mean(self, tensor: torch.Tensor) -> torch.Tensor:
        """The average of `tensor` over the ranks (in place)."""
        dist.all_reduce(tensor)
        return tensor.div_(self.world)

    def most(self, values: list[float]) -> list[float]:
        """Each of `values`' largest value over the ranks (one collective for several flags)."""
        tensor = torch.tensor(values, dtype=torch.float64)
        if dist.get_backend() == "nccl":
            tensor = tensor.cuda()
        dist.all_reduce(tensor, op=dist.ReduceOp.MAX)
        return tensor.tolist()

    def any(self, flag: bool) -> bool:
        """True on every rank when it is true on any (e.g. rank 0 refused the run)."""
        return bool(self.most([1.0 if flag else 0.0])[0])

    def set_stop(self, stop, code: float) -> bool:
        """Set `stop` as the ranks agreed (`code`: the largest `stop_code`), naming the signal
        that stopped another rank, so every rank says it and exits 128 + N as one process would;
        whether it is set."""
        if code < 1:
            return False
        if int(code) > 1 and getattr(stop, "signum", 0) is None:
            stop.signum = int(code) - 1
        stop.set()
        return True

    def agree_stop(self, stop) -> bool:
        """Every rank's `stop` set when any rank's is (one collective); whether it is."""
        return self.set_stop(stop, self.most([stop_code(stop)])[0])

    def agreed(self, pending_command, stop):
        """`pending_command` (control.json's next request) as every rank obeys it: under
        torchrun, rank 0's (the others read no file), with the stop flag agreed in the same
        collective. Each call is then a point every rank must reach together (train/control.py),
        and a pause, a loop of such calls a few times a second, keeps the ranks answering each
        other however long it lasts: paused alone, rank 0 left the others in a collective that
        failed the run after the process group's timeout (gloo's 30 minutes)."""
        if not self.active:
            return pending_command

        def command() -> str | None:
            asked = pending_command()
            code, stopped = self.most([float(COMMANDS.index(asked)), stop_code(stop)])
            self.set_stop(stop, stopped)
            return COMMANDS[int(code)]

        return command

    def close(self, together: bool = False) -> None:
        """Leave the process group. `together`: every rank is ending its run here (finished,
        or stopped at a point they agreed on), so they first wait for each other; after a
        failure on one rank, the others are not coming: no wait.

        The caller has dropped its DistributedDataParallel wrapper. The wrapper sits in
        reference cycles (its hooks on the parameters), so without a collection here it, and
        the gloo group its reducer holds, lived on until the interpreter's teardown, where
        freeing them aborted a rank now and then ("terminate called without an active
        exception", after the run had finished and saved)."""
        if self.active and dist.is_initialized():
            if together:
                dist.barrier()
            gc.collect()
            dist.destroy_process_group()


class NullRun:
    """The run sink of ranks other than 0: the engine's writes go nowhere."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or Path(os.devnull)
        self.checkpoints = self.path / "checkpoints"

    def write_config(self, config: dict) -> None:
        pass

    def log(self, event: str, **fields) -> None:
        pass

    def last_logged_epoch(self) -> int:
        return 0

    def set_status(self, status: str, message: str = "", **fields) -> None:
        pass

    def pending_command(self) -> str | None:
        return None

    def lost(self) -> str:
        return ""

    def release(self) -> None:
        pass


__all__ = ["WAITED", "Distributed", "NullRun"]
