"""What the app draws stays readable whatever the colours: 16 of them, light themes, none."""

# ruff: noqa: F811 (pytest fixtures imported from test_tui_train)
from __future__ import annotations

import textual.constants
from rich.color import Color, ColorSystem
from test_tui_train import runs, show_train, train_app  # noqa: F401
from textual.app import App


def contrast(a: tuple[int, int, int], b: tuple[int, int, int]) -> float:
    """WCAG's contrast ratio of two sRGB colours (1 to 21)."""

    def luminance(rgb: tuple[int, int, int]) -> float:
        def linear(v: int) -> float:
            c = v / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = map(linear, rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def shown(app: App, color: Color, system: ColorSystem | None = None) -> tuple[int, int, int]:
    """The RGB a terminal shows for `color`, brought down to `system` first if given."""
    if system is not None:
        color = color.downgrade(system)
    return tuple(color.get_truecolor(app.ansi_theme))


async def test_disabled_buttons_labels_are_readable_in_16_colours(tui, monkeypatch) -> None:
    # Faded twice (the widget to 70%, its label to 60%), the Stop button's label came down to
    # bright black on bright black: invisible under --color 16 or TERM=xterm-mono.
    monkeypatch.setattr(textual.constants, "COLOR_SYSTEM", "standard")
    app = tui.make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await tui.open_screen(pilot, "train")
        for theme in app.available_themes:
            app.theme = theme
            await pilot.pause()
            lines = app.screen._compositor.render_strips()
            for button in app.screen.query("RunHeader Button"):
                assert button.disabled
                region = button.region
                (label,) = [
                    segment
                    for segment in lines[region.y].crop(region.x, region.right)
                    if segment.text.strip()
                ]
                style = label.style
                fg = shown(app, style.color, ColorSystem.STANDARD)
                bg = shown(app, style.bgcolor, ColorSystem.STANDARD)
                assert contrast(fg, bg) >= 3, (theme, button.id, fg, bg)


def plot_colours() -> set[str]:
    """Every plotext colour a plot's series or swatch is given."""
    from rnn_tui.tui.widgets import (
        forecast_results,
        gradient_flow,
        ngram_panel,
        pairs_histogram,
        plot,
        train_curves,
    )

    return {
        *train_curves.RUN_COLORS,
        train_curves.TRAIN,
        train_curves.VAL,
        train_curves.REFERENCE,
        train_curves.SHORT,
        *gradient_flow.COLORS,
        *ngram_panel.ZIPF_COLORS.values(),
        *forecast_results.SLOT_COLORS.values(),
        *forecast_results.K_COLORS,
        forecast_results.DATA_COLOR,
        plot.RAW_COLOR,
        *pairs_histogram.SERIES_COLOURS,
    }


async def test_every_series_colour_reads_on_every_light_theme(tui) -> None:
    # Textual's palette for light themes made the bright colours pastels: orange+ (the
    # validation curve) was 1.2:1 against the plot's background.
    from rnn_tui.tui.widgets.plot_legend import color_style

    app = tui.make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        light = [name for name, theme in app.available_themes.items() if not theme.dark]
        assert {"textual-light", "solarized-light", "catppuccin-latte"} <= set(light)
        for theme in light:
            app.theme = theme
            await pilot.pause()
            backgrounds = [app.theme_variables[name] for name in ("surface", "panel", "background")]
            for name in sorted(plot_colours()):
                colour = shown(app, color_style(name).color)
                for background in backgrounds:
                    ratio = contrast(colour, Color.parse(background).get_truecolor())
                    assert ratio >= 3, (theme, name, background, round(ratio, 2))


async def test_the_train_plots_curves_read_on_a_light_theme(runs, tui, train_app) -> None:
    from rnn_tui.tui.widgets.plot import LinePlot

    app = train_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        screen.open_run(runs / "lm-lstm-recorded")
        await tui.settle(pilot)
        for theme in ("textual-light", "atom-one-light", "rose-pine-dawn", "solarized-light"):
            app.theme = theme
            await pilot.pause()
            lines = app.screen._compositor.render_strips()
            plots = [p for p in app.screen.query(LinePlot) if p.region.area]
            assert len(plots) == 4
            drawn = 0
            for plot in plots:
                region = plot.region
                for y in range(region.y, region.bottom):
                    for segment in lines[y].crop(region.x, region.right):
                        if not any("\u2801" <= ch <= "\u28ff" for ch in segment.text):
                            continue  # the curves and the legend's markers are braille
                        drawn += 1
                        fg = shown(app, segment.style.color)
                        bg = shown(app, segment.style.bgcolor)
                        assert contrast(fg, bg) >= 3, (theme, plot.id, segment)
            assert drawn > 20


async def test_without_colour_each_curve_has_its_own_marker(runs, tui, train_app, monkeypatch):
    # NO_COLOR drew train and val as the same braille in near-identical greys.
    monkeypatch.setenv("NO_COLOR", "1")
    app = train_app()
    assert app.no_color
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await show_train(pilot, tui)
        screen.open_run(runs / "lm-lstm-recorded")
        await tui.settle(pilot)
        plot = screen.query_one("#plot-ppl")
        marks = {label.split()[0]: mark for label, _, mark in plot._legend}
        assert marks == {"train": "⢕⢕", "val": "••", "trigram": "xx"}
        drawn = plot.render().plain
        assert "⢕⢕ train" in drawn and "•• val" in drawn and "xx trigram" in drawn
        canvas = drawn.split("\n")[1:-3]  # inside the box, below the title
        assert sum(line.count("•") for line in canvas) > 10  # the val curve: bullets


def test_overlaid_runs_take_markers_in_turn_without_colour() -> None:
    from rnn_tui.tui.widgets.plot_legend import MARKERS, series_markers

    labels = ["", "gru val", "lstm val", "rnn val", "trigram 9.6"]  # raw points unlabelled
    assert series_markers(labels, colored=True) == ["braille"] * 5
    assert series_markers(labels, colored=False) == ["braille", *MARKERS[:4]]
    assert len(set(MARKERS)) == len(MARKERS)


async def test_muted_text_and_the_val_figure_read_on_every_theme(tui) -> None:
    # On light themes a table's muted text ("= greedy", "(empty)") was white on light grey
    # (1.3-1.5:1), and the Train header's val figure bright orange on grey (1.7:1).
    from textual.widgets import Static

    from rnn_tui.tui.muted import muted_style
    from rnn_tui.tui.widgets.train_header import VAL_STYLES

    class Probe(App):
        def compose(self):
            yield Static("x")

    app = Probe()
    async with app.run_test(size=(40, 10)) as pilot:
        widget = app.query_one(Static)
        for theme in sorted(app.available_themes):
            if theme.startswith("ansi"):
                continue  # the app does not offer these (app.py UNFIT_THEMES)
            app.theme = theme
            await pilot.pause()
            _, _, background, _ = widget.colors
            ground = background.rgb
            muted = muted_style(widget).color.get_truecolor()
            assert 2.5 <= contrast(muted, ground), (theme, round(contrast(muted, ground), 2))
            val = Color.parse(VAL_STYLES[app.current_theme.dark].split()[-1]).get_truecolor()
            assert contrast(val, ground) >= 3, (theme, round(contrast(val, ground), 2))


async def test_a_theme_switch_draws_the_translate_rows_again() -> None:
    # The rows' muted text kept the grey worked out for the theme they were drawn under: an app
    # switched from light to dark showed "(empty)" at 2.3:1.
    from types import SimpleNamespace

    from textual.app import ComposeResult

    from rnn_tui.tui.muted import muted_style
    from rnn_tui.tui.widgets.translate_tables import ResultRow, SentenceTable

    class Probe(App):
        def compose(self) -> ComposeResult:
            yield SentenceTable(id="t")

    app = Probe()
    async with app.run_test(size=(100, 10)) as pilot:
        app.theme = "textual-light"
        await pilot.pause()
        table = app.query_one(SentenceTable)
        t = SimpleNamespace(source_tokens=["go", "."], unknown=[], greedy_text="", beam_text="")
        table.set_items([ResultRow(1, t, ())])
        await pilot.pause()
        app.theme = "textual-dark"
        await pilot.pause()
        await pilot.pause()
        greedy = table.get_row_at(0)[2]  # "(empty)", muted
        assert greedy.plain == "(empty)"
        assert greedy.style.color == muted_style(table).color
