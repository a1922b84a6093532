"""Every malformed input gets a clear 4xx through the real app, and nothing is processed or stored."""
from __future__ import annotations

import pytest

from bot.channels.web import page as webpage

from . import wechat_fixtures
from .redis_server import citizen_keys
from .wechat_sim import to_xml

wechat, fake_api = wechat_fixtures.wechat, wechat_fixtures.fake_api     # fixtures
DEEP = b"[" * 30_000 + b"]" * 30_000
BUS = "平泉坐公交车要多少钱"


async def nothing_stored(redis) -> bool:
    """No key but the rate-limit counters, which count every request, bad ones included (on purpose), and
    the knowledge versions the app seeds at start-up."""
    return [k for k in await citizen_keys(redis) if b":rate:" not in k] == []


# -- the JSON APIs ----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/chat", "/api/web/chat"])
async def test_json_nested_30000_levels_is_400_not_503(client, redis, path):
    resp = await client.post(path, data=b'{"user_id": "u1", "text": ' + DEEP + b"}",
                             headers={"Content-Type": "application/json"})
    assert resp.status == 400 and (await resp.json())["error"]
    assert await nothing_stored(redis)


@pytest.mark.parametrize("path", ["/api/chat", "/api/web/chat"])
async def test_lone_surrogate_in_chat_text_is_400(client, redis, path):
    resp = await client.post(path, data=b'{"user_id": "u1", "text": "\\udc00\\u516c\\u4ea4"}',
                             headers={"Content-Type": "application/json"})
    assert resp.status == 400 and "字符" in (await resp.json())["error"]
    assert await nothing_stored(redis)


@pytest.mark.parametrize("user_id", ["alice\n", "alice\r", "al\x00ice", "alice\t", "\nalice", "ali\u2028ce"])
async def test_user_id_with_a_control_character_is_400(client, redis, user_id):
    resp = await client.post("/api/chat", json={"user_id": user_id, "text": BUS})
    assert resp.status == 400 and "user_id" in (await resp.json())["error"]
    assert await nothing_stored(redis)


async def test_emoji_only_message_does_not_repeat_the_previous_answer(client):
    first = await (await client.post("/api/chat", json={"user_id": "emoji-1", "text": BUS})).json()
    assert "2元" in first["reply"]
    again = await (await client.post("/api/chat", json={"user_id": "emoji-1", "text": "😀👍🏻🚌"})).json()
    assert "2元" not in again["reply"] and "文字" in again["reply"]


# -- CSRF on the cookie API -------------------------------------------------------------------------

async def started(client) -> str:
    resp = await client.post("/api/web/chat", json={"text": BUS})       # the first question issues the cookie
    return resp.cookies[webpage.COOKIE].value


@pytest.mark.parametrize("headers", [{}, {"Origin": "https://evil.example"}, {"Origin": "null"},
                                     {"Referer": "https://evil.example/page"}])
async def test_reset_from_another_site_or_no_origin_is_403(client, redis, headers):
    browser = await started(client)
    await client.post("/api/web/chat", json={"text": BUS}, headers={"Cookie": f"{webpage.COOKIE}={browser}"})
    keys_before = await redis.keys("*")
    resp = await client.post("/api/web/reset", headers={"Cookie": f"{webpage.COOKIE}={browser}", **headers})
    assert resp.status == 403 and (await resp.json())["error"]
    assert set(await redis.keys("*")) >= set(keys_before)        # the conversation is still there


@pytest.mark.parametrize("headers", [{}, {"Origin": "https://evil.example"}, {"Origin": "null"},
                                     {"Referer": "https://evil.example/page"}])
async def test_feedback_from_another_site_or_no_origin_is_403_and_stores_nothing(client, redis, headers):
    own = {"Origin": str(client.make_url("/")).rstrip("/")}
    resp = await client.post("/api/web/chat", json={"text": BUS}, headers=own)
    browser, rating = resp.cookies[webpage.COOKIE].value, (await resp.json())["rating"]
    cookie = {"Cookie": f"{webpage.COOKIE}={browser}"}
    before = {k: await redis.dump(k) for k in await redis.keys("*") if await redis.type(k) != b"stream"}
    resp = await client.post("/api/web/feedback", json={"rating": rating, "helpful": False},
                             headers={**cookie, **headers})
    assert resp.status == 403 and (await resp.json())["error"]
    after = {k: await redis.dump(k) for k in await redis.keys("*") if await redis.type(k) != b"stream"}
    assert after == before                       # no rating counted, nothing in the inbox, the offer kept
    resp = await client.post("/api/web/feedback", json={"rating": rating, "helpful": False},
                             headers={**cookie, **own})
    assert resp.status == 200                    # the page itself may still rate that answer, once


async def test_reset_from_the_page_itself_works(client):
    browser = await started(client)
    origin = str(client.make_url("/")).rstrip("/")
    resp = await client.post("/api/web/reset", headers={"Cookie": f"{webpage.COOKIE}={browser}", "Origin": origin})
    assert resp.status == 200


async def test_chat_posted_from_another_site_is_403(client, redis):
    resp = await client.post("/api/web/chat", json={"text": BUS}, headers={"Origin": "https://evil.example"})
    assert resp.status == 403
    assert await nothing_stored(redis)


# -- WeChat -----------------------------------------------------------------------------------------

def event_xml(sim, event_part: str) -> str:
    base = to_xml(sim._base("oForger", "event"))
    return base.replace("</xml>", event_part + "</xml>")


@pytest.mark.parametrize("event_part", ["<Event></Event>", "<Event/>", "<Event><![CDATA[ ]]></Event>",
                                        "<Event><a>subscribe</a></Event>",
                                        "<Event>CLICK</Event><EventKey><k>bus-fare</k></EventKey>",
                                        "<Event>CLICK</Event><Event>CLICK</Event>"])
@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_wechat_event_with_empty_or_element_event_is_400(wechat, redis, mode, event_part):
    h = await wechat(mode)
    answer = await h.sim.post(event_xml(h.sim, event_part))
    assert answer.status == 400
    assert await nothing_stored(redis)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le"])
async def test_wechat_utf16_or_utf32_body_is_400_before_the_xml_parser(wechat, redis, encoding):
    h = await wechat("plain")
    fields = h.sim.text(BUS)
    query, _ = h.sim.envelope(fields)
    doctype = '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]>' + to_xml(fields)
    answer = await h.sim.post(fields, query=query, body=doctype.encode(encoding))
    assert answer.status == 400
    assert await nothing_stored(redis)


async def test_wechat_declared_foreign_encoding_is_400(wechat, redis):
    h = await wechat("plain")
    fields = h.sim.text(BUS)
    query, _ = h.sim.envelope(fields)
    body = ('<?xml version="1.0" encoding="UTF-16"?>' + to_xml(fields)).encode()
    assert (await h.sim.post(fields, query=query, body=body)).status == 400
    assert await nothing_stored(redis)


async def test_wechat_timestamp_with_trailing_newline_is_refused(wechat, redis):
    h = await wechat("plain")
    fields = h.sim.text(BUS)
    query, body = h.sim.envelope(fields)
    answer = await h.sim.post(fields, query={**query, "nonce": query["nonce"] + "\n"}, body=body)
    assert answer.status == 403
    assert await nothing_stored(redis)
