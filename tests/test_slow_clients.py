"""Slow and hoarding clients, with raw sockets against a real `serve` process: slow headers and slow bodies
are cut after their timeouts, and connections past the per-process cap are closed at once."""
from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from .served import Served

HEADER, BODY, CAP = 1, 1, 20


@pytest.fixture(scope="module")
async def served(redis_server, tmp_path_factory):
    env = {"HEADER_TIMEOUT": str(HEADER), "BODY_TIMEOUT": str(BODY), "MAX_CONNECTIONS": str(CAP)}
    server = Served(redis_server.url, tmp_path_factory.mktemp("slow") / "serve.log", env=env)
    try:
        await server.wait_ready()
        yield server
    finally:
        server.stop()


async def open_socket(served):
    return await asyncio.open_connection("127.0.0.1", served.port)


async def closed_within(reader, seconds: float) -> tuple[bool, bytes]:
    """(True, what came before EOF) if the server closed the connection within `seconds`."""
    got = b""
    try:
        async with asyncio.timeout(seconds):
            while chunk := await reader.read(4096):
                got += chunk
        return True, got
    except TimeoutError:
        return False, got
    except ConnectionResetError:
        return True, got


async def test_slow_headers_are_cut_after_the_header_timeout(served):
    reader, writer = await open_socket(served)
    started = time.monotonic()
    writer.write(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
    for _ in range(12):                       # one header byte every 0.25 s: never finishes
        if reader.at_eof():
            break
        writer.write(b"X")
        await asyncio.sleep(0.25)
    closed, _ = await closed_within(reader, HEADER + 2)
    assert closed and time.monotonic() - started < HEADER + 3
    writer.close()


async def test_a_silent_connection_is_cut_after_the_header_timeout(served):
    reader, writer = await open_socket(served)
    closed, _ = await closed_within(reader, HEADER + 2)
    assert closed
    writer.close()


async def test_slow_body_is_cut_after_the_body_timeout(served, redis):
    reader, writer = await open_socket(served)
    writer.write(b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 b"Content-Length: 200\r\n\r\n{\"user_id\": \"slow\", ")
    started = time.monotonic()
    closed, _ = await closed_within(reader, BODY + 2)
    assert closed and time.monotonic() - started < BODY + 2
    assert await redis.keys("*slow*") == []                        # nothing was processed
    writer.close()


async def test_connections_past_the_cap_are_closed_and_service_resumes(served):
    sockets = [await open_socket(served) for _ in range(CAP + 15)]
    closed = await asyncio.gather(*(closed_within(r, 0.5) for r, _ in sockets))
    kept = sum(1 for c, _ in closed if not c)
    assert kept <= CAP
    await asyncio.sleep(HEADER + 1)              # the hoarded ones time out; the slots come back
    async with aiohttp.ClientSession() as http:
        async with http.get(served.url + "/healthz") as resp:
            assert resp.status == 200
    for _, w in sockets:
        w.close()
