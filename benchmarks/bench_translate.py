"""Translation: training speed against d2l's train_seq2seq, and translation latency (CPU or GPU).

    pip install --no-deps d2l==0.17.6
    python benchmarks/bench_translate.py [--epochs 50] [--repeat 3]
        [--skip-train] [--skip-latency] [--checkpoint PATH] [--latency-repeat 3] [--threads 0,1]
        [--train-threads N] [--device cpu|cuda]
        [--anchor ../shared/bench/d2l_anchor.py] [--data ../shared/data] [--json]

1. Training speed. In the same run, interleaved (d2l, ours, d2l, ours, …) --repeat times, d2l's
   own `train_seq2seq` (`d2l_anchor.py --models seq2seq`) and `rnn-tui train --task seq2seq` on
   the book's configuration (d2l §9.7: the first 600 pairs, embed 32, hidden 32, 2 GRU layers,
   dropout 0.1, batch 64, 10 steps, Adam 0.005, clipping θ = 1, no held-out split). Both sides
   count valid target tokens (`<eos>` included, `<pad>` excluded): d2l sums `Y_valid_len` over
   its minibatches and divides by the wall time of `train_seq2seq`; rnn-tui divides the same sum
   by its training time (minibatch steps only: the per-epoch checkpoint save and the one sample at
   the end are outside it, so its wall time is printed too). d2l's `tokenize_nmt` keeps 601 pairs
   for num_examples=600 (its `i > num_examples` test); rnn-tui keeps 600. The ratio is that of the
   medians, ours / d2l (≥ 1.0: rnn-tui is at least as fast). --train-threads N sets
   OMP_NUM_THREADS=N for both sides (default: torch's own choice, the cores).

2. Translation latency on --device (the CPU unless told). `load_translator(checkpoint)` timed
   (first load, with the lazy imports, and a second one), then `Translator.translate` on a fixed
   list of 24 short sentences (the seeds' four and 20 held-out-like ones), greedy (beam 1) and
   beam 5, after one untimed warm-up; each sentence's time is the median of --latency-repeat
   passes, and the median and p90 are over the sentences. Beam 5 includes the greedy decoding
   translate always does. --threads 0,1 times it with torch's default thread count and with one
   thread (on a busy 2-core machine one thread can be several times faster for these batch-1..5
   steps). Last, `rnn-tui translate` on one sentence as a subprocess (interpreter start, torch
   import, checkpoint load, default beam 4, torch's default threads): the median of three wall
   times. The checkpoint is --checkpoint, else the shipped checkpoints/*.safetensors of task
   seq2seq, else a tiny one trained first (2,000 pairs, 2 epochs, the default model size) — said
   so.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing


from _args import (  # noqa: E402  (beside this script)
    int_in,
    parser,
    refuse_missing_cuda,
    regular_file,
    trainer_option,
)
from _d2l_peer import ANCHOR, DATA, missing_peer  # noqa: E402  (beside this script)
from _targets import exit_status, judge_seq2seq  # noqa: E402

BOOK = [
    "--task", "seq2seq", "--num-examples", "600", "--embed", "32", "--hidden", "32",
    "--layers", "2", "--dropout", "0.1", "--batch-size", "64", "--num-steps", "10",
    "--lr", "0.005", "--optimizer", "adam", "--clip", "1", "--val-fraction", "0",
]  # fmt: skip
BOOK_PAIRS, BOOK_STEPS = 600, 10

# The seeds' four sentences (d2l §9.7), then 20 short ones in the corpus's style.
SENTENCES = (
    "go .", "i lost .", "he's calm .", "i'm home .",
    "we're late .", "i'm ready !", "he is lazy .", "time is up .", "that hurts .",
    "i know that .", "you may go .", "they agree .", "i work here .", "are you busy ?",
    "i'm sorry .", "we're done .", "take a look .", "is it safe ?", "i didn't cry .",
    "let me go !", "i am better .", "follow him .", "stay down .", "i'm married .",
)  # fmt: skip
TINY = [
    "--task", "seq2seq", "--num-examples", "2000", "--epochs", "2", "--val-fraction", "0",
    "--sample-every", "0", "--device", "cpu",
]  # fmt: skip


def _run_json(cmd: list[str], threads: int = 0) -> dict:
    """The last stdout line of `cmd` as JSON; SystemExit with its stderr tail when it fails.
    threads > 0 sets OMP_NUM_THREADS, which torch reads at start-up (the same for both sides)."""
    env = dict(os.environ, OMP_NUM_THREADS=str(threads)) if threads else None
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, env=env)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        raise SystemExit(
            f"bench_translate: {' '.join(cmd[:4])} … failed ({proc.returncode}):\n{tail}"
        )
    return json.loads(proc.stdout.strip().splitlines()[-1])


def run_d2l(anchor: Path, data: Path, epochs: int, threads: int) -> dict:
    return _run_json(
        [sys.executable, str(anchor), "--data", str(data), "--models", "seq2seq",
         "--seq2seq-epochs", str(epochs)],
        threads,
    )  # fmt: skip


def run_ours(epochs: int, run_dir: Path, threads: int, device: str = "cpu") -> dict:
    return _run_json(
        [sys.executable, "-m", "rnn_tui", "train", *BOOK, "--epochs", str(epochs),
         # One sample at the end, as the anchor translates once after training.
         "--sample-every", str(epochs), "--device", device, "--run-dir", str(run_dir), "--json"],
        threads,
    )  # fmt: skip


def our_tokens_per_epoch() -> int:
    """Σ valid target tokens of the book's 600 pairs: min(len + 1, num_steps) per pair, which is
    build_array_nmt's valid_len (and what the trainer's tokens_per_s counts)."""
    from rnn_tui.data.sources import read_raw_pairs
    from rnn_tui.data.translation import preprocess_pairs, tokenize_nmt

    raw = read_raw_pairs(num_examples=BOOK_PAIRS).pairs
    _, target = tokenize_nmt(preprocess_pairs(raw))
    return sum(min(len(t) + 1, BOOK_STEPS) for t in target)


def train_speed(args: argparse.Namespace, say) -> dict:
    peers, ours = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(args.repeat):
            peers.append(run_d2l(args.anchor, args.data, args.epochs, args.train_threads))
            say(f"  d2l   run {k + 1}: {peers[-1]['tgt_tokens_per_s']:,.0f} tgt tok/s "
                f"({peers[-1]['wall_s']:.1f} s)")  # fmt: skip
            ours.append(
                run_ours(args.epochs, Path(tmp) / f"ours-{k}", args.train_threads, args.device)
            )
            say(f"  ours  run {k + 1}: {ours[-1]['tokens_per_s']:,.0f} tgt tok/s "
                f"({ours[-1]['elapsed']:.1f} s wall)")  # fmt: skip
    peer_tps = statistics.median(p["tgt_tokens_per_s"] for p in peers)
    our_tps = statistics.median(o["tokens_per_s"] for o in ours)
    p0 = peers[0]
    return {
        "epochs": args.epochs,
        "repeat": args.repeat,
        "threads": args.train_threads or "torch default",
        "d2l_tgt_tokens_per_s": round(peer_tps, 1),
        "ours_tgt_tokens_per_s": round(our_tps, 1),
        "ratio": round(our_tps / peer_tps, 2),
        "d2l_runs": [p["tgt_tokens_per_s"] for p in peers],
        "ours_runs": [round(o["tokens_per_s"], 1) for o in ours],
        "d2l_wall_s": [p["wall_s"] for p in peers],
        "ours_wall_s": [round(o["elapsed"], 2) for o in ours],
        # d2l's count recovered from its rounded figures (±0.1 %).
        "d2l_tokens_per_epoch": round(p0["tgt_tokens_per_s"] * p0["wall_s"] / args.epochs),
        "ours_tokens_per_epoch": our_tokens_per_epoch(),
        "ours_train_loss": ours[0].get("train_loss"),
        "d2l_translations": [f"{r['src']} => {r['out']}" for r in p0["translations"]],
        "ours_sample": (ours[0].get("sample") or "").splitlines(),
    }


# ---------------------------------------------------------------------------------------------
# Latency


def shipped_checkpoint() -> Path | None:
    """The first checkpoints/NAME.safetensors whose NAME.json is a seq2seq run."""
    for meta in sorted((ROOT / "checkpoints").glob("*.json")):
        try:
            task = json.loads(meta.read_text(encoding="utf-8")).get("config", {}).get("task")
        except (OSError, ValueError, AttributeError):
            continue
        weights = meta.with_suffix(".safetensors")
        if task == "seq2seq" and weights.is_file():
            return weights
    return None


def train_tiny(folder: Path) -> Path:
    summary = _run_json(
        [sys.executable, "-m", "rnn_tui", "train", *TINY, "--run-dir", str(folder), "--json"]
    )
    return Path(summary["checkpoint"])


def _ms_stats(times: list[float]) -> dict:
    ms = sorted(t * 1000 for t in times)
    p90 = statistics.quantiles(ms, n=10, method="inclusive")[8] if len(ms) > 1 else ms[0]
    return {"median_ms": round(statistics.median(ms), 2), "p90_ms": round(p90, 2),
            "max_ms": round(ms[-1], 2)}  # fmt: skip


def latency(args: argparse.Namespace, say) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path, origin = args.checkpoint, "given"
        if path is None:
            path, origin = shipped_checkpoint(), "shipped"
        if path is None:
            say("  no seq2seq checkpoint shipped: training a tiny one first "
                "(2,000 pairs, 2 epochs, default model size)")  # fmt: skip
            start = time.perf_counter()
            path, origin = train_tiny(Path(tmp) / "tiny"), "tiny (trained by this benchmark)"
            say(f"  trained in {time.perf_counter() - start:.1f} s: {path}")
        return _latency(Path(path), origin, args.latency_repeat, args.threads, say, args.device)


def _time_sentences(translator, repeat: int) -> tuple[dict, dict]:
    """{"greedy": stats, "beam5": stats} (each sentence: the median of `repeat` passes) and the
    first pass's translations."""
    translator.translate(SENTENCES[0], beam_size=5)  # warm-up: first-call allocations
    modes = {"greedy": 1, "beam5": 5}
    per_sentence: dict[str, list[list[float]]] = {m: [[] for _ in SENTENCES] for m in modes}
    outputs: dict[str, list[str]] = {m: [] for m in modes}
    for rep in range(repeat):
        for i, sentence in enumerate(SENTENCES):
            for mode, beam in modes.items():
                t0 = time.perf_counter()
                result = translator.translate(sentence, beam_size=beam)
                per_sentence[mode][i].append(time.perf_counter() - t0)
                if rep == 0:
                    outputs[mode].append(result.beam_text)
    stats = {m: _ms_stats([statistics.median(ts) for ts in per_sentence[m]]) for m in modes}
    return stats, outputs


