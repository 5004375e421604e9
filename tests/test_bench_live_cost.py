"""The arithmetic of benchmarks/bench_live_cost.py, on a made-up run: log intervals sorted into
live and quiet periods, and each live period set against the quiet ones around it."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(
            "bench_live_cost", BENCH / "bench_live_cost.py"
        )
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCH))


def run(tmp_path: Path, rate_at) -> Path:
    """Two epochs of step events every 0.5 s, 10 steps of 32×35 tokens apart, at `rate_at(t)`
    tokens/s; evaluation between the epochs."""
    events = [{"event": "start", "time": 0.0, "config": {"batch_size": 32, "num_steps": 35}}]
    t, step = 0.0, 0
    for epoch in (1, 2):
        for _ in range(40):
            step += 10
            t += 10 * 32 * 35 / rate_at(t)
            events.append({"event": "step", "time": t, "epoch": epoch, "step": step})
        events.append({"event": "epoch", "time": t, "epoch": epoch})
        t += 3.0  # evaluation: no step event may span it
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    return path


def test_each_live_period_is_set_against_its_quiet_neighbours(bench, tmp_path) -> None:
    period = 2.0

    def live(t: float) -> bool:
        return int(t // period) % 2 == 1

    # Quiet periods drift upward; live ones run at 90 % of where the quiet ones are.
    def rate(t: float) -> float:
        return (40_000 + 200 * t) * (0.9 if live(t) else 1.0)

    rows = bench.log_rates(run(tmp_path, rate))
    assert all(b - a < 1.0 for a, b, _ in rows)  # the evaluation gaps are not intervals
    end = rows[-1][1]
    switches = [
        (k * period, bench.LIVE if live(k * period) else bench.QUIET)
        for k in range(int(end // period) + 1)
    ]
    periods = bench.period_rates(rows, switches)
    ratios = bench.live_ratios(periods)
    assert len(ratios) >= 4
    assert ratios == pytest.approx([0.9] * len(ratios), abs=0.01)


def test_periods_without_a_whole_interval_are_left_out(bench) -> None:
    rows = [(0.0, 1.0, 100.0), (1.0, 2.5, 100.0), (2.5, 3.0, 90.0), (4.2, 4.6, 100.0)]
    switches = [(0.0, bench.QUIET), (2.0, bench.LIVE), (4.0, bench.QUIET)]
    periods = bench.period_rates(rows, switches)
    # (1.0, 2.5) straddles the first switch: the live period has only (2.5, 3.0).
    assert [kind for kind, _ in periods] == [bench.QUIET, bench.LIVE, bench.QUIET]
    assert [rate for _, rate in periods] == pytest.approx([100.0, 90.0, 100.0])
    assert bench.live_ratios(periods) == [pytest.approx(0.9)]
    assert bench.live_ratios([(bench.QUIET, None), *periods[1:]]) == []


def test_a_names_classifier_s_rows_are_its_unit(bench, tmp_path) -> None:
    """A names classifier's config has no num_steps (its rows have no fixed length): its rate is
    rows a second, where it used to give no interval at all."""
    events = [{"event": "start", "time": 0.0, "config": {"batch_size": 64, "num_steps": None}}]
    events += [{"event": "step", "time": 0.5 * k, "epoch": 1, "step": 10 * k} for k in range(1, 5)]
    path = tmp_path / "metrics.jsonl"
    path.write_text("".join(json.dumps(e) + "\n" for e in events), encoding="utf-8")
    rows = bench.log_rates(path)
    assert [round(r) for _, _, r in rows] == [1280] * 3  # 10 steps of 64 rows in 0.5 s
