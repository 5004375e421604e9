"""What a forecast run's figures cost: `forecast_view`, which the Forecast screen computes for a
reopened run and again for a live one as it trains (one-step, k-step and multi-step predictions
over the whole series, and the held-out errors per horizon), timed on the noisy sine.

    python benchmarks/bench_forecast_view.py [--lengths 50000,1000000] [--models mlp,gru,lstm]
                                             [--repeat 3] [--runs DIR]

Each model (hidden 10) is first trained one epoch, as a user would
(`rnn-tui train --task forecast --model M --length T --hidden 10 --epochs 1`), or taken from
--runs where that run is already there (so two versions of rnn-tui can be timed on the same
checkpoints). Each view is computed in a process of its own, on one thread as the screen's
worker computes it: its CPU seconds (the median of --repeat, after one untimed) and the
process's peak memory. The screen computes a live run's view again at most every
max(VIEW_EVERY_S, seconds / VIEW_SHARE) (runs/view_pace.py): that interval is printed too.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _args import ROOT, int_in, names, parser  # beside it

from rnn_tui.runs.view_pace import VIEW_EVERY_S, VIEW_SHARE

MODELS = ("mlp", "rnn", "gru", "lstm")
CHILD = """
import json, resource, statistics, sys, time
import torch
torch.set_num_threads(1)
from rnn_tui.decode.forecast import forecast_view
run, repeat = sys.argv[1], int(sys.argv[2])
forecast_view(run)
seconds = []
for _ in range(repeat):
    start = time.process_time()
    forecast_view(run)
    seconds.append(time.process_time() - start)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": statistics.median(seconds), "peak_mb": peak}))
"""


def lengths(text: str) -> list[int]:
    convert = int_in("length", 10, 1_000_000)
    return [convert(part.strip()) for part in text.split(",") if part.strip()]


def trained(runs: Path, model: str, length: int) -> Path:
    run = runs / f"{model}-{length}"
    if not (run / "checkpoints" / "best.json").is_file():
        args = ["--task", "forecast", "--model", model, "--length", str(length)]
        args += ["--hidden", "10", "--epochs", "1", "--sample-every", "0", "--run-dir", str(run)]
        command = [sys.executable, "-m", "rnn_tui", "train", *args]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            said = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise SystemExit(f"bench_forecast_view.py: training {run.name} failed: {said}")
    return run


def measure(run: Path, repeat: int) -> dict:
    command = [sys.executable, "-c", CHILD, str(run), str(repeat)]
    done = subprocess.run(command, check=True, cwd=ROOT, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, __file__)
    ap.add_argument("--lengths", type=lengths, default=[50_000, 1_000_000])
    ap.add_argument("--models", type=names(MODELS), default=["mlp", "gru", "lstm"])
    ap.add_argument("--repeat", type=int_in("repeat", 1, 100), default=3)
    ap.add_argument("--runs", type=Path, default=None, help="trained runs kept here (reused)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        runs = args.runs or Path(scratch)
        for length in args.lengths:
            for model in args.models:
                result = measure(trained(runs, model, length), args.repeat)
                every = max(VIEW_EVERY_S, result["seconds"] / VIEW_SHARE)
                result.update(model=model, length=length, live_every_s=round(every, 1))
                print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
