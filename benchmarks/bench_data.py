"""Benchmark the data layer and the CLI start-up against their targets and d2l's own pipeline.

    python benchmarks/bench_data.py [--repeat 5] [--json]

Measures, each as the median of --repeat runs:
- `rnn-tui --help` as a subprocess (target < 0.3 s);
- `rnn-tui stats` on the bundled Time Machine, word and char level (target < 0.3 s);
- `rnn-tui stats` on a 1 MB text file (target < 1.5 s);
- in-process: our corpus statistics vs d2l 0.17.6's notebook pipeline (read_time_machine, tokenize,
  Vocab, bigram and trigram Counters) on the same text, in the same run; the ratio is d2l / ours.

The d2l peer needs `pip install --no-deps d2l==0.17.6`; without it that row is skipped.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path

from _args import int_in, parser  # beside this script

TARGETS = {
    "app_first_paint": 1.0,
    "app_screen_complete": 1.5,
    "help": 0.3,
    "stats_timemachine_word": 0.3,
    "stats_timemachine_char": 0.3,
    "stats_1mb": 1.5,
}


# Start-up as a user meets it: Python writes its bytecode cache once and reads it after. Under
# PYTHONDONTWRITEBYTECODE (CI sets it; so did this machine's shell) every run compiled again the
# modules changed since the cache was last written: 10 of `rnn-tui stats`'s, 24 ms of its ~0.3 s.
ENV = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def wall(cmd: list[str], repeat: int) -> float:
    """Median seconds of `cmd` over `repeat` runs, after one unmeasured run (the bytecode
    cache written, the files read once)."""
    times = []
    for k in range(repeat + 1):
        start = time.perf_counter()
        subprocess.run(
            cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV
        )
        if k:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


# Start the app headless in a fresh interpreter and report when the first frame goes to the
# terminal and when the Dataset screen is complete (its corpus worker done, every tab mounted).
APP_PAINT = """
import time
t0 = time.perf_counter()
from textual.app import App
from rnn_tui.tui.app import RnnTuiApp

# The first frame is the first time Textual hands a rendered screen to the terminal driver.
first = []
display = App._display


def _display(self, *args, **kwargs):
    if not first:
        first.append(time.perf_counter() - t0)
    return display(self, *args, **kwargs)


App._display = _display
app = RnnTuiApp()


async def auto(pilot):
    await app.workers.wait_for_complete()
    await pilot.pause()
    print(first[0], time.perf_counter() - t0)
    app.exit()

app.run(headless=True, size=(120, 40), auto_pilot=auto)
"""


def app_paint(repeat: int) -> tuple[float, float]:
    """Median seconds to the app's first frame and to the vocabulary shown, interpreter start-up
    (`python -c pass`) included."""
    boot = wall([sys.executable, "-c", "pass"], repeat)
    firsts, fulls = [], []
    for k in range(repeat + 1):  # the first unmeasured, as in `wall`
        out = subprocess.run(
            [sys.executable, "-c", APP_PAINT], check=True, capture_output=True, text=True, env=ENV
        ).stdout.split()
        if k:
            firsts.append(float(out[0]))
            fulls.append(float(out[1]))
    return boot + statistics.median(firsts), boot + statistics.median(fulls)


def inproc(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def one_mb_file(folder: Path) -> Path:
    """About 1 MB of real English: the Time Machine repeated, each copy's lines rotated."""
    from rnn_tui.data.sources import read_text

    lines = read_text("timemachine").splitlines()
    out, size, k = [], 0, 0
    while size < 1_000_000:
        part = lines[k * 97 % len(lines) :] + lines[: k * 97 % len(lines)]
        text = "\n".join(part) + "\n"
        out.append(text)
        size += len(text.encode())
        k += 1
    path = folder / "one_mb.txt"
    path.write_text("".join(out)[:1_000_000], encoding="utf-8")
    return path


