"""What the app draws stays readable whatever the colours: 16 of them, light themes, none."""

from __future__ import annotations

import textual.constants
from rich.color import Color, ColorSystem
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
