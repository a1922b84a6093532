"""The web chat page and its cookie-session API, through the real app (real Redis, no mocks)."""
from __future__ import annotations

import re

import pytest

from bot.channels.web import page as webpage
from bot.channels.web.api import MAX_TEXT

BUS = "平泉坐公交车要多少钱"
OLD_COMPOUNDS = "老旧小区改造进展怎么样"


def browser_of(resp) -> str:
    return resp.cookies[webpage.COOKIE].value


async def say(client, text, browser: str | None = None):
    """POST one message as a browser holding `browser` (or none); returns (status, body, browser id)."""
    client.session.cookie_jar.clear()      # each call speaks only for the browser it names
    headers = {"Cookie": f"{webpage.COOKIE}={browser}"} if browser else {}
    resp = await client.post("/api/web/chat", json={"text": text}, headers=headers)
    body = await resp.json()
    return resp.status, body, (browser_of(resp) if webpage.COOKIE in resp.cookies else None)


async def history(client, browser: str) -> list[dict]:
    client.session.cookie_jar.clear()
    resp = await client.get("/api/web/history", headers={"Cookie": f"{webpage.COOKIE}={browser}"})
    assert resp.status == 200
    return (await resp.json())["messages"]


async def raw_post(client, data: bytes, content_type="application/json"):
    resp = await client.post("/api/web/chat", data=data, headers={"Content-Type": content_type})
    return resp.status, await resp.json()


# --- the page and its assets -------------------------------------------------------------------------

async def test_page_is_served_with_a_strict_content_security_policy(client):
    resp = await client.get("/")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    assert "default-src 'self'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Cache-Control"] == "no-cache"
    html = await resp.text()
    assert '<html lang="zh-CN">' in html and "viewport-fit=cover" in html
    assert "重新开始" in html


async def test_assets_are_fingerprinted_and_cached_forever_only_with_their_fingerprint(client):
    html = await (await client.get("/")).text()
    for name in webpage.ASSETS:
        versioned = re.search(rf'/static/{re.escape(name)}\?v=[0-9a-f]{{12}}', html).group(0)
        resp = await client.get(versioned)
        assert resp.status == 200
        assert "immutable" in resp.headers["Cache-Control"]
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        stale = await client.get(f"/static/{name}?v=000000000000")
        assert stale.headers["Cache-Control"] == "no-cache"


@pytest.mark.parametrize("path", ["/static/index.html", "/static/nope.js", "/static/..%2Fapp.py",
                                  "/static/%2e%2e/channels/web.py"])
async def test_only_the_page_assets_are_served_from_static(client, path):
    resp = await client.get(path)
    assert resp.status == 404
    assert "error" in await resp.json()


