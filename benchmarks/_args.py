"""The benchmarks' command lines, as rnn-tui's own: each option's range in its declaration, and a
usage error said in one line on stderr with exit status 2 (`rnn_tui.cli.usage.Parser`), before
any measurement starts — not a traceback from the middle of a run, nor a run that waits forever
for a Train form that refused the value."""

from __future__ import annotations

import argparse
import stat
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.append(str(ROOT))  # run from a checkout that was not installed

from rnn_tui.cli.usage import Parser, converter  # noqa: E402
from rnn_tui.options import UNSET, Option  # noqa: E402


def parser(doc: str | None, script: str) -> Parser:
    """The parser of `script` (its __file__, which names it in every message, however it was
    started), described by the first paragraph of its docstring."""
    return Parser(
        prog=Path(script).name, description=" ".join((doc or "").split("\n\n")[0].split())
    )


def int_in(name: str, low: int, high: int):
    """argparse `type=` for an integer in [low, high]."""
    return converter(Option(name, int, UNSET, "", minimum=low, maximum=high))


def number_in(name: str, low: float, high: float, open_low: bool = False):
    """argparse `type=` for a finite number in [low, high] ((low, high] with `open_low`)."""
    option = Option(name, float, UNSET, "", minimum=low, maximum=high, open_minimum=open_low)
    return converter(option)


def trainer_option(ap, name: str, default, help: str = "", flag: str | None = None) -> None:
    """Add `--name` (or `flag`) as rnn-tui's trainer declares it (its range or choices, and its
    refusals' words) with this script's own default."""
    from rnn_tui.train.options import OPTION

    option = OPTION[name]
    text = f"{help or option.help} (default: {default})"
    ap.add_argument(flag or option.flag, type=converter(option), default=default, help=text)


def names(allowed: Iterable[str]):
    """argparse `type=` for a comma-separated list of names out of `allowed`, at least one."""
    allowed = tuple(allowed)

    def convert(text: str) -> list[str]:
        chosen = [part.strip() for part in text.split(",") if part.strip()]
        if not chosen:
            raise argparse.ArgumentTypeError(f"name at least one of {', '.join(allowed)}")
        for name in chosen:
            if name not in allowed:
                raise argparse.ArgumentTypeError(
                    f"unknown name {name!r} (choose from {', '.join(allowed)})"
                )
        return list(dict.fromkeys(chosen))  # each once, in the order given

    convert.__name__ = "list"
    return convert


def terminal_size(text: str) -> tuple[int, int]:
    """argparse `type=` for a terminal's COLUMNSxROWS, from the app's least (80×24) to 500×200."""
    cols, sep, rows = text.lower().replace("×", "x").partition("x")
    if not sep:
        raise argparse.ArgumentTypeError(f"{text!r} is not COLUMNSxROWS (as 120x40)")
    size = []
    for name, part, high in (("columns", cols, 500), ("rows", rows, 200)):
        try:
            size.append(int_in(name, 24 if name == "rows" else 80, high)(part.strip()))
        except argparse.ArgumentTypeError as exc:
            raise argparse.ArgumentTypeError(f"{name} {exc}") from None
    return size[0], size[1]


def regular_file(text: str) -> Path:
    """argparse `type=` for an existing regular file (not a folder, a FIFO or a device)."""
    path = Path(text)
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise argparse.ArgumentTypeError(f"cannot read {text}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise argparse.ArgumentTypeError(f"{text} is not a regular file")
    return path


def folder(text: str) -> Path:
    """argparse `type=` for a folder to write into: a folder, or nothing yet by that name."""
    path = Path(text)
    try:
        there = path.exists()
    except OSError as exc:  # a parent it may not look into (3.11's exists lets that through)
        raise argparse.ArgumentTypeError(f"cannot use {text}: {exc.strerror or exc}") from None
    if there and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is not a folder")
    return path


def refuse_missing_cuda(ap: argparse.ArgumentParser, device: str) -> None:
    """`--device cuda` where torch sees no GPU: said before anything is built."""
    if device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            ap.error(f"--device {device}: no CUDA GPU here (torch {torch.__version__})")


__all__ = [
    "converter",
    "folder",
    "int_in",
    "names",
    "number_in",
    "parser",
    "refuse_missing_cuda",
    "terminal_size",
    "regular_file",
    "trainer_option",
]
