"""torch's shared libraries loaded ahead of its first import, with the GIL released.

The app imports torch in a worker thread the first time a screen needs it, but an import holds
the GIL while the dynamic loader maps the libraries and runs their static initialisers:
`from torch._C import *` held the event loop for 165–200 ms (measured on 2 cores, a 2 ms
ticker thread). `ctypes.CDLL` holds it too (the same gap, inside `ctypes.CDLL`). A foreign call
through ctypes releases it, so libc's own `dlopen` called that way loads the libraries while
the event loop runs on; the import then finds them loaded and pays only its Python part (the
longest gap left: 44–64 ms).

Only for a CPU build of torch on Linux: a CUDA build preloads its CUDA libraries in its own
order on import (torch/__init__.py `_load_global_deps`), which this must not get ahead of, and
a ROCm or XPU build is left alone likewise.
Anything unexpected leaves the work to the import, as before; nothing here imports torch.
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from pathlib import Path

# What `import torch` loads first (RTLD_GLOBAL, as torch does), then the library its extension
# module links to, which brings libtorch_cpu, libc10 and the rest (RTLD_LOCAL: as an import).
GLOBAL_DEPS = "libtorch_global_deps.so"
PYTHON_LIB = "libtorch_python.so"
CUDA_LIB = "libtorch_cuda.so"  # present in a CUDA build only
# A build for any accelerator (CUDA, ROCm, XPU) loads its own libraries in its own order.
ACCELERATOR_LIBS = (CUDA_LIB, "libtorch_hip.so", "libtorch_xpu.so")


def torch_library_dir() -> Path | None:
    """torch/lib of the installed torch, found without importing it (None when not found)."""
    try:
        spec = importlib.util.find_spec("torch")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "lib"


def preload_torch_libraries(lib: Path | None = None) -> bool:
    """Load torch's libraries with the GIL released (see the module docstring); True when they
    are loaded, False when this build or platform is left to the import. Meant for a thread:
    it takes ~0.2 s and ~110 MB of resident memory."""
    if "torch._C" in sys.modules:
        return True  # imported already
    if not sys.platform.startswith("linux"):
        return False
    lib = torch_library_dir() if lib is None else lib
    if lib is None or any((lib / name).exists() for name in ACCELERATOR_LIBS):
        return False
    if not all((lib / name).is_file() for name in (GLOBAL_DEPS, PYTHON_LIB)):
        return False
    try:
        dlopen = ctypes.CDLL(None).dlopen  # a foreign call: ctypes releases the GIL around it
    except (OSError, AttributeError):
        return False
    dlopen.restype, dlopen.argtypes = ctypes.c_void_p, (ctypes.c_char_p, ctypes.c_int)
    for name, scope in ((GLOBAL_DEPS, os.RTLD_GLOBAL), (PYTHON_LIB, os.RTLD_LOCAL)):
        # Never closed: the import reuses the loaded libraries.
        if not dlopen(os.fsencode(lib / name), os.RTLD_NOW | scope):
            return False
    return True


__all__ = ["ACCELERATOR_LIBS", "preload_torch_libraries", "torch_library_dir"]
