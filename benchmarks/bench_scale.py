"""Scale: `rnn-tui stats` and the Dataset screen on 10/30/100 MB corpora (issue 13).

    python benchmarks/bench_scale.py make [--mb 10 30 100] [--dir /tmp/rnn-tui-scale]
    python benchmarks/bench_scale.py cli FILE... [--encoding NAME]   # time, peak RSS of `stats`
    python benchmarks/bench_scale.py tui FILE [--token word char] [--mode raw] [--encoding NAME]

`make` writes four files per size: words_<MB>.txt (The Time Machine's lines reshuffled with
~150k random words mixed in: a big vocabulary), raw_<MB>.txt (the same with capitals,
punctuation and some CRLF line ends, for --mode raw and raw char tokens), line_<MB>.txt
(text8's shape: a single line of lower-case words, no line end), wiki_<MB>.txt (enwik8's
shape: Wikipedia XML, UTF-8, thousands of distinct characters, millions of raw words), and two
whose character n-grams are nearly all distinct, the hardest to count: ideo_<MB>.txt (6,000
CJK ideographs at random, 3 bytes each: 33M characters in 100 MB) and letters_<MB>.txt (400
accented Latin letters at random, 2 bytes each: 50M); and ids_<MB>.txt, nearly all of whose
words are distinct, the biggest vocabulary (a log of ids: 8 hex digits at random, 9 a line,
11M words and 11M distinct in 100 MB), and blob_<MB>.txt, one raw word of the whole file (base64,
no whitespace and no line end, as a minified file). `cli` runs stats at word and char
level, clean and raw, each in a fresh process (its own cache directory, emptied first), and
prints elapsed seconds and the child's maximum resident set size. `tui` runs the app headless
(App.run_test), opens FILE on the Dataset screen and records the largest gap between ticks of
a 10 ms timer while the corpus loads: the longest the event loop was blocked (a fresh process
per token level); then it types searches into the vocabulary's search box (the first one
casefolds the vocabulary) and records each one's time, matches and longest gap (the encoding
typed into the screen's field first where --encoding names another than UTF-8). Each row has
its target and `ok` (`_targets.py`); exit status 3 where one missed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _args import folder, int_in, parser, regular_file  # beside this script
from _targets import MISSED, exit_status, judge_stall, judge_stats

ROOT = Path(__file__).resolve().parent.parent
SPECS = (
    ("word", "clean"),
    ("char", "clean"),
    ("word", "raw"),
    ("char", "raw"),
)
SEARCHES = ("th", "e", "zq")  # typed into the Vocabulary tab's search box after the load


def make(sizes: list[int], directory: Path) -> list[Path]:
    from rnn_tui.data.sources import read_text

    base = read_text("timemachine").split("\n")
    rng = random.Random(0)
    letters = "abcdefghijklmnopqrstuvwxyz"
    extra = [
        "".join(rng.choice(letters) for _ in range(rng.randint(3, 10))) for _ in range(150_000)
    ]
    punct = [",", ".", ";", "!", "?", "--", '"', "'", "(", ")", ":"]
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for mb in sizes:
        for raw in (False, True):
            out, size = [], 0
            while size < mb * 10**6:
                words = rng.choice(base).split()
                for _ in range(rng.randint(0, 3)):
                    word = rng.choice(extra)
                    if raw:
                        word = word.capitalize() if rng.random() < 0.3 else word
                        word += rng.choice(punct) if rng.random() < 0.3 else ""
                    words.insert(rng.randint(0, len(words)), word)
                line = " ".join(words) + ("\r\n" if raw and rng.random() < 0.1 else "\n")
                out.append(line)
                size += len(line)
            path = directory / f"{'raw' if raw else 'words'}_{mb}.txt"
            path.write_text("".join(out), encoding="utf-8", newline="")
            written.append(path)
            print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
        path = directory / f"line_{mb}.txt"
        _one_line(path, mb, rng, base, extra)
        written.append(path)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
        path = directory / f"wiki_{mb}.txt"
        _wiki(path, mb, random.Random(1), base)
        written.append(path)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
        for name, first, count in (("ideo", 0x4E00, 6000), ("letters", 0xC0, 400)):
            path = directory / f"{name}_{mb}.txt"
            _random_letters(path, mb, random.Random(2), [chr(first + i) for i in range(count)])
            written.append(path)
            print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
        path = directory / f"ids_{mb}.txt"
        _random_ids(path, mb, random.Random(3))
        written.append(path)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
        path = directory / f"blob_{mb}.txt"
        _one_word(path, mb, random.Random(4))
        written.append(path)
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return written


def _random_ids(path: Path, mb: int, rng: random.Random) -> None:
    """Lines of nine 8-digit hex ids drawn at random: nearly every word occurs once."""
    size = 0
    with path.open("w", encoding="utf-8") as f:
        while size < mb * 10**6:
            text = "".join(
                " ".join(f"{rng.getrandbits(32):08x}" for _ in range(9)) + "\n" for _ in range(1000)
            )
            f.write(text)
            size += len(text)


def _one_word(path: Path, mb: int, rng: random.Random) -> None:
    """Base64 of random bytes, no whitespace and no line end, as a minified file or a DNA
    sequence: one raw word of the whole file (clean words: runs of letters between digits)."""
    with path.open("wb") as f:
        for _ in range(mb * 10):  # 100 kB a write
            f.write(base64.b64encode(rng.randbytes(75_000)))


def _random_letters(path: Path, mb: int, rng: random.Random, letters: list[str]) -> None:
    """Lines of 300 letters drawn at random, no spaces: almost every trigram occurs once."""
    size = 0
    with path.open("w", encoding="utf-8") as f:
        while size < mb * 10**6:
            text = "\n".join("".join(rng.choices(letters, k=300)) for _ in range(1000)) + "\n"
            f.write(text)
            size += len(text.encode())


# Latin letters with accents, Greek, Cyrillic, 4,000 CJK ideographs, mathematical operators,
# emoji (outside the Basic Multilingual Plane) and kana.
_SCRIPTS = ((0xC0, 0x250), (0x370, 0x3FF), (0x400, 0x4FF), (0x4E00, 0x5DA0), (0x2200, 0x22FF))
_SCRIPTS += ((0x1F600, 0x1F650), (0x3040, 0x30FF))


def _wiki(path: Path, mb: int, rng: random.Random, base: list[str]) -> None:
    """enwik8's shape: Wikipedia XML pages (markup, links, templates, entities) of English
    text with words in other scripts mixed in, UTF-8 with ~5,400 distinct characters, some
    lines tens of thousands of characters long; a raw vocabulary of millions of words."""
    letters = [chr(c) for start, stop in _SCRIPTS for c in range(start, stop)]

    def foreign() -> str:
        return "".join(rng.choice(letters) for _ in range(rng.randint(1, 3)))

    size, page = 0, 0
    with path.open("w", encoding="utf-8", newline="") as f:
        while size < mb * 10**6:
            page += 1
            parts = [
                f"  <page>\n    <title>Article {page} {foreign()}</title>\n    <id>{page}</id>\n"
                '    <revision>\n      <text xml:space="preserve">'
            ]
            for _ in range(rng.randint(3, 30)):
                words = rng.choice(base).split()
                for _ in range(rng.randint(0, 4)):
                    word = foreign() if rng.random() < 0.15 else rng.choice(words or ["x"])
                    extra = ["[[" + foreign() + "]]", "{{cite|" + foreign() + "}}", "&quot;"]
                    word = rng.choice([word.capitalize(), *extra, "&amp;nbsp;"])
                    words.insert(rng.randint(0, len(words)), word)
                parts.append(" ".join(words) + ("\n" if rng.random() < 0.7 else " "))
            if rng.random() < 0.002:
                parts.append(" ".join(foreign() for _ in range(20_000)))  # a very long line
            parts.append("</text>\n    </revision>\n  </page>\n")
            text = "".join(parts)
            f.write(text)
            size += len(text.encode())


def _one_line(path: Path, mb: int, rng: random.Random, base: list[str], extra: list[str]) -> None:
    """text8's shape: one line of lower-case words and single spaces, no line end, written a
    piece at a time (the Time Machine's words with one random word in four)."""
    words = [w for line in base for w in line.lower().split() if w.isalpha()]
    size = 0
    with path.open("w", encoding="ascii") as f:
        while size < mb * 10**6:
            piece = [rng.choice(extra) if rng.random() < 0.25 else w for w in words]
            text = " ".join(piece) + " "
            f.write(text)
            size += len(text)


_MEASURE = """
import resource, subprocess, sys, time
start = time.perf_counter()
rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode
print(rc, time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def measure(command: list[str], env: dict) -> tuple[int, float, float]:
    """(exit status, seconds, peak RSS in MB) of one command, run as the only child of a
    wrapper process so RUSAGE_CHILDREN is its own."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *command], env=env, capture_output=True, text=True
    ).stdout.split()
    return int(out[0]), float(out[1]), int(out[2]) / 1024


