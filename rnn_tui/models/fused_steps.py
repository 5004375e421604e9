"""C loops for the scratch cells: the GRU's and LSTM's element-wise steps, the RNN's time loop.

Between its recurrent products a GRU step applies σ to both gates, forms R_t ⊙ H_{t-1}, takes
the tanh of H̃_t and blends H_t = Z_t ⊙ H_{t-1} + (1 − Z_t) ⊙ H̃_t (d2l §9.1); its BPTT step
multiplies five more times. As torch kernels each is a dispatch and a pass over memory: 47 µs a
forward step at batch 32 and hidden 256 on this project's machine, where one C loop per gap
between products does the same arithmetic in one pass (22 µs), and the scratch GRU trains 17 %
faster (benchmarks/README.md). The LSTM's gates, C_t, tanh C_t and H_t (d2l §9.2) are one loop
forward and one backward (steps_c.py). Each scratch cell's whole time loop, products included,
can also be one C call a pass (chain_c.py, recurrent_chain.py).

The C source is built once per machine and compiler with the system's C compiler (`cc`,
or $CC) into the cache folder (token_cache.cache_dir() / "native", private to the user) and
loaded with ctypes, which releases the GIL during each call. It runs only where it is known to
agree and to pay: each process checks the loops against torch's kernels on random values and
times both once (`load`). Where there is no compiler, the build fails, the check disagrees or the
loops are slower, the torch kernels run as before and the run's path notes say why;
$RNN_TUI_NATIVE=off turns the loops off; $RNN_TUI_NATIVE=on uses them wherever they build and
agree, without the timing (whose outcome a busy machine can turn either way), and so does a
cell's time loop as one C call (models/base.py `_chaining`). CPU float32 only,
outside autocast and torch.compile.

Same arithmetic, another rounding: σ(x) = 1 / (1 + e^{−x}) and libm's (vectorised) expf and
tanhf, so values agree with torch's to float32 rounding (tests/test_fused_steps.py,
tests/test_recurrent_chain.py), not bit for bit.
"""

from __future__ import annotations

import functools
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import ctypes

from rnn_tui.models.chain_c import SOURCE as CHAIN_SOURCE
from rnn_tui.models.gru_chain_c import SOURCE as TORCH_GRU_SOURCE
from rnn_tui.models.panel_product_c import SOURCE as PRODUCT_SOURCE
from rnn_tui.models.rnn_chain_c import SOURCE as RNN_CHAIN_SOURCE
from rnn_tui.models.steps_c import SOURCE as STEPS_SOURCE
from rnn_tui.quoting import bounded, quoted, visible

NATIVE_ENV = "RNN_TUI_NATIVE"
VERSION = 1
BUILD_TIMEOUT_S = 60.0
FLAGS = ("-O3", "-fno-math-errno", "-fopenmp-simd", "-shared", "-fPIC")
NATIVE_FLAG = "-march=native"  # tried first; a compiler that lacks it builds without
# With -march=native on an AVX-512 CPU, GCC still vectorises loops 8 floats wide; 16 wide the
# tanh and σ passes of the chains took 0.35 ms less of a scratch RNN's 10 ms pass (a 2-core
# Xeon). Tried with -march=native first, then without it.
WIDE_FLAG = "-mprefer-vector-width=512"
# The RNN's chain (chain_c.py) runs its threads in OpenMP; a compiler without it (Apple's clang)
# builds the same source single-threaded.
OPENMP_FLAG = "-fopenmp"
POSIX = os.name == "posix"

SOURCE = STEPS_SOURCE + PRODUCT_SOURCE + CHAIN_SOURCE + RNN_CHAIN_SOURCE + TORCH_GRU_SOURCE

# Each function's pointer arguments, then its integer ones.
SIGNATURES = {
    "gru_fwd_a": (3, 2),
    "gru_fwd_b": (4, 2),
    "gru_bwd_a": (6, 2),
    "gru_bwd_b": (6, 2),
    "lstm_fwd": (5, 2),
    "lstm_bwd": (6, 2),
    "rnn_chain_forward": (8, 5),
    "rnn_chain_backward": (10, 6),
    "lstm_chain_forward": (7, 4),
    "lstm_chain_backward": (7, 4),
    "gru_chain_forward": (9, 4),
    "gru_chain_backward": (9, 4),
    "tgru_chain_forward": (7, 4),
    "tgru_chain_backward": (7, 4),
    "chain_threads": (0, 0),
}


@dataclass(frozen=True)
class Loaded:
    """What `load` found: the loops (None where the torch kernels run) and one line saying so."""

    lib: ctypes.CDLL | None
    note: str
    setup_s: float = 0.0


