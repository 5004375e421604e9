"""What the live Train screen costs a run, measured inside one run.

    python benchmarks/bench_live_cost.py [--epochs 24] [--period 5] [--hidden 256] [--model lstm]
                                         [--task lm|seq2seq|forecast|classify|tag]
                                         [--size 120x40] [--compare N]

A char LSTM is started with `s` on the Train screen of the real app (a 120×40 tmux pane, or
--size, as in bench_ui.py: the trainer is the app's ordinary child). Another --task is started
on its own screen: a translator on the Train screen, a forecast pair (the MLP and the latent
model, on a sine of 50,000 points) on the Forecast screen, a names classifier or the two taggers
on the Classify screen. While it trains, the app process is
stopped (SIGSTOP) and continued (SIGCONT) every --period seconds, so the same trainer runs in
turn beside the live view (polling, redrawing, plotting, catching up after each stop) and beside
no app at all, which is what a headless run has. The run's log intervals (about 20 an epoch,
from its metrics.jsonl) are sorted into those periods; one that straddles a switch or an epoch's
end (held-out evaluation) is left out. Each live period's tokens/s is divided by the mean of the
quiet periods on either side, so the slow swings of a shared machine cancel, which alternating
whole runs (bench_ui.py's ratio) cannot do on 2 cores. A pair's runs each give their own
ratios. One JSON line: the median of those
ratios (target ≥ 0.95: the live view costs at most 5 %), their quartiles and count, and the
app's CPU share while live. Exit status 3 below the target. --compare N first trains N runs of
the same model and epochs headless (on the corpus's first 20,000 characters: as many points on
the plots as whole runs), and the Train screen ticks them beside its live run once it trains,
as a user comparing runs does: every plot then draws N + 1 runs.
"""

from __future__ import annotations

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

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _args import ROOT, int_in, number_in, parser, terminal_size, trainer_option  # noqa: E402
from bench_ui import (  # noqa: E402
    COMPARE_VAR,
    PANE,
    RATIO_TARGET,
    SIZE,
    TmuxApp,
    _records,
    _status,
    _wait,
    close_on_term,
    cpu_seconds,
)

from rnn_tui.train.registry import TASKS  # noqa: E402

LIVE, QUIET = "live", "quiet"
COMPARE_TOKENS = 20_000  # the corpus's first characters each compared run trains on


def log_rates(metrics: Path) -> list[tuple[float, float, float]]:
    """(start, end, tokens/s) of each interval between two step events of one epoch."""
    tokens_per_step, rows, previous = None, [], None
    for line in metrics.read_text(encoding="utf-8").splitlines():
        event = json.loads(line) if line.endswith("}") else {}
        if event.get("event") == "start":
            config = event["config"]
            # A names classifier's rows have no fixed length: a row is its unit.
            tokens_per_step = config["batch_size"] * (config.get("num_steps") or 1)
        elif event.get("event") == "step" and tokens_per_step:
            if previous is not None and previous["epoch"] == event["epoch"]:
                tokens = (event["step"] - previous["step"]) * tokens_per_step
                seconds = event["time"] - previous["time"]
                if seconds > 0:
                    rows.append((previous["time"], event["time"], tokens / seconds))
            previous = event
        elif event.get("event") in ("epoch", "status"):
            previous = None  # evaluation or a pause lies between this and the next step
    return rows


def period_rates(
    rows: list[tuple[float, float, float]], switches: list[tuple[float, str]]
) -> list[tuple[str, float | None]]:
    """Each period's (kind, tokens/s over its whole intervals); None where it has none."""
    bounds = [t for t, _ in switches] + [float("inf")]
    periods = []
    for k, (_, kind) in enumerate(switches):
        inside = [(b - a, r) for a, b, r in rows if bounds[k] <= a and b < bounds[k + 1]]
        seconds = sum(s for s, _ in inside)
        periods.append((kind, sum(s * r for s, r in inside) / seconds if seconds else None))
    return periods


def live_ratios(periods: list[tuple[str, float | None]]) -> list[float]:
    """Each live period's rate over the mean of its quiet neighbours' (both must be measured)."""
    ratios = []
    for k in range(1, len(periods) - 1):
        (before, a), (kind, live), (after, b) = periods[k - 1 : k + 2]
        if kind == LIVE and before == after == QUIET and None not in (a, live, b):
            ratios.append(live / ((a + b) / 2))
    return ratios


def _running(run_dirs: list[Path]) -> bool:
    return any(_status(run_dir) == "running" for run_dir in run_dirs)


