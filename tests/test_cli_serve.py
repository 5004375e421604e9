"""`rnn-tui serve`: its refusals and its stop, without a browser (test_serve_browser has one)."""

from __future__ import annotations

import argparse
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing

import pytest

from rnn_tui.cli import main
from rnn_tui.cli.serve import app_command, is_loopback


def _lines(capsys) -> list[str]:
    return capsys.readouterr().err.strip().splitlines()


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "127.0.0.2", "localhost", "LOCALHOST", "::1", "[::1]"]
)
def test_loopback_addresses(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "gpu-box", "example.org"])
def test_other_addresses(host):
    assert not is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.0.0.5", "gpu-box"])
def test_another_address_needs_allow_remote(host, capsys, monkeypatch):
    from rnn_tui.tui import serve

    monkeypatch.setattr(serve, "check_address", lambda host, port: None)  # as if it were ours
    assert main(["serve", "--host", host]) == 2
    (line,) = _lines(capsys)
    assert line.startswith("rnn-tui: error: --host " + host) and "--allow-remote" in line
    assert "ssh -L 8000:localhost:8000" in line


@pytest.mark.parametrize(
    "argv",
    [
        ["--port", "0"],
        ["--port", "65536"],
        ["--port", "http"],
        ["--host", "bad host"],
        ["--host", ""],
    ],
)
def test_bad_options_are_one_line(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["serve", *argv])
    assert exc.value.code == 2
    (line,) = _lines(capsys)
    assert "serve: error: argument" in line


def test_a_port_in_use_is_one_line():
    with closing(socket.create_server(("127.0.0.1", 0))) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "rnn_tui", "serve", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    # Only the error: "serving the app on …" came first, though nothing was served.
    assert (
        done.stderr
        == f"rnn-tui: error: port {port} is in use on 127.0.0.1: pick another with --port\n"
    )


def test_an_address_that_cannot_be_listened_on_is_one_line(capsys, monkeypatch):
    # The warning and "serving the app on …" came first, though nothing was served.
    assert main(["serve", "--host", "10.255.255.1", "--allow-remote"]) == 2
    assert _lines(capsys) == [
        "rnn-tui: error: 10.255.255.1 is not an address of this machine (--host)"
    ]

    def unknown(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", unknown)  # no lookup leaves this machine
    assert main(["serve", "--host", "gpu-box", "--allow-remote"]) == 2
    assert _lines(capsys) == [
        "rnn-tui: error: cannot serve on gpu-box:8000: Name or service not known"
    ]
    # Without --allow-remote too: the name is the problem, not the remote access it would give.
    assert main(["serve", "--host", "gpu-box"]) == 2
    assert _lines(capsys) == [
        "rnn-tui: error: cannot serve on gpu-box:8000: Name or service not known"
    ]


def test_a_name_with_one_address_this_machine_lacks_still_serves(monkeypatch):
    # "localhost" is ::1 and 127.0.0.1 on many systems, and ::1 is missing where IPv6 is off:
    # the server skips it and listens on the other, so the check before it must too.
    from rnn_tui.tui.serve import ServeError, check_address

    with closing(socket.create_server(("127.0.0.1", 0))) as free:
        port = free.getsockname()[1]
    lacking = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.255.255.1", port))
    here = (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [lacking, here])
    check_address("localhost", port)
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: [lacking])
    with pytest.raises(ServeError, match="localhost is not an address of this machine"):
        check_address("localhost", port)


def test_the_tab_command_is_this_python_with_the_colour_choice():
    assert app_command(argparse.Namespace(color="auto")).endswith("-m rnn_tui")
    assert app_command(argparse.Namespace(color="256")).endswith("-m rnn_tui --color 256")


def test_sigterm_stops_the_server_cleanly():
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "rnn_tui", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    # Reading stderr of a server still running would wait on it for good.
                    server.kill()
                    pytest.fail(f"the server never listened: {server.communicate()[1]}")
                time.sleep(0.1)
        server.send_signal(signal.SIGTERM)
        assert server.wait(15) == 0
        err = server.stderr.read()
        assert f"serving the app on http://127.0.0.1:{port}" in err and "Traceback" not in err
    finally:
        if server.poll() is None:
            server.kill()
