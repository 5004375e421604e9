"""What the live Train screen costs a run, and how quickly it answers keys meanwhile.

    python benchmarks/bench_ui.py [--epochs 4] [--pairs 2] [--hidden 256] [--key-every 0.2]
        [--idle-seconds 10] [--only ratio,keys,idle] [--size 120x40]

The app runs for real in a tmux pane (120×40, or --size), so the terminal output is produced
and parsed as a user's would be; the trainer is its ordinary child (`rnn-tui train`, started by
the screen's `s` key). One JSON line per measurement:

    ratio  the median per-epoch tokens/s of a char LSTM trained from the Train screen, over the
           same configuration trained headless (`rnn-tui train`), in alternating pairs (A B B A…);
           on a shared 2-core machine a pair swings ±20 %: bench_live_cost.py measures the same
           cost inside one run
    keys   during a Train-screen run, `v` (next plot) sent every --key-every seconds: time from
           sending it (tmux send-keys) to its handler running and to the next refresh, p50/p95/max;
           and the event loop's lag (how late a 50 ms asyncio timer fires), p50/p95/max
    idle   CPU seconds the app process uses per second over --idle-seconds on the Train screen
           with nothing followed

Exit status 3 when a target is missed (ratio ≥ 0.95, key p95 ≤ 100 ms). `main(argv)` is what
bench_all.py (and anything else) calls; `--serve` is the instrumented app itself, run in tmux.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _args import (
    int_in,
    names,
    number_in,
    parser,
    terminal_size,
    trainer_option,
)  # beside this script

from rnn_tui.train.registry import TASKS

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZE = (120, 40)
PANE = [SIZE]  # the tmux pane's columns and rows: --size
RATIO_TARGET = 0.95
KEY_P95_TARGET_MS = 100.0
LAG_TICK_S = 0.05
NICE_VAR = "RNN_TUI_BENCH_CHILD_NICE"  # an experiment: the screen's child_nice
COMPARE_VAR = "RNN_TUI_BENCH_COMPARE"  # finished runs the Train screen ticks beside its own
MEASURES = ("ratio", "keys", "idle")  # --only's names
SCREEN_ENV: dict[str, str] = {}  # the app's environment (its trainer inherits it): --screen-env


# -- the instrumented app (runs inside tmux) -------------------------------------------------


FORECAST_LENGTH = 50_000  # sine points of a forecast pair: the sine's 1,000 train in a second


def prepare(screen, task: str, hidden: int, epochs: int, model: str, then) -> None:
    """Set the form of `task`'s own screen (the Train screen's, the Classify screen's names or
    tagging part, the Forecast screen's) to `hidden` units and `epochs` epochs (a language
    model: a char `model`), then call `then()`. A part's form is built when it is first shown,
    so it is waited for."""
    from rnn_tui.tui.widgets.forecast_form import ForecastForm
    from rnn_tui.tui.widgets.train_form import TrainForm

    kind = TASKS[task].screen
    if kind == "train":
        form = screen.query_one(TrainForm)
        if task == "lm":
            for name, value in (("model", model), ("token", "char"), ("hidden", hidden)):
                form.set_value(name, value)
            form.set_value("epochs", epochs)
            then()
        else:
            form.apply({"task": task, "hidden": hidden, "epochs": epochs})
            screen.call_after_refresh(then)
        return
    values = {"hidden": hidden, "epochs": epochs}
    if kind == "forecast":
        query, values = ForecastForm, {**values, "length": FORECAST_LENGTH}
    else:
        part = "tag" if task == "tag" else "names"  # the Classify screen's parts
        screen.show_part(part)
        query = f"#cl-form-{part}"

    def fill() -> None:
        form = next(iter(screen.query(query)), None)
        if form is None or (kind == "classify" and screen.part != part):
            screen.set_timer(0.05, fill)
            return
        for name, value in values.items():
            form.set_value(name, value)
        screen.set_focus(None)  # `s` starts; it is not typed into a field
        screen.set_timer(0.5, then)  # the form's counts follow its fields

    fill()


def serve(
    out: Path, hidden: int, epochs: int, lag: bool, model: str = "lstm", task: str = "lm"
) -> int:
    """The real app on `task`'s own screen (the Train screen for a language model or a
    translator, else the Forecast or Classify screen), its form set by `prepare`, recording to
    `out` (JSON lines) its pid, each `v` handled and, with `lag`, the event loop's lag (a timer
    20 times a second: not in the app a ratio measures)."""
    sys.path.insert(0, str(ROOT))
    from rnn_tui.runs.followed import run_key
    from rnn_tui.tui.app import RnnTuiApp
    from rnn_tui.tui.screens.classify import ClassifyScreen
    from rnn_tui.tui.screens.forecast import ForecastScreen
    from rnn_tui.tui.screens.train import TrainScreen

    log = open(out, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives with the app

    def record(kind: str, **fields) -> None:
        log.write(json.dumps({"kind": kind, "t": time.monotonic(), **fields}) + "\n")

    nice = os.environ.get(NICE_VAR)
    mode = TASKS[task].screen
    base = {"train": TrainScreen, "forecast": ForecastScreen, "classify": ClassifyScreen}[mode]

    class ProbeScreen(base):
        def __init__(self) -> None:
            super().__init__(**({} if nice is None else {"child_nice": int(nice)}))

        def on_mount(self) -> None:
            # No super().on_mount(): Textual calls the screen's own after this one, and a
            # second call would start a second poll timer.
            loop = asyncio.get_running_loop()

            def tick(due: float) -> None:
                now = time.monotonic()
                record("lag", lag=now - due)
                loop.call_at(now + LAG_TICK_S, tick, now + LAG_TICK_S)

            # bench_live_cost.py stops and continues this process: continued, it carries on
            # where it was (Textual's handler would enter the terminal's application mode anew).
            signal.signal(signal.SIGCONT, signal.SIG_DFL)
            if lag:
                start = loop.time() + LAG_TICK_S
                loop.call_at(start, tick, start)

            def ready() -> None:
                self.call_after_refresh(lambda: record("ready", pid=os.getpid()))

            prepare(self, task, hidden, epochs, model, ready)
            compare = [p for p in os.environ.get(COMPARE_VAR, "").split(os.pathsep) if p]
            if compare and mode == "train":
                self._compare_with(compare)

        def _compare_with(self, paths: list[str]) -> None:
            """Once the run started from the form trains, tick `paths` beside it, as a user
            comparing runs does in the run list."""
            if self.runs.process is None:
                self.set_timer(0.2, lambda: self._compare_with(paths))
                return
            self.tick_runs([*self.runs.selected, *(run_key(p) for p in paths)])
            record("compared", runs=len(self.runs.selected))

        def action_next_plot(self) -> None:
            record("key")
            super().action_next_plot()
            self.call_after_refresh(lambda: record("painted"))

    class ProbeApp(RnnTuiApp):
        DEFAULT_MODE = mode
        MODES = {**RnnTuiApp.MODES, mode: ProbeScreen}  # noqa: RUF012

    ProbeApp().run()
    return 0


# -- driving it ------------------------------------------------------------------------------


def _records(out: Path) -> list[dict]:
    try:
        lines = out.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    return [json.loads(line) for line in lines if line.endswith("}")]


def _wait(condition, timeout: float, what: str, step: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise TimeoutError(f"timed out waiting for {what}")


class TmuxApp:
    """The instrumented app in a detached tmux session."""

    def __init__(
        self,
        work: Path,
        hidden: int,
        epochs: int,
        env: dict[str, str],
        lag: bool = False,
        model: str = "lstm",
        task: str = "lm",
    ):
        self.session = f"bench-ui-{os.getpid()}-{time.monotonic_ns()}"
        self.out = work / f"{self.session}.jsonl"
        self.runs = work / f"runs-{self.session}"
        self.runs.mkdir()
        exports = " ".join(f"{k}={v}" for k, v in {**env, "RNN_TUI_RUNS": str(self.runs)}.items())
        # The app draws into the pane (Textual writes to standard error), as a user's would.
        command = (
            f"cd {ROOT} && env {exports} {sys.executable} {Path(__file__).resolve()} "
            f"--serve {self.out} --hidden {hidden} --epochs {epochs} --model {model} --task {task}"
            f"{' --lag' if lag else ''}"
            "; sleep 600"  # a failure stays on the pane for the message below
        )
        subprocess.run(
            ["tmux", "new-session", "-d", "-s", self.session, "-x", str(PANE[0][0]), "-y",
             str(PANE[0][1]), command],
            check=True,
        )  # fmt: skip
        try:
            ready = _wait(
                lambda: [r for r in _records(self.out) if r["kind"] == "ready"], 60, "app"
            )
        except TimeoutError as exc:
            pane = subprocess.run(
                ["tmux", "capture-pane", "-p", "-t", self.session], capture_output=True, text=True
            ).stdout.strip()
            self.close()
            raise RuntimeError(f"{exc}; its pane ends:\n{pane[-2000:]}") from None
        self.pid = ready[0]["pid"]

    def send(self, *keys: str) -> float:
        sent = time.monotonic()
        subprocess.run(["tmux", "send-keys", "-t", self.session, *keys], check=True)
        return sent

    def run_dirs(self) -> list[Path]:
        return sorted(p for p in self.runs.iterdir() if p.is_dir())

    def run_dir(self) -> Path | None:
        dirs = self.run_dirs()
        return dirs[0] if dirs else None

    def close(self) -> None:
        subprocess.run(["tmux", "kill-session", "-t", self.session], capture_output=True)
        # The trainer has its own session: one left running by a failed measurement is stopped
        # (SIGTERM: it saves and exits).
        for run_dir in self.run_dirs():
            if _status(run_dir) in ("running", "paused"):
                try:
                    status = json.loads((run_dir / "status.json").read_text(encoding="utf-8"))
                    os.kill(int(status["pid"]), signal.SIGTERM)
                except (OSError, ValueError, KeyError, TypeError):
                    pass


def _status(run_dir: Path) -> str:
    try:
        return json.loads((run_dir / "status.json").read_text(encoding="utf-8")).get("status", "")
    except (OSError, ValueError):
        return ""


def _wait_run(run_dir: Path, timeout: float) -> None:
    done = ("finished", "failed", "stopped")
    _wait(lambda: _status(run_dir) in done, timeout, f"{run_dir.name} to finish", 0.25)
    if _status(run_dir) != "finished":
        raise RuntimeError(f"{run_dir.name} {_status(run_dir)}: see {run_dir / 'train.log'}")


def epoch_speeds(run_dir: Path) -> list[float]:
    """tokens/s of each epoch event in the run's metrics.jsonl."""
    speeds = []
    for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines():
        event = json.loads(line) if line.endswith("}") else {}
        if event.get("event") == "epoch" and event.get("tokens_per_s"):
            speeds.append(float(event["tokens_per_s"]))
    return speeds


