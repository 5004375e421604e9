"""What the machine spends on a run: the trainer process's CPU and memory (from /proc on
Linux), and each GPU's load, memory and temperature through NVML (the optional `nvidia-ml-py`
package, `import pynvml`). Whatever cannot be read — no /proc, no NVML, no GPU, a driver that
errs — is simply absent: these never raise and never import torch.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass

from rnn_tui.runs.process import rss_mb

__all__ = [
    "CpuMeter",
    "GpuStat",
    "cpu_ticks",
    "gpu_choices",
    "gpu_stats",
    "rss_mb",
    "stat_ticks",
]

try:
    CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
except (AttributeError, ValueError, OSError):  # not POSIX
    CLOCK_TICKS = 100


def stat_ticks(data: bytes) -> int | None:
    """utime + stime from the text of /proc/PID/stat. The command name (field 2) is in
    parentheses and may hold spaces or ')': the fields after the last ')' start at field 3, so
    utime and stime (fields 14 and 15) are the 12th and 13th of them."""
    try:
        fields = data[data.rindex(b")") + 2 :].split()
        return int(fields[11]) + int(fields[12])
    except (ValueError, IndexError):
        return None


def cpu_ticks(pid: int) -> int | None:
    """User + system CPU time of process `pid` so far, in clock ticks (/proc/PID/stat)."""
    try:
        with open(f"/proc/{int(pid)}/stat", "rb") as f:
            return stat_ticks(f.read(4096))
    except (OSError, ValueError, TypeError):
        return None


class CpuMeter:
    """CPU use of processes between two looks, in percent of one core (200 = two cores busy)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._last: dict[int, tuple[int, float]] = {}

    def percent(self, pid: int) -> float | None:
        """Since the previous call for `pid`; None on the first call or when it cannot be read."""
        ticks, now = cpu_ticks(pid), self.clock()
        previous = self._last.get(pid)
        if ticks is None:
            self._last.pop(pid, None)
            return None
        self._last[pid] = (ticks, now)
        if previous is None or now <= previous[1] or ticks < previous[0]:
            return None
        return 100.0 * (ticks - previous[0]) / CLOCK_TICKS / (now - previous[1])


@dataclass(frozen=True)
class GpuStat:
    """One GPU as NVML reports it now."""

    index: int
    name: str
    utilization: int | None  # percent of the last sample period a kernel ran
    memory_used_mb: float | None
    memory_total_mb: float | None
    temperature_c: int | None

    def text(self) -> str:
        """ "GPU0 NVIDIA H100 · 87 % · 3,210/81,559 MB · 61 °C" (the parts that are known)."""
        parts = [f"GPU{self.index} {self.name}"]
        if self.utilization is not None:
            parts.append(f"{self.utilization} %")
        if self.memory_used_mb is not None and self.memory_total_mb is not None:
            parts.append(f"{self.memory_used_mb:,.0f}/{self.memory_total_mb:,.0f} MB")
        if self.temperature_c is not None:
            parts.append(f"{self.temperature_c} °C")
        return " · ".join(parts)


_nvml = None  # the pynvml module once initialised; False when it cannot be


def _pynvml():
    global _nvml
    if _nvml is None:
        try:
            import pynvml

            pynvml.nvmlInit()
            _nvml = pynvml
        except Exception:  # not installed, no driver, no GPU: nothing to show
            _nvml = False
    return _nvml or None


def _try(call, *args):
    try:
        return call(*args)
    except Exception:
        return None


def _text(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value or "")


def _cuda_order(nvml, count: int) -> list[int]:
    """NVML's index of each GPU that CUDA numbers 0, 1, …: NVML sees every GPU, CUDA only
    those CUDA_VISIBLE_DEVICES names (indices or UUIDs), in its order, up to the first entry
    that names none, as CUDA reads it. With "2,3" a trainer's cuda:0 is NVML's GPU 2."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return list(range(count))
    uuids: list[str] | None = None
    order: list[int] = []
    for entry in (part.strip() for part in visible.split(",")):
        if entry.isdigit():
            index = int(entry)
        else:
            if uuids is None:
                handles = [_try(nvml.nvmlDeviceGetHandleByIndex, i) for i in range(count)]
                uuids = [_text(h and _try(nvml.nvmlDeviceGetUUID, h)) for h in handles]
            found = [i for i, uuid in enumerate(uuids) if entry and uuid.startswith(entry)]
            index = found[0] if len(found) == 1 else -1
        if not 0 <= index < count or index in order:
            break
        order.append(index)
    return order


def gpu_stats() -> list[GpuStat]:
    """Every GPU NVML sees that CUDA does too, now, numbered as CUDA numbers them (cuda:N);
    [] without NVML or a GPU."""
    nvml = _pynvml()
    if nvml is None:
        return []
    count = _try(nvml.nvmlDeviceGetCount) or 0
    stats = []
    for index, nvml_index in enumerate(_cuda_order(nvml, count)):
        handle = _try(nvml.nvmlDeviceGetHandleByIndex, nvml_index)
        if handle is None:
            continue
        name = _text(_try(nvml.nvmlDeviceGetName, handle)) or "GPU"
        rates = _try(nvml.nvmlDeviceGetUtilizationRates, handle)
        memory = _try(nvml.nvmlDeviceGetMemoryInfo, handle)
        temperature = _try(nvml.nvmlDeviceGetTemperature, handle, 0)  # NVML_TEMPERATURE_GPU
        stats.append(
            GpuStat(
                index,
                name,
                getattr(rates, "gpu", None),
                memory.used / 2**20 if memory is not None else None,
                memory.total / 2**20 if memory is not None else None,
                temperature,
            )
        )
    return stats


def gpu_choices() -> list[tuple[str, str]]:
    """The device drop-down's entries for the GPUs found: ("cuda:0 · NVIDIA H100", "cuda:0")."""
    return [(f"cuda:{g.index} · {g.name}", f"cuda:{g.index}") for g in gpu_stats()]
