"""Property-based tests (hypothesis): on any input, normalisation, matching, a whole turn, the WeChat parser
and the JSON API raise nothing unexpected and answer within a (generous) bound; and a time-boxed fuzz run
of all of them with fresh random inputs (FUZZ_SECONDS, default 15, at most 60)."""
from __future__ import annotations

import json
import os
import time

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.web.api import loads, parse_chat
from bot.channels.wechat import callback
from bot.channels.wechat.envelope import Envelope, Rejected
from bot.dialogue.turn import Dialogue
from bot.settings import WeChatSettings
from bot.state.store import Session
from bot.understanding.text import normalize

from .served import Served
from .wechat_sim import to_xml

FUZZ_SECONDS = min(60.0, float(os.environ.get("FUZZ_SECONDS", "15")))
SLOW_TURN = 2.0            # seconds; a turn takes ~150 ms at worst on a busy CI machine
SLOW_PARSE = 0.5
HTTP_BOUND = 5.0           # seconds for a whole request to a served process: WeChat's own deadline
QUICK = settings(max_examples=150, deadline=None, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

chinese = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FFF), max_size=40)
anything = st.text(st.characters(codec="utf-8"), max_size=600)
citizen_text = st.one_of(anything, chinese, st.lists(st.sampled_from(
    ["平泉", "定州", "公交", "多少钱", "医保", "起付线", "那", "呢", "😀", "？", "继续", "一二三", "ａｂｃ", "車", " ", "\n"]),
    max_size=30).map("".join))
cities = st.sampled_from([None, "平泉", "定州", "驻马店", "宁德", "寿光"])


def timed(fn, *args):
    started = time.perf_counter()
    result = fn(*args)
    return result, time.perf_counter() - started


@pytest.fixture(scope="module")
def pure_dialogue(brain):
    return Dialogue(brain, None)


# -- normalisation, matching, a turn -----------------------------------------------------------------

def check_normalize(text: str) -> None:
    out, seconds = timed(normalize, text)
    assert isinstance(out, str) and seconds < SLOW_PARSE


def check_rank(brain, text: str, city) -> None:
    ranked, seconds = timed(brain.matcher.rank, normalize(text[:500]), city)
    assert seconds < SLOW_TURN
    assert all(0.0 <= m.score <= 1.5 for m in ranked)


def check_turn(dialogue, text: str, city) -> None:
    (reply, session), seconds = timed(dialogue.turn, text, Session(home=city))
    assert seconds < SLOW_TURN, (text, seconds)
    assert reply.text and isinstance(session, Session)


@QUICK
@given(citizen_text)
def test_normalize_never_fails_and_is_quick(text):
    check_normalize(text)


@QUICK
@given(citizen_text, cities)
def test_matching_never_fails_and_is_quick(brain, text, city):
    check_rank(brain, text, city)


@settings(QUICK, max_examples=80)
@given(citizen_text, cities)
def test_a_turn_always_replies_within_the_bound(pure_dialogue, text, city):
    check_turn(pure_dialogue, text, city)


# -- the WeChat parser -------------------------------------------------------------------------------

PLAIN = Envelope(WeChatSettings(token="citizenbot2024"))
field_names = st.sampled_from(["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content", "MsgId", "Event",
                               "EventKey", "Latitude", "Location_X", "Recognition", "Encrypt", "x"])
values = st.one_of(st.text(max_size=30), st.integers(), st.sampled_from(["text", "event", "subscribe", "CLICK",
                                                                          "LOCATION", "voice", ""]))
wechat_fields = st.dictionaries(field_names, values, max_size=9)


def check_wechat_body(body: bytes) -> None:
    started = time.perf_counter()
    try:
        xml, fields = PLAIN.open({}, body)
        callback._parse(xml, fields)
        callback._Kind.of(fields)
    except Rejected:
        pass
    assert time.perf_counter() - started < SLOW_PARSE


@QUICK
@given(wechat_fields)
def test_wechat_parser_accepts_or_rejects_any_message_never_crashes(fields):
    check_wechat_body(to_xml(fields).encode("utf-8", "surrogatepass"))


@QUICK
@given(st.binary(max_size=400) | wechat_fields.map(lambda f: to_xml(f).encode("utf-16", "surrogatepass")))
def test_wechat_parser_survives_any_bytes(body):
    check_wechat_body(body)


# -- the JSON API ----------------------------------------------------------------------------------

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | anything,
                           lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                          max_size=4), max_leaves=12)
chat_bodies = st.one_of(
    st.fixed_dictionaries({"user_id": st.text(max_size=20) | st.integers(), "text": citizen_text | json_values}),
    json_values)


def check_parse_chat(payload) -> None:
    try:
        parse_chat(loads(json.dumps(payload)))
    except ValueError:
        pass


@QUICK
@given(chat_bodies)
def test_chat_body_parser_returns_or_says_what_is_wrong(payload):
    check_parse_chat(payload)


@pytest.fixture(scope="module")
def served_api(redis_server, tmp_path_factory):
    import asyncio
    env = {"RATE_LIMIT_CHAT_USER": "100000/60", "RATE_LIMIT_CHAT_ADDRESS": "100000/60"}
    server = Served(redis_server.url, tmp_path_factory.mktemp("props") / "serve.log", env=env)
    try:
        asyncio.run(server.wait_ready())
        yield server
    finally:
        server.stop()


def check_http(url: str, body: bytes, path: str = "/api/chat") -> None:
    started = time.perf_counter()
    resp = requests.post(url + path, data=body, headers={"Content-Type": "application/json"}, timeout=10)
    assert time.perf_counter() - started < HTTP_BOUND
    assert resp.status_code in (200, 400, 413, 429), (body[:200], resp.status_code, resp.text[:200])
    assert "error" in resp.json() or "reply" in resp.json()


@settings(QUICK, max_examples=60)
@given(chat_bodies.map(lambda p: json.dumps(p).encode()) | st.binary(max_size=200))
def test_the_real_chat_api_answers_every_body_with_200_or_a_clear_4xx(served_api, body):
    check_http(served_api.url, body)


# -- the time-boxed fuzz run -------------------------------------------------------------------------

def test_fuzz_everything_for_a_bounded_time(brain, pure_dialogue, served_api):
    """Fresh random inputs, batch after batch, until FUZZ_SECONDS are up."""
    batch = settings(QUICK, max_examples=25)

    @batch
    @given(citizen_text, cities, wechat_fields, st.binary(max_size=300), chat_bodies)
    def one_batch(text, city, fields, raw, payload):
        check_normalize(text)
        check_turn(pure_dialogue, text, city)
        check_wechat_body(to_xml(fields).encode("utf-8", "surrogatepass"))
        check_wechat_body(raw)
        check_parse_chat(payload)
        check_http(served_api.url, json.dumps(payload).encode(), "/api/web/chat")

    until, batches = time.monotonic() + FUZZ_SECONDS, 0
    while time.monotonic() < until:
        one_batch()
        batches += 1
    assert batches >= 1
