"""The app served to browsers (textual-serve): every tab runs its own `rnn-tui` app process.

Three changes to textual-serve's server: the page's websocket address is taken from the address
the browser asked for (so `ssh -L 9000:localhost:8000` works, not only the same port on both
ends); stopping the server closes the open tabs, whose apps then quit (aiohttp would otherwise
wait a minute for their websockets); and the server's banner gives way to the command's line.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from typing import Any

from aiohttp import web
from textual_serve.server import Server


class ServeError(Exception):
    """The server could not start (port taken, address unknown): one line for the user."""


class AppServer(Server):
    """textual-serve's server, addressed by whatever URL the browser used."""

    def __init__(self, command: str, host: str, port: int) -> None:
        super().__init__(command, host=host, port=port, title="rnn-tui")
        self._tabs: set[asyncio.Task] = set()

    def initialize_logging(self) -> None:
        # Plain lines (a tab's app starting or closing), not tracebacks with their locals.
        logging.basicConfig(level="INFO", format="rnn-tui serve: %(message)s")

    async def on_startup(self, app: web.Application) -> None:
        """No banner: the command has said where it serves."""

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
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
        self.public_url = f"{request.scheme}://{request.host}"
        return await super().handle_index(request)


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


def serve(command: str, host: str, port: int) -> None:
    """Serve `command` (the app) on host:port until interrupted; ServeError if it cannot."""
    try:
        AppServer(command, host, port).serve()
    except OSError as exc:
        raise _serve_error(exc, host, port) from None


def _serve_error(exc: OSError, host: str, port: int) -> ServeError:
    if exc.errno == errno.EADDRINUSE:
        return ServeError(f"port {port} is in use on {host}: pick another with --port")
    if exc.errno == errno.EADDRNOTAVAIL:
        return ServeError(f"{host} is not an address of this machine (--host)")
    return ServeError(f"cannot serve on {host}:{port}: {exc.strerror or exc}")


__all__ = ["AppServer", "ServeError", "check_address", "serve"]
