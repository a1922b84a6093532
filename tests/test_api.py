"""POST /api/chat through the real aiohttp app: the contract, and bad input answered clearly."""
import time

import pytest

from bot.models import Reply, Source

from .grounding_assert import assert_grounded

KEYS = {"reply", "topic", "city", "confidence", "sources", "suggestions"}


async def test_chat_returns_the_documented_shape(client):
    resp = await client.post("/api/chat", json={"user_id": "u1", "text": "平泉坐公交车要多少钱"})
    assert resp.status == 200
    body = await resp.json()
    assert KEYS <= set(body)
    assert body["topic"] == "bus-fare" and body["city"] == "平泉" and 0 < body["confidence"] <= 1
    assert {"seed", "city", "quote"} <= set(body["sources"][0])
    assert "2元" in body["reply"] and "8元" in body["reply"]
    reply = Reply(body["reply"], sources=tuple(Source(s["seed"], s["city"], s["quote"], s["label"])
                                               for s in body["sources"]))
    assert_grounded(reply)


async def test_no_match_has_null_topic(client):
    body = await (await client.post("/api/chat", json={"user_id": "u2", "text": "讲个笑话"})).json()
    assert body["topic"] is None and body["sources"] == [] and "12345" in body["reply"]


async def test_the_session_carries_across_requests(client):
    await client.post("/api/chat", json={"user_id": "u3", "text": "老旧小区改造进展怎么样"})
    body = await (await client.post("/api/chat", json={"user_id": "u3", "text": "定州"})).json()
    assert body["city"] == "定州" and "100个" in body["reply"]


@pytest.mark.parametrize("raw,needle", [
    (b"{not json", "JSON"),
    (b"[1, 2]", "JSON对象"),
    (b'{"text": "hi"}', "user_id"),
    (b'{"user_id": "u", "text": 5}', "text"),
    (b'{"user_id": "bad id with spaces", "text": "hi"}', "user_id"),
    (b'{"user_id": "u", "text": "' + "长" .encode() * 2001 + b'"}', "太长"),
    (b"\xff\xfe\x00garbage", "UTF-8"),
    (b"", "JSON"),
])
async def test_malformed_requests_get_400_with_a_json_error(client, raw, needle):
    resp = await client.post("/api/chat", data=raw, headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert needle in (await resp.json())["error"]


async def test_oversized_body_is_413_json(client):
    resp = await client.post("/api/chat", data=b"x" * (70 * 1024), headers={"Content-Type": "application/json"})
    assert resp.status == 413 and "error" in await resp.json()


@pytest.mark.parametrize("text", ["", "😀", "平泉公車票價多少？", "]]></xml><script>alert(1)</script>", "\u3000\u3000"])
async def test_odd_text_is_answered_not_crashed(client, text):
    resp = await client.post("/api/chat", json={"user_id": "u4", "text": text})
    assert resp.status == 200 and (await resp.json())["reply"]


async def test_wrong_method_and_unknown_path_are_json(client):
    assert (await client.get("/api/chat")).status == 405
    resp = await client.get("/no-such-page")
    assert resp.status == 404 and "error" in await resp.json()


async def test_health(client):
    resp = await client.get("/healthz")
    assert resp.status == 200 and (await resp.json())["status"] == "ok"


@pytest.mark.parametrize("user_id", ["wechat:oABC123", "web:browser-id"])
async def test_channel_sessions_cannot_be_named_through_the_open_api(client, user_id):
    resp = await client.post("/api/chat", json={"user_id": user_id, "text": "定州"})
    assert resp.status == 400 and "前缀" in (await resp.json())["error"]


async def test_a_redis_stall_is_answered_statelessly_not_503(client, redis_server):
    redis_server.process.send_signal(19)          # SIGSTOP: the server stops answering
    try:
        started = time.monotonic()
        resp = await client.post("/api/chat", json={"user_id": "u9", "text": "平泉公交多少钱"})
        assert resp.status == 200 and "2元" in (await resp.json())["reply"]
        assert time.monotonic() - started < 2.0
        health = await client.get("/healthz")
        assert health.status == 200                  # liveness never waits on Redis
        assert (await client.get("/readyz")).status == 503
    finally:
        redis_server.process.send_signal(18)      # SIGCONT
