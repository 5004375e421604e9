"""The Classify screen's runs, without Textual or torch: three parts, each a RunPair —

- names → language (`train --task classify`): one slot per `balance` setting, so unweighted,
  class-weighted and balanced-sampling runs sit side by side;
- tagging (`train --task tag`): the one-way and the two-way tagger, started together;
- the bidirectional-LM warning (`train --task lm`): one LM one way and both ways.

It makes the plan a Start runs, keeps the held-out view computed from each names or tagger run's
`best` checkpoint, or its `last` before it has one (the screen computes them in workers), and
says which views are due: after an epoch, every VIEW_EVERY_S at most (runs/view_pace.py: two
taggers of a small text finished 5 epochs a second between them, and the screen's layout after
each view took 75–140 ms, 20 ms of it the loop's own CPU, the rest the view workers' and the
trainers' share) and no more often than their CPU allows (VIEW_SHARE of a core), and at once
when a run ends. A finished run opened into a
slot is only kept once its view is computed: when its checkpoint cannot be used, the slot shows
again what it showed before.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from rnn_tui.runs.followed import FollowedRuns, Notice
from rnn_tui.runs.pair import RunPair
from rnn_tui.runs.process import CommandBuilder, TrainProcess
from rnn_tui.runs.view_pace import ViewPace

NAMES, TAG, BILM = "names", "tag", "bilm"
PARTS = (NAMES, TAG, BILM)
PART_TASKS = {NAMES: "classify", TAG: "tag", BILM: "lm"}
NAME_SLOTS = ("none", "weights", "sampling")  # the `balance` settings, one run each
UNI, BI = "uni", "bi"
WITH_VIEWS = (NAMES, TAG)  # the parts whose runs' checkpoints the screen evaluates
NOT_OPENED, FAILED = "not opened", "failed"  # what view_done says of a view that failed


def two_way(config: dict) -> str:
    return BI if config.get("bidirectional") is True else UNI


def balance_slot(config: dict) -> str:
    balance = config.get("balance")
    return balance if balance in NAME_SLOTS else NAME_SLOTS[0]


class ClassifyLab:
    """The three parts' runs and the views of their checkpoints."""

    def __init__(
        self,
        colors: Mapping[str, Mapping[str, str]],
        *,
        preset: Mapping[str, object] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`colors`: part → slot → the colour its run is drawn in; `preset`: the options the
        bidirectional-LM part starts from (the form's fields go on top)."""
        slot_of = {NAMES: balance_slot, TAG: two_way, BILM: two_way}
        self.pairs = {
            part: RunPair(colors[part], slot_of[part], PART_TASKS[part], clock=clock)
            for part in PARTS
        }
        self.preset = dict(preset or {})
        self.pace = ViewPace()  # live runs' views: at most every VIEW_EVERY_S
        self.views: dict[tuple[str, str], object] = {}  # (part, slot) → its view
        self._view_keys: dict[tuple[str, str], tuple] = {}
        self._loading: set[tuple[str, str]] = set()
        # (part, slot) → what the slot showed before a run was opened into it, until that run's
        # view is computed: (its runs, its view, its view's key, the names slot then).
        self._before_open: dict[tuple[str, str], tuple[FollowedRuns, object, tuple, str]] = {}
        # Whose names model the name field and the matrix use. A run started or opened takes
        # them over once it has a view (`_names_next`): until then the run beside it that has a
        # model keeps them, where the new run may never get one (stopped before any checkpoint).
        self.names_slot = ""
        self._names_next = ""

    # -- following ----------------------------------------------------------------------------

    def poll(self, big_read: int) -> tuple[list[Notice], list[tuple[FollowedRuns, str]], bool]:
        """Every part's RunPair.poll, gathered."""
        notices: list[Notice] = []
        to_read: list[tuple[FollowedRuns, str]] = []
        exited = False
        for pair in self.pairs.values():
            found, reads, done = pair.poll(big_read)
            notices += found
            to_read += reads
            exited |= done
        return notices, to_read, exited

    def training(self) -> list[TrainProcess]:
        return [p for pair in self.pairs.values() for p in pair.training()]

    # -- views --------------------------------------------------------------------------------

    def due_views(self) -> list[tuple[str, str, Path]]:
        """(part, slot, run path) of every view to compute now: a run that completed an epoch
        or ended since its view was computed, and is not being computed already. Live runs'
        views wait for the pace, all of them due in the same call: computed, and drawn,
        together; a run that ended is not paced."""
        due = []
        live_due: bool | None = None
        for part in WITH_VIEWS:
            for slot, snap in self.pairs[part].snapshots().items():
                key = (part, slot)
                if snap is None or key in self._loading:
                    continue
                seen = (str(snap.path), snap.epoch, snap.status)
                if seen == self._view_keys.get(key) or (snap.active and snap.epoch == 0):
                    continue
                if snap.active:
                    live_due = self.pace.due() if live_due is None else live_due
                    if not live_due:
                        continue  # a later poll computes it
                self._view_keys[key] = seen
                self._loading.add(key)
                due.append((part, slot, snap.path))
        return due

    def views_drawn(self) -> None:
        """A view was computed and drawn: once no other is still computing, what the round
        cost (its CPU, drawing included) paces the next one (runs/view_pace.py)."""
        if not self._loading:
            self.pace.done()

    def view_done(
        self, part: str, slot: str, view: object | None, failed: bool, path: Path | None = None
    ) -> str:
        """Keep a computed view of the run at `path` (None: the run has no checkpoint yet).
        Returns what to tell of a failure: "" (none, or a live run's: its checkpoint may be
        mid-write, and the next epoch tries again), NOT_OPENED (a run just opened: the slot
        shows what it showed before) or FAILED (a finished run's view). A view of a run the slot
        no longer shows is dropped."""
        key = (part, slot)
        self._loading.discard(key)
        snap = self.pairs[part].snapshots()[slot]
        if path is not None and (snap is None or Path(snap.path) != Path(path)):
            return ""
        before = self._before_open.pop(key, None)
        if view is not None:
            self.views[key] = view
            taking = slot == self._names_next or snap is None or snap.active
            if part == NAMES and (taking or self.names_view()[1] is None):
                self.names_slot = slot
        if not failed or (snap is not None and snap.active):
            return ""
        if before is None:
            return FAILED
        runs, old_view, old_key, self.names_slot = before
        if self._names_next == slot:
            self._names_next = self.names_slot
        self.pairs[part].slots[slot] = runs
        self.forget(part, slot)
        if old_view is not None:
            self.views[key], self._view_keys[key] = old_view, old_key
        return NOT_OPENED

    def forget(self, part: str, slot: str) -> None:
        self.views.pop((part, slot), None)
        self._view_keys.pop((part, slot), None)
        self._before_open.pop((part, slot), None)

    def names_view(self) -> tuple[str, object | None]:
        """(slot, view) the name field and the confusion matrix use: the names slot's, or where
        that slot's run is no longer shown, the first other names run's with a view."""
        for slot in (self.names_slot, *NAME_SLOTS):
            if (NAMES, slot) in self.views:
                return slot, self.views[(NAMES, slot)]
        return self.names_slot, None

    def shown_views(self, part: str) -> dict[str, object]:
        return {slot: v for (p, slot), v in self.views.items() if p == part}

    # -- starting, stopping, opening ------------------------------------------------------------

    def plan(self, part: str, options: Mapping[str, object]) -> tuple[dict, str]:
        """(slot → options to start, "" or why not): a names run in its balance's slot; the
        one-way and two-way runs of the other parts (the LM on top of the preset)."""
        pair = self.pairs[part]
        options = {"task": PART_TASKS[part], **options}
        if part == NAMES:
            slot = balance_slot(options)
            if pair.slots[slot].training() is not None:
                return {}, f"the balance {slot} run is still training: stop it first (x)"
            return {slot: options}, ""
        if pair.training():
            return {}, "the runs are still training: stop them first (x)"
        if part == BILM:
            options = {**self.preset, **options}
        return {
            UNI: {**options, "bidirectional": False},
            BI: {**options, "bidirectional": True},
        }, ""

    def start(
        self,
        part: str,
        root: Path,
        plan: Mapping[str, Mapping[str, object]],
        command_builder: CommandBuilder,
        *,
        nice: int = 0,
    ) -> tuple[list[TrainProcess], list[Notice]]:
        """Start the plan's runs (a names run leaves the other balance settings' runs shown,
        and the name field on the model it used until the new run has a view)."""
        for slot in plan:
            self.forget(part, slot)
        started, notices = self.pairs[part].start(
            root, plan, command_builder, nice=nice, keep_others=part == NAMES
        )
        if started and part == NAMES:
            self._names_next = next(iter(plan))
        return started, notices

    def open(self, part: str, path: str | os.PathLike) -> tuple[str, str]:
        """Follow the run at `path` in its slot of `part`: (slot, key); RunError otherwise. What
        the slot showed is kept until the run's view is computed (see view_done)."""
        pair = self.pairs[part]
        slots_before = dict(pair.slots)
        slot, key = pair.open(path)
        before = self._before_open.get((part, slot))  # a run opened while another is checked
        if before is None:
            view_key = self._view_keys.get((part, slot), ())
            before = (slots_before[slot], self.views.get((part, slot)), view_key, self.names_slot)
        self.forget(part, slot)
        if part in WITH_VIEWS:
            self._before_open[(part, slot)] = before
        if part == NAMES:
            self._names_next = slot
        return slot, key

    def untick(self, part: str, keep: set[str]) -> None:
        """Stop showing the part's runs not in `keep` (a run training stays)."""
        pair = self.pairs[part]
        for slot, key in pair.shown().items():
            if key not in keep and pair.slots[slot].training() is None:
                pair.clear(slot)
                self.forget(part, slot)


__all__ = [
    "BI",
    "BILM",
    "FAILED",
    "NAMES",
    "NOT_OPENED",
    "NAME_SLOTS",
    "PARTS",
    "PART_TASKS",
    "TAG",
    "UNI",
    "ClassifyLab",
    "balance_slot",
    "two_way",
]
