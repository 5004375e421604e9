"""Training speed against the peer: d2l's own loop (train_epoch_ch8) on the book's configurations.

    pip install --no-deps d2l==0.17.6
    python benchmarks/bench_train.py [--epochs 100] [--repeat 3]
        [--models rnn_scratch,rnn,gru,lstm,deep_lstm]
        [--anchor ../shared/bench/d2l_anchor.py] [--data ../shared/data]
        [--device cpu] [--json]

For each model, in the same run and on the same machine, it runs the d2l anchor script and then
`rnn-tui train` with the same configuration (the first 10,000 characters of The Time Machine,
batch 32, 35 steps, SGD, clipping θ = 1, sequential partitioning, no validation split) and reports
tokens/s of both and the ratio ours / d2l (≥ 1.0 means rnn-tui is at least as fast).
Shared 2-core machines swing by ±30 % from one run to the next, so each side runs --repeat times,
interleaved (d2l, ours, d2l, ours, …), and the ratio is that of the medians.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# d2l anchor name → rnn-tui options (the book's settings: hidden 512 for the scratch RNN,
# 256 for the others, lr 2 for the 2-layer LSTM).
BOOK = {
    "rnn_scratch": ["--model", "rnn-scratch", "--hidden", "512", "--lr", "1"],
    "rnn": ["--model", "rnn", "--hidden", "256", "--lr", "1"],
    "gru": ["--model", "gru", "--hidden", "256", "--lr", "1"],
    "lstm": ["--model", "lstm", "--hidden", "256", "--lr", "1"],
    "deep_lstm": ["--model", "lstm", "--layers", "2", "--hidden", "256", "--lr", "2"],
}
COMMON = [
    "--task", "lm", "--corpus", "timemachine", "--token", "char", "--max-tokens", "10000",
    "--val-fraction", "0", "--batch-size", "32", "--num-steps", "35", "--optimizer", "sgd",
    "--clip", "1", "--sampling", "sequential", "--seed", "0",
]  # fmt: skip


def run_d2l(anchor: Path, data: Path, model: str, epochs: int) -> dict:
    out = subprocess.run(
        [sys.executable, str(anchor), "--data", str(data), "--epochs", str(epochs),
         "--models", model],
        check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    return json.loads(out.strip().splitlines()[-1])


def run_ours(model: str, epochs: int, device: str, run_dir: Path) -> dict:
    cmd = [
        sys.executable, "-m", "rnn_tui", "train", *COMMON, *BOOK[model],
        "--epochs", str(epochs), "--device", device, "--run-dir", str(run_dir),
        # One sample at the end, as the anchor predicts once after training.
        "--sample-every", str(epochs), "--json",
    ]  # fmt: skip
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--models", default=",".join(BOOK))
    ap.add_argument("--anchor", type=Path, default=ROOT.parent / "shared/bench/d2l_anchor.py")
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/data")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in [m for m in args.models.split(",") if m]:
            peers, ours = [], []
            for k in range(args.repeat):
                peers.append(run_d2l(args.anchor, args.data, model, args.epochs))
                ours.append(run_ours(model, args.epochs, args.device, Path(tmp) / f"{model}-{k}"))
            peer_tps = statistics.median(p["tokens_per_s"] for p in peers)
            our_tps = statistics.median(o["tokens_per_s"] for o in ours)
            rows.append(
                {
                    "model": model,
                    "epochs": args.epochs,
                    "repeat": args.repeat,
                    "d2l_tokens_per_s": round(peer_tps, 1),
                    "ours_tokens_per_s": round(our_tps, 1),
                    "ratio": round(our_tps / peer_tps, 2),
                    "d2l_runs": [p["tokens_per_s"] for p in peers],
                    "ours_runs": [round(o["tokens_per_s"], 1) for o in ours],
                    "d2l_train_ppl": peers[0]["final_train_ppl"],
                    "ours_train_ppl": round(ours[0]["train_ppl"], 3),
                    "ours_sample": ours[0].get("sample", ""),
                }
            )
            if not args.json:
                print("  ".join(f"{k}={v}" for k, v in rows[-1].items()), flush=True)
    if args.json:
        print(json.dumps({"device": args.device, "rows": rows}))
    return 0 if all(r["ratio"] >= 1.0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
