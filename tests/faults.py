"""Traffic streams for the reliability tests: WeChat messages and chat questions sent at a steady pace
to a real `serve` process, each outcome timed as a citizen would see it."""
from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass

import aiohttp

from .wechat_sim import FakeWeChatAPI, WeChatSim

PATIENCE = 5.0           # WeChat's: a passive reply or a customer-service send must come within this
QUESTION = "平泉坐公交车要多少钱"


@dataclass
class Outcome:
    who: str
    how: str             # "passive", "late" (customer-service send), "lost", "error"
    seconds: float


async def wechat_message(sim: WeChatSim, api: FakeWeChatAPI, openid: str, text: str = QUESTION) -> Outcome:
    started = time.monotonic()
    try:
        answer = await sim.post(sim.text(text, user=openid), timeout=PATIENCE)
    except (TimeoutError, aiohttp.ClientError):
        return Outcome(openid, "lost", time.monotonic() - started)
    if answer.status != 200:
        return Outcome(openid, f"error {answer.status}", time.monotonic() - started)
    if answer.text:
        return Outcome(openid, "passive", time.monotonic() - started)
    while time.monotonic() - started < PATIENCE:
        if any(s["touser"] == openid for s in api.sends):
            return Outcome(openid, "late", time.monotonic() - started)
        await asyncio.sleep(0.05)
    return Outcome(openid, "lost", time.monotonic() - started)


async def chat_question(http: aiohttp.ClientSession, url: str, user: str, text: str = QUESTION) -> Outcome:
    started = time.monotonic()
    try:
        async with http.post(url + "/api/chat", json={"user_id": user, "text": text},
                             timeout=aiohttp.ClientTimeout(total=PATIENCE)) as resp:
            body = await resp.json()
            how = "passive" if resp.status == 200 and body.get("reply") else f"error {resp.status}"
    except (TimeoutError, aiohttp.ClientError):
        how = "lost"
    return Outcome(user, how, time.monotonic() - started)


async def stream(make, count: int, gap: float) -> list[Outcome]:
    """`count` calls of make(i), one every `gap` seconds, all awaited."""
    tasks = []
    for i in range(count):
        tasks.append(asyncio.ensure_future(make(i)))
        await asyncio.sleep(gap)
    return list(await asyncio.gather(*tasks))


def duplicates(outcomes: list[Outcome], api: FakeWeChatAPI) -> list[str]:
    """Openids that got more than one reply (passive + send, or two sends)."""
    sends = Counter(s["touser"] for s in api.sends)
    return [o.who for o in outcomes if sends[o.who] + (o.how == "passive") > 1]
