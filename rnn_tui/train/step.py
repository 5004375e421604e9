"""One training step and the ways to run it (d2l §8.5 `train_epoch_ch8`'s loop body):

    l ← loss(net(X, state), Y);  l.backward();  grad_clipping(θ);  updater.step()

The same computation runs one of four ways, chosen per run (options graph, precision, compile)
and reported as the run's *path* (the "path" event, `rnn-tui train --json`, the Train screen):

- eager: the loop body as written (the plain path);
- bf16: the forward and loss under `torch.autocast(dtype=bfloat16)`, weights and updates in fp32;
- compiled: the model's forward through `torch.compile`;
- CUDA graph: the whole step — forward, backward, clipping, update — captured once and replayed
  (torch.cuda.graphs, "whole-network capture"). Small RNNs are launch-bound: d2l's LSTM step is a
  few hundred tiny kernels whose launch costs more than their arithmetic. A graph needs static
  shapes and buffers, so the task supplies them (`GraphTask`: the language model's minibatches
  all have one shape); the batch is copied into the static inputs before each replay.

A requested path that cannot run here is not silent: `auto` falls back with the reason in the
path's notes, `on` refuses the run with one line before anything is written (ConfigError), and a
capture or compilation that fails at the first step falls back to eager with the error in the
notes. The first step's capture or compile time (`warmup_s`) and any later recompilation
(`recompiles`, `recompile_s`: a new input shape, a failed guard) are left out of tokens/s and
shown beside them, not hidden in them.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import torch

from rnn_tui.checkpoints.device import bf16_problem, is_out_of_memory
from rnn_tui.models import fused_steps, recurrent_chain
from rnn_tui.models.step_matmul import measuring_seconds
from rnn_tui.train.clipping import grad_clipping
from rnn_tui.train.compiled import compile_seconds, eager_parts, graph_breaks
from rnn_tui.train.config import Config, ConfigError
from rnn_tui.train.options import COMPILE_MODES, GRAPH_MODES, PRECISIONS

# Warm-up steps on a side stream before capture (the CUDA graphs recipe); their updates are
# undone, so a graphed run trains on exactly the minibatches an eager one does.
WARMUP_STEPS = 3


@runtime_checkable
class GraphTask(Protocol):
    """What a task supplies for a CUDA-graph step: static buffers for one minibatch and the
    recurrent state, and a loss that reads only them."""

    def graph_buffers(self, model, data) -> None: ...

    def load_static(self, data, b: int, fresh: bool) -> None: ...

    def static_loss(self, model) -> torch.Tensor: ...

    def carry_static(self) -> None: ...


@dataclass
class StepPath:
    """Which path a run's steps take, and why the others were not taken."""

    device: str
    graph: bool = False
    precision: str = "fp32"
    compiled: bool = False
    warmup_s: float | None = None
    notes: list[str] = field(default_factory=list)
    # Timing the prepacked and plain recurrent products at the first step (models/step_matmul.py):
    # in the notes and, like warmup_s, left out of tokens/s.
    measure_s: float = 0.0
    # Compilations after the first step (a new input shape, a failed guard): their count and
    # seconds, left out of tokens/s like warmup_s and shown beside it.
    recompiles: int = 0
    recompile_s: float = 0.0
    # Data parallelism under torchrun (train/distributed.py): how many processes share each
    # minibatch, and their backend. tokens/s counts all of them.
    processes: int = 1
    backend: str = ""
    # Whether a scratch cell ran C loops (models/fused_steps.py, models/recurrent_chain.py).
    c_loops: bool = False
    # The notes on a path asked for and not (all) taken; the Train screen tells these.
    departures: list[str] = field(default_factory=list)

    def depart(self, note: str) -> None:
        self.notes.append(note)
        self.departures.append(note)

    def text(self) -> str:
        """One line, e.g. "CUDA graph · bf16 (captured in 1.8 s)", "eager · fp32",
        "eager · fp32 · C loops" or "eager · fp32 · DDP × 4 (nccl)"."""
        how = "CUDA graph" if self.graph else "compiled" if self.compiled else "eager"
        line = f"{how} · {self.precision}"
        if self.c_loops:
            line += " · C loops"
        if self.warmup_s is not None:
            verb = "captured" if self.graph else "compiled"
            again = ""
            if self.recompiles:
                again = f"; recompiled {self.recompiles}× in {self.recompile_s:.1f} s"
            line += f" ({verb} in {self.warmup_s:.1f} s{again})"
        if self.processes > 1:
            line += f" · DDP × {self.processes} ({self.backend})"
        return line

    def to_dict(self) -> dict:
        return {
            "path": self.text(),
            "device": self.device,
            "graph": self.graph,
            "precision": self.precision,
            "compiled": self.compiled,
            "warmup_s": self.warmup_s,
            "recompiles": self.recompiles,
            "recompile_s": self.recompile_s,
            "processes": self.processes,
            "c_loops": self.c_loops,
            "notes": list(self.notes),
            "departures": list(self.departures),
        }


