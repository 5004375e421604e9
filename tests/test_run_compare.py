"""The runs table's backend (runs/compare.py), the x axes (runs/x_axis.py), the EMA smoothing
(metrics/smoothing.py) and the plots' view arithmetic (widgets/plot.py)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from rnn_tui.metrics.smoothing import MAX_WEIGHT, ema
from rnn_tui.runs.compare import best_first, differing, setting_text, sort_entries
from rnn_tui.runs.listing import list_runs
from rnn_tui.runs.x_axis import axis_label, next_axis, to_axis
from rnn_tui.tui.widgets.plot_view import clamped, visible, zoomed


def entry(name, ppl=None, speed=None, **config):
    return {"name": name, "best_val_ppl": ppl, "tokens_per_s": speed, "config": config}


def test_differing_settings_in_first_seen_order():
    runs = [
        entry("a", hidden=256, lr=1.0, model="gru", seed=0),
        entry("b", hidden=512, lr=1.0, model="gru", seed=0),
        entry("c", hidden=256, lr=1.0, model="lstm"),
    ]
    assert differing(runs) == ["hidden", "model", "seed"]  # c has no seed: that differs too
    assert differing(runs[:1]) == []
    assert differing([entry("a", lr=1), entry("b", lr=1.0)]) == []
    # 1 and True compare equal in Python; a setting that changed kind has changed.
    assert differing([entry("a", x=1), entry("b", x=True)]) == ["x"]


def test_sort_puts_runs_without_a_value_last_either_way():
    runs = [entry("a", 5.0), entry("b"), entry("c", 2.0), entry("d", 9.0)]
    assert [e["name"] for e in sort_entries(runs, "best_val_ppl", False)] == ["c", "a", "d", "b"]
    assert [e["name"] for e in sort_entries(runs, "best_val_ppl", True)] == ["d", "a", "c", "b"]
    by_setting = [entry("x", optimizer="sgd"), entry("y", optimizer="Adam"), entry("z")]
    assert [e["name"] for e in sort_entries(by_setting, "optimizer", False)] == ["y", "x", "z"]
    assert best_first("tokens_per_s") and best_first("best_bleu")
    assert not best_first("best_val_ppl") and not best_first("hidden")


def test_setting_text():
    e = entry("a", bidirectional=True, lr=0.002, model="gru")
    assert setting_text(e, "bidirectional") == "yes"
    assert setting_text(e, "lr") == "0.002"
    assert setting_text(e, "model") == "gru"
    assert setting_text(e, "hidden") == "—"


def test_listing_gives_the_median_speed_and_the_plain_settings(tmp_path):
    run = tmp_path / "r"
    run.mkdir()
    config = {"model": "gru\x1b[31m", "hidden": 64, "lr": 0.5, "deep": {"x": 1}, "bad": None}
    (run / "config.json").write_text(json.dumps(config))
    lines = [
        {"event": "epoch", "epoch": i, "tokens_per_s": speed, "val_ppl": 9.0 - i}
        for i, speed in enumerate([100.0, 3000.0, 2000.0, 2500.0], start=1)
    ]
    (run / "metrics.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (e,) = list_runs(tmp_path)
    assert e["tokens_per_s"] == 2250.0  # the slow first epoch does not pull it down
    assert e["config"] == {"model": "gru?[31m", "hidden": 64, "lr": 0.5}


SERIES = {
    "clock_step": (np.array([0.5, 1.0, 1.5, 2.0]), np.array([5.0, 10.0, 15.0, 20.0])),
    "clock_time": (np.array([0.5, 1.0, 2.0]), np.array([30.0, 60.0, 150.0])),
}


def test_to_axis_reads_the_clocks():
    x = np.array([0.25, 1.0, 1.75, 2.0])
    assert np.allclose(to_axis(x, "epoch", SERIES), x)
    assert np.allclose(to_axis(x, "step", SERIES), [2.5, 10.0, 17.5, 20.0])
    assert np.allclose(to_axis(x, "time", SERIES), [15.0, 60.0, 127.5, 150.0])
    assert to_axis(x, "step", {}) is None
    one = {"clock_step": (np.array([2.0]), np.array([80.0]))}
    assert np.allclose(to_axis(np.array([1.0, 2.0]), "step", one), [40.0, 80.0])
    assert [next_axis(a) for a in ("epoch", "step", "time", "?")] == [
        "step",
        "time",
        "epoch",
        "epoch",
    ]
    assert axis_label("time", minutes=True) == "wall time (min)"


@given(
    st.lists(st.floats(-1e6, 1e6), min_size=1, max_size=60),
    st.floats(0.0, MAX_WEIGHT),
)
def test_ema_stays_within_the_values_and_starts_at_the_first(values, weight):
    smoothed = ema(values, weight)
    assert len(smoothed) == len(values)
    assert math.isclose(smoothed[0], values[0], rel_tol=1e-9, abs_tol=1e-6)
    lo, hi = min(values), max(values)
    slack = 1e-9 * max(1.0, abs(lo), abs(hi))
    assert np.all(smoothed >= lo - slack) and np.all(smoothed <= hi + slack)


def test_ema_by_hand_and_its_edges():
    assert np.array_equal(ema([1.0, 5.0, 2.0], 0.0), [1.0, 5.0, 2.0])
    # w = 0.5: s1 = 0.5·1 / (1 − 0.5) = 1; s2 = (0.25 + 0.5·3) / 0.75 = 2.333…
    assert np.allclose(ema([1.0, 3.0], 0.5), [1.0, 1.75 / 0.75])
    assert np.allclose(ema([4.0] * 10, 0.9), 4.0)
    assert np.allclose(ema([1.0, float("nan"), 3.0], 0.5)[[0, 2]], [1.0, 1.75 / 0.75])
    with pytest.raises(ValueError):
        ema([1.0], 1.0)


def test_view_arithmetic():
    assert zoomed((0.0, 10.0), 0.5, 5.0) == (2.5, 7.5)
    assert zoomed((0.0, 10.0), 0.5, 0.0) == (0.0, 5.0)  # the point under the pointer stays
    assert clamped((-2.0, 3.0), (0.0, 10.0)) == (0.0, 5.0)
    assert clamped((8.0, 13.0), (0.0, 10.0)) == (5.0, 10.0)
    assert clamped((-1.0, 12.0), (0.0, 10.0)) is None
    x = np.arange(10.0)
    vx, vy = visible(x, x * 2, 3.5, 6.5)
    assert vx.tolist() == [3.0, 4.0, 5.0, 6.0, 7.0] and vy.tolist() == [6.0, 8.0, 10.0, 12.0, 14.0]


def test_log_tick_labels_stay_short():
    from rnn_tui.tui.widgets.plot_ticks import nice_log_ticks, value_label

    assert [value_label(v) for v in (0.05, 20, 150, 1000, 1500, 20000, 3e6)] == [
        "0.05", "20", "150", "1k", "1.5k", "20k", "3M"
    ]  # fmt: skip
    assert nice_log_ticks(2.0, 3.0)[1][-1] == "1k"  # a zoomed Zipf axis, not "1e+03"
