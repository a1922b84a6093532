"""`citizen-bot bench http`: requests per second of one serving process, against a bare aiohttp handler
in the same run, with wrk (Debian's package) on loopback for a bounded time.

- Peak: wrk with a fixed number of connections, each request a different citizen and question (from
  the development sets), so nothing is answered from a cache of one question.
- Latency at 70% of peak: an open-loop client sends at a fixed rate (wrk waits for each reply, which
  hides queueing; a citizen does not wait for the last citizen).
- /wechat runs in safe mode: every request is signed and encrypted as WeChat does, with a fresh MsgId,
  so each is a new message processed in full.
Rate limits are raised for the run: they would otherwise refuse a benchmark from one address."""
from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

import aiohttp
from wechatpy.crypto import WeChatCrypto

from bot.bench.match import questions
from bot.bench.measure import summary_ms
from bot.bench.startup import BARE, serving

TOKEN, AES_KEY, APPID = "benchtoken", "b" * 43, "wxbench00000000000"
WRK_LUA = """
local lines = {}
for line in io.lines(os.getenv("BENCH_REQUESTS")) do lines[#lines + 1] = line end
local i = 0
request = function()
  i = i % #lines + 1
  local path, ctype, body = lines[i]:match("^(.-)\\t(.-)\\t(.*)$")
  return wrk.format("POST", path, {["Content-Type"] = ctype}, body)
end
"""
ROOMY = {"RATE_LIMIT_CHAT_USER": "10000000/60", "RATE_LIMIT_CHAT_ADDRESS": "10000000/60"}


def chat_requests(texts: list[str], n: int) -> list[tuple[str, str, str]]:
    return [("/api/chat", "application/json",
             json.dumps({"user_id": f"bench-{i}", "text": texts[i % len(texts)]}, ensure_ascii=False))
            for i in range(n)]


def wechat_requests(texts: list[str], n: int) -> list[tuple[str, str, str]]:
    crypto, now, out = WeChatCrypto(TOKEN, AES_KEY, APPID), str(int(time.time())), []
    for i in range(n):
        xml = (f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[oBench{i}]]>"
               f"</FromUserName><CreateTime>{now}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
               f"<Content><![CDATA[{texts[i % len(texts)]}]]></Content><MsgId>{10**15 + i}</MsgId></xml>")
        nonce = str(secrets.randbelow(10**9))
        sealed = crypto.encrypt_message(xml, nonce, now)
        encrypt = re.search(r"<Encrypt><!\[CDATA\[(.*?)\]\]>", sealed).group(1)
        signature = re.search(r"<MsgSignature><!\[CDATA\[(.*?)\]\]>", sealed).group(1)
        plain = hashlib.sha1("".join(sorted((TOKEN, now, nonce))).encode()).hexdigest()
        query = urllib.parse.urlencode({"timestamp": now, "nonce": nonce, "encrypt_type": "aes",
                                        "msg_signature": signature, "signature": plain})
        body = f"<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
        out.append((f"/wechat?{query}", "text/xml", body))
    return out


def wrk(port: int, requests: list[tuple[str, str, str]], seconds: int, connections: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        lines, script = Path(tmp) / "requests.tsv", Path(tmp) / "post.lua"
        lines.write_text("\n".join("\t".join(r) for r in requests) + "\n", encoding="utf-8")
        script.write_text(WRK_LUA)
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency", "-s", str(script),
                              f"http://127.0.0.1:{port}/"], env=os.environ | {"BENCH_REQUESTS": str(lines)},
                             capture_output=True, text=True, check=True).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": round(rate, 1), "non_2xx": int(errors.group(1)) if errors else 0,
            "p50": _latency(out, "50%"), "p99": _latency(out, "99%")}


def _latency(out: str, q: str) -> float:
    value, unit = re.search(rf"{q}\s+([\d.]+)(us|ms|s)", out).groups()
    return round(float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit], 2)


async def open_loop(port: int, requests: list[tuple[str, str, str]], rate: float, seconds: float) -> dict:
    """Send at `rate` per second regardless of replies; latencies of those that finish."""
    timings, failures = [], 0

    async def one(http, path, ctype, body):
        nonlocal failures
        t0 = time.perf_counter()
        async with http.post(f"http://127.0.0.1:{port}{path}", data=body.encode(), headers={"Content-Type": ctype}) as r:
            await r.read()
            if r.status != 200:
                failures += 1
        timings.append(time.perf_counter() - t0)
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        tasks, start, i = [], time.perf_counter(), 0
        while (elapsed := time.perf_counter() - start) < seconds:
            due = int(elapsed * rate)
            while i < due:
                tasks.append(asyncio.create_task(one(http, *requests[i % len(requests)])))
                i += 1
            await asyncio.sleep(0.002)
        await asyncio.gather(*tasks, return_exceptions=True)
    return summary_ms(timings) | {"rate": rate, "failures": failures}


def run(root: Path, data_dir: Path, seconds: int = 8, connections: int = 8, workers: int = 1) -> dict:
    if not shutil.which("wrk"):
        raise SystemExit("bench http needs wrk: apt-get install wrk")
    texts = questions(data_dir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECHAT_", "REDIS_URL"))}
    result = {}
    with serving([sys.executable, "-c", BARE], env) as (port, _, _):
        result["bare"] = wrk(port, chat_requests(texts, 20_000), seconds, connections)
    env |= ROOMY | {"KNOWLEDGE_ROOT": str(root), "WECHAT_TOKEN": TOKEN, "WECHAT_AES_KEY": AES_KEY,
                    "WECHAT_APPID": APPID}
    # One process unless asked (serve's own default is a supervisor and a worker per core)
    command = [sys.executable, "-m", "bot", "serve", "--host", "127.0.0.1", "--workers", str(workers)]
    # Each request a new citizen; the development sets' ~400 questions come round again and again,
    # as popular questions do: with the memo of repeated questions on, and with it off. Each run has a
    # Redis of its own: the second would otherwise find the first's WeChat replies (same MsgIds) and
    # sessions (same users), and answer from them.
    for memo, suffix in (("4096", ""), ("0", " (no memo)")):
        with tempfile.TemporaryDirectory() as data, \
                serving(command, env | {"TURN_MEMO": memo, "DATA_DIR": data}) as (port, _, _):
            for name, make in (("chat", chat_requests), ("wechat", wechat_requests)):
                key = name + suffix
                result[key] = wrk(port, make(texts, 50_000), seconds, connections)
                steady = make(texts, 50_000)[::-1]       # other users than the peak run's
                result[key]["at70"] = asyncio.run(open_loop(port, steady, 0.7 * result[key]["rps"], seconds))
    return result


def report(result: dict) -> str:
    bare = result["bare"]["rps"]
    lines = ["| endpoint | req/s (peak) | of bare | p50 / p99 at peak | p50 / p99 at 70% of peak | non-2xx |",
             "|---|---|---|---|---|---|"]
    for name, r in result.items():
        steady = r.get("at70")
        at70 = f"{steady['p50_ms']} / {steady['p99_ms']} ms" if steady else "—"
        lines.append(f"| {name} | {r['rps']} | {100 * r['rps'] / bare:.1f}% | {r['p50']} / {r['p99']} ms | "
                     f"{at70} | {r['non_2xx'] + (steady or {}).get('failures', 0)} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(report(run(Path.cwd(), Path("tests/data"))))