def plan_path(config: Config, task, device: torch.device) -> StepPath:
    """The path a run will take on `device`, decided before anything is written; a path asked
    for with "on" that cannot run here is a ConfigError (one line)."""
    graph = str(config.get("graph", "off"))
    precision = str(config.get("precision", "fp32"))
    compiled = str(config.get("compile", "off")) == "on"
    path = StepPath(device=device.type, precision=precision, compiled=compiled)
    if precision == "bf16" and (problem := bf16_problem(device)):
        raise ConfigError(f"--precision bf16: {problem}")
    reason = _graph_refusal(task, device)
    if graph == "on" and reason:
        raise ConfigError(f"--graph on: {reason} (use --graph auto or off)")
    if graph != "off" and not reason:
        path.graph = True
    elif graph == "auto" and device.type == "cuda":
        path.depart(f"no CUDA graph: {reason}")
    if path.graph and compiled:
        path.compiled = False
        path.depart("not compiled: the CUDA graph replays the whole step already")
    return path


def _graph_refusal(task, device: torch.device) -> str:
    if device.type != "cuda":
        return f"CUDA graphs need a GPU (this run is on {device.type})"
    if not isinstance(task, GraphTask):
        return "this task's minibatches change shape from one to the next"
    return ""


class TrainStep:
    """Runs minibatch `b` of an epoch's data along the planned path; returns [loss (mean per
    token), gradient norm before clipping] as one tensor still on the device, for the epoch to
    add to its sums in one kernel. A graph's pair is its static output: read it (or add it)
    before the next step."""

    def __init__(self, task, model, optimizer, params, config: Config, path: StepPath) -> None:
        self.task, self.model, self.optimizer, self.params = task, model, optimizer, params
        self.clip = config.clip
        self.num_steps = int(config.get("num_steps", 0) or 0)
        self.path = path
        self.forward_model = model
        self._graph: torch.cuda.CUDAGraph | None = None
        self._static: torch.Tensor | None = None
        self._first = True
        self.reported = False  # the engine emits the "path" event once, after the first step
        self.pending_s = 0.0  # compile seconds the epoch has yet to leave out (`take_pending`)

    def autocast(self):
        if self.path.precision != "bf16":
            return contextlib.nullcontext()
        # A graph must not capture autocast's weight-cast cache (the CUDA graphs + AMP recipe).
        return torch.autocast(
            self.path.device, dtype=torch.bfloat16, cache_enabled=not self.path.graph
        )

    def run(self, data, b: int, fresh: bool) -> torch.Tensor:
        if self._first:
            self._first = False
            measured, setup = measuring_seconds(), fused_steps.setup_seconds()
            result = self._first_step(data, b, fresh)
            self.path.measure_s = measuring_seconds() - measured
            self._note_prepacked()
            # Building, checking and timing the C loops is left out of tokens/s as well.
            self.path.measure_s += fused_steps.setup_seconds() - setup
            self._note_fused()
            self._note_chain()
            return result
        if self._graph is not None:
            self.task.load_static(data, b, fresh)
            self._graph.replay()
            # No copy: on a GPU a launch costs as much as the small step's kernels, and the epoch
            # adds the pair to its sums (the same stream) before the next replay writes it.
            return self._static
        if not self.path.compiled:
            return self._eager(data, b, fresh)
        before = compile_seconds()
        result = self._eager(data, b, fresh)
        spent = compile_seconds() - before
        if spent > 0:
            self.path.recompiles += 1
            self.path.recompile_s += spent
            self.pending_s += spent
        return result

    def take_pending(self) -> float:
        """Seconds spent recompiling since the last call, to leave out of tokens/s."""
        spent, self.pending_s = self.pending_s, 0.0
        return spent

    def _eager(self, data, b: int, fresh: bool) -> torch.Tensor:
        with self.autocast():
            loss = self.task.batch_loss(self.forward_model, data, b, fresh=fresh)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        norm = grad_clipping(self.params, self.clip)
        self.optimizer.step()
        return _pair(loss, norm)

    def static_step(self) -> torch.Tensor:
        """The step on the task's static buffers: what a CUDA graph captures (and what a test
        runs eagerly on the CPU to check it equals the plain step)."""
        with self.autocast():
            loss = self.task.static_loss(self.model)
        loss.backward()
        norm = grad_clipping(self.params, self.clip)
        self.optimizer.step()
        self.task.carry_static()
        return _pair(loss, norm)

    def _first_step(self, data, b: int, fresh: bool) -> torch.Tensor:
        started = time.perf_counter()
        if self.path.graph:
            try:
                self._capture(data)
            except Exception as exc:  # noqa: BLE001 - any capture failure falls back to eager
                self._graph = None
                self.path.graph = False
                self.path.depart(f"CUDA graph capture failed, eager instead: {_line(exc)}")
            else:
                self.path.warmup_s = time.perf_counter() - started
                return self.run(data, b, fresh)
        if self.path.compiled:
            # The model as the step calls it: under torchrun its DDP wrapper, whose gradient
            # hooks average the ranks' gradients; compiling the bare model bypassed them.
            wrapped = self.forward_model
            try:
                breaks_before = graph_breaks()
                self.forward_model = torch.compile(wrapped)
                result = self._eager(data, b, fresh)
            except Exception as exc:  # noqa: BLE001 - a compiler error falls back to eager
                if is_out_of_memory(exc):
                    raise  # no compiler's fault: eager needs more (the engine says it)
                self.forward_model = wrapped
                self.path.compiled = False
                self.path.depart(f"torch.compile failed, eager instead: {_line(exc)}")
            else:
                self.path.warmup_s = time.perf_counter() - started
                for note in eager_parts(self.model, breaks_before):
                    self.path.depart(note)
                return result
        try:
            return self._eager(data, b, fresh)
        except RuntimeError as exc:
            # Out of memory is no missing kernel (fp32 needs more): the engine says it.
            if self.path.precision != "bf16" or is_out_of_memory(exc):
                raise
            # A CPU's oneDNN may have no bf16 kernel for a layer (nn.LSTM's forward on an AMD
            # EPYC without AVX-512 BF16): the run goes on in fp32 and says so. Nothing was
            # updated (the step failed before the optimizer's), and the first batch is fresh.
            self.path.precision = "fp32"
            self.path.depart(f"bf16 failed on this device, fp32 instead: {_line(exc)}")
            return self._eager(data, b, fresh)

    def _note_prepacked(self) -> None:
        """Say whether the eager fp32 path's recurrent products run prepacked (a scratch cell's
        loop on the CPU, models/step_matmul.py), and the times that decided it, once the first
        step has settled the path."""
        if self.path.graph or self.path.compiled or self.path.precision != "fp32":
            return
        verdict = getattr(self.model, "prepack_verdict", None)
        if verdict is None:
            return  # not eligible here (a GPU, small weights, nn.RNN/GRU/LSTM)
        chain = getattr(self.model, "chain_verdict", None)
        if chain is not None and chain.packed:
            return  # the time loops ran in C (`_note_chain`), not through these products
        names = self.model.prepacked_weights(self.num_steps)
        times = verdict.note(measured_now=self.path.measure_s > 0)
        if names:
            self.path.notes.append(
                f"recurrent products prepacked for oneDNN: {', '.join(names)} ({times})"
            )
        else:
            self.path.notes.append(f"recurrent products plain, faster here ({times})")

    def _note_fused(self) -> None:
        """Say whether a scratch GRU's or LSTM's element-wise steps ran as C loops on the eager
        fp32 CPU path (models/fused_steps.py), and if not, why."""
        if self.path.graph or self.path.compiled or self.path.precision != "fp32":
            return
        if self.path.device != "cpu" or not getattr(self.model, "fused_steps", False):
            return
        line = fused_steps.note()
        if line:
            self.path.notes.append(line)
            self.path.c_loops = fused_steps.in_use()

    def _note_chain(self) -> None:
        """Say whether a cell's time loops ran as one C call a pass on the eager fp32 CPU path
        (models/recurrent_chain.py, models/concise_chain.py), and the times that decided it."""
        if self.path.graph or self.path.compiled or self.path.precision != "fp32":
            return
        verdict = getattr(self.model, "chain_verdict", None)
        if verdict is None:
            return  # not eligible here (no C loops, a GPU, a small model)
        self.path.notes.append(recurrent_chain.note(verdict, self.path.measure_s > 0))
        self.path.c_loops = self.path.c_loops or verdict.packed

    def _capture(self, data) -> None:
        """Warm up on a side stream, undo the warm-up's updates, capture one static step."""
        task, model, optimizer = self.task, self.model, self.optimizer
        saved = _snapshot(model, optimizer)
        try:
            task.graph_buffers(model, data)
            task.load_static(data, 0, True)
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):
                for _ in range(WARMUP_STEPS):
                    optimizer.zero_grad(set_to_none=True)
                    self.static_step()
            torch.cuda.current_stream().wait_stream(side)
            _restore(model, optimizer, saved)
            graph = torch.cuda.CUDAGraph()
            optimizer.zero_grad(set_to_none=True)
            with torch.cuda.graph(graph):
                self._static = self.static_step()
        except Exception:
            # Whatever the warm-up changed is undone before the eager fallback trains.
            torch.cuda.synchronize()
            _restore(model, optimizer, saved, drop_made=True)
            optimizer.zero_grad(set_to_none=True)
            raise
        self._graph = graph


