"""Try rnn-tui the way a careful, adversarial user would, and tally what happens.

    python tests/adversarial_cases.py [--only WORD] [--timeout S] [-v]

Runs `rnn-tui` in subprocesses against odd files, extreme options, tampered checkpoints, garbage
run folders, concurrent trainers and killed processes, and sorts each case: clean (it did what it
should: worked, or refused with one stderr line and exit 2), traceback, hang (past the timeout),
wrong exit (0 for bad input, or a refusal for good input), data lost (something saved before
the case changed), and line too long (a stderr line past LONGEST_LINE: a pasted value quoted
whole). Not part of the test suite (it takes a few minutes); the tests check each cause, this
counts the cases.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = ROOT / "checkpoints"
LM = SHIPPED / "timemachine-char-lstm.safetensors"
S2S = SHIPPED / "fra-eng-gru.safetensors"
TINY = [
    "--max-tokens",
    "3000",
    "--hidden",
    "16",
    "--batch-size",
    "4",
    "--num-steps",
    "8",
    "--epochs",
    "1",
    "--sample-every",
    "0",
    "--device",
    "cpu",
]


@dataclass
class Case:
    name: str
    argv: list[str]
    expect: str  # "ok" (exit 0), "refuse" (one line, exit 2), "fail" (exit 1, one line), "any"
    guard: list[Path] = field(default_factory=list)  # files that must not change
    stdin: str | None = None
    shell: bool = False


LONGEST_LINE = 1_100  # a message line: its start and end within 1,000 characters, and a prefix
TOO_LONG = "n" * 5000  # a name past NAME_MAX and PATH_MAX


def rnn(*args: str) -> list[str]:
    return [sys.executable, "-m", "rnn_tui", *args]


def snapshot(paths: list[Path]) -> dict[str, bytes]:
    out = {}
    for root in paths:
        for p in [root] if root.is_file() else sorted(root.rglob("*")):
            if p.is_file() and p.name != "trainer.lock":
                out[str(p)] = p.read_bytes()
    return out


def judge(case: Case, code: int | None, err: str, before: dict, after: dict) -> str:
    if code is None:
        return "hang"
    if "Traceback" in err:
        return "traceback"
    if before != after:
        return "data lost"
    lines = [line for line in err.strip().splitlines() if line.strip()]
    if any(len(line) > LONGEST_LINE for line in lines):
        return "line too long"
    if case.expect == "ok":
        return "clean" if code == 0 else "wrong exit"
    if case.expect == "refuse":
        if code == 0:
            return "wrong exit"
        return "clean" if code == 2 and len(lines) == 1 else "wrong exit"
    if case.expect == "fail":
        return "clean" if code in (1, 2) and lines else "wrong exit"
    return "clean"


def run_case(case: Case, timeout: float, env: dict, cwd: Path) -> tuple[str, int | None, str]:
    before = snapshot(case.guard)
    try:
        proc = subprocess.run(
            case.argv if not case.shell else ["bash", "-c", " ".join(case.argv)],
            input=case.stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
            cwd=cwd,
            stdin=None if case.stdin is not None else subprocess.DEVNULL,
        )
        code, err = proc.returncode, proc.stderr
    except subprocess.TimeoutExpired as exc:
        code, err = None, (exc.stderr or b"").decode("utf-8", "replace") if exc.stderr else ""
    return judge(case, code, err, before, snapshot(case.guard)), code, err


def tamper(source: Path, dest: Path, change) -> Path:
    """A copy of checkpoint `source` as `dest` with its JSON edited by `change(meta)`."""
    meta = json.loads(source.with_suffix(".json").read_text(encoding="utf-8"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source.parent / meta.get("tensors_file", source.name), dest)
    meta["tensors_file"] = dest.name
    change(meta)
    dest.with_suffix(".json").write_text(json.dumps(meta), encoding="utf-8")
    return dest


def cases(work: Path) -> list[Case]:
    text = (ROOT / "rnn_tui" / "data" / "bundled" / "timemachine.txt").read_text(encoding="utf-8")
    corpus = work / "tiny.txt"
    corpus.write_text(text[:3000], encoding="utf-8")
    files = work / "files"
    files.mkdir()
    fifo = files / "fifo"
    os.mkfifo(fifo)
    (files / "empty.txt").write_bytes(b"")
    (files / "binary.bin").write_bytes(bytes(range(256)) * 40)
    (files / "late-nul.txt").write_bytes(b"a" * 9000 + b"\x00" + b"b" * 100)
    (files / "utf16.txt").write_bytes("time traveller\n".encode("utf-16"))
    (files / "latin1.txt").write_bytes("caf\xe9 au lait\n".encode("latin-1"))
    big = files / "big.txt"
    with open(big, "wb") as f:
        f.truncate(300 * 2**20)  # sparse: 300 MiB of zeros over the 256 MiB limit
    three = files / "three-columns.txt"
    three.write_text("Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org\n" * 30)
    sentences = files / "sentences.txt"
    sentences.write_text("go .\ni lost .\n")
    loop = files / "loop.txt"
    os.symlink(loop, loop)

    c: list[Case] = []
    add = c.append
    # -- files that are not text files --------------------------------------------------------
    for kind, path in [
        ("dev-zero", "/dev/zero"),
        ("dev-urandom", "/dev/urandom"),
        ("fifo", fifo),
        ("directory", files),
        ("empty", files / "empty.txt"),
        ("binary", files / "binary.bin"),
        ("late-nul", files / "late-nul.txt"),
        ("utf16-as-utf8", files / "utf16.txt"),
        ("latin1-as-utf8", files / "latin1.txt"),
        ("over-the-cap", big),
        ("missing", files / "nope.txt"),
        ("empty-name", ""),
        ("symlink-loop", loop),
    ]:
        add(Case(f"stats corpus {kind}", rnn("stats", "--corpus", str(path)), "refuse"))
        add(Case(f"train corpus {kind}", rnn("train", "--corpus", str(path), *TINY), "refuse"))
    add(
        Case(
            "stats latin1 with its encoding",
            rnn("stats", "--corpus", str(files / "latin1.txt"), "--encoding", "latin-1"),
            "ok",
        )
    )
    add(
        Case(
            "stats over-the-cap raised",
            rnn("stats", "--corpus", str(big), "--max-file-mb", "400"),
            "refuse",
        )
    )  # zeros: NUL bytes, not text
    add(
        Case(
            "stats process substitution",
            [sys.executable, "-m", "rnn_tui", "stats", "--corpus", f"<(cat {corpus})"],
            "ok",
            shell=True,
        )
    )
    for what, argv in [
        ("train --run-dir", ["train", "--run-dir", TOO_LONG, *TINY]),
        ("train --resume", ["train", "--resume", TOO_LONG]),
        ("generate --checkpoint", ["generate", "--checkpoint", TOO_LONG, "--prefix", "x"]),
        ("runs --dir", ["runs", "--dir", TOO_LONG]),
    ]:
        add(Case(f"{what} name too long", rnn(*argv), "refuse"))
    add(
        Case(
            "generate --strategy pasted by mistake",
            rnn("generate", "--checkpoint", str(LM), "--prefix", "x", "--strategy", "s" * 50000),
            "refuse",
        )
    )
    add(
        Case(
            "translate a 60,000-character sentence",
            rnn("translate", "--checkpoint", str(S2S), "go " * 20000),
            "ok",
        )
    )
    add(
        Case(
            "stats with RNN_TUI_MAX_FILE_MB=abc",
            ["RNN_TUI_MAX_FILE_MB=abc", sys.executable, "-m", "rnn_tui", "stats"],
            "refuse",
            shell=True,
        )
    )
    add(
        Case(
            "train with RNN_TUI_NATIVE=maybe",
            ["RNN_TUI_NATIVE=maybe", *rnn("train", "--model", "gru-scratch", *TINY)],
            "refuse",
            shell=True,
        )
    )
    for cc in ("false", "/nowhere/cc", "'sleep 1000'", "true"):
        # The C loops cannot be built: the run trains on torch's kernels and says why.
        add(
            Case(
                f"train gru-scratch with CC={cc}",
                [
                    f"CC={cc}",
                    "RNN_TUI_CACHE=$(mktemp -d)",
                    *rnn(
                        "train", "--model", "lstm-scratch" if cc == "true" else "gru-scratch", *TINY
                    ),
                ],
                "ok",
                shell=True,
            )
        )
    add(
        Case(
            "translate --file fifo",
            rnn("translate", "--checkpoint", str(S2S), "--file", str(fifo)),
            "refuse",
        )
    )
    add(
        Case(
            "translate --file /dev/zero",
            rnn("translate", "--checkpoint", str(S2S), "--file", "/dev/zero"),
            "refuse",
        )
    )
    add(
        Case(
            "translate --file stdin",
            rnn("translate", "--checkpoint", str(S2S), "--file", "-"),
            "ok",
            stdin="go .\ni lost .\n",
        )
    )
    add(
        Case(
            "translate --references count",
            rnn(
                "translate",
                "--checkpoint",
                str(S2S),
                "--file",
                str(sentences),
                "--references",
                str(three),
            ),
            "refuse",
        )
    )
    add(
        Case(
            "train pairs three columns",
            rnn(
                "train",
                "--task",
                "seq2seq",
                "--pairs",
                str(three),
                "--epochs",
                "1",
                "--hidden",
                "8",
                "--embed",
                "8",
                "--min-freq",
                "1",
                "--device",
                "cpu",
                "--val-fraction",
                "0",
            ),
            "ok",
        )
    )
    add(Case("train pairs fifo", rnn("train", "--task", "seq2seq", "--pairs", str(fifo)), "refuse"))
    # -- encodings ------------------------------------------------------------------------------
    for enc in ("rot13", "hex", "base64", "zlib", "klingon", ""):
        add(
            Case(
                f"stats encoding {enc!r}",
                rnn("stats", "--corpus", str(corpus), "--encoding", enc),
                "refuse",
            )
        )
    add(
        Case(
            "train encoding rot13",
            rnn("train", "--corpus", str(corpus), "--encoding", "rot13", *TINY),
            "refuse",
        )
    )
    # -- extreme options ------------------------------------------------------------------------
    extreme = [
        ["--hidden", "1000000000"],
        ["--embed", "1000000000"],
        ["--layers", "1000000"],
        ["--seed", str(2**70)],
        ["--lr", "1e308"],
        ["--lr", "1e38", "--optimizer", "adam"],
        ["--sample-length", "1000000000"],
        ["--epochs", "0"],
        ["--batch-size", "1e3"],
        ["--num-steps", "-4"],
        ["--dropout", "1"],
        ["--val-fraction", "nan"],
        ["--clip", "inf"],
        ["--min-freq", "1000000000"],
        ["--max-tokens", "0"],
        ["--device", "tpu"],
        ["--device", "cuda:7"],
        ["--model", "transformer"],
        ["--hidden", "4096", "--layers", "64"],
        ["--prefix", "", "--sample-every", "1"],  # an empty prefix matters only when sampling
        ["--log-every", "-1"],
    ]
    for extra in extreme:
        add(
            Case(
                f"train {' '.join(extra)}",
                rnn("train", "--corpus", str(corpus), *TINY, *extra),
                "refuse",
            )
        )
    add(
        Case(
            "train lr 1e30 diverges",
            rnn("train", "--corpus", str(corpus), *TINY, "--lr", "1e6", "--epochs", "3"),
            "fail",
        )
    )
    for extra in (
        ["--beam", "1000000"],
        ["--max-len", "1000000000"],
        ["--alpha", "-1"],
        ["--beam", "0"],
        ["--device", "gpu"],
    ):
        add(
            Case(
                f"translate {' '.join(extra)}",
                rnn("translate", "--checkpoint", str(S2S), *extra, "go ."),
                "refuse",
            )
        )
    for extra, expect in (
        (["--temperature", "1e-46", "--strategy", "sample"], "ok"),
        (["--temperature", "0"], "refuse"),
        (["--top-k", "-1"], "refuse"),
        (["--length", "1000000000"], "refuse"),
        (["--seed", str(2**64)], "refuse"),
        (["--prefix", ""], "refuse"),
    ):
        argv = rnn("generate", "--checkpoint", str(LM), "--length", "5", *extra)
        if "--prefix" not in extra:
            argv += ["--prefix", "time"]
        add(Case(f"generate {' '.join(extra)}", argv, expect))
    # -- tampered checkpoints -------------------------------------------------------------------
    ck = work / "ck"
    edits = {
        "hidden 1e10": lambda m: m["model_config"].update(hidden=10**10),
        "layers 1e7": lambda m: m["model_config"].update(layers=10**7),
        "hidden 512": lambda m: m["model_config"].update(hidden=512),
        "hidden string": lambda m: m["model_config"].update(hidden="many"),
        "no vocab": lambda m: m.pop("vocab", None),
        "vocab garbage": lambda m: m.update(vocab={"idx_to_token": 5}),
        "sha": lambda m: m.update(sha256="0" * 64),
        "tensors outside": lambda m: m.update(tensors_file="../../etc.safetensors"),
        "format 99": lambda m: m.update(format_version=99),
        "token bytes": lambda m: m["config"].update(token="bytes"),
    }
    for name, change in edits.items():
        path = tamper(LM, ck / f"lm-{len(c)}.safetensors", change)
        add(
            Case(
                f"generate tampered {name}",
                rnn("generate", "--checkpoint", str(path), "--prefix", "time", "--length", "5"),
                "refuse",
            )
        )
    for name, change in {
        "num_steps 1e9": lambda m: m["config"].update(num_steps=10**9),
        "src vocab garbage": lambda m: m.update(src_vocab=[1, 2]),
        "task lm": lambda m: m["config"].update(task="lm"),
    }.items():
        path = tamper(S2S, ck / f"s2s-{len(c)}.safetensors", change)
        add(
            Case(
                f"translate tampered {name}",
                rnn("translate", "--checkpoint", str(path), "go ."),
                "refuse",
            )
        )
    pickle = ck / "model.pt"
    pickle.write_bytes(b"\x80\x02}q\x00.")
    renamed = ck / "renamed.safetensors"
    renamed.write_bytes(b"PK\x03\x04" + b"\x00" * 100)
    truncated = tamper(LM, ck / "truncated.safetensors", lambda m: None)
    truncated.write_bytes(truncated.read_bytes()[:1000])
    fifo_json = ck / "piped.json"  # read as a checkpoint's JSON, not as its tensors
    os.mkfifo(fifo_json)
    for name, path in (
        ("pickle", pickle),
        ("zip renamed", renamed),
        ("truncated", truncated),
        ("fifo", fifo),
        ("fifo json", fifo_json),
        ("directory", files),
        ("missing", ck / "x.safetensors"),
    ):
        add(
            Case(
                f"generate checkpoint {name}",
                rnn("generate", "--checkpoint", str(path), "--prefix", "time"),
                "refuse",
            )
        )
    # -- names as typed: ~someone unknown, a run name that is not there, torchrun's variables
    nobody = "~no-such-user-rnn-tui"
    for name, argv in (
        ("stats corpus ~unknown-user", rnn("stats", "--corpus", f"{nobody}/x.txt")),
        ("train corpus ~unknown-user", rnn("train", "--corpus", f"{nobody}/x.txt", *TINY)),
        ("runs dir ~unknown-user", rnn("runs", "--dir", f"{nobody}/runs")),
        ("generate unknown run name", rnn("generate", "--checkpoint", "no-such", "--prefix", "a")),
        ("resume unknown run name", rnn("train", "--resume", "no-such-run")),
        ("train WORLD_SIZE without RANK", ["env", "WORLD_SIZE=2", *rnn("train", *TINY)]),
        (
            "train MASTER_ADDR unresolvable",
            [
                "env", "WORLD_SIZE=2", "RANK=0", "MASTER_ADDR=no-such-host.invalid",
                "MASTER_PORT=29511", *rnn("train", *TINY),
            ],
        ),
    ):  # fmt: skip
        add(Case(name, argv, "refuse"))
    add(
        Case(
            "runs RNN_TUI_RUNS ~unknown-user", ["env", f"RNN_TUI_RUNS={nobody}", *rnn("runs")], "ok"
        )
    )
    return c


def run_folder_cases(work: Path) -> list[Case]:
    """Cases that need a trained run: garbage run folders, resume, concurrency."""
    corpus = work / "tiny.txt"
    runs = work / "runs"
    good = runs / "good"
    subprocess.run(
        rnn("train", "--corpus", str(corpus), *TINY, "--epochs", "2", "--run-dir", str(good)),
        capture_output=True,
        check=True,
    )
    c: list[Case] = []
    add = c.append
    hostile = {
        "status markup": ("status.json", {"status": "[/]", "message": "[link=x]hi[/link]"}),
        "model not a string": ("config.json", {"model": 5, "epochs": "many"}),
        "status list": ("status.json", [1, 2]),
        "status garbage": ("status.json", "{not json"),
        "future mtime": ("status.json", {"status": "running", "pid": 999999, "updated": 1e20}),
    }
    for name, (file, content) in hostile.items():
        folder = runs / name.replace(" ", "-")
        shutil.copytree(good, folder)
        text = content if isinstance(content, str) else json.dumps(content)
        (folder / file).write_text(text, encoding="utf-8")
    fifo_run = runs / "fifo-config"
    fifo_run.mkdir()
    os.mkfifo(fifo_run / "config.json")
    fifo_metrics = runs / "fifo-metrics"
    shutil.copytree(good, fifo_metrics)
    (fifo_metrics / "metrics.jsonl").unlink()
    os.mkfifo(fifo_metrics / "metrics.jsonl")
    add(Case("runs over hostile folders", rnn("runs", "--dir", str(runs)), "ok", guard=[good]))
    add(Case("runs --json over hostile folders", rnn("runs", "--dir", str(runs), "--json"), "ok"))
    add(Case("runs --dir a file", rnn("runs", "--dir", str(corpus)), "refuse"))
    # A garbled status.json is written anew (config, metrics and checkpoints decide).
    add(
        Case(
            "resume garbage status",
            rnn("train", "--resume", str(runs / "status-garbage"), "--epochs", "3"),
            "ok",
        )
    )
    add(Case("resume a non-run", rnn("train", "--resume", str(work)), "refuse"))
    add(
        Case(
            "resume with another option",
            rnn("train", "--resume", str(good), "--lr", "2"),
            "refuse",
            guard=[good],
        )
    )
    add(
        Case(
            "resume needing more epochs",
            rnn("train", "--resume", str(good)),
            "refuse",
            guard=[good],
        )
    )
    add(
        Case(
            "--run-dir holding a run",
            rnn("train", "--corpus", str(corpus), *TINY, "--run-dir", str(good)),
            "refuse",
            guard=[good],
        )
    )
    for name, change in {
        "bad python rng": lambda m: m["python_random"].update(state=[1, 2]),
        "bad lr": lambda m: m["optimizer"]["param_groups"][0].update(lr="fast"),
        "momentum": lambda m: m["optimizer"]["param_groups"][0].update(momentum=0.9),
        "optimizer state": lambda m: m["optimizer"].update(state={"0": {"momentum_buffer": 1}}),
        "optimizer state index": lambda m: m["optimizer"].update(state={"99": {"x": 1}}),
        "bad progress": lambda m: m.update(batch=10**6),
        "config hidden": lambda m: m["config"].update(hidden=10**9),
        "prepacked choice": lambda m: m.update(prepacked="yes"),
        "chain choice": lambda m: m.update(chained=[True]),
    }.items():
        folder = runs / f"tampered-{name.replace(' ', '-')}"
        shutil.copytree(good, folder)
        for ck in ("last", "best"):
            path = folder / "checkpoints" / f"{ck}.json"
            meta = json.loads(path.read_text(encoding="utf-8"))
            change(meta)
            path.write_text(json.dumps(meta), encoding="utf-8")
        add(
            Case(
                f"resume {name}",
                rnn("train", "--resume", str(folder), "--epochs", "3"),
                "refuse",
                guard=[folder],
            )
        )
    return c


def special_cases(work: Path, timeout: float, env: dict) -> list[tuple[str, str]]:
    """Concurrency and kill -9: (case, outcome)."""
    corpus = work / "tiny.txt"
    out = []
    # Two trainers on one --run-dir at the same moment.
    run = work / "race"
    argv = rnn("train", "--corpus", str(corpus), *TINY, "--epochs", "3", "--run-dir", str(run))
    procs = [
        subprocess.Popen(
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env
        )
        for _ in range(2)
    ]
    results = [(p.wait(timeout), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in results)
    clean = codes == [0, 2] and not any("Traceback" in e for _, e in results)
    out.append(("two trainers on one --run-dir", "clean" if clean else f"wrong exit {codes}"))
    # kill -9 mid-run: the run shows as died, resumes, and its last checkpoint loads.
    run = work / "killed"
    proc = subprocess.Popen(
        rnn(
            "train",
            "--corpus",
            str(corpus),
            *TINY[:-4],
            "--epochs",
            "100000",
            "--device",
            "cpu",
            "--run-dir",
            str(run),
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (run / "checkpoints" / "last.json").exists():
        time.sleep(0.2)
    time.sleep(0.5)
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    listed = subprocess.run(
        rnn("runs", "--dir", str(work), "--json"), capture_output=True, text=True, env=env
    )
    status = {r["name"]: r["status"] for r in json.loads(listed.stdout)["runs"]}.get("killed")
    out.append(("kill -9, then runs", "clean" if status == "died" else f"listed as {status}"))
    # …then resumes (validated first, the stale lock of the dead trainer taken over).
    proc = subprocess.Popen(
        rnn("train", "--resume", str(run), "--epochs", "100000"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    time.sleep(8)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(30)
    err = proc.stderr.read()
    out.append(
        (
            "kill -9, then resume",
            "clean"
            if code == 143 and "Traceback" not in err
            else f"exit {code}: {err.strip().splitlines()[-1:]}",
        )
    )
    gen = subprocess.run(
        rnn("generate", "--checkpoint", str(run), "--prefix", "time", "--length", "3"),
        capture_output=True,
        text=True,
        env=env,
    )
    out.append(("kill -9, then generate", "clean" if gen.returncode == 0 else "data lost"))
    # SIGTERM: stops after the batch, saves, exits 143.
    run = work / "terminated"
    proc = subprocess.Popen(
        rnn(
            "train",
            "--corpus",
            str(corpus),
            *TINY[:-4],
            "--epochs",
            "100000",
            "--device",
            "cpu",
            "--run-dir",
            str(run),
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not (run / "checkpoints" / "last.json").exists():
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(30)
    err = proc.stderr.read()
    out.append(
        ("SIGTERM mid-run", "clean" if code == 143 and "Traceback" not in err else f"exit {code}")
    )
    return out


def _mount(folder: Path, options: str) -> bool:
    """A small tmpfs at `folder` (root only; False where mounting is not allowed)."""
    folder.mkdir(parents=True, exist_ok=True)
    argv = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)]
    return subprocess.run(argv, capture_output=True).returncode == 0


def disk_cases(work: Path, env: dict) -> list[tuple[str, str]]:
    """A disk that fills up mid-run, and a run folder on a file system remounted read-only:
    (case, outcome). Needs root (tmpfs mounts); skipped, with a line, elsewhere."""
    corpus = work / "tiny.txt"
    disk = work / "small-disk"
    if not _mount(disk, "size=256k"):
        print("disk cases skipped: cannot mount a tmpfs here (needs root)", file=sys.stderr)
        return []
    out = []
    try:
        run = disk / "run"
        argv = [*TINY[:-4], "--hidden", "64", "--epochs", "200", "--device", "cpu"]
        proc = subprocess.run(
            rnn("train", "--corpus", str(corpus), *argv, "--run-dir", str(run)),
            capture_output=True,
            text=True,
            env=env,
        )
        err = proc.stderr.strip().splitlines()
        full = proc.returncode == 1 and err and "disk full" in err[-1]
        full = full and "Traceback" not in proc.stderr
        out.append(("disk full mid-run", "clean" if full else f"exit {proc.returncode}"))
        gen = subprocess.run(
            rnn("generate", "--checkpoint", str(run), "--prefix", "time", "--length", "3"),
            capture_output=True,
            text=True,
            env=env,
        )
        out.append(("disk full, then generate", "clean" if gen.returncode == 0 else "data lost"))
        before = snapshot([run])
        subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        for name, args in [
            ("read-only disk, resume", ["train", "--resume", str(run), "--epochs", "300"]),
            (
                "read-only disk, new --run-dir",
                ["train", "--corpus", str(corpus), *TINY, "--run-dir", str(disk / "new")],
            ),
        ]:
            proc = subprocess.run(rnn(*args), capture_output=True, text=True, env=env)
            lines = proc.stderr.strip().splitlines()
            ok = proc.returncode == 2 and len(lines) == 1 and "Traceback" not in proc.stderr
            out.append((name, "clean" if ok else f"exit {proc.returncode}: {lines[-1:]}"))
        out.append(
            ("read-only disk, run kept", "clean" if snapshot([run]) == before else "data lost")
        )
    finally:
        subprocess.run(["umount", str(disk)], capture_output=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", default="", help="run the cases whose name contains this")
    ap.add_argument("--timeout", type=float, default=90.0)
    ap.add_argument("-v", action="store_true", help="show every case")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="rnn-tui-adversarial-"))
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONPATH": str(ROOT),
        "RNN_TUI_RUNS": str(work / "default-runs"),
    }
    tally: Counter[str] = Counter()
    rows = []
    try:
        all_cases = cases(work)
        all_cases += run_folder_cases(work)
        for case in all_cases:
            if args.only and args.only not in case.name:
                continue
            outcome, code, err = run_case(case, args.timeout, env, work)
            tally[outcome] += 1
            rows.append((outcome, case.name, code, err.strip().splitlines()[-1:]))
        if not args.only or args.only in "special":
            for name, outcome in special_cases(work, args.timeout, env) + disk_cases(work, env):
                outcome = outcome if outcome in ("clean", "data lost") else "wrong exit"
                tally[outcome] += 1
                rows.append((outcome, name, None, []))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for outcome, name, code, last in rows:
        if args.v or outcome != "clean":
            shown = last[0][:150] if last else ""
            print(f"{outcome:11} {name}  (exit {code}) {shown}")
    total = sum(tally.values())
    print(
        f"{total} cases: "
        + ", ".join(
            f"{tally[k]} {k}"
            for k in ("clean", "traceback", "hang", "wrong exit", "data lost", "line too long")
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