def _config(run_dir: Path) -> dict:
    config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    return {k: v for k, v in config.items() if k not in ("run_dir", "resume")}


def headless(work: Path, hidden: int, epochs: int, n: int, model: str = "lstm") -> Path:
    run_dir = work / f"headless-{n}"
    argv = [sys.executable, "-m", "rnn_tui", "train", "--model", model, "--token", "char",
            "--hidden", str(hidden), "--epochs", str(epochs),
            "--run-dir", str(run_dir)]  # fmt: skip
    subprocess.run(argv, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return run_dir


def from_screen(
    work: Path, hidden: int, epochs: int, key_every: float | None = None, model: str = "lstm"
):
    """One run started with `s` on the Train screen, to its end; with `key_every`, `v` is sent
    that often meanwhile. Returns (run dir, key send times, the app's records, the app's CPU
    share while the trainer ran)."""
    app = TmuxApp(work, hidden, epochs, SCREEN_ENV, lag=key_every is not None, model=model)
    sent: list[float] = []
    try:
        time.sleep(1.0)  # the first paint and the run list settle
        app.send("s")
        run_dir = _wait(app.run_dir, 30, "the run folder")
        _wait(lambda: _status(run_dir) == "running", 120, "the trainer to start", 0.1)
        cpu0, t0 = cpu_seconds(app.pid), time.monotonic()
        if key_every:
            while _status(run_dir) == "running":
                sent.append(app.send("v"))
                time.sleep(key_every)
        _wait_run(run_dir, 60 + 30 * epochs)
        # What the app itself used while the trainer ran: the cause of any slowdown.
        share = (cpu_seconds(app.pid) - cpu0) / (time.monotonic() - t0)
        time.sleep(0.5)
        records = _records(app.out)
    finally:
        app.close()
    return run_dir, sent, records, share


def percentiles(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "max": None, "n": 0}
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return {
        "p50": round(statistics.median(ordered), 2),
        "p95": round(p95, 2),
        "max": round(ordered[-1], 2),
        "n": len(ordered),
    }


def measure_ratio(work: Path, hidden: int, epochs: int, pairs: int) -> dict:
    """Alternating headless and Train-screen runs (A B B A …), medians of per-epoch tokens/s."""
    heads: list[float] = []
    screens: list[float] = []
    shares: list[float] = []
    per_pair = []
    config_diff: list[str] = []
    for i in range(pairs):
        order = ("headless", "screen") if i % 2 == 0 else ("screen", "headless")
        got = {}
        for kind in order:
            if kind == "headless":
                run_dir = headless(work, hidden, epochs, i)
            else:
                run_dir, _, _, share = from_screen(work, hidden, epochs)
                shares.append(share)
            got[kind] = (run_dir, statistics.median(epoch_speeds(run_dir)))
        heads.append(got["headless"][1])
        screens.append(got["screen"][1])
        per_pair.append(round(got["screen"][1] / got["headless"][1], 3))
        a, b = _config(got["headless"][0]), _config(got["screen"][0])
        config_diff = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
    head, screen = statistics.median(heads), statistics.median(screens)
    return {
        "measure": "ratio",
        "model": f"lstm char hidden {hidden}",
        "epochs": epochs,
        "pairs": pairs,
        "headless_tokens_per_s": round(head),
        "screen_tokens_per_s": round(screen),
        "ratio": round(screen / head, 3),
        "pair_ratios": per_pair,
        "app_cpu_share": round(statistics.median(shares), 4),
        "config_differs": config_diff,
        "target": RATIO_TARGET,
        "ok": screen / head >= RATIO_TARGET,
    }


def measure_keys(
    work: Path, hidden: int, epochs: int, key_every: float, model: str = "lstm"
) -> dict:
    run_dir, sent, records, share = from_screen(work, hidden, epochs, key_every, model)
    handled = [r["t"] for r in records if r["kind"] == "key"]
    painted = [r["t"] for r in records if r["kind"] == "painted"]
    # The app records in order and drops no key: the i-th handled is the i-th sent.
    to_handler = [1000 * (h - s) for s, h in zip(sent, handled, strict=False)]
    to_paint = [1000 * (p - s) for s, p in zip(sent, painted, strict=False)]
    lags = [1000 * r["lag"] for r in records if r["kind"] == "lag"]
    keys = percentiles(to_handler)
    return {
        "measure": "keys",
        "model": f"{model} char hidden {hidden}",
        "sent": len(sent),
        "handled": len(handled),
        "key_to_handler_ms": keys,
        "key_to_refresh_ms": percentiles(to_paint),
        "loop_lag_ms": percentiles(lags),
        "tokens_per_s": round(statistics.median(epoch_speeds(run_dir))),
        "app_cpu_share": round(share, 4),
        "target_p95_ms": KEY_P95_TARGET_MS,
        "ok": keys["p95"] is not None and keys["p95"] <= KEY_P95_TARGET_MS,
    }


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


SETTLED_SHARE = 0.05  # a second of the app's start-up using less than this is its idle


def measure_idle(work: Path, seconds: float) -> dict:
    """The app's CPU share over `seconds` on the Dataset screen with nothing to do, counted
    once its start-up has settled: the first paint, the first run-list scan and the warm-up
    (torch's libraries and the screens' modules imported in a thread after the first paint:
    0.46 s of CPU between 2 and 4 s after launch in one run) are start-up, not idling, and a
    window opened 2 s after launch counted them (0.036 of a core over 10 s; 0.009 settled)."""
    app = TmuxApp(work, 256, 1, SCREEN_ENV)
    try:
        started = time.monotonic()
        time.sleep(2.0)  # past the first paint and the first run-list scan
        while time.monotonic() - started < 30.0:  # the warm-up done: a quiet second
            before = cpu_seconds(app.pid)
            time.sleep(1.0)
            if cpu_seconds(app.pid) - before < SETTLED_SHARE:
                break
        settled = time.monotonic() - started
        before, t0 = cpu_seconds(app.pid), time.monotonic()
        time.sleep(seconds)
        used, wall = cpu_seconds(app.pid) - before, time.monotonic() - t0
    finally:
        app.close()
    return {
        "measure": "idle",
        "settled_after_s": round(settled, 1),
        "seconds": round(wall, 1),
        "cpu_seconds": round(used, 3),
        "cpu_share": round(used / wall, 4),
    }


def close_on_term() -> None:
    """SIGTERM (`timeout`, a CI's cancel) as an exit, so the `finally` that closes the tmux
    session runs: killed outright, the app and its trainer stayed behind in tmux."""
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


def env_pair(text: str) -> tuple[str, str]:
    """argparse `type=` for NAME=VALUE (an environment variable for the app)."""
    name, equals, value = text.partition("=")
    if not equals or not name or "\0" in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=VALUE")
    return name, value


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, __file__)
    trainer_option(ap, "epochs", 4, "epochs of each run")
    ap.add_argument(
        "--pairs", type=int_in("pairs", 1, 1000), default=2, help="headless/screen pairs (2)"
    )
    trainer_option(ap, "hidden", 256)
    trainer_option(ap, "model", "lstm", "the run's model (keys)")
    ap.add_argument(
        "--key-every", type=number_in("key-every", 0, 60, open_low=True), default=0.2,
        help="seconds between keys",
    )  # fmt: skip
    ap.add_argument("--idle-seconds", type=number_in("idle-seconds", 1, 3600), default=10.0)
    ap.add_argument("--only", type=names(MEASURES), default=list(MEASURES), help="measurements")
    ap.add_argument("--json", action="store_true", help="accepted: the output is always JSON")
    ap.add_argument(
        "--size", type=terminal_size, default=SIZE, metavar="COLSxROWS",
        help="the terminal's size (default: 120x40)",
    )  # fmt: skip
    ap.add_argument(
        "--child-nice", type=int_in("child-nice", -20, 19), help="experiment: trainer's niceness"
    )
    ap.add_argument(
        "--screen-env",
        type=env_pair,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="experiment: set in the app's (and so its trainer's) environment",
    )
    ap.add_argument("--task", choices=list(TASKS), default="lm", help=argparse.SUPPRESS)
    ap.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--lag", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.serve is not None:
        return serve(args.serve, args.hidden, args.epochs, args.lag, args.model, args.task)
    if shutil.which("tmux") is None:
        print(json.dumps({"measure": "ui", "skipped": "tmux is not installed"}))
        return 0
    only = set(args.only)
    close_on_term()
    SCREEN_ENV.clear()
    SCREEN_ENV.update(args.screen_env)
    PANE[0] = args.size
    if args.child_nice is not None:
        SCREEN_ENV[NICE_VAR] = str(args.child_nice)
    ok = True
    with tempfile.TemporaryDirectory(prefix="bench-ui-") as tmp:
        work = Path(tmp)
        rows = []
        if "ratio" in only:
            rows.append(measure_ratio(work, args.hidden, args.epochs, args.pairs))
            print(json.dumps(rows[-1]), flush=True)
        if "keys" in only:
            rows.append(measure_keys(work, args.hidden, args.epochs, args.key_every, args.model))
            print(json.dumps(rows[-1]), flush=True)
        if "idle" in only:
            rows.append(measure_idle(work, args.idle_seconds))
            print(json.dumps(rows[-1]), flush=True)
        ok = all(row.get("ok", True) for row in rows)
    return 0 if ok else 3  # 3: a target missed (1 is Python's crash status)


if __name__ == "__main__":
    raise SystemExit(main())
