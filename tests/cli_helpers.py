"""What the tests that run `rnn-tui train` in-process share: a tiny corpus, a tiny model's
options, main() called as the shell would, and a run folder's bytes to show nothing changed."""

from __future__ import annotations

from pathlib import Path

from rnn_tui.cli import main
from rnn_tui.data.sources import read_text


def tiny_corpus(tmp_path_factory) -> str:
    """The Time Machine's first 3,000 characters in a file: enough for a few minibatches."""
    path = tmp_path_factory.mktemp("corpus") / "tiny.txt"
    path.write_text(read_text("timemachine")[:3000], encoding="utf-8")
    return str(path)


def tiny_args(corpus: str, *extra: str) -> list[str]:
    return [
        "train",
        "--corpus", corpus,
        "--model", "gru",
        "--hidden", "16",
        "--batch-size", "8",
        "--num-steps", "10",
        "--epochs", "2",
        "--sample-length", "10",
        "--device", "cpu",
        *extra,
    ]  # fmt: skip


def call(args: list[str], capsys) -> tuple[int, str, str]:
    """main() in this process: (exit status, stdout, stderr); argparse errors included."""
    try:
        code = main(args)
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def status_and_err(args: list[str], capsys) -> tuple[int, str]:
    """main() in this process: (exit status, stderr)."""
    code, _, err = call(args, capsys)
    return code, err


def the_line(err: str) -> str:
    """The one line of `err`, which must hold exactly one and no traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


def one_line(capsys, argv: list[str]) -> tuple[int, str]:
    """main() in this process, which must write exactly one stderr line and no traceback:
    (exit status, that line)."""
    code, _, err = call(argv, capsys)
    assert "Traceback" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    return code, err.strip()


def snapshot(folder: Path, *, lock: bool = True) -> dict[str, bytes]:
    """Every file of a run folder with its bytes (without trainer.lock when `lock` is False: a
    trainer takes it before it reads anything), to show a refused command changed nothing."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and (lock or p.name != "trainer.lock")
    }
