"""The base of the app's top-level screens (one per mode): built the first time its key is
pressed, and styled once then, not three times.

Opening a mode for the first time, Textual 8 restyles more than the new screen needs:

- it re-parses the whole stylesheet and restyles every node of the app, twice, because a new
  screen's CSS count (-1) is behind the app's (App._init_mode, then App.switch_mode);
- it restyles every node of the new screen on each of the two ScreenResume events it posts,
  though each widget was styled as it mounted.

On the Train screen that was 0.3–0.7 s of the first switch's event-loop time. A screen built
while the app shows another starts at the app's CSS count (a theme change bumps the count later, and
Textual refreshes it then).

Textual also restyles every node of a screen each time it comes back (40–121 ms a switch at
120×40, measured with the app's screens built). Only the app's own state can have gone stale
meanwhile: a change to one of the screen's nodes (a class, :disabled, a mount) restyles that
node at once, shown or not, while a change to the app's pseudo-classes (the terminal's focus,
dark or light) restyles only the screen shown. So a screen is restyled on return only when
those, its theme or its CSS changed while it was away: a switch then takes 6–18 ms.

And each focus move repainted the whole screen: Textual's `Screen.focused` is a reactive that
repaints its screen, so every widget's lines were composed again (15–27 ms at 120×40, a Dataset
tab switch's second-longest step). What a focus move changes is drawn by the widgets it
restyles (their `:focus` and `:focus-within` rules), so here it repaints nothing itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from textual import events
from textual.app import ModeError, ScreenStackError
from textual.reactive import Reactive
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Button, Select

from rnn_tui.tui.widgets.explain import fit_explain


class ModeScreen(Screen):
    """A top-level screen: one mode of the app, built on first use."""

    # The backend modules this screen's thread workers import (torch with them): the app's
    # warm-up imports them soon after start-up, so the first worker does not (app.warm_up).
    WORKER_MODULES: ClassVar[tuple[str, ...]] = ()

    # Textual's reactive, without its whole-screen repaint (the module's docstring says why).
    focused: Reactive[Widget | None] = Reactive(None, repaint=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._away_from: tuple | None = None  # _app_styling() when last suspended
        try:
            app = self.app
            app.screen  # noqa: B018 (raises when nothing is shown yet)
        except (RuntimeError, ModeError, ScreenStackError):
            # Built outside an app, or as the app's first screen: the start-up restyle is the
            # one that applies the theme's variables to it.
            return
        # Textual's own attribute (textual is pinned); tests/test_mode_screen.py fails if the
        # first switch restyles the app again.
        self._css_update_count = app._css_update_count

    def focus_shown(self, avoiding: Iterable[Widget] = ()) -> None:
        """Focus the first control still shown that takes no typed text (a text field would
        swallow the screen's keys) and is not a button (a stray enter would press it: Pause),
        or nothing where there is none: the rule for a focused widget that was hidden (a side
        panel closed, a form's rows changed under it)."""
        avoiding = set(avoiding)
        for widget in self.focus_chain:
            if widget in avoiding or isinstance(widget, Button):
                continue
            if not widget.check_consume_key("x", "x"):
                self.set_focus(widget)
                return
        self.set_focus(None)

    def _reset_focus(self, widget: Widget, avoiding: list[Widget] | None = None) -> None:
        # Textual's, run when the focused widget is hidden or removed: it moves the focus to a
        # sibling, hidden or not, or to nothing. Focus then left nowhere or out of sight (where
        # keys reach no control, and app.focused is None) goes to a control still shown.
        super()._reset_focus(widget, avoiding)
        if self.focused is None or self.focused not in self.focus_chain:
            self.focus_shown(avoiding or ())

    def _on_resize(self, event: events.Resize) -> None:
        # Runs besides a subclass's on_resize and Screen's own (Textual calls each class's).
        fit_explain(self)

    def _on_screen_resume(self, event: events.ScreenResume) -> None:
        # Runs before Screen's own handler (Textual calls each class's, subclass first).
        if self._away_from is None or self._away_from == self._app_styling():
            event.refresh_styles = False

    def _on_screen_suspend(self) -> None:
        if self._css_update_count < 0:
            # The app's first screen: styled at start-up with the CSS as it is now (a later
            # refresh would have set its count). Left at -1, the first return to it re-parsed
            # the whole stylesheet and restyled the app (~110 ms).
            self._css_update_count = self.app._css_update_count
        self._away_from = self._app_styling()
        # A drop-down left open would greet the return with its list, and the next enter
        # would choose whatever it highlighted (Generate's checkpoint picker did).
        for select in self.query(Select):
            if select.expanded:
                select.expanded = False

    def _app_styling(self) -> tuple:
        """What this screen's styles depend on outside it: the app's pseudo-classes (the
        terminal's focus, dark or light, ANSI colours), its theme and its CSS."""
        app = self.app
        return frozenset(app.get_pseudo_classes()), app.theme, app._css_update_count
