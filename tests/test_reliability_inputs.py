"""What the user names, read safely: FIFOs and devices, size caps, codecs, odd text files.

One test per cause (issue: reliability): a file that is not a regular file is never read to the
end nor waited on for good; the size cap has an option; only text codecs are accepted; a UTF-16
file read as UTF-8, a NUL anywhere, an empty path, a min-freq above every count are one clear
line; manythings.org's three-column pairs are read; `runs --dir FILE` is an error; and a worker
reading a FIFO never keeps the app from quitting.
"""

from __future__ import annotations

import codecs
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import rnn_tui.data.sources as sources
import rnn_tui.files as files
from rnn_tui.cli import main
from rnn_tui.data.corpus_analysis import CorpusRequest
from rnn_tui.data.errors import DataError
from rnn_tui.data.sources import pairs_remarks, read_raw_pairs, read_text
from rnn_tui.data.translation import load_translation
from rnn_tui.runs.discover import read_meta
from rnn_tui.runs.listing import list_runs

TEXT = "the time traveller for so it will be convenient to speak of him\n" * 40


def refused(capsys, argv: list[str], fragment: str) -> str:
    """Run the CLI in-process: exit 2 and exactly one stderr line containing `fragment`."""
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert fragment in err, err
    return err


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


# -- cause 1: files that are not regular files ------------------------------------------------


def test_devices_and_folders_are_refused_before_a_byte_is_read(capsys, tmp_path):
    refused(capsys, ["stats", "--corpus", "/dev/zero"], "is a character device")
    refused(capsys, ["stats", "--corpus", str(tmp_path)], "is a directory")
    refused(capsys, ["train", "--corpus", "/dev/urandom"], "is a character device")


def test_a_fifo_nobody_writes_to_is_not_waited_on_for_good(capsys, fifo, monkeypatch):
    monkeypatch.setattr(files, "FIRST_DATA_S", 0.5)
    started = time.monotonic()
    refused(capsys, ["stats", "--corpus", str(fifo)], "is anything writing to it?")
    assert time.monotonic() - started < 10


def test_a_checkpoint_that_is_a_pipe_is_refused_at_once(capsys, tmp_path):
    # A checkpoint is a pair of files rnn-tui wrote: `--checkpoint x.json` on a FIFO waited
    # 30 s for a writer before saying so, as if it were a corpus.
    import shutil

    shipped = Path(__file__).resolve().parents[1] / "checkpoints" / "timemachine-char-lstm.json"
    meta = tmp_path / "piped.json"
    os.mkfifo(meta)
    started = time.monotonic()
    argv = ["generate", "--checkpoint", str(meta), "--prefix", "time"]
    refused(capsys, argv, "is a pipe (FIFO), not a regular file")
    # Its JSON a file, its tensors a pipe.
    pair = tmp_path / "pair"
    pair.mkdir()
    shutil.copy(shipped, pair / shipped.name)
    os.mkfifo(pair / shipped.with_suffix(".safetensors").name)
    argv = ["generate", "--checkpoint", str(pair / shipped.name), "--prefix", "time"]
    refused(capsys, argv, "is a pipe (FIFO), not a regular file")
    assert time.monotonic() - started < 20


def test_a_real_pipe_is_read(fifo):
    # What `--corpus <(cat file)` gives: a pipe whose writer comes and goes.
    def write() -> None:
        with open(fifo, "w", encoding="utf-8") as f:
            f.write(TEXT)

    writer = threading.Thread(target=write)
    writer.start()
    assert read_text(str(fifo)) == TEXT
    writer.join(5)


def test_a_stream_past_the_cap_is_refused_and_the_cap_can_be_raised(capsys, tmp_path):
    big = tmp_path / "big.txt"
    big.write_text(TEXT * 1000, encoding="utf-8")  # 2.6 MB
    refused(capsys, ["stats", "--corpus", str(big), "--max-file-mb", "1"], "--max-file-mb")
    assert main(["stats", "--corpus", str(big), "--max-file-mb", "3"]) == 0
    refused(capsys, ["stats", "--max-file-mb", "0"], "--max-file-mb")
    # A pipe is cut off at the cap as it streams, not read to its end first.
    read, write = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(write, b"a" * 5000), os.close(write)))
    writer.start()
    with pytest.raises(files.FileProblem, match="larger than the 4,096 bytes limit"):
        files.read_stream(read, limit=4096)
    writer.join(5)
    os.close(read)


