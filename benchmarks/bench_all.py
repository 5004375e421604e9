"""Every benchmark in one command: rnn-tui beside d2l's own loops, the scale, UI-overhead and
start-up measurements, on the CPU and (when present) the GPU.

    pip install --no-deps d2l==0.17.6
    python benchmarks/bench_all.py [--quick] [--device auto|cpu|cuda] [--skip NAME,...]

Sections (each is its own script, run as a subprocess so that one's threads, caches and memory
do not colour the next; each prints JSON, collected here):

    startup    bench_data.py        --help, stats, first paint (targets < 0.3 s / < 1 s)
    train      bench_train.py       paired epochs against train_epoch_ch8, seven book models,
                                    the book's 500 epochs (--quick: 30);
                                    on a GPU also with the CUDA graph off, to show its gain
    paths      bench_paths.py       `rnn-tui train` with bf16, compile and (GPU) the CUDA graph
                                    against plain fp32, alternated: which path helps where
    seq2seq    bench_translate.py   training against train_seq2seq; greedy and beam-5 latency
    scale      bench_scale.py       `rnn-tui stats` at 10/30/100 MB: time and peak memory
    ui         bench_ui.py          Train screen against headless tokens/s, key latency
    live       bench_live_cost.py   the live Train screen's cost inside one run (app stopped
                                    and continued in turn), 60 epochs (--quick: 40); then the
                                    Classify screen's two taggers and the Forecast screen's pair;
                                    bench_forecast_view.py: a forecast view's CPU and memory;
                                    bench_core_share.py: beside a busy core, a trainer
    stalls     bench_stalls.py      the event loop held: Dataset tab switches, each screen's first
                                    opening, step moves

The last line is one JSON object with every section's rows and the machine it ran on; the
ratios (ours / d2l) are what benchmarks/README.md records.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _args import folder, names, parser  # beside this script
from _targets import MISSED  # the sections' exit status for "measured, but a target missed"

HERE = Path(__file__).resolve().parent
SECTIONS = ("startup", "train", "paths", "seq2seq", "scale", "ui", "live", "stalls")
SHIPPED = HERE.parent / "checkpoints" / "fra-eng-gru.safetensors"
TRAIN_MODELS = "rnn_scratch,gru_scratch,lstm_scratch,rnn,gru,lstm,deep_lstm"


def _cuda() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return torch.cuda.is_available()


def _commands(args: argparse.Namespace, devices: list[str]) -> list[tuple[str, list[str]]]:
    py = sys.executable
    # The book trains 500 epochs; d2l's speed changes over a run (below), so the whole run is
    # what the ratio is taken over. --quick: 30.
    epochs = "30" if args.quick else "500"
    commands: list[tuple[str, list[str]]] = [
        ("startup", [py, str(HERE / "bench_data.py"), "--repeat", "3" if args.quick else "7",
                     "--json"]),
    ]  # fmt: skip
    for device in devices:
        commands.append(
            ("train", [py, str(HERE / "bench_train.py"), "--mode", "paired", "--epochs", epochs,
                       "--models", TRAIN_MODELS, "--device", device, "--json"])
        )  # fmt: skip
        if device == "cuda":
            commands.append(
                ("train", [py, str(HERE / "bench_train.py"), "--mode", "paired", "--epochs",
                           epochs, "--models", TRAIN_MODELS, "--device", device, "--graph",
                           "off", "--json"])
            )  # fmt: skip
    for device in devices:
        commands.append(
            ("paths", [py, str(HERE / "bench_paths.py"), "--device", device,
                       "--epochs", "10" if args.quick else "30",
                       "--rounds", "1" if args.quick else "2"])
        )  # fmt: skip
    for device in devices:
        commands.append(
            ("seq2seq", [py, str(HERE / "bench_translate.py"), "--epochs",
                         "10" if args.quick else "30", "--repeat", "1" if args.quick else "3",
                         "--device", device, "--json",
                         *(["--checkpoint", str(SHIPPED)] if SHIPPED.exists()
                           else ["--skip-latency"])])
        )  # fmt: skip
    scale = [py, str(HERE / "bench_scale.py")]
    sizes = ["10"] if args.quick else ["10", "30", "100"]
    folder = str(args.scale_dir)
    kinds = ("words", "raw", "line", "wiki")  # line: text8's shape; wiki: enwik8's
    files = [str(args.scale_dir / f"{kind}_{mb}.txt") for mb in sizes for kind in kinds]
    commands += [
        ("scale", [*scale, "make", "--mb", *sizes, "--dir", folder]),
        ("scale", [*scale, "cli", *files]),
        *(
            ("scale", [*scale, "tui", str(args.scale_dir / f"{kind}_{sizes[-1]}.txt"),
                       "--token", "word", "char", "--mode", mode])
            for kind, mode in (("words", "clean"), ("line", "clean"), ("wiki", "clean"),
                               ("wiki", "raw"))
        ),
    ]  # fmt: skip
    if (HERE / "bench_ui.py").exists():
        commands.append(("ui", [py, str(HERE / "bench_ui.py"), "--json"]))
        # Its default 24 epochs gave 5 live periods here (median 0.938, the next run of 60
        # epochs 0.983 over 14): too few to read a 5 % cost from.
        live = [py, str(HERE / "bench_live_cost.py")]
        commands.append(("live", [*live, "--epochs", "40" if args.quick else "60"]))
        # The lab screens follow a pair of runs and compute held-out views beside them: the
        # two taggers' views are the costliest, a long series' forecasts next.
        commands += [
            ("live", [*live, "--task", "tag", "--epochs", "12" if args.quick else "20"]),
            ("live", [*live, "--task", "forecast", "--hidden", "10", "--epochs", "8"]),
            # What one such forecast view costs, and so how often a live one comes back.
            ("live", [py, str(HERE / "bench_forecast_view.py"), "--lengths",
                      "50000" if args.quick else "50000,1000000"]),
            # A trainer beside the app's own work (a busy core, bursts).
            ("live", [py, str(HERE / "bench_core_share.py")]),
        ]  # fmt: skip
    commands.append(("stalls", [py, str(HERE / "bench_stalls.py")]))
    return [(name, cmd) for name, cmd in commands if name not in args.skip]


def _json_lines(text: str) -> list:
    rows = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith(("{", "[")):
            try:
                parsed = json.loads(line)
            except json.JSONDecodeError:
                continue
            # A section that prints its measurements as one array (bench_data.py) gives a line
            # each, as every other section does.
            rows.extend(parsed if isinstance(parsed, list) else [parsed])
    return rows


def _missed(row) -> bool:
    """Whether `row` or a row nested in it (bench_train.py's "rows", bench_translate.py's
    "train") says it missed its target."""
    if isinstance(row, list):
        return any(map(_missed, row))
    if not isinstance(row, dict):
        return False
    return row.get("ok") is False or any(map(_missed, row.values()))


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, __file__)
    ap.add_argument("--quick", action="store_true", help="fewer epochs and repeats (minutes)")
    ap.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    ap.add_argument(
        "--scale-dir",
        type=folder,
        default=Path(tempfile.gettempdir()) / "rnn-tui-scale",
        help="where the generated 10/30/100 MB corpora go (kept for reruns)",
    )
    ap.add_argument(
        "--skip", type=names(SECTIONS), default=[], help=f"sections of {', '.join(SECTIONS)}"
    )
    args = ap.parse_args(argv)
    args.skip = set(args.skip)
    cuda = _cuda()
    if args.device == "cuda" and not cuda:
        ap.error("--device cuda: no GPU here")
    devices = {"auto": ["cpu", "cuda"] if cuda else ["cpu"], "cpu": ["cpu"], "cuda": ["cuda"]}
    report: dict = {
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "machine": f"{platform.machine()} {os.cpu_count()} cores, {platform.python_version()}",
        "gpu": None,
        "sections": {},
    }
    if cuda:
        import torch

        report["gpu"] = torch.cuda.get_device_name(0)
    for name, command in _commands(args, devices[args.device]):
        print(f"== {name}: {' '.join(Path(c).name if '/' in c else c for c in command[1:])}",
              file=sys.stderr, flush=True)  # fmt: skip
        started = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True, cwd=HERE.parent)
        rows = _json_lines(result.stdout)
        for row in rows:
            print(json.dumps(row), flush=True)
        entry = {"seconds": round(time.perf_counter() - started, 1), "rows": rows}
        # 3: a target missed, the rows still count; anything else (a crash is 1, a refusal 2)
        # is the section's error, said in the report rather than left as an empty section.
        if result.returncode == MISSED:
            entry["missed"] = True  # its rows may nest (one object of rows): its word counts
        elif result.returncode != 0:
            entry["error"] = (result.stderr.strip().splitlines() or ["failed"])[-1]
            print(f"   {name} failed: {entry['error']}", file=sys.stderr)
        report["sections"].setdefault(name, []).append(entry)
    print(json.dumps(report))
    entries = [e for section in report["sections"].values() for e in section]
    failed = any("error" in e for e in entries)
    # Like each script: 3 when every section ran but a target was missed.
    rows = [row for e in entries for row in e["rows"] if isinstance(row, dict)]
    missed = any(e.get("missed") for e in entries) or any(map(_missed, rows))
    return 1 if failed else MISSED if missed else 0


if __name__ == "__main__":
    raise SystemExit(main())
