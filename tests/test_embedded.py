"""The embedded redis-server under real `serve` processes: owner-only files, restarted when it dies, shut
down when the last bot process stops (and not before, however busy the pool was)."""
from __future__ import annotations

import asyncio
import os
import signal
import stat

import aiohttp
import pytest
from redis.asyncio import Redis

from .faults import chat_question
from .served import Served


async def server_pid(data_dir) -> int | None:
    client = Redis(unix_socket_path=str(data_dir / "redis.sock"), socket_timeout=0.5, socket_connect_timeout=0.5)
    try:
        return int((await client.info("server"))["process_id"])
    except Exception:  # noqa: BLE001  not running
        return None
    finally:
        await client.aclose()


async def eventually(check, seconds: float = 10.0):
    for _ in range(int(seconds / 0.1)):
        if await check():
            return True
        await asyncio.sleep(0.1)
    return False


async def busy(url: str, n: int = 12) -> None:
    """Concurrent traffic: the process's pool holds many connections at once."""
    async with aiohttp.ClientSession() as http:
        outcomes = await asyncio.gather(*(chat_question(http, url, f"busy-{i}") for i in range(n)))
    assert all(o.how == "passive" for o in outcomes), outcomes


@pytest.fixture
async def two_embedded(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    started = [Served(None, data / f"serve-{name}.log") for name in "ab"]
    try:
        await started[0].wait_ready()
        await started[1].wait_ready()
        yield data, started
    finally:
        for s in started:
            s.stop()


async def test_embedded_redis_is_owner_only_restarted_when_killed_and_stopped_by_the_last_process(two_embedded):
    data, (a, b) = two_embedded
    await busy(a.url)
    await busy(b.url)
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700
    files = [p for p in data.rglob("*") if p.is_file() and not p.name.endswith(".log") or p.name == "redis.log"]
    assert files and all(stat.S_IMODE(p.stat().st_mode) & 0o077 == 0 for p in files), \
        [(p.name, oct(p.stat().st_mode)) for p in files]

    pid = await server_pid(data)
    os.kill(pid, signal.SIGKILL)                                   # Redis dies under the bots
    assert await eventually(lambda: _restarted(data, pid), 10.0)
    await busy(a.url)

    a.stop()                                                       # b still uses it: left running
    assert await server_pid(data) is not None
    b.process.send_signal(signal.SIGTERM)                          # the last one: shut down, data saved
    b.process.wait(15)

    async def gone():
        return await server_pid(data) is None
    assert await eventually(gone, 10.0)


async def _restarted(data, old_pid: int) -> bool:
    pid = await server_pid(data)
    return pid is not None and pid != old_pid
