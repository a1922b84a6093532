"""Publishing reaches every running process without a restart, and no crash can leave a broken version.

Two real `citizen-bot serve` processes on one Redis answer with the new wording soon after a publish;
kill -9 of the publisher, or of Redis itself (restarted from its append-only file), at random moments
leaves the live version whole: the old one or the complete new one."""
import asyncio
import copy
import random
import subprocess
import sys
import time

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.knowledge import check
from bot.knowledge.versions import Versions
from bot.settings import ROOT

from .redis_server import RedisServer
from .served import Served

QUESTION = "平泉坐公交车要多少钱"
# The test asks every 20 ms until the new wording appears: far past a citizen's rate limit.
POLLING = {"RATE_LIMIT_CHAT_USER": "100000/60", "RATE_LIMIT_CHAT_ADDRESS": "100000/60"}
NEW = "平泉城乡公交按阶梯票价分段收费，基础票价2元，最高票价8元，出行费用同比降低了50%。"


@pytest.fixture
async def two_servers(redis_server, redis, tmp_path):
    servers = []
    try:
        for name in ("a", "b"):
            servers.append(Served(redis_server.url, tmp_path / name / "serve.log", env=POLLING))
        await asyncio.gather(*(s.wait_ready() for s in servers))
        yield servers
    finally:
        for s in servers:
            s.stop()


async def reply(http: aiohttp.ClientSession, server: Served) -> str:
    async with http.post(server.url + "/api/chat", json={"user_id": "t1", "text": QUESTION}) as resp:
        assert resp.status == 200
        return (await resp.json())["reply"]


async def publish_and_time(http, servers, versions: Versions, wording: str) -> float:
    """Seconds from the start of a publish until every process answers with `wording`."""
    topic = copy.deepcopy(await versions.draft_topic("bus-fare"))
    topic["answers"]["平泉"]["text"] = wording
    assert await versions.save_topic(topic, "editor") == []
    start = time.monotonic()
    await versions.publish("公交票价措辞", "publisher")
    pending, seen = set(range(len(servers))), []
    while pending and time.monotonic() - start < 8:
        for i in list(pending):
            if wording in await reply(http, servers[i]):
                seen.append(time.monotonic() - start)
                pending.discard(i)
        await asyncio.sleep(0.02)
    assert not pending, "a process never answered with the published wording"
    return max(seen)


async def test_a_published_wording_is_answered_by_both_processes_without_a_restart(two_servers, redis):
    """Both processes switch on their own (pub/sub, or the 1 s version poll) within publish_and_time's 8 s
    bound. The latency is printed, not asserted: on 2 shared cores other builds' load adds seconds, and
    speed is a measurement (docs/knowledge.md: 1.84 s across two processes, 0.74 s in one), not a test."""
    versions = Versions(redis, "citizen-bot", ROOT)
    async with aiohttp.ClientSession() as http:
        before = [await reply(http, s) for s in two_servers]
        assert all("阶梯票价、分段计费" in r and NEW not in r for r in before)
        latency = await publish_and_time(http, two_servers, versions, NEW)
    print(f"\npublish -> both processes answering the new wording: {latency:.2f} s")


async def assert_live_is_whole(url: str, before: int) -> int:
    redis = Redis.from_url(url)
    try:
        versions = Versions(redis, "crash", ROOT)
        live = await versions.live_number()
        assert live >= before
        head = int(await redis.get("crash:kb:head"))
        assert live == head
        kn = await versions.knowledge(live)                 # the body is there and loads
        assert check.problems(kn) == []
        info = {i.number: i for i in await versions.versions()}
        assert info[live].counts["topics"] == len(kn.topics)   # its metadata came with it
        return live
    finally:
        await redis.aclose()


def publisher(url: str, count: int) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "tests.publish_loop", url, "crash", str(count)], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)


async def test_kill_9_of_the_publisher_or_of_redis_mid_publish_leaves_a_whole_version_live(tmp_path):
    rng = random.Random(6)
    server = RedisServer(tmp_path, durable=True)      # appendonly yes, as deploy/redis.conf
    try:
        seeded = publisher(server.url, 0)
        assert seeded.wait(60) == 0
        live = await assert_live_is_whole(server.url, 1)
        for _ in range(6):                                   # kill -9 the publisher at a random moment
            proc = publisher(server.url, 1000)
            await asyncio.sleep(rng.uniform(1.0, 3.0))
            proc.kill()
            proc.wait()
            live = await assert_live_is_whole(server.url, live)
        for _ in range(3):                                   # kill -9 Redis under a publishing loop
            proc = publisher(server.url, 1000)
            await asyncio.sleep(rng.uniform(1.5, 3.0))
            server.process.kill()
            server.process.wait()
            proc.wait(30)
            server = RedisServer(tmp_path, durable=True)                 # restarted from its append-only file
            live = await assert_live_is_whole(server.url, 1)
        print(f"\nafter 9 kill -9s, version {live} is live and whole")
        assert live > 2
    finally:
        server.process.kill()
        server.process.wait()