def _latency(
    path: Path, origin: str, repeat: int, thread_counts: list[int], say, device: str = "cpu"
) -> dict:
    import torch

    start = time.perf_counter()
    from rnn_tui.decode.translate import load_translator

    try:
        translator = load_translator(path, device=device)
    except ValueError as exc:  # TranslateError: one line, refused (2) as a bad option is
        print(f"bench_translate: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    first_load = time.perf_counter() - start
    start = time.perf_counter()
    translator = load_translator(path, device=device)
    second_load = time.perf_counter() - start
    cfg = translator.config
    say(f"  checkpoint ({origin}): {path}")
    say(f"    embed {cfg.get('embed')}, hidden {cfg.get('hidden')}, layers {cfg.get('layers')}, "
        f"vocab {len(translator.src_vocab)}→{len(translator.tgt_vocab)}, "
        f"torch default threads {torch.get_num_threads()}")  # fmt: skip
    say(f"    load_translator: first {first_load * 1000:.0f} ms (lazy imports included), "
        f"again {second_load * 1000:.0f} ms")  # fmt: skip

    default_threads = torch.get_num_threads()
    by_threads, outputs = {}, {}
    for threads in thread_counts:
        n = threads or default_threads
        torch.set_num_threads(n)
        stats, outputs = _time_sentences(translator, repeat)
        by_threads[str(n)] = stats
        for mode, s in stats.items():
            say(f"    translate {mode:6s} ({n} thread{'s' if n > 1 else ''}): "
                f"median {s['median_ms']:.1f} ms, p90 {s['p90_ms']:.1f} ms, "
                f"max {s['max_ms']:.1f} ms per sentence ({len(SENTENCES)} sentences)")  # fmt: skip
    torch.set_num_threads(default_threads)

    cmd = [sys.executable, "-m", "rnn_tui", "translate", "--checkpoint", str(path),
           "--device", device, "go ."]  # fmt: skip
    walls, shown = [], ""
    for _ in range(3):
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True)
        walls.append(time.perf_counter() - t0)
        shown = proc.stdout.strip().splitlines()[0] if proc.stdout.strip() else ""
    cli = statistics.median(walls)
    say(f'    rnn-tui translate "go ." (subprocess, beam 4): {cli:.2f} s wall (median of 3)')
    return {
        "checkpoint": str(path),
        "origin": origin,
        "model": {k: cfg.get(k) for k in ("embed", "hidden", "layers", "num_steps")},
        "src_vocab": len(translator.src_vocab),
        "tgt_vocab": len(translator.tgt_vocab),
        "torch_default_threads": default_threads,
        "sentences": len(SENTENCES),
        "repeat": repeat,
        "load_first_ms": round(first_load * 1000, 1),
        "load_again_ms": round(second_load * 1000, 1),
        # thread count → {"greedy": {median_ms, p90_ms, max_ms}, "beam5": {…}}
        "by_threads": by_threads,
        "cli_translate_s": round(cli, 3),
        "cli_runs_s": [round(w, 3) for w in walls],
        "cli_output": shown,
        "translations": [
            f"{s} => {g} | {b}" for s, g, b in zip(SENTENCES, outputs["greedy"], outputs["beam5"])
        ],
    }


