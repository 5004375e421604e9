"""The checkpoint chooser of the Generate and Translate consoles.

A drop-down of the checkpoints rnn_tui.runs.discover finds for one task ("lm", "seq2seq"),
read in a worker (discovery opens every checkpoint's JSON), followed by a "Path…" entry that
shows a field for any checkpoint or run directory; below, one line of facts about the choice.
The picker loads nothing: it posts `Chosen` when the user's choice changes (a checkpoint
picked from the list, or a typed path submitted) and the console loads it.
"""

from __future__ import annotations

from textual import events, on, work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Label, Select
from textual.worker import Worker, WorkerState

from rnn_tui.runs.discover import discover_checkpoints, fact_parts, short_path
from rnn_tui.tui.collection_pause import collection_paused
from rnn_tui.tui.widgets.facts_line import FactsLine
from rnn_tui.tui.widgets.text_field import TextField

PATH = "path"  # the drop-down's "type a path" entry
PATH_HINT = "type the path of a .safetensors checkpoint or a run directory"


class CheckpointPicker(Vertical):
    """Drop-down (`select_id`), path row (`path_row_id`, field `path_id`) and facts line
    (`facts_id`). After choosing, focus moves to `then_focus` (a selector in the screen)."""

    DEFAULT_CSS = """
    CheckpointPicker {
        height: auto;
    }
    CheckpointPicker > Horizontal {
        height: 1;
    }
    CheckpointPicker .control-label {
        padding: 0 1;
        color: $text-muted;
    }
    CheckpointPicker Select, CheckpointPicker Input {
        width: 1fr;
    }
    CheckpointPicker > .path-row {
        display: none;
    }
    CheckpointPicker > .facts {
        height: auto;
        max-height: 2;
        padding: 0 1;
        color: $text-accent;
    }
    """

    class Chosen(Message):
        """The user chose the checkpoint at `path` (from the list, or typed and submitted)."""

        def __init__(self, path: str) -> None:
            super().__init__()
            self.path = path

    class Found(Message):
        """A search finished with `count` checkpoints; `kept` when the choice did not change
        and is a listed checkpoint (whose facts `show_entry_facts` can refresh)."""

        def __init__(self, count: int, kept: bool) -> None:
            super().__init__()
            self.count, self.kept = count, kept

    class SearchFailed(Message):
        """Looking for checkpoints raised `error`."""

        def __init__(self, error: BaseException | None) -> None:
            super().__init__()
            self.error = error

    def __init__(
        self,
        task: str,
        *,
        select_id: str,
        path_id: str,
        path_row_id: str,
        facts_id: str,
        tooltip: str,
        then_focus: str,
        focus_empty_path: bool = True,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.checkpoint_task = task  # "lm" or "seq2seq": the checkpoints listed
        self._ids = (select_id, path_id, path_row_id, facts_id)
        self._tooltip = tooltip
        self._then_focus = then_focus
        # Whether "Path…" with no path typed takes the focus when a search (not the user)
        # left it chosen, for there is nothing else to choose.
        self._focus_empty_path = focus_empty_path
        self._entries: dict[str, dict] = {}  # path -> discovered entry
        self._selected: str | None = None  # the drop-down's value last acted on
        self._found = False  # whether a search has finished
        # "Path…" chosen by the user (ctrl+o, the palette, the list), its field maybe still
        # empty: a search that finishes meanwhile keeps it (the palette's command, followed
        # by the screen's search on its return, fell back to the first checkpoint).
        self._path_chosen = False
        self._search: Worker | None = None
        # (drop-down value, typed path, facts line) of the checkpoint last loaded, which a
        # choice that fails to load gives way to: its results are the ones still shown.
        self._loaded: tuple[object, str, tuple[tuple[str, ...], str]] | None = None

    def compose(self) -> ComposeResult:
        select_id, path_id, path_row_id, facts_id = self._ids
        with Horizontal():
            yield Label("checkpoint", classes="control-label")
            yield Select(
                [("Path…", PATH)],
                value=PATH,
                allow_blank=False,
                compact=True,
                id=select_id,
                tooltip=self._tooltip,
            )
        with Horizontal(id=path_row_id, classes="path-row"):
            yield Label("path", classes="control-label")
            yield TextField(
                placeholder="a .safetensors checkpoint or a run directory, then enter",
                id=path_id,
                compact=True,
            )
        yield FactsLine("looking for checkpoints…", id=facts_id, classes="facts")

    # -- what is chosen -----------------------------------------------------------------------

    @property
    def paths(self) -> list[str]:
        """The paths of the checkpoints the list offers (the last search's)."""
        return list(self._entries)

    @property
    def typed_path(self) -> str:
        return self.query_one(Input).value.strip()

    def current_path(self) -> str:
        """The checkpoint path chosen ("" when none is)."""
        value = self.query_one(Select).value
        return self.typed_path if value == PATH else str(value)

    def show_facts(self, facts: dict, path: str | None) -> None:
        """Put `facts` (rnn_tui.runs.discover.describe's, or more) on the facts line."""
        self.query_one(FactsLine).show(fact_parts(facts), short_path(path) if path else "")

    def _show_line(self, text: str) -> None:
        self.query_one(FactsLine).show_text(text)

    def show_entry_facts(self) -> None:
        """Show the listed facts of the chosen checkpoint again (the last search's: a run
        still training has newer metrics)."""
        entry = self._entries.get(str(self.query_one(Select).value))
        if entry is not None:
            self.show_facts(entry, entry["path"])

    # -- searching ----------------------------------------------------------------------------

    @property
    def found(self) -> bool:
        """Whether a search has finished (the list is the disk's, not the mount's "Path…")."""
        return self._found

    def search_again(self) -> None:
        """Search again if a search has finished: on the screen's return, for a run trained on
        another screen meanwhile may have saved checkpoints, or better scores, since."""
        if self._found:
            self.search()

    def search(self) -> None:
        """Look for checkpoints again, in a worker; `Found` or `SearchFailed` follows."""
        self._search = self._discover()

    @work(
        thread=True,
        exclusive=True,
        group="discover",
        exit_on_error=False,
        description="find checkpoints",
    )
    def _discover(self) -> list[dict]:
        # 1,500 runs make ~100,000 objects here: a full collection that this thread set off
        # walked all the app's objects with the GIL held, and the event loop waited 330 ms.
        with collection_paused():
            return discover_checkpoints(task=self.checkpoint_task)

    @on(Worker.StateChanged)
    def _search_changed(self, event: Worker.StateChanged) -> None:
        if event.worker is not self._search:
            return
        if event.state == WorkerState.SUCCESS:
            self._fill(event.worker.result or [])
        elif event.state == WorkerState.ERROR:
            # Not "looking for checkpoints…" for good: a path can still be typed.
            self._show_line("could not look for checkpoints: type a path")
            self.post_message(self.SearchFailed(event.worker.error))

    def _fill(self, entries: list[dict]) -> None:
        """Offer `entries` (then "Path…") without posting Select.Changed; keep the choice while
        it is still offered (or "Path…" with a path typed), else take the first checkpoint
        (or "Path…" when there is none)."""
        select = self.query_one(Select)
        current = select.value
        # "Path…" in the drop-down but not yet acted on, after a search: the user's choice,
        # whose Select.Changed is still on its way (a search finishing first put the first
        # checkpoint over it). Before the first search, it is the drop-down's initial value.
        pending = self._found and current == PATH and self._selected != PATH
        self._path_chosen = self._path_chosen or pending
        self._found = True
        self._entries = {entry["path"]: entry for entry in entries}
        if current in self._entries or (current == PATH and (self.typed_path or self._path_chosen)):
            value = current
        else:
            value = entries[0]["path"] if entries else PATH
        with self.prevent(Select.Changed):
            select.set_options(
                [(entry["label"], entry["path"]) for entry in entries] + [("Path…", PATH)]
            )
            select.value = value
        kept = value == self._selected and value in self._entries
        if value != self._selected:
            self._choose(value, by_user=False)
        self.post_message(self.Found(len(entries), kept))

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        event.stop()
        self._choose(event.value, by_user=True)

    def _choose(self, value: object, by_user: bool) -> None:
        # The drop-down reports its first value on mount, before the list is known.
        if value == self._selected or not self._found:
            return
        self._selected = str(value)
        is_path = value == PATH
        self._path_chosen = is_path and (by_user or self._path_chosen)
        path_row = self.query_one(".path-row")
        if not is_path and path_row.has_focus_within:
            self.screen.query_one(self._then_focus).focus()
        path_row.display = is_path
        if not is_path:
            entry = self._entries[str(value)]
            self.show_facts(entry, entry["path"])
            self.post_message(self.Chosen(entry["path"]))
        elif self.typed_path and not by_user:
            self.post_message(self.Chosen(self.typed_path))
        else:
            # Chosen by the user (ctrl+o, or "Path…" in the list), a path typed before waits for
            # enter: loading it at once replaced the listed checkpoint, and the cursor then left
            # for `then_focus`, taking the next keys meant for the path.
            self._show_line(PATH_HINT)
            if by_user or self._focus_empty_path:
                self.query_one(Input).focus()

    @on(Input.Submitted)
    def _path_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        path = self.current_path()
        if not path:
            self.notify("type a checkpoint path first", severity="error", markup=False)
            return
        # The cursor stays here until the screen has loaded it (`path_loaded`): a path that
        # fails is corrected in place, and keys typed meanwhile never land in another field.
        self.post_message(self.Chosen(path))

    def path_loaded(self, path: str) -> None:
        """The screen loaded `path`: if it is the typed one and its field still has the cursor,
        the cursor moves on to `then_focus`."""
        field = self.query_one(Input)
        if self.current_path() == path:
            facts = self.query_one(FactsLine).shown
            self._loaded = (self.query_one(Select).value, self.typed_path, facts)
        if field.has_focus and self.current_path() == path:
            self.screen.query_one(self._then_focus).focus()

    def load_failed(self, path: str) -> None:
        """The screen could not load or use `path`. Chosen from the list, it gives way to the
        checkpoint loaded before, whose results the screen still shows (or, with none, the
        facts line says so); a typed path stays in its field, to be corrected in place."""
        select = self.query_one(Select)
        if select.value == PATH or str(select.value) != path:
            return
        if self._loaded is None:
            self._show_line("not loaded: choose another checkpoint or type a path (ctrl+o)")
            return
        self._restore_loaded()

    @on(events.DescendantBlur)
    def _path_left(self, event: events.DescendantBlur) -> None:
        """The path field left empty (escape, a screen key) after "Path…" was chosen: the
        checkpoint still loaded and in use is named again. The header said "Path…" and "type
        the path…" over another checkpoint's results."""
        if not isinstance(event.widget, Input) or self.typed_path or self._loaded is None:
            return
        if self.query_one(Select).value == PATH and self._loaded[0] != PATH:
            self._path_chosen = False
            self._restore_loaded()

    def _restore_loaded(self) -> None:
        """Name again the checkpoint loaded last (its drop-down entry, or its typed path)."""
        assert self._loaded is not None
        select = self.query_one(Select)
        value, typed, facts = self._loaded
        if value != PATH and value not in self._entries:  # gone from the list since
            value, typed = PATH, str(value)
        with self.prevent(Select.Changed):
            select.value = value
        self._selected = str(value)
        if value == PATH:
            self.query_one(Input).value = typed
        self.query_one(".path-row").display = value == PATH
        self.query_one(FactsLine).show(*facts)

    # -- actions ------------------------------------------------------------------------------

    def open_path(self) -> None:
        """Choose "Path…" and put the cursor in its field."""
        self._path_chosen = True  # before any search's result, which keeps it
        self.query_one(Select).value = PATH
        self.query_one(".path-row").display = True
        self.query_one(Input).focus()

    def open_list(self) -> None:
        """Focus the drop-down and open its list."""
        select = self.query_one(Select)
        select.focus()
        select.expanded = True


__all__ = ["PATH", "CheckpointPicker"]
