"""Which torch device a run uses: "auto" (CUDA when present, else CPU), "cpu", "cuda", "cuda:N"."""

from __future__ import annotations

import re

import torch

from rnn_tui.checkpoints import DEVICE_CHOICES
from rnn_tui.checkpoints.memory import system_available


class DeviceError(ValueError):
    """The requested device does not exist here; the message is one line."""


def resolve_device(name: str = "auto") -> torch.device:
    """The torch.device for `name`; DeviceError when CUDA is asked for but absent."""
    name = (name or "auto").strip().lower()
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    match = re.fullmatch(r"cuda(?::(\d+))?", name)
    if match is None:
        raise DeviceError(f"unknown device {name!r} (choose from auto, cpu, cuda, cuda:N)")
    if not torch.cuda.is_available():
        build = "has no CUDA support" if torch.version.cuda is None else "sees no CUDA GPU"
        raise DeviceError(
            f"CUDA was requested but this torch {torch.__version__} {build}; "
            "use --device cpu or auto"
        )
    index = int(match.group(1) or 0)
    count = torch.cuda.device_count()
    if index >= count:
        raise DeviceError(f"no CUDA device {index} (this machine has {count})")
    return torch.device("cuda", index)


def prepare_device(device: torch.device) -> None:
    """Process-wide settings for training on `device`.

    On CPU, flush denormal floats to zero: gradients of saturated tanh/sigmoid units decay into
    the denormal range, where x86 arithmetic is many times slower; training a char GRU measured
    about 4 % faster with no visible change in the loss curve (benchmarks/README.md).

    The flag is per thread, and torch's CPU worker threads copy it from the thread that starts
    them, at torch's first parallel operation; a later call reaches the calling thread only.
    A trainer process therefore calls `prepare_device_early` before anything else.
    """
    if device.type == "cpu":
        torch.set_flush_denormal(True)


def prepare_device_early(name: str | None) -> None:
    """`prepare_device` for the device `name` will resolve to, before torch's first parallel
    operation starts its worker threads, so that they flush denormals too. A resumed run loads
    its checkpoint first, and those copies started the threads: on 2 threads, half of every
    product went on computing with denormals. A device that does not resolve is left for the
    trainer to report."""
    try:
        prepare_device(resolve_device(name or "auto"))
    except DeviceError:
        pass


def available_memory(device: torch.device) -> int | None:
    """Bytes free for a new allocation on `device`: the GPU's free memory, or the system's
    available memory on the CPU; None when it cannot be told."""
    if device.type == "cuda":
        try:
            free, _ = torch.cuda.mem_get_info(device)
        except (RuntimeError, AssertionError):
            return None
        return int(free)
    return system_available()


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether `exc` is an allocation that failed (torch's OutOfMemoryError on a GPU, the CPU
    allocator's RuntimeError, or Python's MemoryError)."""
    if isinstance(exc, MemoryError | torch.OutOfMemoryError):
        return True
    text = str(exc)
    return isinstance(exc, RuntimeError) and (
        "out of memory" in text or "can't allocate memory" in text or "not enough memory" in text
    )


def bf16_problem(device: torch.device) -> str | None:
    """Why `device` cannot run bf16 arithmetic, or None: a CUDA GPU before Ampere (compute
    capability 8.0) has no bf16 units. Asked of `device`, not the current GPU, and not through
    torch.cuda.is_bf16_supported(), which says yes to any GPU that can hold a bf16 tensor (its
    arithmetic emulated, slower than fp32 on a V100 or T4)."""
    if device.type != "cuda" or torch.version.hip:
        return None
    major, minor = torch.cuda.get_device_capability(device)
    if major >= 8:
        return None
    return (
        f"{torch.cuda.get_device_name(device)} (compute capability {major}.{minor}) has no bf16 "
        "units (GPUs from 8.0, Ampere, have): use --precision fp32"
    )


# cudaErrorDevicesUnavailable (a GPU in exclusive mode that another process holds) and
# cudaErrorNoDevice: the machine's state, not a bug of the program.
_UNAVAILABLE = ("busy or unavailable", "no CUDA-capable device is detected")


def gpu_unavailable(exc: BaseException) -> str:
    """The CUDA error's own line where `exc` says the GPU cannot be used at all, else ""."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, RuntimeError) and any(text in first for text in _UNAVAILABLE):
        return first
    return ""


def to_device(tensor: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Pinned and non-blocking to a GPU, a plain copy elsewhere, or where the system refuses
    page-locked memory: pinning only speeds the copy, and its refusal ("CUDA error: out of
    memory" from cudaHostAlloc, with the GPU free) failed the run as out of GPU memory."""
    if device.type == "cuda":
        try:
            pinned = tensor.pin_memory()
        except RuntimeError:
            return tensor.to(device)
        return pinned.to(device, non_blocking=True)
    return tensor.to(device)


def describe_device(device: torch.device) -> str:
    """A short label for logs and the UI: "cpu" or "cuda:0 (NVIDIA H100 ...)"."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return f"cuda:{index} ({torch.cuda.get_device_name(index)})"
    return device.type


__all__ = [
    "to_device",
    "DEVICE_CHOICES",
    "DeviceError",
    "available_memory",
    "bf16_problem",
    "describe_device",
    "gpu_unavailable",
    "is_out_of_memory",
    "prepare_device",
    "prepare_device_early",
    "resolve_device",
]
