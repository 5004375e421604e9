"""A flat line is labelled with round values: a constant loss, averaged by decimation, differs
in its last digits, and plotext labelled such an axis 5.633264859517507, 5.633264859517484, …
(and squeezed the plot beside the 17-character labels)."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from textual.app import App, ComposeResult

from rnn_tui.tui.widgets.plot import LinePlot, Series
from rnn_tui.tui.widgets.plot_view import apart, is_flat


@given(st.floats(-1e12, 1e12), st.integers(0, 8))
def test_rounding_apart_is_flat_and_widened_around_the_value(value, ulps) -> None:
    hi = value
    for _ in range(ulps):
        hi = np.nextafter(hi, np.inf)
    assert is_flat(value, float(hi))
    lo, top = apart(value, float(hi))
    assert lo < value <= hi < top
    assert top - hi > 1e-9 * abs(value) and value - lo > 1e-9 * abs(value)


def test_a_real_range_is_kept() -> None:
    assert not is_flat(1.0, 1.0 + 1e-6) and apart(1.0, 3.0) == (1.0, 3.0)
    assert not is_flat(0.0, 1e-200) and is_flat(0.0, 1e-300)


class OnePlot(App):
    def compose(self) -> ComposeResult:
        yield LinePlot(title="loss", xlabel="epoch")


def tick_numbers(text: str) -> list[str]:
    return re.findall(r"\d+\.\d+|\d+", text)


@pytest.mark.parametrize("value", [5.633264859517415, 4787.899762567374, 0.0])
async def test_a_flat_series_gets_round_ticks(value) -> None:
    app = OnePlot()
    async with app.run_test(size=(60, 16)) as pilot:
        plot = app.query_one(LinePlot)
        x = np.linspace(0.0, 3000.0, 60_000)  # decimated to the columns: means of equal values
        y = np.full_like(x, value) * (1 + np.random.default_rng(0).uniform(-1e-15, 1e-15, x.size))
        plot.set_series([Series("train", x, y)])
        await pilot.pause()
        text = plot.plt.build()
        labels = tick_numbers(re.sub(r"\x1b\[[0-9;]*m", "", text))
        assert labels and max(len(label) for label in labels) <= 6, labels


@pytest.mark.parametrize("bleu", [0.0, 40.0])
async def test_a_flat_bleu_is_labelled_from_zero(bleu) -> None:
    from rnn_tui.tui.widgets.train_curves import ZeroBasedPlot

    class BleuPlot(App):
        def compose(self) -> ComposeResult:
            yield ZeroBasedPlot(title="BLEU")

    app = BleuPlot()
    async with app.run_test(size=(60, 16)) as pilot:
        plot = app.query_one(ZeroBasedPlot)
        plot.set_series([Series("bleu", [1.0, 2.0, 3.0], [bleu] * 3)])
        await pilot.pause()
        labels = tick_numbers(re.sub(r"\x1b\[[0-9;]*m", "", plot.plt.build()))
        assert "0" in labels and len(labels) >= 4  # 0 and more than the line's end of the axis


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_the_training_plots_label_epochs_with_round_numbers(size) -> None:
    # plotext labelled a run's epoch axis 0.1, 1.2, 2.2, 3.4, 4.5 (and its neighbour 2.3, 3.3).
    from rnn_tui.tui.widgets.train_curves import CurvePanel

    class Panel(App):
        def compose(self) -> ComposeResult:
            yield CurvePanel()

    app = Panel()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        x = np.linspace(0.1, 4.5, 200)
        for plot in app.query(LinePlot):
            plot.set_series([Series("train", x, 10 + np.cos(x))])
        await pilot.pause()
        shown = [plot for plot in app.query(LinePlot) if plot.size.width]
        assert shown
        for plot in shown:
            rows = re.sub(r"\x1b\[[0-9;]*m", "", plot.plt.build()).splitlines()
            axis = next(i for i, row in enumerate(rows) if "└" in row)
            assert tick_numbers(rows[axis + 1]) in (["1", "2", "3", "4"], ["2", "4"]), rows[-3:]


async def test_a_nice_y_axis_never_reads_minus_zero() -> None:
    """plotext labelled a series around zero (a forecast's sine) with a tick a hair below zero
    as "-0.00"; a `nice_y` axis gets round values (1, 0.5, 0, -0.5, -1)."""

    class SinePlot(App):
        def compose(self) -> ComposeResult:
            yield LinePlot(title="one-step ahead", nice_x=True, nice_y=True)

    app = SinePlot()
    async with app.run_test(size=(60, 20)) as pilot:
        plot = app.query_one(LinePlot)
        x = np.arange(1000.0)
        y = np.sin(x / 50.0) * 0.97 - 0.013  # a range plotext splits at -0.0024
        plot.set_series([Series("data", x, y)])
        await pilot.pause()
        text = re.sub(r"\x1b\[[0-9;]*m", "", plot.plt.build())
        labels = [line.split("┤")[0].strip() for line in text.splitlines() if "┤" in line]
        assert "-0.00" not in text and "-0" not in labels
        assert labels and all(re.fullmatch(r"-?\d+(\.\d+)?", label) for label in labels)
        values = [float(label) for label in labels]
        assert 0.0 in values and values == sorted(values, reverse=True)
        steps = {round(a - b, 9) for a, b in zip(values, values[1:], strict=False)}
        assert len(steps) == 1  # evenly spaced round values


def test_log_tick_labels_are_compact_for_any_range() -> None:
    # 10^33 written out in G was 34 characters wide and squeezed the Flow tab's plot away.
    from rnn_tui.tui.widgets.plot_ticks import format_power, nice_log_ticks, value_label

    assert [format_power(e) for e in (-11, -4, 11, 12, 33)] == [
        "1e-11", "0.0001", "100G", "1e+12", "1e+33"
    ]  # fmt: skip
    assert all(len(format_power(e)) <= 6 for e in range(-330, 330))
    assert value_label(2.5e33) == "2.5e+33" and nice_log_ticks(30.0, 33.0)[1][-1] == "1e+33"


@pytest.mark.parametrize("tight", [False, True])
async def test_a_log_axis_over_300_decades_keeps_its_frame_and_short_labels(tight) -> None:
    """A gradient that explodes over 3,000 steps spans 1e-162 to 1e154, and overflows to inf
    before t = 23: the finite points are drawn in a frame with labels of a few characters."""

    class LogPlot(App):
        def compose(self) -> ComposeResult:
            yield LinePlot(title="flow", xlabel="t", logy=True, tight=tight, nice_x=True)

    app = LogPlot()
    async with app.run_test(size=(60, 20)) as pilot:
        plot = app.query_one(LinePlot)
        t = np.arange(1.0, 3001.0)
        big = np.concatenate([np.full(22, np.inf), 10.0 ** np.linspace(154, 0, 2978)])
        small = 10.0 ** np.linspace(-162, 0, 3000)
        plot.set_series([Series("large", t, big, "red+"), Series("small", t, small, "cyan+")])
        await pilot.pause()
        rows = re.sub(r"\x1b\[[0-9;]*m", "", plot.plt.build()).splitlines()
        assert any("┌" in row for row in rows) and any("└" in row for row in rows)
        labels = [row.split("┤")[0].strip() for row in rows if "┤" in row]
        assert len(labels) >= 2 and max(map(len, labels)) <= 6, labels


def test_a_log_axis_shows_every_kth_decade_evenly_and_labelled_alike() -> None:
    # The Flow tab's default axis at 120×40 read 1M, 10k, 1000, 10, …, 1e-10, 1e-11, 1e-13:
    # indices spread as evenly as whole steps allow skipped one decade here and two there, and
    # the labels changed their form halfway.
    from rnn_tui.tui.widgets.plot_ticks import log_axis_ticks, nice_log_ticks

    for lo, hi in ((-12.4, 5.98), (-162.0, 154.0), (0.0, 3.66), (-3.2, 1.1), (0.0, 0.0)):
        first, last = math.floor(lo), max(math.ceil(hi), math.floor(lo) + 1)
        for room in range(1, 16):
            ticks, labels = log_axis_ticks(lo, hi, room)
            steps = {b - a for a, b in zip(ticks, ticks[1:], strict=False)}
            assert len(steps) == 1 and all(t == int(t) for t in ticks), (lo, hi, room, ticks)
            step = steps.pop()
            assert len(ticks) <= max(2, room) and ticks[0] <= first and ticks[-1] >= last
            assert ticks[-1] - ticks[0] < last - first + step  # fewer than k decades gained
            assert len({"e" in label for label in labels}) == 1, labels
    ticks, labels = log_axis_ticks(-12.4, 5.98, 11)
    assert labels == [f"1e{e:+03d}" for e in range(-14, 7, 2)]
    assert log_axis_ticks(0.0, 3.66, 10)[1] == ["1", "10", "100", "1000", "10k"]
    assert nice_log_ticks(-20.0, 14.0)[1] == ["1e-20", "1e-12", "1e-04", "1e+04", "1e+12"]


async def test_a_short_log_axis_labels_its_top_decade() -> None:
    """At 80×24 the Flow tab's axis ran 1e-13 … 1e6 with three labels, 1e-13, 1e-06 and 10: the
    top row, where the exploding gradient starts, had none."""

    class LogPlot(App):
        def compose(self) -> ComposeResult:
            yield LinePlot(title="flow", xlabel="t", logy=True, nice_x=True)

    app = LogPlot()
    async with app.run_test(size=(50, 12)) as pilot:
        plot = app.query_one(LinePlot)
        t = np.arange(1.0, 101.0)
        large = Series("ρ 2", t, 10.0 ** np.linspace(5.9, 0, 100), "red+")
        small = Series("ρ 0.8", t, 10.0 ** np.linspace(-12.4, 0, 100), "cyan+")
        plot.set_series([large, small])
        await pilot.pause()
        rows = re.sub(r"\x1b\[[0-9;]*m", "", plot.plt.build()).splitlines()
        labels = [row.split("┤")[0].strip() for row in rows if "┤" in row]
        # Every 7th decade, 1 among them: the top one above the exploding gradient's 1e5.9.
        assert labels == ["1e+07", "1e+00", "1e-07", "1e-14"], labels


@pytest.mark.parametrize(
    ("y", "nice_y"),
    [
        (np.linspace(1e25, 1.8e26, 50), False),  # a diverged run's loss on a linear axis
        (5 + np.sin(np.arange(50.0)) * 1e-6, True),  # a series that is nearly constant
    ],
)
async def test_linear_y_labels_are_short_and_distinct(y, nice_y) -> None:
    """A diverged run's loss ticks were plotext's, 27 digits wide, and squeezed the plot away;
    ticks 1e-6 apart on a series near 5 were all labelled "5"."""

    class Plain(App):
        def compose(self) -> ComposeResult:
            yield LinePlot(title="loss", nice_x=True, nice_y=nice_y)

    app = Plain()
    async with app.run_test(size=(60, 20)) as pilot:
        plot = app.query_one(LinePlot)
        plot.set_series([Series("loss", np.arange(50.0), y)])
        await pilot.pause()
        text = re.sub(r"\x1b\[[0-9;]*m", "", plot.plt.build())
        labels = [line.split("┤")[0].strip() for line in text.splitlines() if "┤" in line]
        assert len(labels) >= 2 and len(set(labels)) == len(labels), labels
        assert all(len(label) <= 10 for label in labels), labels