def test_a_device_as_standard_input_is_refused_before_a_byte_is_read(monkeypatch):
    # `translate --file - < /dev/zero` read 256 MiB of zeros, then named the size limit.
    fd = os.open("/dev/zero", os.O_RDONLY)
    reads: list[int] = []
    real_read = os.read
    try:
        monkeypatch.setattr(os, "read", lambda f, n: reads.append(n) or real_read(f, n))
        with pytest.raises(files.FileProblem, match="standard input is a character device"):
            files.read_stream(fd)
        assert reads == []  # refused before a byte was read
    finally:
        monkeypatch.undo()
        os.close(fd)
    done = subprocess.run(
        [sys.executable, "-m", "rnn_tui", "translate", "--checkpoint", "fra-eng-gru"]
        + ["--file", "-"],
        stdin=subprocess.DEVNULL,  # /dev/null: a character device too
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip().endswith(
        "standard input is a character device, not text (a file, a pipe or a terminal)"
    )


@pytest.mark.parametrize("value", ["abc", "-1", "0", "nan", "1e308", "2.5", "1000001", "²"])
def test_a_cap_in_the_environment_that_is_no_size_is_refused(capsys, monkeypatch, value):
    """Read as the default, a cap the user thought raised refused their file (and said to
    raise it, as they had)."""
    monkeypatch.setenv(files.LIMIT_ENV, value)
    refused(
        capsys,
        ["stats"],
        f"$RNN_TUI_MAX_FILE_MB must be an integer in [1, 1,000,000] (MiB) (got '{value}')",
    )
    assert main(["stats", "--max-file-mb", "5"]) == 0  # the option replaces it
    # …and is passed on in the same form (the trainers it starts read it back).
    assert main(["stats", "--max-file-mb", "1000000"]) == 0
    assert files.default_limit() == 1_000_000 * files.MIB and files.limit_env_problem() is None
    monkeypatch.setenv(files.LIMIT_ENV, " 300 ")
    assert main(["stats"]) == 0 and files.default_limit() == 300 * files.MIB


def test_files_in_a_run_folder_that_are_fifos_are_skipped_not_waited_on(tmp_path):
    root = tmp_path / "runs"
    odd = root / "odd"  # its JSON files are FIFOs
    odd.mkdir(parents=True)
    for name in ("config.json", "status.json"):
        os.mkfifo(odd / name)
    piped = root / "piped"  # readable JSON, but its metrics and log are FIFOs
    piped.mkdir()
    (piped / "config.json").write_text('{"model": "lstm", "epochs": 2}')
    (piped / "status.json").write_text('{"status": "finished"}')
    for name in ("metrics.jsonl", "train.log"):
        os.mkfifo(piped / name)
    os.mkfifo(tmp_path / "best.json")
    done: list = []
    lister = threading.Thread(target=lambda: done.append(list_runs(root)), daemon=True)
    lister.start()
    lister.join(5)
    assert done, "listing runs waited on a FIFO"
    entries = {entry["name"]: entry for entry in done[0]}
    assert entries["odd"]["status"] == "unreadable"
    assert "is a pipe (FIFO)" in entries["odd"]["message"]
    assert entries["piped"]["status"] == "finished" and entries["piped"]["epoch"] == 0
    assert read_meta(tmp_path / "best.json") is None


# -- cause 3: codecs --------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["rot13", "hex", "base64", "zlib"])
def test_only_text_encodings_are_accepted(capsys, codec):
    refused(capsys, ["stats", "--encoding", codec], "is not a text encoding")
    refused(capsys, ["train", "--encoding", codec, "--epochs", "1"], "is not a text encoding")


def test_an_unknown_or_empty_encoding_is_one_line(capsys):
    refused(capsys, ["stats", "--encoding", "klingon-8"], "unknown encoding 'klingon-8'")
    refused(capsys, ["stats", "--encoding", ""], "--encoding: must be non-empty text")


# -- cause 10: messages that could be better --------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_a_utf16_or_utf32_file_read_as_utf8_names_its_encoding(capsys, tmp_path, codec):
    path = tmp_path / "wide.txt"
    data = TEXT.encode(codec)
    bom = codecs.BOM_UTF16_BE if codec == "utf-16-be" else b""
    path.write_bytes(bom + data)
    family = codec[:6]
    refused(capsys, ["stats", "--corpus", str(path)], f"read it with --encoding {family}")
    assert main(["stats", "--corpus", str(path), "--encoding", family]) == 0


def test_empty_names_are_refused_where_they_are_given(capsys):
    refused(capsys, ["stats", "--corpus", ""], "--corpus: must be non-empty text")
    refused(capsys, ["train", "--corpus", "  "], "--corpus: must be non-empty text")
    refused(capsys, ["train", "--task", "seq2seq", "--pairs", ""], "--pairs: must be non-empty")
    with pytest.raises(DataError, match="no corpus named"):
        read_text("")
    with pytest.raises(DataError, match="no sentence pairs named"):
        read_raw_pairs(" ")


def test_a_min_freq_above_every_count_is_refused_with_the_highest_count(capsys, tmp_path):
    refused(capsys, ["stats", "--min-freq", "3000"], "occurs 2,261 times (use min-freq 2261")
    pairs = tmp_path / "pairs.txt"
    pairs.write_text("Go.\tVa !\nHi.\tSalut !\n", encoding="utf-8")
    with pytest.raises(DataError, match="English side .* the most frequent, '.', occurs 2 times"):
        load_translation(str(pairs), min_freq=3)
    single = tmp_path / "single.txt"
    single.write_text("caf au lait\n", encoding="utf-8")
    refused(capsys, ["stats", "--corpus", str(single), "--min-freq", "3"], "'caf', occurs once (")
    corpus = tmp_path / "c.txt"
    corpus.write_text(TEXT, encoding="utf-8")
    refused(
        capsys,
        ["train", "--corpus", str(corpus), "--min-freq", "500", "--epochs", "1"],
        "leaves no token",
    )


def test_three_column_pairs_keep_the_first_two_and_say_so(tmp_path):
    path = tmp_path / "fra.txt"
    path.write_text(
        "Go.\tVa !\tCC-BY 2.0 (France) Attribution: tatoeba.org #2877272 (CM) & #1158250\n"
        "Hi.\tSalut !\tCC-BY 2.0 (France) Attribution: tatoeba.org #538123 (CM) & #509819\n"
        "Run!\tCours !\n"
        "a\tb\tc\td\n",
        encoding="utf-8",
    )
    read = read_raw_pairs(str(path))
    assert read.pairs == [("Go.", "Va !"), ("Hi.", "Salut !"), ("Run!", "Cours !")]
    assert (read.malformed, read.third_column) == (1, 2)
    remarks = pairs_remarks(read, "fra.txt")
    assert "first two of three tab-separated fields on 2 lines" in remarks[0]
    assert "skipped 1 malformed line in" in remarks[1]


def test_runs_dir_that_is_a_file_is_an_error(capsys, tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    refused(capsys, ["runs", "--dir", str(path)], "is not a folder")
    refused(capsys, ["runs", "--dir", str(tmp_path / "missing")], "no folder")


# -- the app: a worker reading a FIFO never blocks quitting ----------------------------------


async def test_quitting_while_the_dataset_screen_waits_on_a_fifo(tui, fifo, monkeypatch):
    finished = threading.Event()
    real_read_bytes = sources.read_bytes

    def watched(*args, **kwargs):
        try:
            return real_read_bytes(*args, **kwargs)
        finally:
            finished.set()

    monkeypatch.setattr(sources, "read_bytes", watched)
    app = tui.make_app()
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await tui.settle(pilot)
        app.screen.request(CorpusRequest(source=str(fifo)))
        await pilot.pause(0.5)
        assert not finished.is_set()  # still waiting for a writer
        await pilot.press("ctrl+q")
    # The read watches its worker's cancellation: it stops well before its 30 s wait.
    assert finished.wait(15), "the FIFO read outlived the app"
