"""A CPU trainer's tokens/s alone, beside one busy core and beside bursts of work.

    python benchmarks/bench_core_share.py [--model lstm] [--hidden 256] [--seconds 8] [--rounds 2]

A headless `rnn-tui train` (at nice 5, as the app starts its trainers) runs while this script
waits (alone), then runs a one-core busy loop at nice 0 (what the app generating text or
computing a Flow pass does), then bursts of 20 ms of work every 100 ms (about the app's live
views), --seconds each, then beside a second trainer of the same model (a headless run a user
starts while the first trains), --rounds times. Tokens/s come from consecutive step events of
the same epoch (their minibatch counts over their times), each window's first 0.5 s left out.
One JSON line: tokens/s in each phase, busy/alone, the figure the run's threads set by the cores
left to it (train/core_share.py) keep up, and both trainers' sum over alone. Exit status 3 when
busy/alone is below 0.3 (two threads spinning for a lost core kept 0.01-0.07 of it). Needs
Linux's /proc.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _args import ROOT, int_in, parser, trainer_option  # beside this script

BUSY_TARGET = 0.3
BUSY = "import time\nt = time.time()\nwhile time.time() - t < {s}: pass"
BURSTS = (
    "import time\nt = time.time()\nwhile time.time() - t < {s}:\n"
    "    u = time.time()\n    while time.time() - u < 0.02: pass\n    time.sleep(0.08)"
)


def tokens_per_s(metrics: Path, spans: list[tuple[float, float]], units: int) -> float:
    """Tokens a second over the step events' intervals that lie inside `spans`."""
    events = []
    for line in metrics.read_text().splitlines():
        event = json.loads(line)
        if event.get("event") == "step":
            events.append((event["time"], event["epoch"], event["batch"]))
    tokens = seconds = 0.0
    for (t0, e0, b0), (t1, e1, b1) in zip(events, events[1:], strict=False):
        if e0 == e1 and any(a + 0.5 < t0 and t1 <= b for a, b in spans):
            tokens += (b1 - b0) * units
            seconds += t1 - t0
    return tokens / seconds if seconds else 0.0


def start_trainer(args, run: Path) -> subprocess.Popen:
    """A headless `rnn-tui train` at nice 5 (as the app starts its trainers) writing `run`,
    on the threads torch chooses."""
    command = [sys.executable, "-m", "rnn_tui", "train", "--model", args.model]
    command += ["--hidden", str(args.hidden), "--epochs", "1000", "--run-dir", str(run)]
    env = {k: v for k, v in os.environ.items() if k not in ("OMP_NUM_THREADS",)}
    return subprocess.Popen(
        ["nice", "-n", "5", *command],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, __file__)
    trainer_option(ap, "model", "lstm")
    trainer_option(ap, "hidden", 256)
    ap.add_argument("--seconds", type=int_in("seconds", 2, 600), default=8)
    ap.add_argument("--rounds", type=int_in("rounds", 1, 20), default=2)
    args = ap.parse_args(argv)
    if not Path("/proc/self/task").is_dir():
        print("bench_core_share.py: needs Linux's /proc", file=sys.stderr)
        return 2
    folder = Path(tempfile.mkdtemp(prefix="rnn-tui-core-share-"))
    run = folder / "run"
    others: list[Path] = []  # each round's second trainer
    trainer = start_trainer(args, run)
    phases = ("alone", "busy", "bursts", "trainer")
    spans: dict[str, list[tuple[float, float]]] = {name: [] for name in phases}
    try:
        time.sleep(6)  # the data, the model and the first step's measurement
        for _ in range(args.rounds):
            start = time.time()
            time.sleep(args.seconds)
            spans["alone"].append((start, time.time()))
            for name, code in (("busy", BUSY), ("bursts", BURSTS)):
                start = time.time()
                subprocess.run([sys.executable, "-c", code.format(s=args.seconds)], check=True)
                spans[name].append((start, time.time()))
            others.append(folder / f"other{len(others)}")
            second = start_trainer(args, others[-1])
            try:
                time.sleep(6)
                start = time.time()
                time.sleep(args.seconds)
                spans["trainer"].append((start, time.time()))
            finally:
                second.kill()
                second.wait()
    finally:
        trainer.kill()
        trainer.wait()
    try:
        config = json.loads((run / "config.json").read_text())
        units = int(config["batch_size"]) * int(config["num_steps"])
        rates = {name: tokens_per_s(run / "metrics.jsonl", s, units) for name, s in spans.items()}
        seconds = [
            tokens_per_s(o / "metrics.jsonl", [span], units)
            for o, span in zip(others, spans["trainer"], strict=True)
        ]
        second_rate = sum(seconds) / len(seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    ratio = rates["busy"] / rates["alone"] if rates["alone"] else 0.0
    row = {
        "measure": "core_share",
        "model": args.model,
        "hidden": args.hidden,
        **{f"{name}_tokens_per_s": round(rate) for name, rate in rates.items()},
        "busy_over_alone": round(ratio, 3),
        "bursts_over_alone": round(rates["bursts"] / rates["alone"], 3) if rates["alone"] else 0,
        "second_trainer_tokens_per_s": round(second_rate),
        "two_trainers_over_alone": (
            round((rates["trainer"] + second_rate) / rates["alone"], 3) if rates["alone"] else 0
        ),
        "target_busy_over_alone": BUSY_TARGET,
    }
    print(json.dumps(row), flush=True)
    return 0 if ratio >= BUSY_TARGET else 3


if __name__ == "__main__":
    sys.exit(main())
