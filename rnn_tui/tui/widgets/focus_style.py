"""A container whose focus restyles the container alone, unless a rule says otherwise.

Textual restyles a widget's whole subtree whenever it gains or loses the focus, in case some
rule styles a descendant by it (`Tabs:focus .-active`). For a focusable container such as the
Dataset screen's n-grams panel (23 widgets: three tables, a plot, the perplexity controls) that
was 20–32 ms on each focus and again on each blur, and the panel takes the focus every time its
tab is shown. No rule styles anything inside a panel by the panel's focus, so only the panel is
restyled — as long as that holds: `focus_styles_descendants` reads the stylesheet at each
change and, when a rule such as `NgramPanel:focus Label` appears, the whole subtree is
restyled as before.
"""

from __future__ import annotations

from typing import cast

from textual.widget import Widget

FOCUS_PSEUDO_CLASSES = frozenset({"focus", "focus-within"})


def focus_styles_descendants(widget: Widget) -> bool:
    """Whether a rule of the app's stylesheet may style another node by `widget`'s focus: a
    selector whose part before the last names :focus or :focus-within and matches `widget`
    by type, class or id. (A compound such as `Panel:focus.wide` counts too: it errs towards
    restyling.)"""
    for rule in widget.app.stylesheet.rules:
        for selector_set in rule.selector_set:
            for selector in selector_set.selectors[:-1]:
                if selector.pseudo_classes & FOCUS_PSEUDO_CLASSES and selector._check(widget):
                    return True
    return False


class OwnFocusStyle:
    """Mixin, listed before a focusable container's class: a focus change restyles the
    container (and its scrollbars) alone where no rule styles its descendants by its focus.
    Not a Widget itself: Textual gives every Widget subclass its own `can_focus`, which would
    hide the container's."""

    def watch_has_focus(self, _has_focus: bool) -> None:
        widget = cast(Widget, self)
        if focus_styles_descendants(widget):
            super().watch_has_focus(_has_focus)  # type: ignore[misc]
        else:
            widget.app.stylesheet.update_nodes([widget], animate=True)


__all__ = ["FOCUS_PSEUDO_CLASSES", "OwnFocusStyle", "focus_styles_descendants"]