def env_problem() -> str | None:
    """One line when $RNN_TUI_NATIVE holds something other than on or off, else None."""
    text = os.environ.get(NATIVE_ENV, "").strip()
    if text.lower() in ("", "on", "off"):
        return None
    return f"${NATIVE_ENV} must be on or off (got {quoted(text)})"


_lock = threading.Lock()
_loaded: list[Loaded] = []


def load() -> Loaded:
    """The loops for this process: built (or found built) once, checked against torch's kernels
    and timed against them (unless $RNN_TUI_NATIVE=on); the outcome is kept for the process."""
    with _lock:
        if not _loaded:
            started = time.perf_counter()
            lib, note = _load()
            _loaded.append(Loaded(lib, note, time.perf_counter() - started))
        return _loaded[0]


def setup_seconds() -> float:
    """The time `load` took in this process (0 before it ran): a run leaves it out of tokens/s."""
    return _loaded[0].setup_s if _loaded else 0.0


def note() -> str | None:
    """One line for a run's path notes: the loops' outcome in this process (None before they
    were looked for)."""
    if _off():
        return f"element-wise steps in torch: ${NATIVE_ENV}=off"
    return _loaded[0].note if _loaded else None


def in_use() -> bool:
    """Whether the loops run in this process (found, checked and faster, and not turned off)."""
    return not _off() and bool(_loaded) and _loaded[0].lib is not None


def _off() -> bool:
    return os.environ.get(NATIVE_ENV, "").strip().lower() == "off"


def forced() -> bool:
    """Whether $RNN_TUI_NATIVE=on asks for the loops wherever they build and agree, untimed
    (the element-wise loops here, and a cell's time loop as one C call, models/base.py)."""
    return os.environ.get(NATIVE_ENV, "").strip().lower() == "on"


def loops_for(x) -> ctypes.CDLL | None:
    """The loops where they apply to the buffer `x` (a contiguous CPU float32 tensor, outside
    autocast and torch.compile) and loaded here, else None: the caller runs torch's kernels."""
    import torch

    if (
        x.device.type != "cpu"
        or x.dtype != torch.float32
        or torch.compiler.is_compiling()
        or torch.is_autocast_enabled("cpu")
        or _off()
    ):
        return None
    return load().lib


def _load() -> tuple[ctypes.CDLL | None, str]:
    # Imported here: the CLI reads env_problem at every start, `rnn-tui --help` included.
    import subprocess

    if _off():
        return None, f"element-wise steps in torch: ${NATIVE_ENV}=off"
    if not POSIX:  # the build and the private-folder checks are POSIX's
        return None, "element-wise steps in torch: the C loops are built on Linux and macOS"
    compiler = _compiler()
    if compiler is None:
        return None, "element-wise steps in torch: no C compiler (cc, gcc or clang, or $CC)"
    try:
        lib, built = _opened(compiler)
    except (OSError, subprocess.SubprocessError, AttributeError, BuildError) as exc:
        said = bounded(visible(str(exc)), 200)
        return None, f"element-wise steps in torch: the C loops did not build or load ({said})"
    from rnn_tui.models.fused_check import agrees, timed

    if not agrees(lib):
        return None, "element-wise steps in torch: the C loops disagreed with torch's kernels here"
    if forced():  # asked for: no timing, whose outcome a busy machine can turn either way
        return lib, f"element-wise steps fused in C loops ({built}; ${NATIVE_ENV}=on, not timed)"
    ours, theirs = timed(lib)
    times = f"timed here on a GRU step: {ours:.0f} µs against {theirs:.0f} µs in torch"
    if ours >= theirs:
        return None, f"element-wise steps in torch, faster here ({times})"
    return lib, f"element-wise steps fused in C loops ({built}; {times})"


def _opened(compiler: list[str]) -> tuple[ctypes.CDLL, str]:
    """The library loaded, its loops declared; one found damaged (an earlier build cut short,
    a full disk) is built again once."""
    import ctypes

    # torch first: the library's OpenMP runtime (libgomp.so.1) then resolves to the one torch
    # has loaded, whose threads are torch's, rather than to a second pool competing for cores.
    import torch  # noqa: F401

    path, built = _built(compiler)
    try:
        lib = ctypes.CDLL(str(path))
        _declare(lib)
    except (OSError, AttributeError):
        if built != "built before":
            raise
        path.unlink(missing_ok=True)
        path, built = _built(compiler)
        lib = ctypes.CDLL(str(path))
        _declare(lib)
    return lib, built


