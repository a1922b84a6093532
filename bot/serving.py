"""Serving the app on a TCP port with limits on what one client can hold: a deadline for a request's
headers (aiohttp's idle timer runs from the moment a connection opens until its request has arrived)
and, in `guard.read_deadline`, for its body; and a cap on open connections per process, past which a
new connection is closed at once instead of taking a file descriptor the process needs.

One process binds the port itself (`serve --workers 1`); a worker of `bot/supervisor.py` serves a
listening socket it inherited instead, and names itself in an `X-Worker` header."""
from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket

from aiohttp import web

from bot import memory

log = logging.getLogger(__name__)
SHUTDOWN_TIMEOUT = 10.0     # seconds in-flight requests get to finish after SIGTERM
ORPHAN_CHECK = 1.0          # seconds between a worker's checks that its supervisor still lives


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


def name_worker(app: web.Application) -> None:
    """Every response says which worker process made it (nginx hides the header from the internet): how
    an operator, and the multi-worker test, see that the kernel spreads connections over the workers."""
    pid = str(os.getpid())

    async def stamp(request: web.Request, response: web.StreamResponse) -> None:
        response.headers["X-Worker"] = pid
    app.on_response_prepare.append(stamp)


async def serve(app: web.Application, host: str, port: int, header_timeout: float, max_connections: int,
                sock: socket.socket | None = None) -> None:
    """Until SIGTERM or SIGINT; then the app's cleanup runs (late WeChat replies finish first)."""
    runner = web.AppRunner(app, access_log=None, keepalive_timeout=header_timeout, handle_signals=False,
                           shutdown_timeout=SHUTDOWN_TIMEOUT)
    await runner.setup()
    cap_connections(runner.server, max_connections)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    watch = asyncio.ensure_future(_stop_if_orphaned(stop)) if sock is not None else None
    try:
        site = web.SockSite(runner, sock) if sock is not None else web.TCPSite(runner, host, port)
        await site.start()
        await stop.wait()
    finally:
        if watch:
            watch.cancel()
        await runner.cleanup()


async def _stop_if_orphaned(stop: asyncio.Event) -> None:
    """A worker whose supervisor died (SIGKILL, OOM) drains and exits rather than serve on unsupervised."""
    parent = os.getppid()
    while os.getppid() == parent:
        await asyncio.sleep(ORPHAN_CHECK)
    log.warning("supervisor %d is gone: draining", parent)
    stop.set()


def run(app: web.Application, host: str, port: int, header_timeout: float, max_connections: int,
        sock: socket.socket | None = None) -> None:
    memory.one_malloc_arena()
    asyncio.run(serve(app, host, port, header_timeout, max_connections, sock))
