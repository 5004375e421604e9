"""The run picker: a path to open any run directory, and the runs under the runs folder, ticked
to overlay their curves (each ticked run keeps its colour). In the list, c continues the
highlighted run for more epochs, m renames it and delete deletes it (the screen asks first);
shift+tab goes up to the path field."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import SelectionList, Static
from textual.widgets.selection_list import Selection

from rnn_tui.quoting import plain
from rnn_tui.runs.format import fmt_bleu, fmt_number
from rnn_tui.runs.listing import model_label
from rnn_tui.tui.collection_pause import kept_for_good
from rnn_tui.tui.widgets.text_field import TextField
from rnn_tui.tui.widgets.train_curves import RUN_STYLES
from rnn_tui.tui.widgets.train_header import STATUS_MARKS


def run_mark(status: str, color: str | None) -> Text:
    """A listed run's first cells: its colour swatch when ticked (its curves' colour) and its
    status mark."""
    mark, style = STATUS_MARKS.get(status, ("?", "dim"))
    text = Text()
    text.append("█ " if color else "  ", style=RUN_STYLES.get(color or "", ""))
    text.append(f"{mark} ", style=style)
    return text


def run_prompt(
    entry: Mapping, color: str | None, marks: dict[tuple[str, str | None], Content] | None = None
) -> Content:
    """One line: the swatch and status mark (run_mark), then the run's name. `marks` keeps
    each mark converted once: the list is rebuilt whole, and converting rich text for each of
    2,000 runs took ~50 of the ~90 ms a rebuild held the event loop."""
    key = (str(entry.get("status")), color)
    mark = marks.get(key) if marks is not None else None
    if mark is None:
        mark = Content.from_rich_text(run_mark(*key))
        if marks is not None:
            marks[key] = mark
    return mark + Content(plain(str(entry["name"])))


def run_details(entry: Mapping) -> str:
    """Model, status, epochs done/planned and best validation perplexity of a listed run."""
    epochs = entry.get("epochs")
    details = [
        str(model_label(entry) or "?"),
        str(entry.get("status") or "unknown"),
        f"epoch {entry.get('epoch') or 0}/{epochs if epochs is not None else '?'}",
    ]
    # A translation run's best epoch is its best BLEU (the perplexity's is another epoch).
    bleu, best = entry.get("best_bleu"), entry.get("best_val_ppl")
    if bleu is not None:
        details.append(f"best BLEU {fmt_bleu(bleu)}")
    elif best is not None:
        details.append(f"best val {fmt_number(best)}")
    # A running run's message names the epoch under way, written as each epoch begins: the
    # epoch above, from its metrics, says it already.
    message = entry.get("message") if entry.get("status") != "running" else ""
    # What is wrong with its files (`rnn-tui runs` prints them under its table).
    notes = entry.get("notes")
    notes = (
        [n for n in notes if isinstance(n, str) and n != message] if isinstance(notes, list) else []
    )
    text = "\n".join([" · ".join(details), *([message] if message else []), *notes])
    # Values from a run's files, shown as they are: never markup, never a control sequence.
    return plain(text, lines=True)


class RunList(SelectionList[str]):
    """The listed runs, ticked to follow them."""


class ManagedRunList(RunList):
    """The listed runs with keys that act on the highlighted run (the Train screen's actions:
    screens/train_run_actions.py)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "screen.continue_run", "Continue", tooltip="train it for more epochs"),
        # Named in the line under the list rather than the footer, which is full already.
        Binding("m", "screen.rename_run", "Rename", show=False, tooltip="rename its folder"),
        Binding(
            "delete", "screen.delete_run", "Delete", show=False, tooltip="delete it (asks first)"
        ),
    ]


