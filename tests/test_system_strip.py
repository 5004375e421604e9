"""The Train screen's system strip (rnn_tui/runs/system.py, FollowedRuns.system_text): the
trainer's CPU and memory from /proc, the GPU's load through NVML — faked here, since the test
machine has none — and nothing at all when there is nothing to read."""

from __future__ import annotations

import os
import sys
import time
import types

import pytest

from rnn_tui.runs import system
from rnn_tui.runs.follow import RunFollower
from rnn_tui.runs.followed import FollowedRuns, run_key
from rnn_tui.runs.process import TrainProcess
from rnn_tui.runs.rundir import RunDir

LINUX = os.path.exists("/proc/self/stat")


def test_stat_ticks_reads_past_a_command_name_with_spaces_and_parens():
    fields = " ".join(str(n) for n in range(3, 30))  # field 3 … 29: utime=14, stime=15
    assert system.stat_ticks(f"42 (a b) c)) {fields}".encode()) == 14 + 15
    assert system.stat_ticks(b"garbage") is None
    assert system.stat_ticks(b"1 (x) S 1 2") is None


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_cpu_meter_measures_a_busy_process():
    # Its clock is this process's CPU time, so the busy loop is 100 % however busy the machine
    # is (on the wall clock a loaded machine made it anything from 10 % up).
    meter = system.CpuMeter(clock=time.process_time)
    assert meter.percent(os.getpid()) is None  # the first look has nothing to compare with
    end = time.process_time() + 0.3
    while time.process_time() < end:
        pass
    assert 70 < meter.percent(os.getpid()) < 130  # within /proc's 10 ms ticks
    assert meter.percent(2**22 + 12345) is None  # no such process


class FakeNvml(types.SimpleNamespace):
    """The few pynvml calls system.py makes, for one GPU."""

    def __init__(self, fail_init=False):
        def init():
            if fail_init:
                raise RuntimeError("NVML Shared Library Not Found")

        super().__init__(
            nvmlInit=init,
            nvmlDeviceGetCount=lambda: 1,
            nvmlDeviceGetHandleByIndex=lambda i: f"handle{i}",
            nvmlDeviceGetName=lambda h: b"NVIDIA H200",
            nvmlDeviceGetUtilizationRates=lambda h: types.SimpleNamespace(gpu=87, memory=40),
            nvmlDeviceGetMemoryInfo=lambda h: types.SimpleNamespace(
                used=3210 * 2**20, total=143771 * 2**20
            ),
            nvmlDeviceGetTemperature=lambda h, sensor: 61,
        )


@pytest.fixture
def nvml(monkeypatch):
    # NVML's GPUs as CUDA numbers them: all of them, whatever this machine's environment says.
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)

    def install(fake):
        monkeypatch.setitem(sys.modules, "pynvml", fake)
        monkeypatch.setattr(system, "_nvml", None)

    yield install
    monkeypatch.setattr(system, "_nvml", None)


def test_gpu_stats_through_nvml(nvml):
    nvml(FakeNvml())
    (gpu,) = system.gpu_stats()
    assert gpu.text() == "GPU0 NVIDIA H200 · 87 % · 3,210/143,771 MB · 61 °C"
    assert system.gpu_choices() == [("cuda:0 · NVIDIA H200", "cuda:0")]


def test_without_nvml_or_a_gpu_there_is_nothing_and_no_error(nvml):
    nvml(FakeNvml(fail_init=True))
    assert system.gpu_stats() == [] and system.gpu_choices() == []
    nvml(None)  # `import pynvml` fails
    assert system.gpu_stats() == []


def test_a_failing_call_leaves_that_part_out(nvml):
    fake = FakeNvml()
    fake.nvmlDeviceGetTemperature = lambda h, sensor: 1 / 0
    nvml(fake)
    assert system.gpu_stats()[0].text() == "GPU0 NVIDIA H200 · 87 % · 3,210/143,771 MB"


@pytest.mark.skipif(not LINUX, reason="reads /proc")
def test_the_strip_of_a_live_trainer(tmp_path, nvml):
    nvml(FakeNvml())
    folder = tmp_path / "run"
    RunDir(folder).write_config({"task": "lm"})
    runs = FollowedRuns(("red",))
    busy = "import time\nend = time.time() + 30\nwhile time.time() < end: pass"
    process = TrainProcess([sys.executable, "-c", busy], folder)
    process.start()
    try:
        runs.process = process
        key = run_key(folder)
        runs.followers[key] = RunFollower(key)
        first = runs.system_text(key)
        assert first.startswith(f"trainer pid {process.pid}") and "RSS" in first
        time.sleep(0.3)
        second = runs.system_text(key)
        assert "CPU" in second and "GPU" not in second  # a CPU run: no GPU part
        runs.followers[key]._info["device"] = "cuda:0"
        assert "GPU0 NVIDIA H200 · 87 % · 3,210/143,771 MB · 61 °C" in runs.system_text(key)
    finally:
        process.kill()
        process.wait(5)
    assert runs.system_text(key) == ""  # no trainer at work: no strip
    assert runs.system_text("elsewhere") == ""


def test_the_device_drop_down_lists_the_gpus_found(nvml):
    from textual.widgets import Select

    from rnn_tui.checkpoints import DEVICE
    from rnn_tui.tui.widgets.option_input import option_control

    nvml(FakeNvml())
    control = option_control(DEVICE, "form-device", extra=system.gpu_choices())
    assert isinstance(control, Select)
    assert [value for _, value in control._options] == ["auto", "cpu", "cuda", "cuda:0"]
    assert control._options[-1][0] == "cuda:0 · NVIDIA H200"


def four_gpus() -> FakeNvml:
    fake = FakeNvml()
    names = [b"NVIDIA A100 (0)", b"NVIDIA A100 (1)", b"NVIDIA H100 (2)", b"NVIDIA H100 (3)"]
    fake.nvmlDeviceGetCount = lambda: 4
    fake.nvmlDeviceGetName = lambda h: names[int(h.removeprefix("handle"))]
    fake.nvmlDeviceGetUUID = lambda h: f"GPU-{h.removeprefix('handle')}abc-def"
    return fake


@pytest.mark.parametrize(
    ("visible", "listed"),
    [
        (None, ["cuda:0 · NVIDIA A100 (0)", "cuda:1 · NVIDIA A100 (1)", "cuda:2 · NVIDIA H100 (2)",
                "cuda:3 · NVIDIA H100 (3)"]),
        ("2,3", ["cuda:0 · NVIDIA H100 (2)", "cuda:1 · NVIDIA H100 (3)"]),
        ("3,GPU-1abc", ["cuda:0 · NVIDIA H100 (3)", "cuda:1 · NVIDIA A100 (1)"]),
        ("2,7,1", ["cuda:0 · NVIDIA H100 (2)"]),  # CUDA stops at the entry that names none
        ("", []),
    ],
)  # fmt: skip
def test_the_gpus_are_numbered_as_cuda_numbers_them(visible, listed, nvml, monkeypatch):
    # NVML sees every GPU, whatever CUDA_VISIBLE_DEVICES says: with "2,3" the drop-down offered
    # cuda:0 as GPU 0's A100 (the trainer ran on GPU 2's H100) and cuda:2, which the trainer
    # refused, and the strip of a cuda:0 run showed GPU 0's load and memory.
    if visible is not None:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
    nvml(four_gpus())
    assert [label for label, _ in system.gpu_choices()] == listed
    assert [value for _, value in system.gpu_choices()] == [f"cuda:{i}" for i in range(len(listed))]
