"""The terminal's 16 colours as the app draws them on a light theme: dark enough to read there.

The plots name plotext's colours ("cyan+", "orange+", "gray", …: ANSI colours 0–15) and the
run swatches beside them Rich's ("color(14)"), picked to read on the dark themes. Textual
draws ANSI colours through a palette, Alabaster on light themes, whose bright colours are
pastels: the validation curve's orange+ (bright yellow, #ffbc5d) had a contrast of 1.2:1 with
the plot's background. LIGHT_ANSI is Alabaster with each colour that a series or a swatch takes
at least 3:1 (WCAG's minimum for graphics) against the surface, panel and background of every
built-in light theme, a bright colour told from its normal one by hue or lightness (two runs
may be cyan+ and cyan). The dark themes keep Textual's palette: what they draw is unchanged.
A terminal's own palette, used where Textual passes ANSI colours through, is the terminal's.
"""

from __future__ import annotations

from rich.terminal_theme import TerminalTheme

LIGHT_ANSI = TerminalTheme(
    (247, 247, 247),
    (0, 0, 0),
    [
        (0, 0, 0),  # black
        (170, 55, 49),  # red: Alabaster's
        (58, 107, 31),  # green
        (125, 98, 0),  # yellow, plotext's "orange": an olive brown
        (50, 92, 192),  # blue: Alabaster's
        (122, 62, 157),  # magenta: Alabaster's
        (0, 95, 95),  # cyan: a dark teal
        (247, 247, 247),  # white: Alabaster's, the text on coloured cells
    ],
    [
        (110, 110, 110),  # bright black, plotext's "gray" (baselines, raw points)
        (208, 28, 28),  # bright red
        (29, 128, 0),  # bright green
        (179, 85, 0),  # bright yellow, "orange+" (the validation curve): orange
        (0, 104, 184),  # bright blue
        (179, 0, 179),  # bright magenta
        (0, 121, 127),  # bright cyan, "cyan+" (the training curve): teal
        (247, 247, 247),  # bright white
    ],
)

__all__ = ["LIGHT_ANSI"]
