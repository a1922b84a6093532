"""Staff writes fail closed while Redis is paused (SIGSTOP) or killed: a clear 503 in Chinese, at once,
nothing saved (not even after Redis comes back), no traceback; citizens are answered meanwhile, and
the console works again once Redis is back."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace

import pytest
from redis.asyncio import Redis

from bot.admin.context import staff_for
from bot.app import create_app

from .admin_helpers import CHEAP, PASSWORD, Console
from .redis_server import RedisServer

BOUND = 5.0              # seconds a refusal may take: WeChat's patience, far above the 0.5 s call timeout
NEW = "平泉的城乡公交按阶梯票价、分段计费：基础票价2元，最高票价8元"


@pytest.fixture(scope="module")
def faulty_redis():
    server = RedisServer(durable=True)       # accounts and sessions outlive a kill (append-only file)
    yield server
    server.stop()


@pytest.fixture
async def plain(faulty_redis):
    client = Redis.from_url(faulty_redis.url)
    await client.flushdb()
    yield client
    await client.aclose()


@pytest.fixture
async def console_app(aiohttp_client, settings, faulty_redis, plain, brains):
    """The real app on its own bounded client (resilient.connect via REDIS_URL), as `serve` runs it."""
    s = replace(settings, redis_url=faulty_redis.url, admin=CHEAP)
    staff = staff_for(s, plain)
    for name, role in (("ed", "editor"), ("pub", "publisher"), ("root", "admin")):
        await staff.users.create(name, role, PASSWORD, must_change=False)
    client = await aiohttp_client(create_app(s, brains=brains))
    consoles = {}
    for name in ("ed", "pub", "root"):
        consoles[name] = Console(client)
        await consoles[name].login(name)
    return client, consoles


async def staff_writes(c: dict, topic: dict) -> list:
    """A read (the first, before anything opened the breaker), then save a draft, publish, create a user:
    (what, status, body, seconds, Retry-After) for each."""
    out = []
    for what, who, method, path, payload in (
            ("read", "ed", "GET", "draft/changes", None),
            ("save", "ed", "PUT", "topics/bus-fare", topic),
            ("publish", "pub", "POST", "publish", {"note": "故障中发布", "confirm": True}),
            ("user", "root", "POST", "users",
             {"username": "newbie", "role": "viewer", "password": "Temp-pass1"})):
        started = time.monotonic()
        resp = await asyncio.wait_for(c[who].call(method, path, payload), BOUND * 2)
        body = await resp.json() if resp.content_type == "application/json" else await resp.text()
        out.append((what, resp.status, body, time.monotonic() - started, resp.headers.get("Retry-After")))
    return out


async def until_console_works(console: Console) -> None:
    for _ in range(60):
        if (await console.call("GET", "me")).status == 200:
            return
        await asyncio.sleep(0.25)
    raise AssertionError("the console did not come back after Redis did")


@pytest.mark.parametrize("fault", ["pause", "kill"])
async def test_staff_writes_fail_closed_with_a_clear_503_while_redis_is_away(console_app, faulty_redis, fault,
                                                                             caplog):
    client, c = console_app
    topic = await c["ed"].json("GET", "topics/bus-fare")
    topic["answers"]["平泉"]["text"] = NEW
    caplog.set_level(logging.WARNING)
    faulty_redis.pause() if fault == "pause" else faulty_redis.kill()
    try:
        results = await staff_writes(c, topic)
        chat = await client.post("/api/chat", json={"user_id": "citizen-1", "text": "平泉坐公交车要多少钱"})
        answered = await chat.json()
        web_chat = await client.post("/api/web/chat", json={"text": "平泉坐公交车要多少钱"},
                                     headers={"Origin": c["ed"].origin})
        web_answer = await web_chat.json()
    finally:
        faulty_redis.resume() if fault == "pause" else await asyncio.to_thread(faulty_redis.start)
    for what, status, body, seconds, retry_after in results:
        assert status == 503, (what, status, body)
        assert "数据库暂时无法连接" in body["error"] and "没有执行" in body["error"], (what, body)
        assert body["redis_unavailable"] is True and retry_after == "5"
        assert seconds < BOUND, (what, seconds)
    assert chat.status == 200 and "2元" in answered["reply"]             # citizens answered statelessly
    assert web_chat.status == 200 and "2元" in web_answer["reply"] and "rating" not in web_answer
    assert not [r for r in caplog.records if r.exc_info], "a traceback was logged"

    await until_console_works(c["ed"])
    await asyncio.sleep(1.0)                           # anything queued in the stalled server has run by now
    assert (await c["ed"].json("GET", "draft/changes"))["changes"] == []
    assert (await c["pub"].json("GET", "versions"))["live"] == 1
    assert "newbie" not in [u["username"] for u in (await c["root"].json("GET", "users"))["users"]]
    saved = await c["ed"].json("PUT", "topics/bus-fare", topic)           # and the same write works now
    assert NEW in saved["topic"]["answers"]["平泉"]["text"]
