"""torch's libraries loaded ahead of its import with the GIL released (tui/torch_libraries.py):
loaded without importing torch, torch then imports and computes, an accelerator build and
anything unexpected left to the import, and the app doing it, then importing the screens'
modules, in a thread after start-up."""

from __future__ import annotations

import subprocess
import sys

import pytest

from rnn_tui.tui import torch_libraries
from rnn_tui.tui.torch_libraries import (
    ACCELERATOR_LIBS,
    GLOBAL_DEPS,
    PYTHON_LIB,
    preload_torch_libraries,
    torch_library_dir,
)

LINUX_CPU_BUILD = sys.platform.startswith("linux") and not any(
    (torch_library_dir() / name).exists() for name in ACCELERATOR_LIBS
)


@pytest.mark.skipif(not LINUX_CPU_BUILD, reason="preloads only a CPU build of torch on Linux")
def test_the_libraries_load_without_importing_torch_which_then_works():
    script = (
        "import sys\n"
        "from rnn_tui.tui.torch_libraries import preload_torch_libraries\n"
        "assert preload_torch_libraries() is True\n"
        "assert 'torch' not in sys.modules and 'torch._C' not in sys.modules\n"
        "maps = open('/proc/self/maps').read()\n"
        "assert 'libtorch_cpu.so' in maps and 'libtorch_python.so' in maps\n"
        "import torch\n"
        "print(float(torch.ones(3) @ torch.arange(3.0)), torch.randn(2, 2).shape)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["3.0", "torch.Size([2,", "2])"]


def _no_dlopen(monkeypatch):
    def refused(*args, **kwargs):
        raise AssertionError("dlopen called")

    monkeypatch.setattr(torch_libraries.ctypes, "CDLL", refused)
    monkeypatch.delitem(sys.modules, "torch._C")  # as if torch were not imported yet


def _fake_lib(tmp_path, *names: str, content: bytes = b"not a library"):
    tmp_path.mkdir()
    for name in names:
        (tmp_path / name).write_bytes(content)
    return tmp_path


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")
def test_an_accelerator_build_or_missing_libraries_are_left_to_the_import(tmp_path, monkeypatch):
    import torch  # noqa: F401 (torch._C in sys.modules, to take out)

    _no_dlopen(monkeypatch)
    for accelerator in ACCELERATOR_LIBS:
        built = _fake_lib(tmp_path / accelerator, GLOBAL_DEPS, PYTHON_LIB, accelerator)
        assert preload_torch_libraries(built) is False
    missing = _fake_lib(tmp_path / "missing", GLOBAL_DEPS)
    assert preload_torch_libraries(missing) is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux only")
def test_files_that_are_not_libraries_are_refused_without_an_error(tmp_path, monkeypatch):
    import torch  # noqa: F401

    monkeypatch.delitem(sys.modules, "torch._C")
    lib = _fake_lib(tmp_path / "lib", GLOBAL_DEPS, PYTHON_LIB)
    assert preload_torch_libraries(lib) is False


def test_with_torch_imported_there_is_nothing_to_load(monkeypatch):
    import torch  # noqa: F401

    monkeypatch.setattr(torch_libraries.ctypes, "CDLL", None)  # would fail if called
    assert preload_torch_libraries() is True


@pytest.mark.parametrize(("warm", "runs"), [(None, False), (True, True), (False, False)])
async def test_the_app_warms_up_in_a_thread_after_start_up(tui, monkeypatch, warm, runs):
    import threading

    from rnn_tui.tui import app as app_module
    from rnn_tui.tui import screen_spec as spec_module

    threads: list[bool] = []

    def recorded() -> bool:
        threads.append(threading.current_thread() is threading.main_thread())
        return True

    imported: list[str] = []
    import_module = spec_module.import_module
    monkeypatch.setattr(spec_module, "preload_torch_libraries", recorded)
    monkeypatch.setattr(
        spec_module, "import_module", lambda name: (imported.append(name), import_module(name))[1]
    )
    app = tui.make_app()
    app.warm_up_in_background = warm  # None: only in a terminal (tests run headless)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause(app.WARM_UP_AFTER_S + 0.3)
        await app.workers.wait_for_complete()
        warming = [app._warming] if app._warming is not None else []
        assert len(warming) == runs
        for worker in warming:
            # The imports run in a daemon thread: a quit meanwhile is not kept waiting for it.
            ahead = worker.result
            assert ahead.daemon and ahead is not threading.current_thread()
            ahead.join(60)
        assert app.current_mode == "dataset"  # warmed up, not opened
    assert threads == ([False] if runs else [])
    lazy = [spec.factory.module for spec in app_module.SCREEN_SPECS[1:]]
    screens = [name for name in imported if name.startswith("rnn_tui.tui.screens.")]
    # The help's module first: the first `?` imported it with the loop waiting (~35 ms).
    assert screens == (["rnn_tui.tui.screens.help", *lazy] if runs else [])
    assert len(lazy) == 6 and all(name.startswith("rnn_tui.tui.screens.") for name in lazy)
    # Then the backend modules the screens' workers import (torch with them), none of the TUI.
    backend = [name for name in imported if name not in screens]
    expected = {"rnn_tui.decode.generate", "rnn_tui.decode.translate", "rnn_tui.probe.report"}
    assert (expected <= set(backend)) == runs and not any(".tui." in n for n in backend)


@pytest.mark.parametrize("freeze", [True, False])
def test_the_workers_modules_are_imported_with_collection_paused(tmp_path, monkeypatch, freeze):
    """torch's import, left to a screen's first worker, set off full collections of 40-65 ms
    with the GIL held; the warm-up imports it with collection paused, and freezes what it
    built before collection resumes where the app freezes its long-lived objects."""
    import gc

    from rnn_tui.tui import screen_spec as spec_module
    from rnn_tui.tui.screens.mode_screen import ModeScreen

    (tmp_path / "warm_probe.py").write_text("import gc\nCOLLECTING = gc.isenabled()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "warm_probe", raising=False)
    monkeypatch.setattr(spec_module, "preload_torch_libraries", lambda: True)

    class Probe(ModeScreen):
        WORKER_MODULES = ("warm_probe",)

    spec = spec_module.ScreenSpec("9", "probe", "Probe", Probe)
    before = gc.get_freeze_count()
    try:
        spec_module.import_ahead([spec], freeze=freeze)
        assert sys.modules["warm_probe"].COLLECTING is False
        assert gc.isenabled()
        assert (gc.get_freeze_count() > before) == freeze
    finally:
        gc.unfreeze()
        sys.modules.pop("warm_probe", None)


def test_every_backend_module_a_screen_imports_on_use_is_warmed_up():
    """A screen's decoding or probing module imported inside a function (in a worker, on first
    use) is one of the screens' WORKER_MODULES, so that the warm-up has imported it first."""
    import ast
    from pathlib import Path

    from rnn_tui.tui import app as app_module
    from rnn_tui.tui import screen_spec as spec_module

    warmed = {
        name
        for spec in app_module.SCREEN_SPECS
        for name in getattr(spec_module._screen_class(spec.factory), "WORKER_MODULES", ())
    }
    on_use = set()
    for path in Path(app_module.__file__).parent.rglob("*.py"):
        for function in ast.walk(ast.parse(path.read_text())):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                for node in ast.walk(function):
                    if isinstance(node, ast.ImportFrom) and node.module:
                        on_use.add(node.module)
    backend = {name for name in on_use if name.startswith(("rnn_tui.decode", "rnn_tui.probe"))}
    assert len(backend) >= 7 and backend <= warmed, backend - warmed
