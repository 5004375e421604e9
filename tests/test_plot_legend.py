"""The plot legend's placement: the first corner of the canvas that hides no drawn cell, else
the one hiding fewest; the canvas's styles kept under it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st
from rich.text import Text

from rnn_tui.tui.widgets.plot_legend import BLANK, MARKER, canvas, place_legend

FALLING = [  # a training curve: its first points are where plotext put its legend
    "        perplexity",
    "   ┌──────────────────────┐",
    " 20┤⠑⡄                    │",
    "   │  ⠈⢆                  │",
    "   │    ⠈⠢⡀               │",
    "   │       ⠒⢄⣀⣀           │",
    "  5┤           ⠉⠉⠉⠉⠒⠒⠒⠒⠒⠒│",
    "   └──────────────────────┘",
]


def drawn_cells(lines: list[str]) -> set[tuple[int, int]]:
    row0, row1, col0, col1 = canvas(lines)
    return {
        (r, c)
        for r in range(row0, row1 + 1)
        for c in range(col0, col1 + 1)
        if lines[r][c] not in BLANK
    }


def test_a_falling_curve_keeps_its_first_points_and_the_legend_goes_top_right():
    out = place_legend(Text("\n".join(FALLING)), [("train", "cyan+"), ("val", "orange+")])
    lines = out.plain.split("\n")
    assert lines[2].startswith(" 20┤⠑⡄ ") and lines[2].endswith(f"{MARKER} train │")
    assert lines[3].endswith(f"{MARKER} val   │")
    assert lines[4:] == FALLING[4:]
    # The marker takes its curve's colour (plotext's colour 14 for cyan+).
    assert any(span.style.color.number == 14 for span in out.spans)


def test_no_box_no_legend_and_long_labels_are_cut_to_the_canvas():
    assert place_legend(Text("no plot here"), [("a", "red+")]).plain == "no plot here"
    small = ["┌────┐", "│    │", "└────┘"]
    out = place_legend(Text("\n".join(small)), [("a long label", "red+"), ("b", "red+")])
    assert out.plain.split("\n")[1] == f"│ {MARKER} │"  # one row: the second entry is left out
    assert [len(line) for line in out.plain.split("\n")] == [6, 6, 6]


@given(
    st.lists(st.tuples(st.integers(0, 5), st.integers(0, 19)), max_size=40),
    st.lists(st.text("abcxyz ", min_size=1, max_size=8), min_size=1, max_size=3),
)
@settings(max_examples=100, deadline=None)
def test_a_blank_corner_is_used_when_there_is_one(points, labels):
    grid = [[" "] * 20 for _ in range(6)]
    for r, c in points:
        grid[r][c] = "⣿"
    lines = [
        "┌" + "─" * 20 + "┐",
        *("│" + "".join(row) + "│" for row in grid),
        "└" + "─" * 20 + "┐",
    ]
    lines[-1] = "└" + "─" * 20 + "┘"
    entries = [(label, "green+") for label in labels]
    out = place_legend(Text("\n".join(lines)), entries).plain.split("\n")
    assert len(out) == len(lines) and all(len(a) == len(b) for a, b in zip(out, lines))
    before, after = drawn_cells(lines), drawn_cells(out)
    width = max(map(len, labels)) + len(MARKER) + 3
    height = len(labels)
    corners = [(1, 1), (1, 21 - width), (7 - height, 1), (7 - height, 21 - width)]
    free = any(
        all((r, c) not in before for r in range(r0, r0 + height) for c in range(c0, c0 + width))
        for r0, c0 in corners
    )
    if free:  # every point still drawn
        assert before <= after


async def test_a_legend_that_would_hide_points_in_every_corner_goes_under_the_plot() -> None:
    """At 80 columns the Flow tab's curves reach every corner of its canvas, and the legend
    covered their ends: it is written under the plot, which is built that many rows shorter."""
    import numpy as np
    from textual.app import App, ComposeResult

    from rnn_tui.tui.widgets.plot import LinePlot, Series

    class Narrow(App):
        def compose(self) -> ComposeResult:
            yield LinePlot(title="flow", xlabel="t", logy=True, nice_x=True)

    app = Narrow()
    async with app.run_test(size=(54, 16)) as pilot:
        plot = app.query_one(LinePlot)
        t = np.arange(1.0, 101.0)
        labels = ["tanh ρ=0.8", "tanh ρ=2", "lstm f-bias 2", "linear ρ=0.8"]
        # Two diagonals, a line along the top and one along the bottom: no corner is free.
        curves = [10.0 ** (-t / 8), 10.0 ** (t / 8 - 12), np.full(100, 10.0), np.full(100, 1e-12)]
        colors = ["cyan+", "red+", "green+", "orange+"]
        plot.set_series([Series(*args) for args in zip(labels, [t] * 4, curves, colors)])
        await pilot.pause()
        lines = plot.render().plain.rstrip("\n").split("\n")
        assert len(lines) == 16, "\n".join(lines)
        bottom = next(i for i, line in enumerate(lines) if "└" in line)
        assert not any(MARKER in line for line in lines[:bottom])  # no point hidden
        under = " ".join(lines[bottom + 1 :])
        assert all(f"{MARKER} {label}" in under for label in labels)
