"""How long the app's event loop is held, screen by screen, as a person uses it.

    python benchmarks/bench_stalls.py [--moves 20] [--presses 24] [--only tabs,switch,inside]

`switch` opens each screen for the first time, then returns to each one twice.

A 5 ms heartbeat runs on the app's event loop (headless, 120×40, animations off); a watcher
thread notes the loop's Python stack whenever the heartbeat is over 50 ms late, so each stall
comes with where the loop was. One JSON line per scenario:

    startup the longest gap while the app freezes its long-lived objects after start-up
            (a full collection, once, before any key below)
    tabs    the Dataset screen's tabs shown in turn (`]`) --presses times, 0.4 s apart: the
            longest gap after each press (median, p95, max), the p95 over the presses after
            each tab's first showing (p95_shown_again), the full collections meanwhile, and how
            many objects stayed alive per press over the second half (at most the
            last presses − 16; after a full collection at each end, frozen objects included:
            a leak shows as steady growth)
    switch  each screen opened for the first time by its function key: the longest gap and
            where the loop spent it (Textual's own stylesheet and build work shows as textual)
    inside  the Gradients screen's Inside tab reading a text with the shipped char LSTM, then
            --moves step moves (,): the longest gap while moving, and the widget's own time

Exit status 1 when a step move holds the loop over 100 ms. Run in a folder with no runs (a
temporary $RNN_TUI_RUNS is used).
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

from _args import int_in, names, parser  # beside this script

ROOT = Path(__file__).resolve().parents[1]
LSTM = ROOT / "checkpoints" / "timemachine-char-lstm.json"
STEP_TARGET_MS = 100.0
SCENARIOS = ("tabs", "switch", "inside")  # --only's names (startup is always measured)


class Watch:
    """The heartbeat's gaps over 50 ms, each with the loop's most frequent innermost frames."""

    def __init__(self) -> None:
        self.loop_thread = threading.get_ident()
        self.beat = time.perf_counter()
        self.stalls: list[tuple[float, list[str]]] = []
        self.longest = 0.0  # the longest gap between two beats since it was last reset
        self._stop = False

    async def heartbeat(self) -> None:
        self.beat = time.perf_counter()
        while not self._stop:
            now = time.perf_counter()
            self.longest = max(self.longest, now - self.beat)
            self.beat = now
            await asyncio.sleep(0.005)

    def watcher(self) -> None:
        started, where = None, collections.Counter()
        while not self._stop:
            time.sleep(0.01)
            late = time.perf_counter() - self.beat
            if late > 0.05:
                frames = traceback.extract_stack(sys._current_frames()[self.loop_thread])
                ours = [f for f in frames if "rnn_tui" in f.filename]
                frame = ours[-1] if ours else frames[-1]
                where[f"{Path(frame.filename).name}:{frame.name}"] += 1
                started = started or self.beat
            elif started is not None:
                self.stalls.append(
                    (time.perf_counter() - started, [w for w, _ in where.most_common(2)])
                )
                started, where = None, collections.Counter()

    def start(self) -> None:
        self.stalls.clear()
        asyncio.get_running_loop().create_task(self.heartbeat())
        threading.Thread(target=self.watcher, daemon=True).start()

    def take(self) -> dict:
        worst = max(self.stalls, default=(0.0, []))
        self.stalls = []
        return {"max_stall_ms": round(worst[0] * 1e3, 1), "where": worst[1]}

    def stop(self) -> None:
        self._stop = True


def alive_after_collecting() -> int:
    """Objects the collector tracks after a full collection, the frozen ones included (the
    app freezes what it keeps for good)."""
    import gc

    gc.collect()
    return len(gc.get_objects()) + gc.get_freeze_count()


async def tab_switches(pilot, watch: Watch, presses: int) -> dict:
    """The Dataset screen's next tab, `presses` times: the longest gap after each press."""
    import gc
    import statistics

    full = []

    def collected(phase: str, info: dict) -> None:
        if phase == "stop" and info["generation"] == 2:
            full.append(phase)

    gaps, by_tab = [], collections.defaultdict(list)
    tabs = pilot.app.screen.query_one("TabbedContent")
    alive = 0
    # Four rounds of the tabs: every cache filled, the pairs loaded and frozen (a refreeze also
    # keeps the footer of that moment, which a later rebuild replaces: a one-off).
    settled = min(16, presses // 2)
    gc.callbacks.append(collected)
    try:
        for _ in range(presses):
            watch.longest = 0.0
            await pilot.press("right_square_bracket")
            await pilot.pause(0.4)
            gaps.append(watch.longest * 1e3)
            by_tab[tabs.active.removeprefix("tab-")].append(watch.longest * 1e3)
            if len(gaps) == settled:  # from here on, what stays alive is growth
                alive = alive_after_collecting()
                full.pop()  # not one of the app's
    finally:
        gc.callbacks.remove(collected)
    alive_per_press = (alive_after_collecting() - alive) / max(1, presses - settled)
    in_order = [round(g) for g in gaps]
    # After each tab's first showing (its one-off build), what a person switching back meets.
    again = sorted(gaps[len(by_tab) :])
    gaps.sort()
    return {
        "scenario": "tabs",
        "presses": presses,
        "first_cycle_ms": in_order[:4],  # each tab's first showing
        "median_ms": round(statistics.median(gaps), 1),
        "p95_ms": round(gaps[max(0, round(0.95 * len(gaps)) - 1)], 1),
        "max_ms": round(gaps[-1], 1),
        "p95_shown_again_ms": round(again[max(0, round(0.95 * len(again)) - 1)], 1),
        "median_ms_by_tab": {tab: round(statistics.median(g)) for tab, g in by_tab.items()},
        "full_collections": len(full),
        "alive_per_press": round(alive_per_press),
        **{f"worst_{k}": v for k, v in watch.take().items()},
    }


async def scenarios(moves: int, only: set[str], presses: int = 24) -> list[dict]:
    from textual.widgets import Input, Select, TabbedContent

    from rnn_tui.tui.app import SCREEN_SPECS, RnnTuiApp

    app = RnnTuiApp()
    app.animation_level = "none"
    app.freeze_long_lived_objects = True  # as in a terminal (a headless app does not)
    app.warm_up_in_background = True  # likewise: torch's libraries and the screens' modules
    results = []
    watch = Watch()
    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause(0.5)
        watch.start()
        # The start-up freeze (one full collection, FREEZE_AFTER_S after the app mounted) is a
        # one-off of its own: measured before any key, so that it lands in no tab's first
        # showing.
        watch.longest = 0.0
        while not app._frozen:
            await pilot.pause(0.05)
        await pilot.pause(0.2)
        results.append({"scenario": "startup", "freeze_gap_ms": round(watch.longest * 1e3, 1)})
        if "tabs" in only:
            results.append(await tab_switches(pilot, watch, presses))
            # The tabs' last count of live objects (a full collection of this harness's own) is
            # seen by the heartbeat only when it next beats: not the first switch's.
            await pilot.pause(0.2)
            watch.take()
        if "switch" in only:
            for spec in SCREEN_SPECS[1:]:
                await pilot.press(spec.function_key)
                await pilot.pause(2.0)
                results.append({"scenario": "switch", "screen": spec.mode, **watch.take()})
            # Back to each screen, now built: Textual restyled every node on each return.
            for spec in (*SCREEN_SPECS, *SCREEN_SPECS[1:]):
                await pilot.press(spec.function_key)
                await pilot.pause(1.0)
                results.append({"scenario": "return", "screen": spec.mode, **watch.take()})
        if "inside" in only:
            await pilot.press("f7")
            await pilot.pause(2.0)
            screen = app.screen
            screen.query_one(TabbedContent).active = "grad-inside"
            await pilot.pause()
            screen.query_one("#inside-checkpoint", Select).value = "path"
            await pilot.pause()
            field = screen.query_one("#inside-path", Input)
            field.value = str(LSTM)
            field.focus()
            await pilot.press("enter")
            while not screen.inside:
                await pilot.pause(0.1)
            await app.workers.wait_for_complete()
            # A person reads the heatmap before moving: the app's growth (the screen, torch) is
            # frozen out of the collector by then (collection_pause.py Refreeze).
            await pilot.pause(2 * app.REFREEZE_EVERY_S + 0.5)
            screen.set_focus(None)
            watch.take()
            started = time.perf_counter()
            for _ in range(moves):
                await pilot.press("comma")
            await app.workers.wait_for_complete()
            results.append(
                {
                    "scenario": "inside",
                    "moves": moves,
                    "tokens": len(screen.inside["ids"]),
                    "seconds": round(time.perf_counter() - started, 2),
                    **watch.take(),
                }
            )
    watch.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, __file__)
    ap.add_argument("--moves", type=int_in("moves", 1, 10_000), default=20)
    ap.add_argument("--presses", type=int_in("presses", 1, 10_000), default=24)
    ap.add_argument("--only", type=names(SCENARIOS), default=list(SCENARIOS))
    args = ap.parse_args(argv)
    only = set(args.only)
    with tempfile.TemporaryDirectory() as runs:
        os.environ["RNN_TUI_RUNS"] = runs
        results = asyncio.run(scenarios(args.moves, only, args.presses))
    for result in results:
        print(json.dumps(result))
    missed = [
        r for r in results if r["scenario"] == "inside" and r["max_stall_ms"] > STEP_TARGET_MS
    ]
    return 3 if missed else 0  # 3: a target missed (1 is Python's crash status)


if __name__ == "__main__":
    sys.exit(main())
