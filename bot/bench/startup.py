"""`citizen-bot bench startup`: launch to first answer, and memory, of `serve` against a bare aiohttp
process started the same way (its floor: the interpreter, aiohttp and a socket).

Each run is a fresh process on a free loopback port with the embedded Redis under its own data
directory; "cold" is a new data directory (the knowledge is written to Redis, nothing is cached on
disk), "warm" starts again on the same directory, as a restarted or added worker does."""
from __future__ import annotations

import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.bench.measure import rss_mb

BARE = """
import sys
from aiohttp import web
async def chat(request):
    return web.json_response({"text": "ok", "kind": "answer"})
app = web.Application(); app.router.add_post("/api/chat", chat)
web.run_app(app, host="127.0.0.1", port=int(sys.argv[sys.argv.index("--port") + 1]), print=None)
"""
QUESTION = {"user_id": "bench-startup", "text": "平泉公交基础票价是多少"}
DEADLINE = 120.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answered(port: int) -> bool:
    """Whether the server on `port` answers the benchmark's question rightly."""
    body = json.dumps(QUESTION).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/chat", data=body,
                                     headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=2) as response:
            return response.status == 200 and json.load(response).get("kind") == "answer"
    except OSError:
        return False


@contextmanager
def serving(command: list[str], env: dict[str, str]) -> Iterator[tuple[int, subprocess.Popen, float]]:
    """`command --port N` on a free port, from exec until its first right answer; within the block
    (the port, the process, the seconds it took to answer); stopped after it."""
    port = free_port()
    started = time.perf_counter()
    process = subprocess.Popen([*command, "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    try:
        while not answered(port):
            if process.poll() is not None or time.perf_counter() - started > DEADLINE:
                raise RuntimeError(f"{command[:4]} exited or never answered")
            time.sleep(0.02)
        yield port, process, time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(30)


def launch(command: list[str], env: dict[str, str]) -> dict:
    """Seconds from exec to the first right answer, and the process's RSS then."""
    with serving(command, env) as (_, process, ready):
        return {"ready_s": round(ready, 3), "rss_mb": round(rss_mb(process.pid), 1)}


def run(root: Path, repeats: int = 3) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "REDIS_URL"))}
    env.update(KNOWLEDGE_ROOT=str(root), PYTHONUNBUFFERED="1")
    rows = {"bare": [], "cold": [], "warm": []}
    for _ in range(repeats):
        rows["bare"].append(launch([sys.executable, "-c", BARE], env))
        with tempfile.TemporaryDirectory() as data:
            for kind in ("cold", "warm"):
                rows[kind].append(launch([sys.executable, "-m", "bot", "serve", "--workers", "1", "--host",
                                          "127.0.0.1"], env | {"DATA_DIR": data}))
    return {kind: {"ready_s": statistics.median(r["ready_s"] for r in runs),
                   "rss_mb": statistics.median(r["rss_mb"] for r in runs)} for kind, runs in rows.items()}


def report(result: dict) -> str:
    bare = result["bare"]
    lines = ["| process | ready (median) | × bare | RSS |", "|---|---|---|---|"]
    for kind, r in result.items():
        lines.append(f"| {kind} | {r['ready_s']} s | {r['ready_s'] / bare['ready_s']:.1f}× | {r['rss_mb']} MB |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.cwd(), 1)))
