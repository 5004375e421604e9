"""The app served to browsers (textual-serve): every tab runs its own `rnn-tui` app process.

Changes to textual-serve's server: the page's websocket address is taken from the address the
browser asked for (so `ssh -L 9000:localhost:8000` works, not only the same port on both ends);
stopping the server closes the open tabs, whose apps then quit (aiohttp would otherwise wait a
minute for their websockets); the server's banner gives way to the command's line; and, since
whoever drives a tab can train and open files by path, other web sites are kept out: a request
for a host name other than this machine's is refused (DNS rebinding) unless remote access was
asked for, a websocket opened by a page of another origin is refused (cross-site websocket
hijacking), and the number of open tabs (an app process each) is capped.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import logging
import socket
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from textual_serve.server import Server

from rnn_tui.quoting import plain


class ServeError(Exception):
    """The server could not start (port taken, address unknown): one line for the user."""


log = logging.getLogger("rnn-tui serve")

_DEFAULT_PORTS = {"http": 80, "https": 443}


class AppServer(Server):
    """textual-serve's server, addressed by whatever URL the browser used on this machine."""

    def __init__(
        self,
        command: str,
        host: str,
        port: int,
        *,
        allow_remote: bool = False,
        max_sessions: int = 8,
    ) -> None:
        super().__init__(command, host=host, port=port, title="rnn-tui")
        self.allow_remote = allow_remote
        self.max_sessions = max_sessions
        self._tabs: set[asyncio.Task] = set()

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()

        @web.middleware
        async def check_host(request: web.Request, handler):
            refusal = self.host_refusal(request.headers.get("Host", ""))
            if refusal:
                log.warning(refusal)
                # 421: this server does not answer for that name (a rebound DNS name's page).
                return web.Response(status=421, text=refusal + "\n")
            return await handler(request)

        app.middlewares.append(check_host)
        return app

    def host_refusal(self, host: str) -> str:
        """Why a request for `host` (its Host header) is refused, or "". Without remote access
        only this machine's names are answered: a page of another site whose name was made to
        resolve here (DNS rebinding) asks for its own name. The port is not checked: a
        forwarded port (ssh -L 9000:localhost:8000) reaches the server with its own."""
        name = _host_name(host)
        if name is None:
            return f"refused a request for host {plain(host)!r}: not a host name"
        if self.allow_remote or _is_local_name(name) or name == self.host.strip("[]").lower():
            return ""
        return (
            f"refused a request for host {plain(name)}: only this machine's names are served "
            "(localhost, 127.0.0.1, [::1]) unless the server was started with --allow-remote"
        )

    def origin_refusal(self, request: web.Request) -> str:
        """Why a websocket (a tab's app) is refused to `request`'s page, or "": only a page this
        server gave out, whose origin is the address the socket was asked of, may open one;
        browsers send the Origin of the page that opens it, which another site cannot forge."""
        origin = request.headers.get("Origin", "")
        host = request.headers.get("Host", "")
        address = _origin_address(origin)
        if address is None or address != _host_address(host, urlsplit(origin).scheme):
            # Said on the server's terminal: a header's control characters must not reach it.
            return (
                f"refused a tab opened by a page of origin {plain(origin) or 'none'}: not this "
                f"server's page ({plain(host) or 'no host'})"
            )
        return ""

    def sessions_refusal(self) -> str:
        """Why another tab is refused, or "": each runs an app process of its own."""
        if len(self._tabs) < self.max_sessions:
            return ""
        n = self.max_sessions
        return (
            f"this server runs at most {n} tab{'s' if n != 1 else ''} at once (--max-sessions "
            f"{n}) and that many are open: close one and reload this page"
        )

    def initialize_logging(self) -> None:
        # Plain lines (a tab's app starting or closing), not tracebacks with their locals.
        logging.basicConfig(level="INFO", format="rnn-tui serve: %(message)s")

    async def on_startup(self, app: web.Application) -> None:
        """No banner: the command has said where it serves."""

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        refusal = self.origin_refusal(request)
        if refusal:
            log.warning(refusal)
            raise web.HTTPForbidden(text=refusal + "\n")
        refusal = self.sessions_refusal()
        if refusal:
            log.warning(refusal)
            raise web.HTTPServiceUnavailable(text=refusal + "\n")
        # One task per open tab, so that stopping the server can close them.
        task = asyncio.current_task()
        self._tabs.add(task)
        try:
            return await super().handle_websocket(request)
        finally:
            self._tabs.discard(task)

    async def on_shutdown(self, app: web.Application) -> None:
        """Close every tab: its handler closes the websocket and tells its app to quit."""
        tabs = list(self._tabs)
        for task in tabs:
            task.cancel()
        await asyncio.gather(*tabs, return_exceptions=True)

    async def handle_index(self, request: web.Request) -> Any:
        # The page builds its websocket URL from public_url: make it the one this request
        # reached, so a forwarded port or a host name other than --host still connects.
        refusal = self.sessions_refusal()
        if refusal:
            # Said on the page: its socket would be refused with no word in the browser.
            raise web.HTTPServiceUnavailable(text=f"rnn-tui serve: {refusal}\n")
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)


