"""Reading files safely (rnn_tui.files): regular files and pipes only, a size cap, no hangs."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import threading
import time

import pytest

from rnn_tui import files
from rnn_tui.files import FileProblem, default_limit, read_bytes, set_default_limit


def test_a_regular_file_is_read_and_capped(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"x" * 5000)
    assert read_bytes(path) == b"x" * 5000
    with pytest.raises(FileProblem, match=r"a.txt is 5,000 bytes, more than the 4,000 bytes limit"):
        read_bytes(path, limit=4000)


def test_a_file_of_many_chunks_is_read_whole_up_to_the_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(files, "_CHUNK", 7)  # read a few bytes at a time
    data = bytes(range(256)) * 3
    path = tmp_path / "b.bin"
    path.write_bytes(data)
    assert read_bytes(path) == data
    assert read_bytes(path, limit=len(data)) == data
    with pytest.raises(FileProblem, match="more than the 767 bytes limit"):
        read_bytes(path, limit=len(data) - 1)


def test_a_file_that_grows_while_read_is_capped(tmp_path, monkeypatch):
    path = tmp_path / "c.txt"
    path.write_bytes(b"x" * 10)
    real_read = os.read

    def growing(fd, n):  # the file gains bytes after each read
        with open(path, "ab") as out:
            out.write(b"y" * 10)
        return real_read(fd, n)

    monkeypatch.setattr(files, "_CHUNK", 8)
    monkeypatch.setattr(files.os, "read", growing)
    with pytest.raises(FileProblem, match="larger than the 50 bytes limit"):
        read_bytes(path, limit=50)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_devices_are_refused_before_a_byte_is_read(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    with pytest.raises(FileProblem, match="character device"):
        read_bytes(device, what="corpus file")


def test_missing_files_and_folders_are_one_line(tmp_path):
    with pytest.raises(FileProblem, match="corpus file not found"):
        read_bytes(tmp_path / "nope.txt", what="corpus file")
    with pytest.raises(FileProblem, match="is a directory"):
        read_bytes(tmp_path)


def test_a_fifo_nobody_writes_to_is_refused_in_time(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(FileProblem, match="no data from"):
        read_bytes(fifo, first_data=0.5)
    assert time.monotonic() - started < 5


def test_waiting_on_a_silent_pipe_is_said_then_taken_back(tmp_path, monkeypatch):
    # A FIFO is waited on for its writer up to 30 s: the CLI said nothing all that time.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    said: list[str] = []
    monkeypatch.setattr(files, "WAITING_NOTICE_S", 0.2)
    monkeypatch.setattr(files, "_waiting_notice", None)
    files.set_waiting_notice(said.append)
    writer = subprocess.Popen(["sh", "-c", f"sleep 0.8; printf 'hello' > {shlex.quote(str(fifo))}"])
    assert read_bytes(fifo, what="corpus file") == b"hello"
    writer.wait(5)
    notice = f"waiting for corpus file {fifo} to send data (at most 30 s)"
    assert said == [notice, ""]  # taken back when the data came
    # A pipe whose data comes at once is not said to be waited on. The writer is a thread of
    # this process, writing as soon as the read opens the FIFO: a shell started for it could
    # take longer than the 0.2 s to get there on a busy machine.
    writer = threading.Thread(target=fifo.write_bytes, args=(b"hi",))
    writer.start()
    assert read_bytes(fifo, what="corpus file") == b"hi" and len(said) == 2
    writer.join(5)
    # Refused: taken back before the error is reported, which then stands alone.
    with pytest.raises(FileProblem, match="no data from"):
        read_bytes(fifo, what="corpus file", first_data=0.6)
    assert said == [notice, "", notice.replace("30 s", "0.6 s"), ""]


def test_a_thread_says_its_own_waits_where_it_asks(tmp_path, monkeypatch):
    # A screen's worker reads a FIFO: the wait goes to that screen's status line, not to the
    # process's notice (the CLI's terminal line), and only for the reads inside the block.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    process_wide: list[str] = []
    mine: list[str] = []
    monkeypatch.setattr(files, "WAITING_NOTICE_S", 0.2)
    monkeypatch.setattr(files, "_waiting_notice", process_wide.append)
    results: list[bytes] = []

    def read() -> None:
        with files.waiting_notice(mine.append):
            results.append(read_bytes(fifo, what="corpus file"))

    reader = threading.Thread(target=read)
    reader.start()
    deadline = time.monotonic() + 20  # the data comes once the wait is said, not at a set time
    while not mine and reader.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    if reader.is_alive():  # else no reader would ever open the FIFO: the write would hang
        fifo.write_text("hello")
    reader.join(5)
    assert results == [b"hello"]
    assert mine == [f"waiting for corpus file {fifo} to send data (at most 30 s)", ""]
    assert process_wide == []
    # Outside the block, the process's notice again.
    with pytest.raises(FileProblem, match="no data from"):
        read_bytes(fifo, what="corpus file", first_data=0.5)
    assert len(mine) == 2 and len(process_wide) == 2


def test_the_cli_says_on_its_terminal_that_it_waits_on_a_pipe(tmp_path, monkeypatch, capsys):
    import io

    from rnn_tui.cli import main

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    monkeypatch.setattr(files, "_waiting_notice", None)
    err = Terminal()
    monkeypatch.setattr(sys, "stderr", err)
    line = f"\r\x1b[Krnn-tui: waiting for corpus file {fifo} to send data (at most 30 s)"

    done = threading.Event()

    def write_once_waited_on() -> None:
        # The data comes after the notice, however long the CLI took to reach the read: a
        # fixed delay raced its imports on a busy machine, and the data came before the wait.
        while line not in err.getvalue():
            if done.is_set():
                return  # no notice: the read gave up, and the assertions say so
            time.sleep(0.05)
        fifo.write_text("the time machine by h g wells\n")

    writer = threading.Thread(target=write_once_waited_on)
    writer.start()
    try:
        code = main(["stats", "--corpus", str(fifo)])
    finally:
        done.set()
        writer.join(60)
    assert code == 0, err.getvalue()
    shown = err.getvalue()
    assert line in shown
    assert "\r\x1b[K" in shown.split(line, 1)[1]  # cleared when the data came
    assert "tokens" in capsys.readouterr().out


def test_off_a_terminal_the_cli_waits_on_a_pipe_quietly(tmp_path):
    # As for all progress: a script's or a log's stderr gets the error line alone, or nothing.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    command = f"(sleep 2; printf 'the time machine by h g wells\\n' > {shlex.quote(str(fifo))}) & "
    command += f"{shlex.quote(sys.executable)} -m rnn_tui stats --corpus {shlex.quote(str(fifo))}"
    out = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stderr == ""
    assert "tokens" in out.stdout


@pytest.mark.parametrize("followed", [True, False])
def test_a_trainer_the_app_follows_writes_its_wait_in_its_log(
    tmp_path, monkeypatch, capsys, followed
):
    # The app shows a starting trainer's last log line: its own child says the wait there;
    # any other log (a script's) keeps the refusal's one line alone.
    from rnn_tui.cli import main
    from rnn_tui.runs.process import FOLLOWED_ENV

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    monkeypatch.setattr(files, "_waiting_notice", None)
    monkeypatch.setattr(files, "WAITING_NOTICE_S", 0.2)
    monkeypatch.setattr(files, "FIRST_DATA_S", 0.8)
    if followed:
        monkeypatch.setenv(FOLLOWED_ENV, "1")
    else:
        monkeypatch.delenv(FOLLOWED_ENV, raising=False)
    run = tmp_path / "run"
    assert main(["train", "--corpus", str(fifo), "--device", "cpu", "--run-dir", str(run)]) == 2
    lines = capsys.readouterr().err.splitlines()
    error = f"rnn-tui: error: no data from corpus file {fifo} within 0.8 s"
    wait = f"waiting for corpus file {fifo} to send data (at most 0.8 s)"
    assert [line.split(" (is")[0] for line in lines] == ([wait, error] if followed else [error])
    assert not run.exists()


def test_the_app_starts_its_trainers_as_followed(tmp_path):
    from rnn_tui.runs.process import FOLLOWED_ENV, TrainProcess

    code = f"import os; print(os.environ.get({FOLLOWED_ENV!r}))"
    child = TrainProcess([sys.executable, "-c", code], tmp_path / "run")
    child.start()
    deadline = time.monotonic() + 30
    while child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert child.log_message() == "1"


def test_a_fifo_read_stops_when_cancelled(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    stop = threading.Event()
    threading.Timer(0.3, stop.set).start()
    started = time.monotonic()
    with pytest.raises(FileProblem, match="stopped reading"):
        read_bytes(fifo, cancelled=stop.is_set)
    assert time.monotonic() - started < 3


def test_a_pipe_with_a_writer_is_read_to_the_end_and_capped(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    writer = subprocess.Popen(["sh", "-c", f"sleep 0.2; printf 'hello' > {shlex.quote(str(fifo))}"])
    assert read_bytes(fifo) == b"hello"
    writer.wait(5)
    endless = subprocess.Popen(["sh", "-c", f"cat /dev/zero > {shlex.quote(str(fifo))}"])
    try:
        with pytest.raises(FileProblem, match="larger than the"):
            read_bytes(fifo, limit=100_000)
    finally:
        endless.kill()
        endless.wait(5)


def test_process_substitution_works():
    script = (
        "import sys; from rnn_tui.files import read_bytes; "
        "sys.stdout.write(read_bytes(sys.argv[1]).decode())"
    )
    out = subprocess.run(
        ["bash", "-c", f"{shlex.quote(sys.executable)} -c '{script}' <(printf 'go .')"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "go ."


def test_the_limit_can_be_raised(monkeypatch):
    monkeypatch.delenv("RNN_TUI_MAX_FILE_MB", raising=False)
    assert default_limit() == 256 * 2**20
    set_default_limit(1024)
    assert default_limit() == 1024 * 2**20
    monkeypatch.setenv("RNN_TUI_MAX_FILE_MB", "nonsense")
    assert default_limit() == 256 * 2**20


@pytest.mark.parametrize(
    "typed",
    ["'{p}'", '"{p}"', "{q}", "file://{u}", " {p} "],
)
def test_a_dragged_path_is_read_unquoted(tmp_path, typed):
    # A file dragged into a terminal arrives quoted, shell-escaped or as a file:// URL: each
    # was "corpus file not found: '/…/my file.txt'" though the file was there.
    from urllib.parse import quote

    from rnn_tui.files import expanded

    path = tmp_path / "my file.txt"
    path.write_text("x")
    text = typed.format(p=path, q=str(path).replace(" ", "\\ "), u=quote(str(path)))
    assert expanded(text) == path
    # A name that exists as typed is read as typed, quotes and all.
    quoted = tmp_path / "'odd'"
    quoted.write_text("y")
    assert expanded(str(quoted)) == quoted
    assert expanded(str(tmp_path / "'none'")) == tmp_path / "'none'"
