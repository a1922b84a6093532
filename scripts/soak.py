"""A bounded soak on loopback: two real `serve` processes on one real redis-server, under a steady mix of
WeChat messages (safe mode, with retries after lost answers), web-chat conversations, /api/chat
questions and staff at the console (log in, list the inbox and topics, save a draft), for --seconds
(default 120, at most 600). Reports errors, WeChat duplicates and losses, p50/p99 latency per kind of
request, the processes' memory growth and the event loop's lag (from /metrics).

    .venv/bin/python scripts/soak.py --seconds 120 [--json out.json]
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prometheus_client.parser import text_string_to_metric_families  # noqa: E402

from tests.faults import PATIENCE  # noqa: E402
from tests.redis_server import RedisServer  # noqa: E402
from tests.served import Served  # noqa: E402
from tests.wechat_fixtures import AES_KEY, APPID, APPSECRET, TOKEN  # noqa: E402
from tests.wechat_sim import FakeWeChatAPI, WeChatSim  # noqa: E402

QUESTIONS = ["平泉坐公交车要多少钱", "老旧小区改造进展怎么样", "定州", "寿光大病保险起付线多少", "那驻马店呢",
             "宁德社保卡怎么办", "电梯困人怎么办", "火星移民签证怎么办理", "你好", "低保标准是多少", "继续",
             "井盖丢了找谁", "我是寿光的", "课后服务收费吗", "😀"]


class Tally:
    def __init__(self):
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.status: Counter = Counter()
        self.errors: list[str] = []
        self.wechat_passive: Counter = Counter()      # message key -> passive replies received

    def record(self, channel: str, status: int | str, seconds: float) -> None:
        self.latency[channel].append(seconds)
        self.status[(channel, status)] += 1
        if status not in (200, 429):
            self.errors.append(f"{channel}: {status} after {seconds:.2f}s")


async def wechat_user(sim: WeChatSim, urls: list[str], tally: Tally, user: str, until: float, rng: random.Random):
    ids = itertools.count(1)
    while time.monotonic() < until:
        fields = sim.text(rng.choice(QUESTIONS), user=user)
        key = f"{user}:{next(ids)}"
        drop = 1 if rng.random() < 0.05 else 0          # a lost answer: WeChat retries, maybe elsewhere
        started = time.monotonic()
        attempts = await sim.send(fields, urls=rng.sample(urls, len(urls)), drop=drop)
        final = attempts.final
        seconds = time.monotonic() - started
        if final is None:
            tally.record("wechat", "lost", seconds)
        else:
            tally.record("wechat", final.status, seconds if not drop else seconds / len(attempts.answers))
            tally.wechat_passive[(user, fields["MsgId"])] += sum(1 for a in attempts.answers if a and a.text)
        await asyncio.sleep(rng.uniform(0.2, 1.0))


async def web_user(http: aiohttp.ClientSession, url: str, tally: Tally, until: float, rng: random.Random):
    cookie: dict[str, str] = {}
    while time.monotonic() < until:
        roll = rng.random()
        started = time.monotonic()
        if roll < 0.1:
            async with http.get(url + "/api/web/history", headers=cookie) as resp:
                await resp.read()
                tally.record("web-history", resp.status, time.monotonic() - started)
        elif roll < 0.13 and cookie:
            async with http.post(url + "/api/web/reset", headers={**cookie, "Origin": url}) as resp:
                await resp.read()
                tally.record("web-reset", resp.status, time.monotonic() - started)
        else:
            async with http.post(url + "/api/web/chat", json={"text": rng.choice(QUESTIONS)},
                                 headers={**cookie, "Origin": url}) as resp:
                await resp.read()
                if "cb_sid" in resp.cookies:
                    cookie = {"Cookie": f"cb_sid={resp.cookies['cb_sid'].value}"}
                tally.record("web-chat", resp.status, time.monotonic() - started)
        await asyncio.sleep(rng.uniform(0.2, 1.0))


async def api_user(http: aiohttp.ClientSession, url: str, tally: Tally, user: str, until: float,
                   rng: random.Random):
    while time.monotonic() < until:
        started = time.monotonic()
        async with http.post(url + "/api/chat", json={"user_id": user, "text": rng.choice(QUESTIONS)}) as resp:
            await resp.read()
            tally.record("api-chat", resp.status, time.monotonic() - started)
        await asyncio.sleep(rng.uniform(0.5, 2.0))


STAFF_PASSWORD = "Soak-staff-2026"
OLD, NEW = "基础票价2元，最高票价8元", "基础票价为2元，最高票价为8元"     # two wordings, both grounded
RELOGIN = 45.0         # seconds between a staff member's logins: within RATE_LIMIT_LOGIN_USER's 5 per 300 s


async def add_staff(redis_url: str, names: list[str]) -> None:
    """Editor accounts, made as `citizen-bot user add` would, with the production hashing parameters."""
    from redis.asyncio import Redis

    from bot.admin.context import staff_for
    from bot.settings import Settings
    client = Redis.from_url(redis_url)
    try:
        staff = staff_for(Settings(redis_url=redis_url), client)
        for name in names:
            await staff.users.create(name, "editor", STAFF_PASSWORD, must_change=False)
    finally:
        await client.aclose()


class Console:
    """One staff member's browser: the session cookie and CSRF token it holds, same-origin requests."""

    def __init__(self, http: aiohttp.ClientSession, url: str, tally: Tally):
        self.http, self.url, self.tally = http, url, tally
        self.headers: dict[str, str] = {}

    async def call(self, kind: str, method: str, path: str, payload=None) -> dict:
        headers = dict(self.headers)
        if method != "GET":
            headers["Origin"] = self.url
        started = time.monotonic()
        url = self.url + "/api/admin/" + path
        async with self.http.request(method, url, json=payload, headers=headers) as resp:
            body = await resp.json()
            self.tally.record(kind, resp.status, time.monotonic() - started)
            if "citizen_admin" in resp.cookies:
                self.headers["Cookie"] = f"citizen_admin={resp.cookies['citizen_admin'].value}"
        return body if resp.status == 200 else {}

    async def login(self, name: str) -> None:
        self.headers.pop("Cookie", None)
        body = await self.call("admin-login", "POST", "login", {"username": name, "password": STAFF_PASSWORD})
        self.headers["X-CSRF-Token"] = body.get("csrf_token", "")

    async def save_draft(self) -> None:
        topic = await self.call("admin-topic", "GET", "topics/bus-fare")
        if topic:
            text = topic["answers"]["平泉"]["text"]
            wording = text.replace(OLD, NEW) if OLD in text else text.replace(NEW, OLD)
            topic["answers"]["平泉"] = {**topic["answers"]["平泉"], "text": wording}
            await self.call("admin-save", "PUT", "topics/bus-fare", topic)