def _stub_d2l_imports() -> None:
    # d2l imports plotting and notebook modules that its text pipeline never touches.
    for name in [
        "IPython",
        "IPython.display",
        "matplotlib_inline",
        "matplotlib_inline.backend_inline",
        "torchvision",
        "torchvision.transforms",
        "PIL",
        "PIL.Image",
        "pandas",
        "requests",
        "matplotlib",
        "matplotlib.pyplot",
    ]:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):
            found = False
        if found and name.split(".")[0] not in ("IPython", "matplotlib_inline"):
            continue
        mod = types.ModuleType(name)
        mod.__spec__ = importlib.machinery.ModuleSpec(name, None)
        sys.modules[name] = mod
        if "." in name:
            parent, child = name.rsplit(".", 1)
            setattr(sys.modules[parent], child, mod)
    sys.modules["PIL"].Image = sys.modules.get("PIL.Image")


def d2l_pipeline(path: str):
    """d2l's own steps for the statistics `rnn-tui stats` prints, or None if d2l is absent."""
    if importlib.util.find_spec("d2l") is None:
        return None
    _stub_d2l_imports()
    from d2l import torch as d2l

    def run(token: str):
        d2l.download = lambda name, cache_dir=None: path
        lines = d2l.read_time_machine()
        tokens = d2l.tokenize(lines, token)
        corpus = [t for line in tokens for t in line]
        vocab = d2l.Vocab(corpus)
        bigrams = d2l.Vocab([p for p in zip(corpus[:-1], corpus[1:])])
        trigrams = d2l.Vocab([t for t in zip(corpus[:-2], corpus[1:-1], corpus[2:])])
        return len(vocab), bigrams.token_freqs[0], trigrams.token_freqs[0]

    return run


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, __file__)
    ap.add_argument("--repeat", type=int_in("repeat", 1, 1000), default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)

    from rnn_tui.data.sources import read_text
    from rnn_tui.data.stats import corpus_stats

    exe = [sys.executable, "-m", "rnn_tui"]
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        big = one_mb_file(Path(tmp))
        tm = Path(tmp) / "timemachine.txt"
        tm.write_text(read_text("timemachine"), encoding="utf-8")
        results["app_first_paint"], results["app_screen_complete"] = app_paint(args.repeat)
        results["help"] = wall([*exe, "--help"], args.repeat)
        results["stats_timemachine_word"] = wall([*exe, "stats"], args.repeat)
        results["stats_timemachine_char"] = wall([*exe, "stats", "--token", "char"], args.repeat)
        results["stats_1mb"] = wall([*exe, "stats", "--corpus", str(big)], args.repeat)

        ours = {
            t: inproc(lambda t=t: corpus_stats(str(tm), token=t), args.repeat)
            for t in ("word", "char")
        }
        peer = d2l_pipeline(str(tm))
        peer_t = (
            {t: inproc(lambda t=t: peer(t), args.repeat) for t in ("word", "char")} if peer else {}
        )

    rows = []
    for key, seconds in results.items():
        rows.append(
            {
                "bench": key,
                "seconds": round(seconds, 4),
                "target": TARGETS[key],
                "ok": seconds < TARGETS[key],
            }
        )
    for token, seconds in ours.items():
        row = {"bench": f"inproc_stats_{token}", "seconds": round(seconds, 4)}
        if peer_t:
            row["d2l_seconds"] = round(peer_t[token], 4)
            row["ratio_d2l_over_ours"] = round(peer_t[token] / seconds, 2)
        rows.append(row)
    if args.json:
        print(json.dumps({"python": sys.version.split()[0], "rows": rows}))
    else:
        for row in rows:
            print("  ".join(f"{k}={v}" for k, v in row.items()))
    return (
        0 if all(r.get("ok", True) for r in rows) else 3
    )  # 3: a target missed (1 is Python's crash status)


if __name__ == "__main__":
    raise SystemExit(main())
