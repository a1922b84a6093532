"""`citizen-bot serve --workers N`: a supervisor process and N worker processes serving one port.

The supervisor binds the port and the workers inherit the listening socket, rather than each worker
binding its own with SO_REUSEPORT, because:
- the port is bound once, before any worker starts: a port in use or a bad --host fails at once, here;
- all workers accept from one queue, so connections waiting in the backlog of a worker that dies are
  taken by the others (with SO_REUSEPORT each socket has a queue of its own, and what waits in a closed
  one is reset), and a replacement worker serves at once, without binding anything;
- `--port 0` means one port for all of them.
The cost: the kernel balances accepts less evenly than SO_REUSEPORT's hashing; each worker's connection
cap still bounds what one can take.

The supervisor serves no requests. It starts the embedded redis-server when no Redis is configured (once; the
workers are its clients), starts the workers, replaces one that dies (waiting longer after each quick
death, so a crash loop does not spin), and on SIGTERM or SIGINT asks every worker to drain (each finishes
its requests and late WeChat replies), waits for them, and stops the embedded server last.
"""
from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from contextlib import asynccontextmanager, suppress

from bot.settings import Settings
from bot.state.embedded import EmbeddedRedis

log = logging.getLogger(__name__)
BACKLOG = 1024
FIRST_DELAY = 0.5       # seconds before a dead worker is replaced ...
MAX_DELAY = 30.0        # ... doubling after each quick death, up to this
STABLE_AFTER = 30.0     # a worker that lived this long died of something new: the wait starts over
DRAIN_TIMEOUT = 60.0    # seconds the workers get to drain before they are killed


def default_workers() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    return len(os.sched_getaffinity(0))


def listen(host: str, port: int) -> socket.socket:
    family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
    sock = socket.create_server((host, port), family=family, backlog=BACKLOG)
    sock.set_inheritable(True)
    return sock


class Backoff:
    """The wait before replacing a worker that lived `lived` seconds."""

    def __init__(self):
        self.delay = 0.0

    def after(self, lived: float) -> float:
        self.delay = FIRST_DELAY if lived >= STABLE_AFTER else min(max(self.delay * 2, FIRST_DELAY), MAX_DELAY)
        return self.delay


class Supervisor:
    def __init__(self, settings: Settings, sock: socket.socket, workers: int, worker_args: list[str]):
        self.settings, self.sock, self.workers = settings, sock, workers
        self.command = [sys.executable, "-m", "bot", *worker_args, "--listen-fd", str(sock.fileno())]
        self.procs: dict[int, asyncio.subprocess.Process] = {}
        self.stopping = asyncio.Event()

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stopping.set)
        async with worker_env(self.settings) as env:
            slots = [asyncio.ensure_future(self._keep(slot, env)) for slot in range(self.workers)]
            await self.stopping.wait()
            log.info("supervisor: draining %d workers", len(self.procs))
            self.sock.close()                  # the workers' copies stay open until each has drained
            self._signal_all(signal.SIGTERM)
            _, late = await asyncio.wait(slots, timeout=DRAIN_TIMEOUT)
            if late:
                log.warning("supervisor: %d workers still draining after %.0fs: killing them", len(late), DRAIN_TIMEOUT)
                self._signal_all(signal.SIGKILL)
                await asyncio.wait(late)
        return 0

    async def _keep(self, slot: int, env: dict[str, str]) -> None:
        """Run one worker, and a new one whenever it dies, until the supervisor stops."""
        backoff = Backoff()
        while not self.stopping.is_set():
            started = time.monotonic()
            proc = await asyncio.create_subprocess_exec(*self.command, env=env, stdin=subprocess.DEVNULL,
                                                        pass_fds=(self.sock.fileno(),))
            self.procs[slot] = proc
            if self.stopping.is_set():         # SIGTERM arrived while it was being started
                proc.send_signal(signal.SIGTERM)
            code = await proc.wait()
            if self.stopping.is_set():
                return
            delay = backoff.after(time.monotonic() - started)
            log.warning("supervisor: worker %d (pid %d) exited with %s; replacing it in %.1fs",
                        slot, proc.pid, code, delay)
            with suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), delay)

    def _signal_all(self, sig: int) -> None:
        for proc in self.procs.values():
            if proc.returncode is None:
                with suppress(ProcessLookupError):
                    proc.send_signal(sig)


@asynccontextmanager
async def worker_env(settings: Settings):
    """The workers' environment: with REDIS_URL unset, the embedded server started here once and named
    to them as their REDIS_URL, so it outlives any one worker and is stopped only after all of them.
    One log-hashing secret for all, so a citizen's hashed id is the same in every worker's logs."""
    env = dict(os.environ)
    if not env.get("LOG_HASH_SECRET"):
        env["LOG_HASH_SECRET"] = secrets.token_hex(32)
    if not settings.embedded_redis:
        yield env
        return
    embedded = EmbeddedRedis(settings.data_dir)
    client = await embedded.start()
    embedded.supervise(client)
    try:
        yield env | {"REDIS_URL": f"unix://{embedded.socket}"}
    finally:
        await embedded.stop(client)
        await client.aclose()


def run(settings: Settings, sock: socket.socket, workers: int, worker_args: list[str]) -> int:
    return asyncio.run(Supervisor(settings, sock, workers, worker_args).run())