def finished_runs(work: Path, n: int, hidden: int, epochs: int, model: str) -> list[Path]:
    """`n` finished runs of the live run's model and epochs on the first COMPARE_TOKENS of the
    corpus: about 20 step events an epoch, as many points on the plots as a whole run's."""
    runs = [work / f"compare-{k}" for k in range(n)]
    for run in runs:
        command = [sys.executable, "-m", "rnn_tui", "train", "--model", model, "--token", "char"]
        command += ["--hidden", str(hidden), "--epochs", str(epochs), "--run-dir", str(run)]
        command += ["--max-tokens", str(COMPARE_TOKENS), "--sample-every", "0"]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise RuntimeError(f"a run to compare with failed: {last}")
    return runs


def measure(
    work: Path,
    hidden: int,
    epochs: int,
    period: float,
    model: str = "lstm",
    task: str = "lm",
    compare: int = 0,
) -> dict:
    env = {}
    if compare:
        runs = finished_runs(work, compare, hidden, epochs, model)
        env[COMPARE_VAR] = os.pathsep.join(str(run) for run in runs)
    app = TmuxApp(work, hidden, epochs, env, model=model, task=task)
    switches: list[tuple[float, str]] = []
    live_cpu = live_wall = 0.0
    stopped = False
    try:
        time.sleep(1.0)  # the first paint and the run list settle
        app.send("s")
        _wait(app.run_dir, 30, "the run folder")
        # A pair (the Forecast screen's MLP and latent model, the tagger one-way and two-way)
        # starts its runs together: each is followed.
        time.sleep(1.0)
        run_dirs = app.run_dirs()
        _wait(lambda: _running(run_dirs), 120, "the trainer to start", 0.1)
        time.sleep(period)  # the first steps (allocations, caches) belong to neither
        while _running(run_dirs):
            kind = QUIET if not stopped else LIVE
            os.kill(app.pid, signal.SIGSTOP if kind == QUIET else signal.SIGCONT)
            stopped = kind == QUIET
            switches.append((time.time(), kind))
            cpu0, t0 = cpu_seconds(app.pid), time.monotonic()
            time.sleep(period)
            if kind == LIVE:
                live_cpu += cpu_seconds(app.pid) - cpu0
                live_wall += time.monotonic() - t0
    finally:
        if stopped:
            os.kill(app.pid, signal.SIGCONT)
        app.close()
    ticked = [r["runs"] for r in _records(app.out) if r["kind"] == "compared"]
    ratios = [
        ratio
        for run_dir in run_dirs
        for ratio in live_ratios(period_rates(log_rates(run_dir / "metrics.jsonl"), switches))
    ]
    quartiles = statistics.quantiles(ratios, n=4) if len(ratios) >= 2 else [None] * 3
    ratio = statistics.median(ratios) if ratios else None
    return {
        "measure": "live_cost",
        "model": f"{model} char hidden {hidden}" if task == "lm" else f"{task} hidden {hidden}",
        "runs": len(run_dirs),
        "compared_with": compare,
        "runs_shown": ticked[0] if ticked else len(run_dirs),
        "size": "{}x{}".format(*PANE[0]),
        "period_s": period,
        "live_periods": len(ratios),
        "ratio": round(ratio, 3) if ratio else None,
        "quartiles": [round(q, 3) if q else None for q in quartiles],
        "ratios": [round(r, 3) for r in ratios],
        "app_cpu_share_live": round(live_cpu / live_wall, 4) if live_wall else None,
        "target": RATIO_TARGET,
        "ok": ratio is not None and ratio >= RATIO_TARGET,
    }


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, __file__)
    trainer_option(ap, "epochs", 24, "the run's epochs")
    ap.add_argument(
        "--period", type=number_in("period", 0.5, 3600), default=5.0, help="seconds live, quiet"
    )
    trainer_option(ap, "hidden", 256)
    trainer_option(ap, "model", "lstm", "the Train form's model")
    ap.add_argument(
        "--task", choices=list(TASKS), default="lm",
        help="another task, with its own model, started on its own screen",
    )  # fmt: skip
    ap.add_argument(
        "--size", type=terminal_size, default=SIZE, metavar="COLSxROWS",
        help="the terminal's size (default: 120x40)",
    )  # fmt: skip
    ap.add_argument(
        "--compare", type=int_in("compare", 0, 20), default=0,
        help="finished runs ticked beside the live one on the Train screen (default: 0)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    if args.compare and args.task != "lm":
        ap.error("--compare: the Train screen's language model only (--task lm)")
    PANE[0] = args.size
    if shutil.which("tmux") is None:
        print(json.dumps({"measure": "live_cost", "skipped": "tmux is not installed"}))
        return 0
    close_on_term()
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        row = measure(
            Path(tmp), args.hidden, args.epochs, args.period, args.model, args.task, args.compare
        )
    print(json.dumps(row), flush=True)
    return 0 if row["ok"] else 3  # 3: a target missed (1 is Python's crash status)


if __name__ == "__main__":
    raise SystemExit(main())