class RunPicker(Vertical):
    """Path field, the list of runs, the highlighted run's details, and where runs are found."""

    DEFAULT_CSS = """
    RunPicker {
        height: 1fr;
    }
    RunPicker #run-list {
        height: 1fr;
        margin: 1 0 0 0;
        border: none;
        padding: 0;
    }
    RunPicker #run-details {
        height: auto;
        color: $text-muted;
    }
    """

    def __init__(self, *, manage: bool = False, id: str | None = None) -> None:
        """`manage`: the list's keys continue, rename and delete runs (the screen has the
        actions)."""
        super().__init__(id=id)
        self.manage = manage
        self._shown: tuple | None = None
        self._entries: dict[str, Mapping] = {}
        self._root = ""
        self._focus_list = False  # focus_runs found the list empty: its runs may still come
        self._wanted: tuple[str, ...] = ()  # runs to highlight once listed (highlight_runs)

    def compose(self) -> ComposeResult:
        yield TextField(
            placeholder="run directory, enter opens",
            id="run-path",
            compact=True,
            tooltip="Path of any run directory (one another terminal is writing too)",
        )
        yield (ManagedRunList if self.manage else RunList)(id="run-list")
        yield Static("", id="run-details", markup=False)

    def set_runs(
        self,
        entries: Sequence[Mapping],
        selected: Sequence[str],
        colors: Mapping[str, str],
        root: str,
    ) -> None:
        """List `entries` (list_runs() rows with absolute paths), ticking the paths in
        `selected`; rebuilt only when something shown changed, keeping the highlighted row.
        While the list has the focus and lists the same runs, they keep their rows: reordered
        by each epoch a run wrote, ↑↓ and space ticked other runs than the ones seen."""
        runs = self.query_one("#run-list", SelectionList)
        shown = [runs.get_option_at_index(i).value for i in range(runs.option_count)]
        if runs.has_focus and sorted(shown) == sorted(str(e["path"]) for e in entries):
            row = {path: i for i, path in enumerate(shown)}
            entries = sorted(entries, key=lambda e: row[str(e["path"])])
        self._entries = {str(e["path"]): e for e in entries}
        self._root = root
        rows = tuple(
            (
                str(e["path"]),
                str(e["name"]),
                e.get("status"),
                colors.get(str(e["path"])) if str(e["path"]) in selected else None,
            )
            for e in entries
        )
        key = (rows, tuple(selected))
        if key != self._shown:
            self._shown = key
            self._rebuild(entries, selected, colors)
        self._highlight_wanted()
        if self._focus_list and entries:
            self._focus_list = False
            path = self.query_one("#run-path", TextField)
            if path.has_focus and not path.value:
                self.query_one("#run-list", SelectionList).focus()
        self._show_details()

    def focus_runs(self) -> None:
        """Focus the run list, whose keys the line under it names (r, c, m, del), when it has
        runs; else the path field. A list still being read takes the focus when its runs come,
        unless a path is being typed by then."""
        runs = self.query_one("#run-list", SelectionList)
        self._focus_list = not runs.option_count
        (self.query_one("#run-path", TextField) if self._focus_list else runs).focus()

    def highlight_runs(self, paths: Sequence[str]) -> None:
        """Put the highlight, and so the details and the keys c, m and del, on a run of
        `paths` (the runs the screen shows) unless it is on one already; a run not listed yet
        (started a moment ago: the list is rescanned in a worker) is highlighted once it is."""
        self._wanted = tuple(str(p) for p in paths)
        self._highlight_wanted()
        self._show_details()

    def _highlight_wanted(self) -> None:
        if not self._wanted:
            return
        runs = self.query_one("#run-list", SelectionList)
        listed = list(self._entries)  # in the list's order (set_runs rebuilds it from them)
        highlighted = runs.highlighted
        if highlighted is not None and highlighted < len(listed):
            if listed[highlighted] in self._wanted:
                self._wanted = ()
                return
        found = [i for i, path in enumerate(listed) if path in self._wanted]
        if found and len(listed) == runs.option_count:
            runs.highlighted = found[0]
            self._wanted = ()

    def _rebuild(
        self, entries: Sequence[Mapping], selected: Sequence[str], colors: Mapping[str, str]
    ) -> None:
        runs = self.query_one("#run-list", SelectionList)
        highlighted = runs.highlighted
        current = (
            runs.get_option_at_index(highlighted).value
            if highlighted is not None and highlighted < runs.option_count
            else None
        )
        marks: dict[tuple[str, str | None], Content] = {}
        # The rows live until the next change of the list: frozen as built (where the app
        # freezes), so the collections their ~10,000 objects set off do not walk them.
        with kept_for_good(), runs.prevent(SelectionList.SelectedChanged):
            runs.clear_options()
            runs.add_options(
                Selection(
                    run_prompt(
                        e,
                        colors.get(str(e["path"])) if str(e["path"]) in selected else None,
                        marks,
                    ),
                    str(e["path"]),
                    str(e["path"]) in selected,
                )
                for e in entries
            )
        paths = [str(e["path"]) for e in entries]
        if current in paths:
            runs.highlighted = paths.index(current)
        elif paths:
            runs.highlighted = 0

    @property
    def highlighted_entry(self) -> Mapping | None:
        """The list_runs() row of the highlighted run, if any."""
        runs = self.query_one("#run-list", SelectionList)
        highlighted = runs.highlighted
        if highlighted is None or highlighted >= runs.option_count:
            return None
        return self._entries.get(runs.get_option_at_index(highlighted).value)

    def _show_details(self) -> None:
        runs = self.query_one("#run-list", SelectionList)
        count = len(self._entries)
        where = f"{count} run{'s' if count != 1 else ''} in {self._root} · r rescans"
        if count and self.manage:
            where += " · c continue · m rename · del delete"
        if count:  # the list has the focus: the path field is one key away
            where += " · shift+tab types a path"
        highlighted = runs.highlighted
        entry = None
        if highlighted is not None and highlighted < runs.option_count:
            entry = self._entries.get(runs.get_option_at_index(highlighted).value)
        text = f"{run_details(entry)}\n{where}" if entry is not None else where
        self.query_one("#run-details", Static).update(text)

    def on_selection_list_selection_highlighted(self) -> None:
        self._show_details()
