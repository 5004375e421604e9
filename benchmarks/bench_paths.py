"""The step paths against plain fp32, as a user runs them: `rnn-tui train` with --precision bf16,
--compile on and (on a GPU) --graph on/off, alternated round by round with the plain run.

    python benchmarks/bench_paths.py [--device cpu|cuda] [--models lstm,lstm-scratch]
                                     [--epochs 30] [--rounds 2]

Each run is its own process (`python -m rnn_tui train … --json`) on the book's configuration
(the Time Machine's first 10,000 characters, batch 32, 35 steps, hidden 256). Every round runs
each path once, in the same order, so the paths share the machine's slow swings. One JSON line
per model and path: the path the run reported, its tokens/s per round (compile and capture time
left out, as the trainer reports them), the median ratio to fp32 eager in the same round, and
the final training perplexity (the paths compute the same thing: bf16 to its precision).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from _args import int_in, names, parser, refuse_missing_cuda, trainer_option  # beside it

from rnn_tui.train.options import OPTION

BOOK = ["--max-tokens", "10000", "--batch-size", "32", "--num-steps", "35", "--hidden", "256"]
PLAIN = ("fp32 eager", ["--precision", "fp32", "--compile", "off", "--graph", "off"])
PATHS = {
    "cpu": [
        PLAIN,
        ("bf16", ["--precision", "bf16", "--compile", "off", "--graph", "off"]),
        ("compile", ["--precision", "fp32", "--compile", "on", "--graph", "off"]),
    ],
    "cuda": [
        PLAIN,
        ("CUDA graph", ["--precision", "fp32", "--compile", "off", "--graph", "on"]),
        ("CUDA graph bf16", ["--precision", "bf16", "--compile", "off", "--graph", "on"]),
        ("bf16", ["--precision", "bf16", "--compile", "off", "--graph", "off"]),
        ("compile", ["--precision", "fp32", "--compile", "on", "--graph", "off"]),
    ],
}


def run_once(model: str, device: str, epochs: int, extra: list[str], folder: Path) -> dict:
    """One `rnn-tui train --json` run; its summary, or {"error": its last stderr line}."""
    argv = [sys.executable, "-m", "rnn_tui", "train", "--model", model, *BOOK, "--lr", "1",
            "--epochs", str(epochs), "--device", device, "--sample-every", "0", *extra,
            "--json", "--run-dir", str(folder)]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=3600)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode != 0 or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {tail}"}
    return json.loads(lines[-1])


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, __file__)
    ap.add_argument("--device", default="cpu", choices=sorted(PATHS))
    models = OPTION["model"].choices
    ap.add_argument("--models", type=names(models), default=["lstm", "lstm-scratch"])
    trainer_option(ap, "epochs", 30, "epochs of each run")
    ap.add_argument("--rounds", type=int_in("rounds", 1, 1000), default=2)
    args = ap.parse_args(argv)
    refuse_missing_cuda(ap, args.device)
    with tempfile.TemporaryDirectory(prefix="rnn-tui-paths-") as tmp:
        for model in args.models:
            results: dict[str, list[dict]] = {name: [] for name, _ in PATHS[args.device]}
            for round_ in range(args.rounds):
                for name, extra in PATHS[args.device]:
                    folder = Path(tmp) / f"{model}-{name.replace(' ', '-')}-{round_}"
                    results[name].append(run_once(model, args.device, args.epochs, extra, folder))
            plain = results[PLAIN[0]]
            for name, runs in results.items():
                row: dict = {"model": model, "device": args.device, "path_asked": name}
                errors = [r["error"] for r in runs if "error" in r]
                if errors:
                    print(json.dumps({**row, "error": errors[0]}, ensure_ascii=False), flush=True)
                    continue
                ratios = [
                    r["tokens_per_s"] / p["tokens_per_s"]
                    for r, p in zip(runs, plain, strict=True)
                    if "error" not in p
                ]
                row |= {
                    "path": runs[-1].get("path"),
                    "tokens_per_s": [round(r["tokens_per_s"]) for r in runs],
                    "ratio_to_fp32": round(statistics.median(ratios), 3) if ratios else None,
                    "warmup_s": runs[-1].get("warmup_s"),
                    "train_ppl": runs[-1].get("train_ppl"),
                }
                print(json.dumps(row, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
