"""Serving the app on a TCP port with limits on what one client can hold: a deadline for a request's
headers (aiohttp's idle timer runs from the moment a connection opens until its request has arrived)
and, in `guard.read_deadline`, for its body; and a cap on open connections per process, past which a
new connection is closed at once instead of taking a file descriptor the process needs."""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import signal

from aiohttp import web

log = logging.getLogger(__name__)
M_ARENA_MAX = -8        # glibc's mallopt parameter


def cap_connections(server: web.Server, cap: int) -> None:
    """Close connections past `cap` as they are accepted (the server's own list tracks them)."""
    accept = server.connection_made

    def connection_made(handler, transport) -> None:
        accept(handler, transport)
        if len(server.connections) > cap:
            log.warning("connection cap %d reached: closing a new connection from %s", cap,
                        transport.get_extra_info("peername"))
            transport.abort()
    server.connection_made = connection_made


async def serve(app: web.Application, host: str, port: int, header_timeout: float, max_connections: int) -> None:
    """Until SIGTERM or SIGINT; then the app's cleanup runs (late WeChat replies finish first)."""
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=header_timeout, handle_signals=False)
    await runner.setup()
    cap_connections(runner.server, max_connections)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    try:
        await web.TCPSite(runner, host, port, shutdown_timeout=10.0).start()
        await stop.wait()
    finally:
        await runner.cleanup()


def one_malloc_arena() -> None:
    """glibc gives each thread that allocates an arena of its own (the lanes' threads, asyncio.to_thread),
    and an arena keeps what it once held: about 5 MB of RSS here (docs/performance.md). Python threads
    allocate under the GIL, one at a time (C code without it rarely), so sharing one costs them next to
    no waiting. Not glibc: nothing."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(M_ARENA_MAX, 1)


def run(app: web.Application, host: str, port: int, header_timeout: float, max_connections: int) -> None:
    one_malloc_arena()
    asyncio.run(serve(app, host, port, header_timeout, max_connections))