async def staff_user(http: aiohttp.ClientSession, url: str, tally: Tally, name: str, until: float,
                     rng: random.Random):
    console, logged_in = Console(http, url, tally), -RELOGIN
    while time.monotonic() < until:
        if time.monotonic() - logged_in >= RELOGIN:
            await console.login(name)
            logged_in = time.monotonic()
        roll = rng.random()
        if roll < 0.4:
            await console.call("admin-inbox", "GET", "inbox")
        elif roll < 0.8:
            await console.call("admin-topics", "GET", "topics")
        else:
            await console.save_draft()
        await asyncio.sleep(rng.uniform(1.0, 3.0))


def rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


async def loop_lag(http: aiohttp.ClientSession, url: str) -> dict:
    async with http.get(url + "/metrics") as resp:
        text = await resp.text()
    buckets, count, total = [], 0.0, 0.0
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            if s.name == "citizen_bot_event_loop_lag_seconds_bucket":
                buckets.append((float(s.labels["le"]), s.value))
            elif s.name == "citizen_bot_event_loop_lag_seconds_count":
                count = s.value
            elif s.name == "citizen_bot_event_loop_lag_seconds_sum":
                total = s.value
    p99 = next((le for le, c in sorted(buckets) if count and c >= 0.99 * count), None)
    return {"samples": int(count), "mean_ms": round(1000 * total / count, 2) if count else None,
            "p99_bucket_ms": None if p99 is None else round(1000 * p99, 1)}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def soak(seconds: float, users: int) -> dict:
    rng = random.Random(2026)
    work = Path(tempfile.mkdtemp(prefix="citizen-bot-soak-"))
    redis = RedisServer()
    api = await FakeWeChatAPI(APPID, APPSECRET).start()
    env = {"WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID, "WECHAT_AES_KEY": AES_KEY, "WECHAT_APPSECRET": APPSECRET,
           "WECHAT_API_BASE": api.url, "RATE_LIMIT_CHAT_ADDRESS": "100000/60",   # loopback is one address
           "RATE_LIMIT_LOGIN": "100000/60"}
    servers = [Served(redis.url, work / name / "serve.log", env=env) for name in ("a", "b")]
    try:
        await asyncio.gather(*(s.wait_ready() for s in servers))
        staff = [f"soak-editor-{i}" for i in range(max(1, users // 3))]
        await add_staff(redis.url, staff)
        sim = WeChatSim(servers[0].wechat, TOKEN, appid=APPID, aes_key=AES_KEY, mode="safe", timeout=PATIENCE)
        async with aiohttp.ClientSession() as http:
            for s in servers:                                       # warm up, then measure memory
                async with http.post(s.url + "/api/chat", json={"user_id": "warm", "text": QUESTIONS[0]}):
                    pass
            rss_start = [rss_kb(s.process.pid) for s in servers]
            tally, until = Tally(), time.monotonic() + seconds
            urls = [s.wechat for s in servers]
            tasks = [wechat_user(sim, urls, tally, f"oSoak{i}", until, rng) for i in range(users)]
            tasks += [web_user(http, servers[i % 2].url, tally, until, rng) for i in range(users)]
            tasks += [api_user(http, servers[i % 2].url, tally, f"soak-{i}", until, rng) for i in range(users // 2)]
            tasks += [staff_user(http, servers[i % 2].url, tally, name, until, rng)
                      for i, name in enumerate(staff)]
            await asyncio.gather(*tasks)
            await asyncio.sleep(2.0)                                # late customer-service sends land
            rss_end = [rss_kb(s.process.pid) for s in servers]
            lag = [await loop_lag(http, s.url) for s in servers]
        await sim.close()
    finally:
        for s in servers:
            s.stop()
        await api.stop()
        redis.stop()
    sends = Counter(s["touser"] for s in api.sends)
    duplicates = sum(1 for n in tally.wechat_passive.values() if n > 1)
    return {
        "seconds": seconds, "users_per_channel": users, "staff": len(staff),
        "requests": sum(tally.status.values()),
        "by_status": {f"{c} {s}": n for (c, s), n in sorted(tally.status.items(), key=str)},
        "errors": len(tally.errors), "error_samples": tally.errors[:10],
        "wechat_duplicates": duplicates, "wechat_late_sends": sum(sends.values()),
        "latency_ms": {c: {"p50": round(1000 * statistics.median(v), 1), "p99": round(1000 * percentile(v, 0.99), 1),
                           "max": round(1000 * max(v), 1), "n": len(v)} for c, v in sorted(tally.latency.items())},
        "rss_mb": {"start": [round(k / 1024, 1) for k in rss_start], "end": [round(k / 1024, 1) for k in rss_end]},
        "loop_lag": lag,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description="bounded loopback soak of the bot")
    ap.add_argument("--seconds", type=float, default=120.0)
    ap.add_argument("--users", type=int, default=6, help="concurrent users per channel")
    ap.add_argument("--json", type=Path, help="also write the report here")
    args = ap.parse_args()
    report = asyncio.run(soak(min(args.seconds, 600.0), args.users))
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 1 if report["errors"] or report["wechat_duplicates"] else 0


if __name__ == "__main__":
    sys.exit(main())
