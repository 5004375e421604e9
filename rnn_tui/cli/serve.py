"""`rnn-tui serve`: the app in a browser, one app process per tab (textual-serve).

Training already lives outside the app, in run directories, so tabs share runs safely: each tab's
app follows the same folders a terminal's would. The server binds to this machine alone unless
told otherwise (`--allow-remote`): whoever reaches the port runs the app, with no password, and
can train on this machine's CPUs and GPUs. Over SSH, forward the port instead:
`ssh -L 8000:localhost:8000 gpu-box`. Pages of other web sites are kept out in any case
(rnn_tui.tui.serve): a tab is only opened by the server's own page.
"""

from __future__ import annotations

import argparse
import ipaddress
import shlex
import sys

from rnn_tui.cli.output import fail, say, warn
from rnn_tui.options import Option

HOST = Option(
    "host",
    str,
    "127.0.0.1",
    "address to listen on (a name or IP; anything but this machine needs --allow-remote)",
    pattern=r"[A-Za-z0-9]([A-Za-z0-9.\-]{0,252})|[0-9A-Fa-f:.]{2,45}",
    choices=("127.0.0.1", "localhost", "::1", "0.0.0.0", "::"),
    metavar="ADDRESS",
    extra={"pattern_help": "a host name or IP address"},
)
PORT = Option("port", int, 8000, "TCP port to listen on", minimum=1, maximum=65535)
# Each tab runs an app process of its own (a few hundred MB): a tab past these is refused.
MAX_SESSIONS = Option(
    "max_sessions",
    int,
    8,
    "browser tabs open at once (each runs its own app)",
    minimum=1,
    maximum=64,
    metavar="N",
)
SERVE_OPTIONS = (HOST, PORT, MAX_SESSIONS)


def is_loopback(host: str) -> bool:
    """Whether `host` reaches this machine alone ("localhost", 127.x.x.x, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def app_command(args: argparse.Namespace) -> str:
    """The shell command each browser tab runs: this Python's rnn-tui app, with the colour
    choice of the server's own command line."""
    words = [sys.executable, "-m", "rnn_tui"]
    if getattr(args, "color", "auto") != "auto":
        words += ["--color", args.color]
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    host, port = args.host, args.port
    # Looked up and bound before anything is said: a port in use, or a name that does not
    # resolve, is its one line (not a warning about a remote address it cannot be).
    from rnn_tui.tui.serve import ServeError, check_address, serve

    try:
        check_address(host, port)
    except ServeError as exc:
        return fail(str(exc))
    if not is_loopback(host) and not args.allow_remote:
        return fail(
            f"--host {host} would let anyone who reaches port {port} run the app (and train "
            "on this machine) with no password; add --allow-remote if that is what you "
            f"want, or keep 127.0.0.1 and forward the port: ssh -L {port}:localhost:{port} HOST"
        )
    if not is_loopback(host):
        warn(
            f"serving on {host}:{port} with no password: anyone who reaches it runs the app "
            "and can train on this machine"
        )
    say(f"rnn-tui: serving the app on http://{_url_host(host)}:{port} (ctrl+c stops it)")
    try:
        serve(
            app_command(args),
            host,
            port,
            allow_remote=args.allow_remote,
            max_sessions=args.max_sessions,
        )
    except ServeError as exc:
        return fail(str(exc))
    except KeyboardInterrupt:
        pass
    return 0


def _url_host(host: str) -> str:
    if host in ("0.0.0.0", "::"):
        return "localhost"
    return f"[{host}]" if ":" in host else host


__all__ = ["SERVE_OPTIONS", "app_command", "is_loopback", "run"]
