"""POST /api/chat throughput with 1 and 2 (or --workers ...) workers: a bounded loopback load from wrk.

For each worker count, `citizen-bot serve --workers N` runs on the embedded redis-server in a throwaway
data directory; once every worker answers, wrk (Debian's `wrk`) sends one-turn questions from
tests/data/dev.yaml, each from a new user, over --connections connections for --seconds; then the
server is stopped (SIGTERM). Prints req/s, latency and non-2xx answers per run, and the ratio to the
first count. The load generator runs on the same cores as the server: the ratio understates what
another core per worker would give.

    .venv/bin/python scripts/bench_workers.py [--workers 1 2] [--seconds 15] [--connections 16] [--runs 2]
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
ROOMY = {"RATE_LIMIT_CHAT_ADDRESS": "100000000/60", "RATE_LIMIT_CHAT_USER": "1000/60"}
LUA = """
local questions = {%s}
local n = 0
request = function()
  n = n + 1
  local body = '{"user_id":"bench-' .. n .. '","text":"' .. questions[(n %% #questions) + 1] .. '"}'
  return wrk.format("POST", "/api/chat", {["Content-Type"] = "application/json"}, body)
end
"""


def questions() -> list[str]:
    cases = yaml.safe_load((ROOT / "tests" / "data" / "dev.yaml").read_text(encoding="utf-8"))
    return [c["turns"][0] for c in cases if len(c["turns"]) == 1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_workers(url: str, workers: int, bound: float = 120.0) -> None:
    """Until `workers` distinct X-Worker pids answered /healthz (or the one process, for 1)."""
    seen, deadline = set(), time.monotonic() + bound
    while len(seen) < workers and time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=2) as resp:
                seen.add(resp.headers.get("X-Worker", "single"))
        except OSError:
            time.sleep(0.1)
    if len(seen) < workers:
        raise SystemExit(f"only {len(seen)} of {workers} workers answered in {bound:.0f}s")


def run(workers: int, seconds: int, connections: int, script: Path) -> dict:
    port, data = free_port(), Path(tempfile.mkdtemp(prefix="citizen-bot-bench-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "REDIS_"))}
    env.update(ROOMY, DATA_DIR=str(data))
    server = subprocess.Popen([sys.executable, "-m", "bot", "serve", "--port", str(port), "--workers", str(workers)],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for_workers(url, workers)
        load, cpu, wrk_cpu, machine = os.getloadavg()[0], cpu_seconds(server.pid), children_cpu(), cpu_times()
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script), url],
                             capture_output=True, text=True, check=True).stdout
        cpu, wrk_cpu = cpu_seconds(server.pid) - cpu, children_cpu() - wrk_cpu
        busy, total = (now - before for now, before in zip(cpu_times(), machine))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(90)
        shutil.rmtree(data, ignore_errors=True)
    result = parse(out)
    return result | {"load": load, "cpu_per_request_ms": 1000 * cpu / max(1, result["requests"]),
                     "server_cores": cpu / seconds, "wrk_cores": wrk_cpu / seconds, "idle": 1 - busy / total}


def children_cpu() -> float:
    """CPU seconds of this script's finished children: wrk's, once it has run."""
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat: what the other tenants leave idle."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]                      # idle + iowait
    return sum(fields) - idle, sum(fields)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of `pid` and its live children (the workers, the embedded Redis)."""
    pids = [str(pid)] + [c for task in Path(f"/proc/{pid}/task").iterdir()
                         for c in (task / "children").read_text().split()]
    total = 0
    for p in pids:
        fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])          # utime, stime (clock ticks)
    return total / os.sysconf("SC_CLK_TCK")


def parse(out: str) -> dict:
    def find(pattern: str, default: str = "0") -> str:
        m = re.search(pattern, out)
        return m.group(1) if m else default
    return {"rps": float(find(r"Requests/sec:\s+([\d.]+)")), "requests": int(find(r"(\d+) requests in")), "p50": find(r"50%\s+(\S+)", "?"),
            "p99": find(r"99%\s+(\S+)", "?"), "non2xx": int(find(r"Non-2xx or 3xx responses: (\d+)")),
            "errors": find(r"Socket errors: (.*)", "none")}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--seconds", type=int, default=15, choices=range(1, 121), metavar="1-120")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--runs", type=int, default=2, help="runs per worker count, interleaved")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(LUA % ", ".join(f'"{q}"' for q in questions()))
    results: dict[int, list[dict]] = {n: [] for n in args.workers}
    for _ in range(args.runs):
        for n in args.workers:
            r = run(n, args.seconds, args.connections, Path(f.name))
            results[n].append(r)
            print(f"workers={n}: {r['rps']:.0f} req/s, p50 {r['p50']}, p99 {r['p99']}, non-2xx {r['non2xx']}, "
                  f"socket errors {r['errors']}; server CPU {r['cpu_per_request_ms']:.2f} ms/request; "
                  f"cores used: server {r['server_cores']:.2f}, wrk {r['wrk_cores']:.2f}, machine idle "
                  f"{r['idle']:.0%}; load average before {r['load']:.2f}", flush=True)
    base = max(r["rps"] for r in results[args.workers[0]])
    for n in args.workers:
        best = max(r["rps"] for r in results[n])
        print(f"workers={n}: best {best:.0f} req/s, {best / base:.2f}x workers={args.workers[0]}")
    os.unlink(f.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
