"""A real `python -m bot serve` subprocess on a free loopback port, for the multi-process tests."""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from bot.settings import ROOT

from .redis_server import free_port

START_TIMEOUT = 60.0


class Served:
    """`url` is the server's root; its output goes to `log`. WECHAT_* from the caller's environment are
    dropped so each test says exactly which channels the process serves (`env`)."""

    def __init__(self, redis_url: str | None, log: Path, env: dict[str, str] | None = None, workers: int = 1):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("WECHAT_")}
        full_env.pop("REDIS_URL", None)           # None: the embedded redis-server under DATA_DIR
        full_env.update(DATA_DIR=str(log.parent), PYTHONUNBUFFERED="1", **(env or {}))
        if redis_url:
            full_env["REDIS_URL"] = redis_url
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                 "--workers", str(workers)],
                cwd=ROOT, env=full_env, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)

    @property
    def wechat(self) -> str:
        return self.url + "/wechat"

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        async with aiohttp.ClientSession() as http:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise RuntimeError(f"serve exited with {self.process.returncode}:\n{self.log.read_text()}")
                try:
                    async with http.get(self.url + "/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"serve did not answer /healthz in {START_TIMEOUT}s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