def _host_name(host: str) -> str | None:
    """The name in a Host header ("localhost:8000", "[::1]:8000"), lower case; None if it is
    none (missing, or a port that is not a number)."""
    try:
        parts = urlsplit("//" + host)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError:
        return None
    return parts.hostname or None


def _origin_address(origin: str) -> tuple[str, int] | None:
    """(name, port) of an http(s) Origin header; None for "null", none or anything else."""
    try:
        parts = urlsplit(origin)
        if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        return parts.hostname, parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        return None


def _host_address(host: str, scheme: str) -> tuple[str, int] | None:
    """(name, port) of a Host header, its port the scheme's when it has none."""
    try:
        parts = urlsplit("//" + host)
        if not parts.hostname:
            return None
        return parts.hostname, parts.port or _DEFAULT_PORTS.get(scheme, 80)
    except ValueError:
        return None


def _is_local_name(name: str) -> bool:
    # As rnn_tui.cli.serve.is_loopback (the CLI may not be imported from here): a loopback IP
    # cannot be rebound to another machine, nor can "localhost" in browsers.
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_address(host: str, port: int) -> None:
    """ServeError (one line) unless host:port can be listened on now, so that the command says
    where it serves only when it can (a taken port printed "serving the app on …" above its
    error). Each address the host resolves to is bound as the server will bind it (asyncio's
    create_server: an address whose family is not enabled, EADDRNOTAVAIL, is skipped while
    another binds), then released; a port taken in between is the server's error then."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        raise ServeError(
            f"cannot serve on {host}:{port}: {getattr(exc, 'strerror', exc)}"
        ) from None
    bound, unavailable = 0, None
    for family, kind, proto, _, address in infos:
        try:
            probe = socket.socket(family, kind, proto)
        except OSError:
            continue  # a family this system does not have
        with probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                probe.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            try:
                probe.bind(address)
            except OSError as exc:
                if exc.errno != errno.EADDRNOTAVAIL:
                    raise _serve_error(exc, host, port) from None
                unavailable = exc
                continue
            bound += 1
    if not bound:
        if unavailable is not None:
            raise _serve_error(unavailable, host, port)
        raise ServeError(f"cannot serve on {host}:{port}: no address to listen on")


def serve(
    command: str, host: str, port: int, *, allow_remote: bool = False, max_sessions: int = 8
) -> None:
    """Serve `command` (the app) on host:port until interrupted; ServeError if it cannot."""
    try:
        AppServer(command, host, port, allow_remote=allow_remote, max_sessions=max_sessions).serve()
    except OSError as exc:
        raise _serve_error(exc, host, port) from None


def _serve_error(exc: OSError, host: str, port: int) -> ServeError:
    if exc.errno == errno.EADDRINUSE:
        return ServeError(f"port {port} is in use on {host}: pick another with --port")
    if exc.errno == errno.EADDRNOTAVAIL:
        return ServeError(f"{host} is not an address of this machine (--host)")
    return ServeError(f"cannot serve on {host}:{port}: {exc.strerror or exc}")


__all__ = ["AppServer", "ServeError", "check_address", "serve"]
