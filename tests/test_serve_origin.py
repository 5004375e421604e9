"""`rnn-tui serve` keeps other web sites out: a request for another host name (DNS rebinding)
and a websocket opened by another origin's page (cross-site hijacking) are refused, and so is a
tab past --max-sessions. The tabs' apps are stand-ins here: what is checked is the server."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer

from rnn_tui.tui import serve


class _App:
    """An app process that starts and stops at once (a real one is a few hundred MB)."""

    started = 0

    def __init__(self, *args, **kwargs) -> None:
        pass

    async def start(self, width: int, height: int) -> None:
        _App.started += 1

    async def stop(self) -> None:
        pass


@pytest.fixture
def client_for(monkeypatch):
    import textual_serve.server

    monkeypatch.setattr(textual_serve.server, "AppService", _App)
    _App.started = 0

    async def make(**kwargs) -> TestClient:
        server = serve.AppServer("true", kwargs.pop("host", "127.0.0.1"), 8000, **kwargs)
        client = TestClient(TestServer(await server._make_app()))
        await client.start_server()
        return client

    return make


def _local(client: TestClient) -> str:
    return f"127.0.0.1:{client.port}"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "gpu-box.example:80"])
async def test_a_page_for_another_host_name_is_refused(client_for, host):
    client = await client_for()
    try:
        for path in ("/", "/ws", "/static/js/textual.js"):
            response = await client.get(path, headers={"Host": host})
            assert response.status == 421
            assert "only this machine's names" in await response.text()
    finally:
        await client.close()


@pytest.mark.parametrize("host", ["localhost:9000", "127.0.0.1", "[::1]:8000", "LOCALHOST:1"])
async def test_this_machine_is_served_on_any_port(client_for, host):
    client = await client_for()
    try:
        response = await client.get("/", headers={"Host": host})
        assert response.status == 200
        # The page connects back through the address it was loaded from.
        assert f'data-session-websocket-url="ws://{host}/ws"' in await response.text()
    finally:
        await client.close()


async def test_allow_remote_serves_any_host_name(client_for):
    client = await client_for(host="0.0.0.0", allow_remote=True)
    try:
        response = await client.get("/", headers={"Host": "gpu-box:8000"})
        assert response.status == 200
    finally:
        await client.close()


@pytest.mark.parametrize("allow_remote", [False, True])
@pytest.mark.parametrize(
    "origin",
    ["http://evil.example", "null", "", "http://127.0.0.1:1", "http://localhost:1", "file://HOST"],
)
async def test_a_websocket_from_another_origin_is_refused(client_for, allow_remote, origin):
    client = await client_for(allow_remote=allow_remote)
    try:
        headers = {"Host": _local(client)}
        if origin:
            headers["Origin"] = origin.replace("HOST", _local(client))
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/ws", headers=headers)
        assert refused.value.status == 403
        assert _App.started == 0
    finally:
        await client.close()


async def test_the_rebinding_case_is_refused_even_with_a_matching_origin(client_for):
    client = await client_for()
    try:
        headers = {"Origin": "http://evil.example", "Host": "evil.example"}
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/ws", headers=headers)
        assert refused.value.status == 421 and _App.started == 0
    finally:
        await client.close()


async def test_the_servers_own_page_opens_a_tab_and_tabs_are_capped(client_for):
    client = await client_for(max_sessions=2)
    try:
        own = {"Host": _local(client), "Origin": f"http://{_local(client)}"}
        first = await client.ws_connect("/ws", headers=own)
        second = await client.ws_connect("/ws", headers=own)
        assert _App.started == 2
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await client.ws_connect("/ws", headers=own)
        assert refused.value.status == 503
        page = await client.get("/", headers={"Host": _local(client)})
        assert page.status == 503
        assert "--max-sessions 2" in await page.text()
        await first.close()
        for _ in range(100):  # the server sees the close, and the tab is free again
            if (await client.get("/", headers={"Host": _local(client)})).status == 200:
                break
            await asyncio.sleep(0.02)
        third = await client.ws_connect("/ws", headers=own)
        assert _App.started == 3
        await second.close()
        await third.close()
    finally:
        await client.close()


def test_a_refusal_line_shows_no_control_characters():
    # The lines go to the server's terminal: an escape sequence in a header must not reach it.
    server = serve.AppServer("true", "127.0.0.1", 8000)
    assert "\x1b" not in server.host_refusal("evil\x1b[2J.example")

    class Request:
        headers = {"Origin": "http://evil\x1b[2J.example", "Host": "127.0.0.1:8000\x1b[2J"}

    line = server.origin_refusal(Request())
    assert line and "\x1b" not in line