def cli(files: list[str], encoding: str = "utf-8") -> list[dict]:
    rnn_tui = shutil.which("rnn-tui") or "rnn-tui"
    rows = []
    for file in files:
        size = os.path.getsize(file) / 1e6
        for token, mode in SPECS:
            with tempfile.TemporaryDirectory() as cache:
                env = dict(os.environ, RNN_TUI_CACHE=cache)
                cmd = [rnn_tui, "stats", "--corpus", file, "--token", token, "--mode", mode]
                cmd += ["--encoding", encoding]
                rc, seconds, rss = measure(cmd, env)
            row = dict(file=file, mb=round(size, 1), token=token, mode=mode, rc=rc)
            if encoding != "utf-8":
                row["encoding"] = encoding
            row.update(seconds=round(seconds, 2), peak_rss_mb=round(rss))
            row = judge_stats(row)
            rows.append(row)
            print(json.dumps(row), flush=True)
    return rows


async def _stall(file: str, token: str, mode: str = "clean", encoding: str = "utf-8") -> dict:
    from textual.widgets import Static

    from rnn_tui.tui.app import RnnTuiApp
    from rnn_tui.tui.widgets.vocab_table import VocabTable

    app = RnnTuiApp()
    app.animation_level = "none"
    app.freeze_long_lived_objects = True  # as in a terminal (a headless app does not)
    gaps: list[float] = []
    last = [time.perf_counter()]

    big: list[tuple[float, float]] = []  # (seconds since the file was opened, gap ms)
    start = time.perf_counter()

    def tick() -> None:
        now = time.perf_counter()
        gaps.append(now - last[0])
        if gaps[-1] > 0.1:
            big.append((round(now - start, 2), round(gaps[-1] * 1000, 1)))
        last[0] = now

    async with app.run_test(size=(120, 40)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        for wanted, key in ((token == "char", "t"), (mode == "raw", "r")):
            if wanted:
                await pilot.press(key)
                await app.workers.wait_for_complete()
                await pilot.pause()
        if encoding != "utf-8":  # the encoding field (shift+e), typed, then out of it
            await pilot.press("E", "ctrl+u", *encoding, "enter", "escape")
            await pilot.pause()
        await asyncio.sleep(app.FREEZE_AFTER_S)  # a person opens a file after start-up
        timer = app.set_interval(0.01, tick)
        last[0] = time.perf_counter()
        start = time.perf_counter()
        await pilot.press("o", *file, "enter")
        await pilot.pause(0.05)
        status = ""
        while time.perf_counter() - start < 600:
            await asyncio.sleep(0.05)
            status = str(app.screen.query_one("#status", Static).render())
            if not any(w.is_running and w.group == "corpus" for w in app.workers):
                break
        loaded = time.perf_counter() - start
        # The tabs draw the result (the perplexity worker may still run): keep measuring.
        await asyncio.sleep(1.0)
        searches = []
        table = app.screen.query_one(VocabTable)
        for query in SEARCHES:
            since, began = len(gaps), time.perf_counter()  # from the first key
            # Out of the path field, then `/` to the search box; ^U clears it.
            await pilot.press("escape", "slash", "ctrl+u", *query)
            await pilot.pause()  # the box's Changed message reaches the table
            while table.searching or any(
                w.is_running and w.group == "vocab-search" for w in app.workers
            ):
                await asyncio.sleep(0.01)
            await pilot.pause()
            searches.append(
                {
                    "query": query,
                    "seconds": round(time.perf_counter() - began, 3),
                    "matches": table.row_count,
                    "max_stall_ms": round(max(gaps[since:], default=0) * 1000, 1),
                }
            )
        timer.stop()
    return {
        "file": file,
        "token": token,
        "mode": mode,
        "seconds": round(loaded, 2),
        "max_stall_ms": round(max(gaps) * 1000, 1),
        "p99_gap_ms": round(sorted(gaps)[int(len(gaps) * 0.99)] * 1000, 1),
        "gaps_over_100ms": big,
        "ticks": len(gaps),
        "status": status,
        "encoding": encoding,
        # The screen says the file's name once it has read it; else what was timed is not it.
        "loaded": status.startswith(os.path.basename(file)),
        "searches": searches,
    }


def tui(file: str, tokens: list[str], mode: str = "clean", encoding: str = "utf-8") -> list[dict]:
    """One fresh app per token level, each in its own process, as a user starting the app: a
    second app in the same interpreter would pay for collecting the first one's objects
    (measured: a 105 ms full collection at its first keys)."""
    if len(tokens) > 1:
        rows = []
        for token in tokens:
            command = [sys.executable, __file__, "tui", file, "--token", token, "--mode", mode]
            command += ["--encoding", encoding]
            done = subprocess.run(command, capture_output=True, text=True)
            if done.returncode not in (0, MISSED):  # measured, or a stall over the target
                raise subprocess.CalledProcessError(done.returncode, command, stderr=done.stderr)
            rows.extend(_rows(done.stdout))
        return rows
    row = judge_stall(asyncio.run(_stall(os.path.abspath(file), tokens[0], mode, encoding)))
    print(json.dumps(row, ensure_ascii=False), flush=True)
    return [row]


def _rows(out: str) -> list[dict]:
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    for row in rows:
        print(json.dumps(row, ensure_ascii=False), flush=True)
    return rows


def _encoding(text: str) -> str:
    """argparse `type=` for a text encoding, refused in rnn-tui's own words."""
    from rnn_tui.data.decoding import encoding_problem

    problem = encoding_problem(text, "the corpus")
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def main(argv: list[str] | None = None) -> int:
    ap = parser(__doc__, __file__)
    sub = ap.add_subparsers(dest="what", required=True)
    p = sub.add_parser("make")
    p.add_argument("--mb", type=int_in("mb", 1, 10_000), nargs="+", default=[10, 30, 100])
    p.add_argument("--dir", type=folder, default=Path(tempfile.gettempdir()) / "rnn-tui-scale")
    p = sub.add_parser("cli")
    p.add_argument("files", type=regular_file, nargs="+")
    p.add_argument("--encoding", type=_encoding, default="utf-8")
    p = sub.add_parser("tui")
    p.add_argument("file", type=regular_file)
    p.add_argument("--token", nargs="+", default=["word"], choices=["word", "char"])
    p.add_argument("--mode", default="clean", choices=["clean", "raw"])
    p.add_argument("--encoding", type=_encoding, default="utf-8")
    args = ap.parse_args(argv)
    if args.what == "make":
        try:
            make(args.mb, args.dir)
        except OSError as exc:  # a folder that cannot be made or written: refused, one line
            reason = exc.strerror or str(exc)
            print(
                f"bench_scale.py make: error: cannot write into {args.dir}: {reason}",
                file=sys.stderr,
            )
            return 2
    elif args.what == "cli":
        return exit_status(cli([str(file) for file in args.files], args.encoding))
    else:
        from rnn_tui.cli import HUGEPAGE_ENV

        os.environ.setdefault("RNN_TUI_CACHE", tempfile.mkdtemp(prefix="rnn-tui-cache-"))
        os.environ.setdefault(HUGEPAGE_ENV, "0")  # before numpy, as the `rnn-tui` command
        return exit_status(tui(str(args.file), args.token, args.mode, args.encoding))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