def _pair(loss: torch.Tensor, norm: torch.Tensor) -> torch.Tensor:
    """[loss, norm] as one tensor of the loss's dtype and device (the epoch sums in float64)."""
    return torch.stack((loss.detach(), norm.to(loss.device, loss.dtype)))


def _snapshot(model, optimizer) -> tuple[list[torch.Tensor], list[dict]]:
    params = [p.detach().clone() for p in model.parameters()]
    states = [
        {k: v.clone() if torch.is_tensor(v) else v for k, v in optimizer.state[p].items()}
        for p in model.parameters()
    ]
    return params, states


@torch.no_grad()
def _restore(model, optimizer, saved, drop_made: bool = False) -> None:
    """Back to the snapshot in place: the graph captures these very tensors. With `drop_made`
    (a failed capture), optimizer state the warm-up made is dropped: torch's Adam makes it a
    tensor at a time, and one half made (out of memory) failed each eager step (KeyError)."""
    params, states = saved
    for p, value, state in zip(model.parameters(), params, states, strict=True):
        p.copy_(value)
        live = optimizer.state[p]
        if drop_made and not state:
            live.clear()  # the optimizer makes it afresh at its next step
            continue
        for key in list(live):
            if key not in state:
                # Made by the warm-up (first Adam step): zero, as if never stepped.
                if torch.is_tensor(live[key]):
                    live[key].zero_()
            elif torch.is_tensor(live[key]):
                live[key].copy_(state[key])
            else:
                live[key] = state[key]


def _line(exc: BaseException) -> str:
    """One line naming what failed. The compiler wraps its errors ("BackendCompilerFailed:
    backend='inductor' raised:", the cause on the next line): the wrapped one is named."""
    inner = getattr(exc, "inner_exception", None)
    if isinstance(inner, BaseException) and inner is not exc:
        return _line(inner)
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    text = lines[0]
    if text.endswith(":") and len(lines) > 1:
        text = f"{text} {lines[1]}"
    return f"{type(exc).__name__}: {text}"


__all__ = [
    "COMPILE_MODES",
    "GRAPH_MODES",
    "PRECISIONS",
    "GraphTask",
    "StepPath",
    "TrainStep",
    "plan_path",
]