def _thread_counts(text: str) -> list[int]:
    try:
        counts = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        counts = []
    if not counts or any(n < 0 or n > 1024 for n in counts):
        raise argparse.ArgumentTypeError(
            f"expected whole numbers in [0, 1024], comma-separated: {text!r}"
        )
    return counts


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, __file__)
    trainer_option(ap, "epochs", 50, "training comparison epochs")
    ap.add_argument(
        "--repeat", type=int_in("repeat", 1, 1000), default=3, help="runs of each side (3)"
    )
    ap.add_argument("--skip-train", action="store_true", help="no training comparison")
    ap.add_argument("--skip-latency", action="store_true", help="no translation latency")
    ap.add_argument(
        "--checkpoint", type=regular_file, help="seq2seq checkpoint for the latency part"
    )
    ap.add_argument(
        "--latency-repeat", type=int_in("latency-repeat", 1, 1000), default=3,
        help="passes over the sentences",
    )  # fmt: skip
    ap.add_argument(
        "--threads",
        type=_thread_counts,
        default=[0],
        help="torch threads for the latency timings, comma-separated (0: torch's default; "
        "e.g. 0,1 times both)",
    )
    ap.add_argument(
        "--train-threads",
        type=int_in("train-threads", 0, 1024),
        default=0,
        help="OMP_NUM_THREADS for both training sides (0: torch's default)",
    )
    ap.add_argument("--anchor", type=Path, default=ANCHOR, help=f"(default: {ANCHOR})")
    ap.add_argument("--data", type=Path, default=DATA, help=f"(default: {DATA})")
    ap.add_argument(
        "--device",
        default="cpu",
        choices=["cpu", "cuda"],
        help="where rnn-tui trains and translates (d2l takes the GPU when there is one)",
    )
    ap.add_argument("--json", action="store_true", help="one JSON object on stdout")
    args = ap.parse_args(argv)
    refuse_missing_cuda(ap, args.device)
    missing = "" if args.skip_train else missing_peer(args.anchor, args.data)
    if missing:
        print(f"bench_translate: {missing}", file=sys.stderr)
        return 2

    def say(line: str) -> None:
        if not args.json:
            print(line, flush=True)

    result: dict = {"device": args.device}
    if not args.skip_train:
        threads = f", {args.train_threads} thread(s)" if args.train_threads else ""
        say(f"training speed, book configuration, {args.epochs} epochs, ×{args.repeat}{threads}:")
        row = result["train"] = judge_seq2seq(train_speed(args, say), args.device)
        say(
            f"  median target tokens/s: d2l {row['d2l_tgt_tokens_per_s']:,.0f}, "
            f"rnn-tui {row['ours_tgt_tokens_per_s']:,.0f}, ratio ours/d2l {row['ratio']:.2f}"
            + (
                f" (target {row['target']}: {'met' if row['ok'] else 'MISSED'})"
                if "ok" in row
                else ""
            )
        )
        say(
            f"  target tokens per epoch: d2l ≈ {row['d2l_tokens_per_epoch']:,}, "
            f"rnn-tui {row['ours_tokens_per_epoch']:,}"
        )
        say("  d2l:     " + "; ".join(row["d2l_translations"]))
        say("  rnn-tui: " + "; ".join(row["ours_sample"]))  # fmt: skip
    if not args.skip_latency:
        say(f"translation latency, {args.device.upper()}:")
        result["latency"] = latency(args, say)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return exit_status([result["train"]] if "train" in result else [])


if __name__ == "__main__":
    raise SystemExit(main())
