"""Redis Sentinel: the settings, and a real failover under traffic. A master, a replica and three
sentinels run from the redis-server binary on loopback; the master is killed while citizens ask, and the
bot goes on answering, with state, on the replica Sentinel promotes."""
from __future__ import annotations

import asyncio
import subprocess
import time
import uuid
from pathlib import Path

import aiohttp
import pytest
import yaml
from redis.asyncio import Redis
from redis.exceptions import RedisError

from bot.dialogue.evaluation import judge
from bot.settings import ROOT, Settings, SettingsError

from .redis_server import free_port, redis_binary
from .served import Served

CASES = yaml.safe_load((ROOT / "tests" / "data" / "dev.yaml").read_text(encoding="utf-8"))


def test_sentinels_and_master_name_are_read():
    s = Settings.from_env({"REDIS_SENTINELS": "10.0.0.1:26379, sentinel-b:26380,[::1]:26381",
                           "REDIS_MASTER_NAME": "citizen"})
    assert s.redis_sentinels == (("10.0.0.1", 26379), ("sentinel-b", 26380), ("::1", 26381))
    assert s.redis_master_name == "citizen" and not s.embedded_redis


@pytest.mark.parametrize("env, message", [
    ({"REDIS_SENTINELS": "a:26379"}, "REDIS_MASTER_NAME is required"),
    ({"REDIS_SENTINELS": "a:26379", "REDIS_MASTER_NAME": "m", "REDIS_URL": "redis://x"}, "not both"),
    ({"REDIS_SENTINELS": "a", "REDIS_MASTER_NAME": "m"}, "host:port"),
    ({"REDIS_SENTINELS": "a:99999", "REDIS_MASTER_NAME": "m"}, "host:port"),
])
def test_bad_sentinel_settings_are_refused(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


# -- a real failover --------------------------------------------------------------------------------
MASTER = "citizen"
BOUND = 60.0          # seconds: a bound on each wait, not a timing (the failover itself takes a few)


class Node:
    """One redis-server (a data node, or with `sentinel` a sentinel) on a loopback port."""

    def __init__(self, directory: Path, lines: list[str], sentinel: bool = False):
        self.port = free_port()
        directory.mkdir(parents=True)
        conf = directory / "redis.conf"          # a file: a sentinel rewrites its config as it learns
        conf.write_text("\n".join([f"port {self.port}", "bind 127.0.0.1", f"dir {directory}", "save \"\"",
                                   "appendonly no", *lines, ""]), encoding="utf-8")
        self.process = subprocess.Popen([redis_binary(), str(conf), *(["--sentinel"] if sentinel else [])],
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.client = Redis(port=self.port, socket_timeout=1, socket_connect_timeout=1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)


@pytest.fixture
async def cluster(tmp_path):
    """A master, its replica and three sentinels watching it (quorum 2), all caught up with each other."""
    nodes = []
    try:
        master = Node(tmp_path / "master", [])
        nodes.append(master)
        replica = Node(tmp_path / "replica", [f"replicaof 127.0.0.1 {master.port}"])
        nodes.append(replica)
        await until(lambda: replicated(replica), "the replica to sync")
        sentinels = [Node(tmp_path / f"sentinel-{i}", [
            f"sentinel monitor {MASTER} 127.0.0.1 {master.port} 2",
            f"sentinel down-after-milliseconds {MASTER} 1000",
            f"sentinel failover-timeout {MASTER} 5000"], sentinel=True) for i in range(3)]
        nodes += sentinels
        await until(lambda: sentinels_ready(sentinels), "the sentinels to find the replica and each other")
        yield master, replica, sentinels
    finally:
        for node in nodes:
            await node.client.aclose()
            node.stop()


async def replicated(replica: Node) -> bool:
    info = await replica.client.info("replication")
    return info.get("master_link_status") == "up"


async def sentinels_ready(sentinels: list[Node]) -> bool:
    for s in sentinels:
        state = await s.client.sentinel_master(MASTER)
        if state["num-slaves"] < 1 or state["num-other-sentinels"] < 2:
            return False
    return True


async def until(check, what: str) -> None:
    deadline = time.monotonic() + BOUND
    while time.monotonic() < deadline:
        try:
            if await check():
                return
        except (RedisError, OSError):
            pass
        await asyncio.sleep(0.1)
    raise AssertionError(f"waited {BOUND}s for {what}")


async def test_the_bot_keeps_answering_on_the_promoted_replica(cluster, tmp_path):
    master, replica, sentinels = cluster
    env = {"REDIS_SENTINELS": ",".join(f"127.0.0.1:{s.port}" for s in sentinels), "REDIS_MASTER_NAME": MASTER,
           "RATE_LIMIT_CHAT_ADDRESS": "100000/60", "RATE_LIMIT_CHAT_USER": "1000/60"}
    bot = Served(None, tmp_path / "bot" / "serve.log", env=env)
    timeout = aiohttp.ClientTimeout(total=20)
    try:
        await bot.wait_ready()
        async with aiohttp.ClientSession(timeout=timeout) as http:
            assert await remembers(http, bot, "before")
            assert await master.client.exists("citizen-bot:session:{before}")     # the state is on the master

            stop = asyncio.Event()
            traffic = asyncio.ensure_future(ask_until(http, bot, stop))
            await asyncio.sleep(1.0)
            master.stop()                                                       # SIGKILL
            await until(lambda: promoted(sentinels, replica), "Sentinel to promote the replica")
            await until(lambda: remembers(http, bot, "after-" + uuid.uuid4().hex[:6]), "the bot to use it")
            await asyncio.sleep(1.0)
            stop.set()
            answered = await traffic
        assert len(answered) > 20 and all(answered), answered.count(False)   # every question answered right
        assert (await replica.client.info("replication"))["role"] == "master"
        assert [k async for k in replica.client.scan_iter("citizen-bot:session:{after-*")]
    finally:
        bot.stop()
    assert "Traceback" not in bot.log.read_text(), bot.log.read_text()[-3000:]


async def promoted(sentinels: list[Node], replica: Node) -> bool:
    addresses = [await s.client.sentinel_get_master_addr_by_name(MASTER) for s in sentinels]
    return all(int(port) == replica.port for _, port in addresses)


async def remembers(http, bot, user: str) -> bool:
    """A two-turn conversation that needs the session: the clarification, then the city it asked for."""
    first = await chat(http, bot, user, "户厕改造完成了多少")
    second = await chat(http, bot, user, "驻马店")
    return first["kind"] == "clarify" and "15万户" in second["reply"]


async def ask_until(http, bot, stop: asyncio.Event) -> list[bool]:
    """One-turn questions (no state needed) until `stop`: whether each got its right answer."""
    answered, n = [], 0
    while not stop.is_set():
        case = CASES[n % len(CASES)]
        n += 1
        if len(case["turns"]) == 1:
            reply = await chat(http, bot, f"steady-{n}", case["turns"][0])
            answered.append(judge(case, reply["reply"])[0])
        await asyncio.sleep(0.02)
    return answered


async def chat(http, bot, user: str, text: str) -> dict:
    async with http.post(bot.url + "/api/chat", json={"user_id": user, "text": text}) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json()
