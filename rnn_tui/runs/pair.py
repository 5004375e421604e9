"""Runs trained side by side, one per named slot, without Textual: the Forecast screen's AR MLP
and latent model. Each slot is a `FollowedRuns` following one run (and the trainer started for
it); this class starts a plan of runs at once, puts an opened run in its model's slot, and
gathers what the slots have to tell.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from rnn_tui.quoting import plain
from rnn_tui.runs.followed import FollowedRuns, Notice, run_key
from rnn_tui.runs.liveness import DIED
from rnn_tui.runs.process import CommandBuilder, TrainProcess, shared_threads, train_command
from rnn_tui.runs.rundir import RunDir, RunError
from rnn_tui.runs.snapshot import Snapshot
from rnn_tui.runs.task_home import wrong_task

# The slot screens start and stop runs; continuing one is the Train screen's run list's work.
CONTINUE = "c in the Train screen's run list continues it"


class RunPair:
    """One followed run per slot; `slot_of(config)` says which slot a run of `task` belongs in."""

    def __init__(
        self,
        colors: Mapping[str, str],
        slot_of: Callable[[dict], str],
        task: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`colors`: slot → the colour its run is drawn in (the slots, in order)."""
        self.colors = dict(colors)
        self.slot_of = slot_of
        self.task = task
        self.clock = clock
        self.slots: dict[str, FollowedRuns] = {slot: self._fresh(slot) for slot in self.colors}
        # The last start: slot → the run it started, and the slots it emptied, kept to be
        # shown again if every run it started is refused or fails.
        self._starts: dict[str, str] = {}
        self._set_aside: dict[str, FollowedRuns] = {}

    def _fresh(self, slot: str) -> FollowedRuns:
        return FollowedRuns((self.colors[slot],), clock=self.clock, stopped_hint=f": {CONTINUE}")

    def clear(self, slot: str) -> None:
        """Stop following the slot's run (a trainer started for it keeps running)."""
        self.slots[slot] = self._fresh(slot)
        self._set_aside.pop(slot, None)

    # -- starting and stopping --------------------------------------------------------------

    def start(
        self,
        root: Path,
        plan: Mapping[str, Mapping[str, object]],
        command_builder: CommandBuilder = train_command,
        *,
        nice: int = 0,
        keep_others: bool = False,
    ) -> tuple[list[TrainProcess], list[Notice]]:
        """Start one trainer per planned slot (slot → its options), each writing a new run
        directory under `root` and shown alone in its slot; the other slots are emptied (with
        `keep_others`, kept). A planned slot keeps what it showed before, to show it again if
        its trainer refuses the options (FollowedRuns.start), and an emptied slot shows its run
        again if every trainer started is refused or fails. Returns the trainers started and a
        notice for each that could not be."""
        started: list[TrainProcess] = []
        # A stopped run leaving its slot is said to be kept, and how it goes on.
        notices = [
            Notice(f"{plain(snap.path.name)} (stopped) is still in the runs folder: {CONTINUE}")
            for slot, runs in self.slots.items()
            if (slot in plan or not keep_others)
            and (snap := runs.shown()) is not None
            and snap.status == "stopped"
        ]
        self._starts, set_aside = {}, {}
        threads = shared_threads(len(plan))
        for slot in self.slots:
            if slot not in plan:
                if not keep_others:
                    set_aside[slot] = self.slots[slot]
                    self.clear(slot)
                continue
            try:
                process = self.slots[slot].start(
                    root, plan[slot], command_builder, nice=nice, threads=threads
                )
            except RunError as exc:
                notices.append(Notice(str(exc), "error"))
                continue
            started.append(process)
            self._starts[slot] = run_key(process.path)
        self._set_aside = set_aside
        self._restore_if_failed()
        return started, notices

    def _restore_if_failed(self) -> None:
        """Show the slots the last start emptied again once none of its runs came to anything:
        each refused (forgotten), failed or died, or none started at all."""
        if not self._set_aside:
            return
        for slot, key in self._starts.items():
            runs = self.slots[slot]
            if runs.training() is not None:
                return
            follower = runs.followers.get(key)
            came_to_nothing = follower is not None and follower.status in ("failed", DIED)
            if runs.primary == key and not came_to_nothing:
                return
        self.slots.update(self._set_aside)
        self._set_aside = {}

    def training(self) -> list[TrainProcess]:
        """The trainers started here that are still alive."""
        return [p for runs in self.slots.values() if (p := runs.training()) is not None]

    def stop(self) -> list[Notice]:
        """Ask every run that is training to stop (a checkpoint, then exit), including a
        trainer started here that has not yet written its status (a stop just after Start)."""
        active = [
            runs
            for runs in self.slots.values()
            if runs.training() is not None or ((s := runs.shown()) and s.active)
        ]
        if not active:
            return [Notice("no run is training", "warning")]
        return [runs.steer("stop") for runs in active]

    # -- opening ----------------------------------------------------------------------------

    def open(self, path: str | os.PathLike) -> tuple[str, str]:
        """Follow the run at `path` in its slot, replacing the slot's run: (slot, key). RunError,
        one line, for a folder that is not a run of this task or a slot still training."""
        key = run_key(path)
        config = RunDir(key).read_config()
        task = config.get("task", "lm")
        if task != self.task:
            raise RunError(wrong_task(Path(key).name, task, self.task))
        slot = self.slot_of(config)
        if self.slots[slot].training() is not None:
            raise RunError(f"the {slot} run is still training: stop it first (x)")
        runs = self._fresh(slot)
        key, _ = runs.open(key)
        self.slots[slot] = runs
        self._set_aside.pop(slot, None)
        return slot, key

    # -- following --------------------------------------------------------------------------

    def poll(self, big_read: int) -> tuple[list[Notice], list[tuple[FollowedRuns, str]], bool]:
        """Read what every slot's run appended: (notices, the (slot runs, key) pairs to read in
        a worker thread, whether a trainer started here exited)."""
        notices: list[Notice] = []
        to_read: list[tuple[FollowedRuns, str]] = []
        exited = False
        for runs in self.slots.values():
            found, big = runs.poll(big_read)
            notices += found
            to_read += [(runs, key) for key in big]
            done = runs.check_process()
            if done is not None:
                notices += done
                exited = True
        self._restore_if_failed()
        return notices, to_read, exited

    def snapshots(self) -> dict[str, Snapshot | None]:
        return {slot: runs.shown() for slot, runs in self.slots.items()}

    def shown(self) -> dict[str, str]:
        """slot → the key of the run it shows (slots without one left out)."""
        return {slot: r.primary for slot, r in self.slots.items() if r.primary is not None}

    def entries(self, listed: list[dict]) -> list[dict]:
        """The run list: `listed` (list_runs() rows), then the runs shown from elsewhere."""
        entries = [{**e, "path": run_key(e["path"])} for e in listed]
        paths = {e["path"] for e in entries}
        for slot, key in self.shown().items():
            if key not in paths:
                entries += [e for e in self.slots[slot].entries() if e["path"] == key]
        return entries


__all__ = ["CONTINUE", "RunPair"]