def test_page_loads_nothing_from_other_sites():
    for name in ("index.html", *webpage.ASSETS):
        text = (webpage.STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/", text, re.IGNORECASE), name
        assert "@import" not in text and "@font-face" not in text


def test_script_never_turns_data_into_markup():
    script = (webpage.STATIC / "chat.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in script


def test_inputs_are_16px_so_ios_does_not_zoom():
    css = (webpage.STATIC / "chat.css").read_text(encoding="utf-8")
    rule = re.search(r"\.composer__input \{(.*?)\}", css, re.DOTALL).group(1)
    assert "font-size: 16px" in rule
    assert "safe-area-inset-bottom" in css


# --- the browser's session -----------------------------------------------------------------------------

async def test_first_question_gets_an_unguessable_httponly_lax_cookie(client):
    resp = await client.get("/api/web/history")
    assert webpage.COOKIE not in resp.cookies and (await resp.json())["messages"] == []   # nothing stored yet
    resp = await client.post("/api/web/chat", json={"text": BUS})
    cookie = resp.cookies[webpage.COOKIE]
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", cookie.value)
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"


async def test_a_made_up_cookie_is_not_believed(client):
    made_up = "A" * 32
    status, body, browser = await say(client, BUS, browser=made_up)
    assert status == 200 and "2元" in body["reply"]
    assert browser and browser != made_up
    client.session.cookie_jar.clear()
    resp = await client.get("/api/web/history", headers={"Cookie": f"{webpage.COOKIE}={made_up}"})
    assert webpage.COOKIE not in resp.cookies and (await resp.json())["messages"] == []


async def test_conversation_survives_a_reload(client):
    _, first, browser = await say(client, BUS)
    _, _, same = await say(client, OLD_COMPOUNDS, browser)
    assert same == browser
    messages = await history(client, browser)
    assert [m["role"] for m in messages] == ["user", "bot", "user", "bot"]
    assert messages[0]["text"] == BUS
    assert messages[1]["reply"] == first["reply"] and messages[1]["sources"][0]["city"] == "平泉"
    assert messages[2]["text"] == OLD_COMPOUNDS


async def test_two_browsers_never_see_each_others_conversation(client):
    _, _, alice = await say(client, BUS)
    _, _, bob = await say(client, "宁德社保卡怎么办")
    assert alice != bob
    assert [m.get("text") for m in await history(client, bob) if m["role"] == "user"] == ["宁德社保卡怎么办"]


async def test_a_clarification_is_answered_by_naming_the_city(client):
    _, clarify, browser = await say(client, OLD_COMPOUNDS)
    assert clarify["kind"] == "clarify" and "定州" in clarify["suggestions"]
    _, answer, _ = await say(client, "定州", browser)
    assert answer["kind"] == "answer" and answer["city"] == "定州" and "100个" in answer["reply"]


async def test_start_over_forgets_the_conversation_and_the_pending_question(client):
    _, _, browser = await say(client, OLD_COMPOUNDS)
    client.session.cookie_jar.clear()
    resp = await client.post("/api/web/reset", headers={"Cookie": f"{webpage.COOKIE}={browser}",
                                                        "Origin": str(client.make_url("/")).rstrip("/")})
    assert resp.status == 200 and browser_of(resp) == browser
    assert await history(client, browser) == []
    _, reply, _ = await say(client, "定州", browser)
    assert "100个" not in reply["reply"]            # the old question no longer waits for a city


async def test_history_offers_starter_questions_that_get_answers(client):
    starters = (await (await client.get("/api/web/history")).json())["starters"]
    assert 1 <= len(starters) <= webpage.STARTERS
    for question in starters:
        _, reply, _ = await say(client, question)
        assert reply["kind"] == "answer", question


# --- bad input: a clear JSON error or an answer, never a 500 --------------------------------------------

@pytest.mark.parametrize("text", ["", "   \n\t"])
async def test_empty_message_is_a_clear_error(client, text):
    status, body, _ = await say(client, text)
    assert status == 400 and body["error"] == "请输入您的问题"


async def test_too_long_message_is_a_clear_error(client):
    status, body, _ = await say(client, "公交" * MAX_TEXT)
    assert status == 400 and "太长" in body["error"]


async def test_oversized_body_is_413_json(client):
    status, body = await raw_post(client, b'{"text": "' + b"a" * (70 * 1024) + b'"}')
    assert status == 413 and "error" in body


@pytest.mark.parametrize("data", [b"{not json", b"", b"[1, 2]", b'"text"', b'{"text": 5}', b'{"txt": "hi"}',
                                  b'{"text": null}', b"\xff\xfe\x00garbage"])
async def test_garbage_body_is_a_clear_error(client, data):
    status, body = await raw_post(client, data)
    assert status == 400 and body["error"]


async def test_lone_surrogate_is_a_clear_error_not_a_crash(client):
    status, body = await raw_post(client, b'{"text": "\\ud800\\u516c\\u4ea4"}')
    assert status == 400 and "字符" in body["error"]


async def test_form_posts_are_refused(client):
    """A cross-site form cannot send JSON, so refusing other bodies keeps forged posts out."""
    status, body = await raw_post(client, b"text=hi", content_type="application/x-www-form-urlencoded")
    assert status == 415 and "JSON" in body["error"]


async def test_emoji_only_message_gets_a_reply(client):
    status, body, _ = await say(client, "😀👍🏻🚌")
    assert status == 200 and body["kind"] in ("fallback", "smalltalk") and body["reply"]


async def test_traditional_characters_are_answered(client):
    status, body, _ = await say(client, "平泉坐公車要多少錢")
    assert status == 200 and body["city"] == "平泉" and "2元" in body["reply"] and "8元" in body["reply"]


async def test_markup_in_a_message_comes_back_as_plain_data(client):
    attack = '<img src=x onerror="alert(1)">'
    status, _, browser = await say(client, attack)
    assert status == 200
    assert (await history(client, browser))[0]["text"] == attack      # stored verbatim; the page shows text


@pytest.mark.parametrize("method,path", [("GET", "/api/web/chat"), ("GET", "/api/web/reset"),
                                         ("POST", "/api/web/history"), ("DELETE", "/")])
async def test_wrong_method_is_405_json(client, method, path):
    resp = await client.request(method, path)
    assert resp.status == 405 and "error" in await resp.json()


async def test_chat_api_contract_is_unchanged(client):
    resp = await client.post("/api/chat", json={"user_id": "api-1", "text": BUS})
    body = await resp.json()
    assert {"reply", "topic", "city", "confidence", "sources", "suggestions"} <= set(body)
    assert webpage.COOKIE not in resp.cookies
