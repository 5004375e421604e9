"""The headless CLI as a user runs it: a subprocess, stdout/stderr, exit codes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest

from rnn_tui.cli import main


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rnn_tui", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_stats_json_reproduces_the_seeds_word_figures():
    proc = run_cli("stats", "--json")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)  # exactly one JSON object
    assert stats["num_lines"] == 3221
    assert stats["num_tokens"] == 32775
    assert stats["vocab_size"] == 4580
    words = [t for t, _, _ in stats["top_tokens"]]
    assert words == ["<unk>", "the", "i", "and", "of", "a", "to", "was", "in", "that"]
    assert [i for _, i, _ in stats["top_tokens"]] == list(range(10))
    assert stats["top_ngrams"]["2"][0] == [["of", "the"], 309]
    assert stats["top_ngrams"]["3"][0] == [["the", "time", "traveller"], 59]


def test_stats_json_char_level(capsys):
    assert main(["stats", "--token", "char", "--json", "--top", "3"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["num_tokens"], stats["vocab_size"]) == (170580, 28)
    assert len(stats["top_tokens"]) == 3


def test_stats_tables_show_the_figures(capsys):
    assert main(["stats"]) == 0
    out = capsys.readouterr().out
    for text in ("3,221", "32,775", "4,580", "traveller", "309", "59"):
        assert text in out


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["stats", "--corpus", "/no/such/file.txt"], "not found"),
        (["stats", "--token", "byte"], "invalid choice"),
        (["stats", "--min-freq", "-1"], "--min-freq"),
        (["stats", "--top", "0"], "--top"),
        (["stats", "--encoding", "klingon"], "klingon"),
        (["frobnicate"], "invalid choice"),
        # A word the command does not take: its own parser points to its --help, and to the
        # one flag whose choices hold the word.
        (["stats", "story.txt"], "unrecognized arguments: story.txt (see rnn-tui stats --help)"),
        (["train", "lstm"], "did you mean --model lstm?"),
        (["stats", "char"], "did you mean --token char?"),
        (["train", "--bogus"], "rnn-tui train: error: unrecognized arguments: --bogus"),
        (["--bogus"], "rnn-tui: error: unrecognized arguments: --bogus (see rnn-tui --help)"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, fragment):
    proc = run_cli(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert fragment in lines[0]
    assert "Traceback" not in proc.stderr


def test_a_file_named_like_a_bundled_set_is_said_to_be_passed_over(tmp_path, capsys, monkeypatch):
    # A user's own `timemachine` file in the folder lost to the bundled book without a word.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "timemachine").write_text("hello world\n", encoding="utf-8")
    code = main(["stats", "--corpus", "timemachine", "--json"])
    err = capsys.readouterr().err
    assert code == 0 and err.strip() == (
        "rnn-tui: warning: --corpus timemachine is the bundled data set; ./timemachine reads "
        "the file here"
    )
    assert main(["stats", "--corpus", "./timemachine", "--json"]) == 0
    assert capsys.readouterr().err == ""


def test_a_bare_corpus_file_is_pointed_to_corpus(tmp_path):
    story = tmp_path / "story.txt"
    story.write_text("the time traveller\n")
    proc = run_cli("stats", str(story))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"rnn-tui stats: error: unrecognized arguments: {story}; did you mean --corpus {story}? "
        "(see rnn-tui stats --help)"
    ]


@pytest.mark.parametrize(
    "content, fragment",
    [
        (b"", "empty"),
        (b"abc\x00def", "not a text file"),
        (b"caf\xe9 au lait", "decode"),
        (b"1234 5678 !!!\n", "nothing left"),
    ],
)
def test_bad_files_are_one_line_exit_2(tmp_path, content, fragment):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    proc = run_cli("stats", "--corpus", str(path))
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    assert fragment in proc.stderr.lower()
    assert "Traceback" not in proc.stderr


def test_a_directory_is_refused(tmp_path):
    proc = run_cli("stats", "--corpus", str(tmp_path))
    assert proc.returncode == 2
    assert "director" in proc.stderr.lower()


def test_corpus_shorter_than_a_trigram_still_reports(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text("hello\n")
    proc = run_cli("stats", "--corpus", str(path), "--json")
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)
    assert stats["num_tokens"] == 1
    assert stats["top_ngrams"]["2"] == [] and stats["top_ngrams"]["3"] == []


def test_latin1_file_with_encoding(tmp_path):
    path = tmp_path / "latin.txt"
    path.write_bytes("Café crème\n".encode("latin-1"))
    proc = run_cli(
        "stats", "--corpus", str(path), "--mode", "raw", "--encoding", "latin-1", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    tokens = [t for t, _, _ in json.loads(proc.stdout)["top_tokens"]]
    assert "Café" in tokens


def _imported_modules(code: str) -> set[str]:
    proc = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    return set(proc.stdout.split())


def test_help_and_stats_do_not_import_torch():
    mods = _imported_modules(
        "import contextlib, io\n"
        "from rnn_tui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['stats', '--json'])\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
    )
    assert "torch" not in mods
    assert "textual" not in mods


@pytest.mark.parametrize("given", [None, "1"])
def test_commands_ask_numpy_for_no_huge_pages_unless_the_user_does(given):
    """numpy reads NUMPY_MADVISE_HUGEPAGE when it is imported: `main` sets it first."""
    env = {k: v for k, v in os.environ.items() if k != "NUMPY_MADVISE_HUGEPAGE"}
    if given is not None:
        env["NUMPY_MADVISE_HUGEPAGE"] = given
    code = (
        "import contextlib, io, os\n"
        "from rnn_tui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['stats', '--json'])\n"
        "from numpy._core import multiarray\n"
        "print(os.environ['NUMPY_MADVISE_HUGEPAGE'], multiarray._get_madvise_hugepage())\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env
    )
    assert proc.returncode == 0, proc.stderr
    want = given or "0"
    assert proc.stdout.split() == [want, str(want == "1")]


def test_help_lists_the_commands():
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert "stats" in proc.stdout and "--no-mouse" in proc.stdout and "--color" in proc.stdout


def test_the_app_takes_max_file_mb_as_its_too_big_message_says(monkeypatch):
    # "raise it with --max-file-mb" was shown in the app, whose command had no such option.
    from rnn_tui.cli.parser import build_parser

    assert build_parser().parse_args(["--max-file-mb", "512"]).max_file_mb == 512
    proc = run_cli("--max-file-mb", "512")
    assert proc.returncode == 2 and "terminal" in proc.stderr  # accepted, then no terminal


def test_app_refuses_without_a_terminal():
    proc = run_cli()
    assert proc.returncode == 2
    assert "terminal" in proc.stderr


@pytest.mark.parametrize("command", ["train", "generate", "translate", "gradients", "stats"])
def test_every_numeric_option_shows_its_range_in_help(command, capsys, monkeypatch):
    """A refusal says "(see rnn-tui train --help)": the help must give the range it refused
    by. Every numeric option's help line ends with its declaration's describe()."""
    import re

    from rnn_tui.cli import parser as cli_parser

    shown: list = []
    add = cli_parser.add_option

    def recorded(p, option, *args, **kwargs):
        if p.prog.split()[-1] == command:
            shown.append(option)
        add(p, option, *args, **kwargs)

    monkeypatch.setattr(cli_parser, "add_option", recorded)
    monkeypatch.setenv("COLUMNS", "1000")  # one line per option
    with pytest.raises(SystemExit):
        main([command, "--help"])
    text = " ".join(capsys.readouterr().out.split())
    numeric = [o for o in shown if o.kind in (int, float) and not o.choices]
    assert numeric or command == "stats"
    for option in numeric:
        assert re.search(re.escape(option.flag) + r"\b[^\n]*" + re.escape(option.describe()), text)


def test_messages_name_what_the_user_gave(tmp_path, capsys, monkeypatch):
    """A refusal names what was given: $RNN_TUI_RUNS (not a --dir never typed), a --file of
    blank lines (not "give --file"), and the help gives seq2seq's own --min-freq default."""
    from cli_helpers import call

    not_a_folder = tmp_path / "runs"
    not_a_folder.write_text("x")
    monkeypatch.setenv("RNN_TUI_RUNS", str(not_a_folder))
    code, _, err = call(["runs"], capsys)
    assert code == 2 and "($RNN_TUI_RUNS names the folder that holds the runs)" in err
    blank = tmp_path / "blank.txt"
    blank.write_text("\n \n")
    code, _, err = call(["translate", "--checkpoint", "fra-eng-gru", "--file", str(blank)], capsys)
    assert code == 2 and f"{blank} holds only blank lines" in err
    monkeypatch.setenv("COLUMNS", "1000")
    with pytest.raises(SystemExit):
        main(["train", "--help"])
    assert "(lm, seq2seq only; default: 0; seq2seq: 2)" in capsys.readouterr().out


