"""Redis stalls (SIGSTOP), dies (SIGKILL) and comes back under a stream of WeChat and chat traffic to a
real `python -m bot serve` process: every WeChat message gets a passive reply or a customer-service
send within 5 s, none twice, none lost; every chat question is answered within 5 s."""
from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from redis.asyncio import Redis

from bot.state.resilient import LOCK_TTL

from .faults import PATIENCE, chat_question, duplicates, stream, wechat_message
from .redis_server import RedisServer
from .served import Served
from .wechat_fixtures import AES_KEY, APPID, APPSECRET, TOKEN
from .wechat_sim import FakeWeChatAPI, WeChatSim

MESSAGES, GAP = 16, 0.25          # 4 s of traffic in each direction


@pytest.fixture(scope="module")
def faulty_redis():
    server = RedisServer()
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def api():
    fake = await FakeWeChatAPI(APPID, APPSECRET).start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="module")
async def served(faulty_redis, api, tmp_path_factory):
    env = {"WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID, "WECHAT_AES_KEY": AES_KEY, "WECHAT_APPSECRET": APPSECRET,
           "WECHAT_API_BASE": api.url}
    server = Served(faulty_redis.url, tmp_path_factory.mktemp("faults") / "serve.log", env=env)
    try:
        await server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture
async def traffic(served, api):
    sim = WeChatSim(served.wechat, TOKEN, appid=APPID, aes_key=AES_KEY, mode="safe", timeout=PATIENCE)
    http = aiohttp.ClientSession()
    api.sends.clear()

    async def run(tag: str, fault):
        wechat = stream(lambda i: wechat_message(sim, api, f"o{tag}{i}"), MESSAGES, GAP)
        chat = stream(lambda i: chat_question(http, served.url, f"{tag}-{i}"), MESSAGES, GAP)
        results = await asyncio.gather(wechat, chat, fault())
        await asyncio.sleep(1.0)                      # a stray late send would show up by now
        return results[0], results[1]
    yield run
    await sim.close()
    await http.close()


def assert_all_answered(wechat, chat, api):
    late = [o for o in wechat + chat if o.how not in ("passive", "late") or o.seconds > PATIENCE]
    assert late == [], late
    assert duplicates(wechat, api) == []


async def test_redis_stall_of_3s_loses_no_wechat_message_and_delays_no_chat(traffic, faulty_redis, api):
    async def stall():
        await asyncio.sleep(0.5)
        faulty_redis.pause()
        await asyncio.sleep(3.0)
        faulty_redis.resume()
    wechat, chat = await traffic("stall", stall)
    assert_all_answered(wechat, chat, api)
    # Locks taken before or queued during the stall expire on the clock of the request that took them
    # (SET PXAT): none outlives LOCK_TTL from then, whatever the server did meanwhile.
    client = Redis.from_url(faulty_redis.url)
    try:
        for key in await client.keys("*:lock:*"):
            assert 0 < await client.pttl(key) <= (LOCK_TTL - 3.0) * 1000
    finally:
        await client.aclose()


async def test_redis_killed_and_restarted_loses_no_wechat_message(traffic, faulty_redis, api):
    async def crash():
        await asyncio.sleep(0.5)
        faulty_redis.kill()
        await asyncio.sleep(2.5)
        await asyncio.to_thread(faulty_redis.start)
    wechat, chat = await traffic("crash", crash)
    assert_all_answered(wechat, chat, api)


async def test_after_recovery_conversations_have_state_again(served, faulty_redis):
    """No stale pooled connection survives a fault: follow-ups work within seconds of Redis returning."""
    faulty_redis.pause()
    async with aiohttp.ClientSession() as http:
        assert (await chat_question(http, served.url, "during")).how == "passive"
        faulty_redis.resume()
        await asyncio.sleep(1.5)                     # the breaker's cooldown
        for _ in range(20):
            first = await chat_question(http, served.url, "after", "老旧小区改造进展怎么样")
            async with http.post(served.url + "/api/chat", json={"user_id": "after", "text": "定州"}) as resp:
                body = await resp.json()
            if body["city"] == "定州" and "100个" in body["reply"]:
                break
            await asyncio.sleep(0.25)
        assert first.how == "passive" and body["city"] == "定州" and "100个" in body["reply"]
        async with http.get(served.url + "/readyz") as resp:
            assert resp.status == 200


async def test_healthz_answers_at_once_during_a_stall_and_readyz_says_unavailable(served, faulty_redis):
    faulty_redis.pause()
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=1.0)) as http:
            async with http.get(served.url + "/healthz") as resp:
                assert resp.status == 200
            async with http.get(served.url + "/readyz") as resp:
                assert resp.status == 503
    finally:
        faulty_redis.resume()


def test_the_outages_were_logged_as_json_without_citizens_ids(served):
    """Runs after the faults above: each outage is logged (and counted), openids and user ids only hashed."""
    text = served.log.read_text()
    lines = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
    assert any("redis unavailable" in line["message"] for line in lines)
    assert any(line.get("message_key", "").startswith("u:") for line in lines)
    for raw in ("ostall", "oStall", "oCrash", "stall-", "crash-"):
        assert raw not in text
