"""bench_ui's idle measure counts the app idling, not its start-up: the window opens once a
second of the app's CPU is quiet (the warm-up thread done), on a fake clock here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


def test_idle_waits_for_the_start_up_to_settle(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCH))
    spec = importlib.util.spec_from_file_location("bench_ui_idle_under_test", BENCH / "bench_ui.py")
    bench_ui = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench_ui)
    clock = [0.0]
    busy_until = 5.0  # the warm-up: half a core for the first 5 s, then 0.01 of a core

    def cpu(_pid) -> float:
        t = clock[0]
        return 0.5 * min(t, busy_until) + 0.01 * max(0.0, t - busy_until)

    class App:
        pid = 1

        def __init__(self, *args, **kwargs) -> None:
            pass

        def close(self) -> None:
            pass

    monkeypatch.setattr(bench_ui, "TmuxApp", App)
    monkeypatch.setattr(bench_ui, "cpu_seconds", cpu)
    monkeypatch.setattr(bench_ui.time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(bench_ui.time, "sleep", lambda s: clock.__setitem__(0, clock[0] + s))
    row = bench_ui.measure_idle(tmp_path, 10.0)
    assert row["settled_after_s"] == 6.0  # 2 s, then quiet seconds tried from there
    assert row["cpu_share"] == 0.01  # the warm-up's half core is not in it