_PRINTING_COMMANDS = [
    ["stats"],
    ["runs"],
    ["generate", "--checkpoint", "timemachine-char-lstm", "--prefix", "the"],
    ["translate", "--checkpoint", "fra-eng-gru", "go."],
    ["classify", "--checkpoint", "x", "Satoshi"],
    ["tag", "--checkpoint", "x", "the time"],
    ["gradients"],
    ["train", "--json"],
]


@pytest.mark.parametrize("argv", _PRINTING_COMMANDS, ids=lambda argv: argv[0])
def test_a_closed_stdout_is_one_line_exit_2(argv, capsys, monkeypatch):
    # `rnn-tui generate ... >&-`: Python's sys.stdout is None; generate crashed on .isatty().
    from cli_helpers import one_line

    monkeypatch.setattr(sys, "stdout", None)
    code, line = one_line(capsys, argv)
    assert code == 2 and line == "rnn-tui: error: standard output is closed"


class _FullDisk(io.StringIO):
    """A stdout behind which the disk is full (`> /dev/full`)."""

    def write(self, text: str) -> int:
        raise OSError(28, "No space left on device")


@pytest.mark.parametrize("argv", [["stats", "--json"], ["stats"], ["runs", "--json"]])
def test_a_stdout_that_cannot_be_written_is_named(argv, capsys, monkeypatch, tmp_path):
    from cli_helpers import one_line

    monkeypatch.setenv("RNN_TUI_RUNS", str(tmp_path))
    monkeypatch.setattr(sys, "stdout", _FullDisk())
    code, line = one_line(capsys, argv)
    assert code == 1
    assert line == "rnn-tui: error: cannot write standard output: No space left on device"


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize(
    "argv", [["stats", "--json"], ["--help"], ["--version"], ["train", "--help"]]
)
def test_dev_full_is_one_line_without_a_traceback_at_exit(argv):
    with open("/dev/full", "w") as full:
        proc = subprocess.run(
            [sys.executable, "-m", "rnn_tui", *argv],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    assert proc.returncode == 1
    assert proc.stderr == "rnn-tui: error: cannot write standard output: No space left on device\n"