def _declare(lib) -> None:
    import ctypes

    for name, (pointers, integers) in SIGNATURES.items():
        function = getattr(lib, name)
        function.argtypes = [ctypes.c_void_p] * pointers + [ctypes.c_long] * integers
        function.restype = ctypes.c_long if name == "chain_threads" else None


class BuildError(Exception):
    """The compiler refused the source, or the cache folder is not safe to load code from."""


def _compiler() -> list[str] | None:
    import shlex
    import shutil

    given = os.environ.get("CC", "").strip()
    if given:
        words = shlex.split(given)
        found = shutil.which(words[0]) if words else None
        return [found, *words[1:]] if found else None
    for name in ("cc", "gcc", "clang"):
        found = shutil.which(name)
        if found:
            return [found]
    return None


def _built(compiler: list[str]) -> tuple[Path, str]:
    """The shared library for this source, compiler and CPU, built into the private cache folder
    unless it is there; returns its path and "built in 0.4 s" or "built before"."""
    import subprocess
    import tempfile

    folder = _folder()
    key = _key(compiler)
    path = folder / f"steps-{key}.so"
    if _safe_file(path):
        return path, "built before"
    started = time.perf_counter()
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".steps-", suffix=".so")
    os.close(fd)
    try:
        for flags in _flag_sets():
            done = subprocess.run(
                [*compiler, *flags, "-x", "c", "-", "-o", tmp, "-lm"],
                input=SOURCE.encode(),
                capture_output=True,
                timeout=BUILD_TIMEOUT_S,
                check=False,
            )
            if done.returncode == 0:
                break
        else:
            lines = done.stderr.decode(errors="replace").strip().splitlines()
            said = lines[0] if lines else f"exit {done.returncode}"
            raise BuildError(said)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path, f"built in {time.perf_counter() - started:.1f} s"


def _flag_sets() -> list[tuple[str, ...]]:
    """The flags tried in turn: OpenMP and this CPU's instructions (its widest vectors first)
    first, then without each."""
    return [
        (*native, *openmp, *FLAGS)
        for openmp in ((OPENMP_FLAG,), ())
        for native in ((NATIVE_FLAG, WIDE_FLAG), (NATIVE_FLAG,), ())
    ]


def _folder() -> Path:
    """cache_dir()/native, created private; where that cannot be (no home, a read-only cache,
    a folder other users may write to: code loaded from it would be theirs), a private folder
    of this user's in the temp directory, else a new one."""
    import tempfile

    from rnn_tui.data.token_cache import cache_dir

    uid = os.geteuid()
    for folder in (cache_dir() / "native", Path(tempfile.gettempdir()) / f"rnn-tui-native-{uid}"):
        try:
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            if _private(folder):
                return folder
        except OSError:
            pass
    return Path(tempfile.mkdtemp(prefix="rnn-tui-native-"))


def _private(path: Path) -> bool:
    import stat

    st = path.lstat()
    return st.st_uid == os.geteuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _safe_file(path: Path) -> bool:
    import stat

    try:
        return stat.S_ISREG(path.lstat().st_mode) and _private(path)
    except OSError:
        return False


def _key(compiler: list[str]) -> str:
    """What the library depends on: the source, flags, the compiler's version and this CPU
    (-march=native builds for it)."""
    import hashlib
    import platform
    import subprocess

    version = subprocess.run(
        [*compiler, "--version"], capture_output=True, timeout=30, check=False
    ).stdout[:4096]
    fields = [str(VERSION), SOURCE, " ".join(FLAGS), NATIVE_FLAG, WIDE_FLAG, OPENMP_FLAG]
    fields.append(" ".join(compiler))
    fields += [version.decode(errors="replace"), platform.machine(), _cpu()]
    return hashlib.sha256("\0".join(fields).encode()).hexdigest()[:32]


@functools.cache
def _cpu() -> str:
    """This CPU's model and feature flags (Linux), else what platform says."""
    import platform

    try:
        with open("/proc/cpuinfo", "rb") as handle:  # not a regular file: read with a cap
            text = handle.read(1 << 20).decode(errors="replace")
    except OSError:
        return platform.processor()
    wanted = ("model name", "flags", "Features", "CPU part")
    lines = [line for line in text.splitlines() if line.split(":")[0].strip() in wanted]
    return "\n".join(dict.fromkeys(lines))


__all__ = [
    "NATIVE_ENV",
    "Loaded",
    "env_problem",
    "load",
    "in_use",
    "loops_for",
    "note",
    "setup_seconds",
]
