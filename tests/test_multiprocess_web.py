"""Two real `python -m bot serve` processes sharing one real redis-server: a browser that talks to one and
then the other keeps its conversation (pending clarification, remembered city, history)."""
from __future__ import annotations

import asyncio

import aiohttp
import pytest

from bot.channels.web.page import COOKIE

from .served import Served

REQUEST_TIMEOUT = aiohttp.ClientTimeout(total=20)


@pytest.fixture
async def http():
    # No cookie jar: each request carries exactly the cookie the test gives it, as one browser would.
    async with aiohttp.ClientSession(timeout=REQUEST_TIMEOUT, cookie_jar=aiohttp.DummyCookieJar()) as session:
        yield session


@pytest.fixture
async def two_servers(redis_server, redis, tmp_path, http):
    servers = []
    try:
        for name in ("a", "b"):
            (tmp_path / name).mkdir()
            servers.append(Served(redis_server.url, tmp_path / name / "serve.log"))
        await asyncio.gather(*(s.wait_ready() for s in servers))
        yield servers
    finally:
        for s in servers:
            s.stop()


async def say(http, server: Served, text: str, browser: str | None) -> tuple[dict, str]:
    headers = {"Cookie": f"{COOKIE}={browser}"} if browser else {}
    async with http.post(server.url + "/api/web/chat", json={"text": text}, headers=headers) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.json(), resp.cookies[COOKIE].value


async def test_browser_keeps_its_conversation_across_two_processes(two_servers, http):
    a, b = two_servers
    clarify, browser = await say(http, a, "老旧小区改造进展怎么样", None)
    assert clarify["kind"] == "clarify" and "定州" in clarify["suggestions"]

    answer, same = await say(http, b, "定州", browser)
    assert same == browser                                  # B honours the id A issued
    assert answer["kind"] == "answer" and answer["city"] == "定州" and "100个" in answer["reply"]

    ack, _ = await say(http, a, "我是寿光的", browser)
    assert ack["city"] == "寿光"
    remembered, _ = await say(http, b, "户厕改造完成了多少", browser)   # asked with no city, it would clarify
    assert remembered["kind"] == "answer" and remembered["city"] == "寿光"

    async with http.get(a.url + "/api/web/history", headers={"Cookie": f"{COOKIE}={browser}"}) as resp:
        messages = (await resp.json())["messages"]
    assert [m["text"] for m in messages if m["role"] == "user"] == [
        "老旧小区改造进展怎么样", "定州", "我是寿光的", "户厕改造完成了多少"]


async def test_start_over_on_one_process_is_seen_by_the_other(two_servers, http):
    a, b = two_servers
    _, browser = await say(http, a, "老旧小区改造进展怎么样", None)
    async with http.post(b.url + "/api/web/reset", headers={"Cookie": f"{COOKIE}={browser}", "Origin": b.url}) as resp:
        assert resp.status == 200
    async with http.get(a.url + "/api/web/history", headers={"Cookie": f"{COOKIE}={browser}"}) as resp:
        assert (await resp.json())["messages"] == []
    reply, _ = await say(http, a, "定州", browser)
    assert "100个" not in reply["reply"]                    # nothing is waiting for a city any more
