"""Two real `python -m bot serve` processes sharing one real redis-server: a browser that talks to one and
then the other keeps its conversation (pending clarification, remembered city, history); a briefing staff
upload through one is worked on and answered by the other."""
from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from bot.channels.web.page import COOKIE

from .admin_helpers import Console, add_user, admin_settings, staff  # noqa: F401
from .served import Served
from .test_briefings import FARE, SIXTH

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


class _Remote:
    """What the staff-console Console needs of a test client, for a served process."""

    def __init__(self, http: aiohttp.ClientSession, server: Served):
        self.session, self.host, self.port, self._url = http, "127.0.0.1", server.port, server.url

    def request(self, method: str, path: str, **kw):
        return self.session.request(method, self._url + path, **kw)


async def signed_in_on(http, server: Served, name: str) -> Console:
    console = Console(_Remote(http, server))
    await console.login(name)
    return console


async def test_a_briefing_uploaded_through_one_process_is_worked_on_and_answered_by_the_other(
        two_servers, http, add_user):  # noqa: F811
    a, b = two_servers
    for name, role in (("ed", "editor"), ("pub", "publisher")):
        await add_user(name, role)
    made = await (await signed_in_on(http, a, "ed")).json("POST", "briefings", {
        "city": "桐乡", "title": "桐乡市“我为群众办实事”新闻发布会", "date": "2026年11月", "text": SIXTH,
        "places": ["梧桐街道", "濮院镇", "乌镇镇"]}, status=201)
    on_b = await signed_in_on(http, b, "ed")
    listed = await on_b.json("GET", f"briefings/{made['file']}/candidates")     # B reads it from Redis
    fare = next(c for p in listed["paragraphs"] for c in p["candidates"] if c["sentence"] == FARE)
    assert listed["city"] == "桐乡" and listed["gaps"] == ["高至每人每年_元", "报销比例达到_%"]
    saved = await on_b.json("POST", f"briefings/{made['file']}/answer", {"start": fare["start"], "topic": "bus-fare"})
    assert saved["topic"]["answers"]["桐乡"]["seed"] == made["file"]
    await (await signed_in_on(http, a, "pub")).json("POST", "publish", {"note": "新增桐乡", "confirm": True})

    async def answered(server: Served, n: int) -> bool:
        async with http.post(server.url + "/api/chat", json={"user_id": f"poll{n}", "text": "濮院镇坐公交多少钱"}) as r:
            body = await r.json()
        return r.status == 200 and (body["kind"], body["city"], body["topic"]) == ("answer", "桐乡", "bus-fare")

    pending, deadline, n = {a.url: a, b.url: b}, time.monotonic() + 30, 0    # a bound, not a timing
    while pending and time.monotonic() < deadline:
        for url, server in list(pending.items()):
            n += 1
            if await answered(server, n):
                del pending[url]
        await asyncio.sleep(1.0)                      # slow enough for the per-address rate limit
    assert not pending, f"not answered for 桐乡 by {sorted(pending)}"
