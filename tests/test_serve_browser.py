"""`rnn-tui serve` end to end in a real headless Chromium, driven by Playwright.

The page's terminal draws on a canvas, so what it shows is read from the bytes its websocket
receives, replayed through a terminal emulator (pyte) at the size the page asked for; the page's
own "-first-byte" class says xterm.js wrote them. The page is opened through a TCP forwarder on
another port, as `ssh -L 9000:localhost:8000` would reach it, so the websocket address must
follow the address the browser used.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from contextlib import closing
from urllib.parse import parse_qs, urlparse

import pytest

CHROMIUM = next(
    (p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None
)
sync_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]' (playwright)")
pyte = pytest.importorskip("pyte", reason="pip install -e '.[dev]' (pyte)")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="no Chromium on PATH (Debian: apt-get install chromium; .ci/run does)"
)


def _free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _descendants(pid: int) -> set[int]:
    """The processes started under `pid` (from /proc): the tabs' app processes."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    """Whether `pid` runs (a zombie has finished)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"rnn-tui serve exited: {process.stdout.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on port {port} after {timeout} s")


class Forwarder:
    """Port `listen` → port `target` on this machine, as `ssh -L` forwards one."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self) -> None:
        self.server.close()


class PageTerminal:
    """What the page's terminal shows: its websocket's bytes through a terminal emulator."""

    def __init__(self, page) -> None:
        self.page = page
        self.screen: pyte.Screen | None = None
        self.stream: pyte.ByteStream | None = None
        self.urls: list[str] = []
        page.on("websocket", self._opened)

    def _opened(self, ws) -> None:
        self.urls.append(ws.url)
        query = parse_qs(urlparse(ws.url).query)
        self.screen = pyte.Screen(int(query["width"][0]), int(query["height"][0]))
        self.stream = pyte.ByteStream(self.screen)
        ws.on("framereceived", self._frame)

    def _frame(self, payload) -> None:
        # Text frames are the server's JSON (pings, meta); binary ones the app's output.
        if isinstance(payload, bytes):
            self.stream.feed(payload)

    def text(self) -> str:
        return "\n".join(self.screen.display) if self.screen else ""

    def wait_for(self, pattern: str, timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if re.search(pattern, self.text()):
                return self.text()
            self.page.wait_for_timeout(200)
        raise AssertionError(f"the page never showed {pattern!r}; it shows:\n{self.text()}")


@pytest.fixture
def served(tmp_path):
    port = _free_port()
    env = {**os.environ, "RNN_TUI_RUNS": str(tmp_path / "runs")}
    process = subprocess.Popen(
        [sys.executable, "-m", "rnn_tui", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        _wait_for_port(port, process)
        yield port, process
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_app_in_a_browser_through_a_forwarded_port(served, tmp_path):
    port, process = served
    forwarder = Forwarder(port)
    try:
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-dev-shm-usage"]
            )
            try:
                page = browser.new_page(viewport={"width": 1280, "height": 800})
                terminal = PageTerminal(page)
                page.goto(f"http://127.0.0.1:{forwarder.port}/", timeout=30_000)
                assert "rnn-tui" in page.content()  # the page's start panel names the app

                # The Dataset screen with the seeds' word vocabulary of The Time Machine.
                # (Each waits: the table's rows are painted after the summary line.)
                terminal.wait_for(r"rnn-tui — Dataset")
                terminal.wait_for(r"vocabulary 4,580")
                terminal.wait_for(r"0\s+<unk>\s+0")
                terminal.wait_for(r"1\s+the\s+2,261")
                # The websocket went through the forwarded port, not the server's own.
                assert terminal.urls and f":{forwarder.port}/ws" in terminal.urls[0]
                # xterm.js in the page wrote what arrived.
                assert "-first-byte" in page.evaluate("document.body.className")

                # Key presses reach the app: 2 switches to Train, F4 (anywhere) to Generate.
                page.click(".textual-terminal")
                page.keyboard.press("2")
                terminal.wait_for(r"rnn-tui — Train")
                terminal.wait_for(r"task\s+language model")
                page.keyboard.press("F4")
                terminal.wait_for(r"rnn-tui — Generate")
                page.screenshot(path=str(tmp_path / "generate.png"))

                # Stopping the server with the tab still open closes it and ends its app.
                apps = _descendants(process.pid)
                assert apps, "no app process was started for the tab"
                assert process.poll() is None, "the server stopped while a tab was open"
                process.terminate()
                assert process.wait(20) == 0
                deadline = time.monotonic() + 10
                while any(map(_alive, apps)) and time.monotonic() < deadline:
                    time.sleep(0.1)
                assert not any(map(_alive, apps)), "a tab's app outlived the server"
            finally:
                browser.close()
    finally:
        forwarder.close()
