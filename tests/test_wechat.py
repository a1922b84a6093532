"""The /wechat callback, driven through the real app by a simulator that behaves like WeChat's servers."""
from __future__ import annotations

import pytest

from bot.channels.wechat import text as say
from bot.dialogue.replies import scope
from bot.knowledge.schema import CITIES
from bot.state.store import Store

from . import wechat_fixtures
from .wechat_fixtures import APPID
from .wechat_sim import sign, to_xml

wechat, fake_api = wechat_fixtures.wechat, wechat_fixtures.fake_api     # fixtures
MODES = ["plain", "compatible", "safe"]
BUS = "平泉坐公交车要多少钱"


def assert_bus_fare(answer):
    assert answer.status == 200, answer.body
    assert "2元" in answer.text and "8元" in answer.text and "平泉" in answer.text


# -- URL verification -----------------------------------------------------------------------------

async def test_url_verification_echoes_echostr_when_signed(wechat):
    h = await wechat()
    assert await h.sim.verify_url("7413206508953114532") == (200, "7413206508953114532")


async def test_url_verification_with_bad_signature_is_403_and_reflects_nothing(wechat):
    h = await wechat()
    status, body = await h.sim.verify_url("reflected-7413206508953114532", signature="0" * 40)
    assert status == 403
    assert "reflected" not in body


async def test_url_verification_with_wrong_token_is_403(wechat):
    h = await wechat()
    h.sim.token = "someoneelsestoken"
    status, body = await h.sim.verify_url("7413206508953114532")
    assert (status, "7413" in body) == (403, False)


# -- modes ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", MODES)
async def test_question_is_answered_in_every_mode(wechat, mode):
    h = await wechat(mode)
    answer = await h.sim.post(h.sim.text(BUS, user="oAlice"))
    assert_bus_fare(answer)
    assert answer.reply["MsgType"] == "text"
    assert (answer.reply["ToUserName"], answer.reply["FromUserName"]) == ("oAlice", h.sim.account)
    assert "来源" in answer.text


async def test_safe_mode_reply_is_encrypted_and_signed(wechat):
    h = await wechat("safe")
    answer = await h.sim.post(h.sim.text(BUS))
    assert "Encrypt" in answer.body and "2元" not in answer.body     # open_reply checked signature and appid
    assert_bus_fare(answer)


async def test_compatible_mode_trusts_only_the_encrypted_copy(wechat):
    h = await wechat("compatible")
    fields = h.sim.text(BUS)
    query, body = h.sim.envelope(fields)
    forged = body.replace("平泉坐公交车要多少钱".encode(), "寿光大病保险起付线多少".encode())
    assert forged != body
    assert_bus_fare(await h.sim.post(fields, query=query, body=forged))


# -- refusals: nothing reaches the dialogue ---------------------------------------------------------

FORGED = [(mode, "signature") for mode in MODES] + [(mode, "msg_signature") for mode in ("compatible", "safe")]


@pytest.mark.parametrize("mode,field", FORGED)
async def test_a_wrong_signature_or_msg_signature_is_403(wechat, monkeypatch, mode, field):
    h = await wechat(mode)
    calls = h.count_dialogue(monkeypatch)
    fields = h.sim.text(BUS)
    query, body = h.sim.envelope(fields)
    answer = await h.sim.post(fields, query={**query, field: "f" * 40}, body=body)
    assert answer.status == 403 and calls == []


async def test_message_encrypted_for_another_appid_is_403(wechat, monkeypatch):
    h = await wechat("safe")
    calls = h.count_dialogue(monkeypatch)
    query, _ = h.sim.envelope(h.sim.text(BUS))
    encrypt = h.sim.crypt.encrypt(to_xml(h.sim.text(BUS)), appid="wx9999999999999999")
    query["msg_signature"] = h.sim.crypt.signature(query["timestamp"], query["nonce"], encrypt)
    body = to_xml({"ToUserName": h.sim.account, "Encrypt": encrypt}).encode()
    answer = await h.sim.post({}, query=query, body=body)
    assert answer.status == 403 and calls == []


async def test_safe_mode_without_encrypt_is_400(wechat, monkeypatch):
    h = await wechat("safe")
    calls = h.count_dialogue(monkeypatch)
    fields = h.sim.text(BUS)
    query, _ = h.sim.envelope(fields)
    answer = await h.sim.post(fields, query=query, body=to_xml(fields).encode())
    assert answer.status == 400 and calls == []


async def test_garbage_in_encrypt_is_400(wechat):
    h = await wechat("safe")
    query, _ = h.sim.envelope(h.sim.text(BUS))
    encrypt = "bm90IGEgY2lwaGVydGV4dA=="
    query["msg_signature"] = h.sim.crypt.signature(query["timestamp"], query["nonce"], encrypt)
    body = to_xml({"ToUserName": h.sim.account, "Encrypt": encrypt}).encode()
    assert (await h.sim.post({}, query=query, body=body)).status == 400


BAD_BODIES = {
    "broken xml": b"<xml><ToUserName><![CDATA[gh]]></ToUserName><MsgType>text</xml",
    "not xml": "平泉坐公交车要多少钱".encode(),
    "wrong root": b"<message><MsgType>text</MsgType></message>",
    "no MsgType": b"<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName></xml>",
    "entity bomb": (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;'
                    b'&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]><xml><Content>&lol2;</Content></xml>'),
    "external entity": (b'<!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><ToUserName>gh'
                        b'</ToUserName><FromUserName>o1</FromUserName><MsgType>text</MsgType>'
                        b'<Content>&xxe;</Content></xml>'),
    "oversized": b"<xml><Content>" + b"x" * (70 * 1024) + b"</Content></xml>",
    "bad CreateTime": (b"<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>soon"
                       b"</CreateTime><MsgType>text</MsgType><Content>hi</Content></xml>"),
}


@pytest.mark.parametrize("name", BAD_BODIES)
async def test_malformed_bodies_are_400_and_never_reach_the_dialogue(wechat, monkeypatch, name):
    h = await wechat()
    calls = h.count_dialogue(monkeypatch)
    query, _ = h.sim.envelope(h.sim.text("x"))
    answer = await h.sim.post({}, query=query, body=BAD_BODIES[name])
    assert answer.status == 400 and calls == []


async def test_unsigned_request_is_403_before_the_body_is_read(wechat):
    h = await wechat()
    answer = await h.sim.post({}, query={"timestamp": "1", "nonce": "2"}, body=BAD_BODIES["oversized"])
    assert answer.status == 403


# -- what citizens send ---------------------------------------------------------------------------

async def test_empty_content_asks_for_a_question(wechat):
    h = await wechat()
    answer = await h.sim.post(h.sim.text(""))
    assert "还没有输入问题" in answer.text


async def test_emoji_in_question_still_answered(wechat):
    h = await wechat("safe")
    assert_bus_fare(await h.sim.post(h.sim.text("😀平泉坐公交车要多少钱？👍")))


async def test_traditional_characters_answered(wechat):
    h = await wechat()
    assert_bus_fare(await h.sim.post(h.sim.text("平泉坐公車要多少錢")))


@pytest.mark.parametrize("mode", MODES)
async def test_cdata_terminator_in_user_text_cannot_break_the_reply(wechat, mode):
    h = await wechat(mode)
    answer = await h.sim.post(h.sim.text("]]><MsgType>news</MsgType><![CDATA[" + BUS))
    assert answer.reply["MsgType"] == "text"
    assert_bus_fare(answer)


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_cdata_terminator_in_an_answer_arrives_intact(wechat, redis, mode):
    h = await wechat(mode)
    tricky = "第二部分：见附件]]></Content><MsgType>news</MsgType>，完。"
    await Store(redis).put_more("wechat:oTricky", tricky)
    answer = await h.sim.post(h.sim.text("继续", user="oTricky"))
    assert answer.reply["MsgType"] == "text" and answer.text == tricky


async def test_voice_is_answered_from_its_recognition(wechat):
    h = await wechat()
    assert_bus_fare(await h.sim.post(h.sim.voice("平泉坐公交车要多少钱。")))


@pytest.mark.parametrize("recognition", [None, ""])
async def test_voice_without_recognition_says_so(wechat, monkeypatch, recognition):
    h = await wechat()
    calls = h.count_dialogue(monkeypatch)
    answer = await h.sim.post(h.sim.voice(recognition))
    assert answer.text == say.VOICE_UNRECOGNISED and calls == []


async def test_subscribe_welcomes_with_what_the_bot_can_do(wechat):
    h = await wechat("safe")
    answer = await h.sim.post(h.sim.event("subscribe", EventKey=""))
    assert answer.text == say.welcome(CITIES) and scope(CITIES) in answer.text


async def test_menu_click_asks_the_topic(wechat):
    h = await wechat()
    assert_bus_fare(await h.sim.post(h.sim.event("CLICK", EventKey="bus-fare")))


async def test_menu_click_with_unknown_key_gets_a_hint(wechat):
    h = await wechat()
    assert (await h.sim.post(h.sim.event("CLICK", EventKey="no-such-topic"))).text == say.menu_unknown(CITIES)


async def test_location_then_question_without_city_answers_for_the_nearest_city(wechat):
    h = await wechat()
    confirm = await h.sim.post(h.sim.location_event(41.2, 118.6, user="oNearPingquan"))
    assert confirm.text == say.located("平泉")
    assert_bus_fare(await h.sim.post(h.sim.text("坐公交车要多少钱", user="oNearPingquan")))


async def test_repeated_location_report_is_confirmed_once(wechat):
    h = await wechat()
    assert (await h.sim.post(h.sim.location_event(26.7, 119.5, user="oNingde"))).text == say.located("宁德")
    again = h.sim.location_event(26.7, 119.5, user="oNingde")
    again["CreateTime"] += 5                 # WeChat reports every 5 s while the chat is open
    assert (await h.sim.post(again)).body == "success"


async def test_sent_location_is_remembered(wechat):
    h = await wechat()
    assert (await h.sim.post(h.sim.location(36.9, 118.8, user="oShouguang"))).text == say.located("寿光")


@pytest.mark.parametrize("kind", ["image", "link"])
async def test_pictures_and_links_get_a_friendly_hint(wechat, kind):
    h = await wechat()
    assert (await h.sim.post(getattr(h.sim, kind)())).text == say.MEDIA_HINT


async def test_unknown_message_type_gets_a_hint(wechat):
    h = await wechat()
    fields = {**h.sim.text("x"), "MsgType": "miniprogrampage_v9"}
    assert (await h.sim.post(fields)).text == say.MEDIA_HINT


@pytest.mark.parametrize("event", ["unsubscribe", "VIEW", "TEMPLATESENDJOBFINISH", "some_future_event"])
async def test_other_events_are_acknowledged_silently(wechat, event):
    h = await wechat("safe")
    answer = await h.sim.post(h.sim.event(event, EventKey="https://example.org"))
    assert (answer.status, answer.body) == (200, "success")


# -- long replies ---------------------------------------------------------------------------------

def test_long_text_is_cut_after_a_sentence_within_wechats_limit():
    sentence = "驻马店市持续推进老旧小区改造，完善配套设施，群众满意度不断提高。"
    text = sentence * 40
    head, rest = say.fit(text)
    assert len(head.encode()) <= say.MAX_BYTES
    assert head.endswith(say.MORE_HINT) and head.removesuffix(say.MORE_HINT).endswith("。")
    assert head.removesuffix(say.MORE_HINT) + rest == text


def test_text_without_sentence_ends_is_cut_on_a_character():
    head, rest = say.fit("字" * 1000)
    assert len(head.encode()) <= say.MAX_BYTES and rest and set(rest) == {"字"}


async def test_continue_sends_the_rest_of_a_long_answer(wechat, redis):
    h = await wechat()
    await Store(redis).put_more("wechat:oLong", "第一句。" * 300)
    first = await h.sim.post(h.sim.text("继续", user="oLong"))
    assert len(first.text.encode()) <= say.MAX_BYTES and first.text.endswith(say.MORE_HINT)
    second = await h.sim.post(h.sim.text("更多", user="oLong"))
    assert not second.text.endswith(say.MORE_HINT)
    assert first.text.removesuffix(say.MORE_HINT) + second.text == "第一句。" * 300
    third = await h.sim.post(h.sim.text("继续", user="oLong"))
    assert third.text == say.NOTHING_MORE


# -- retries, deadline, customer-service fallback ---------------------------------------------------

async def test_duplicate_deliveries_get_the_same_reply_and_one_dialogue_turn(wechat, monkeypatch):
    import asyncio
    h = await wechat()
    calls = h.count_dialogue(monkeypatch, delay=0.2)
    fields = h.sim.text(BUS, user="oDup")
    answers = await asyncio.gather(*(h.sim.post(fields) for _ in range(3)))
    assert len(calls) == 1
    assert len({a.text for a in answers}) == 1
    assert_bus_fare(answers[0])


async def test_wechat_retry_after_timeout_gets_the_reply_of_the_first_try(wechat, monkeypatch):
    h = await wechat(deadline=1.5, timeout=0.25)     # WeChat's 4 s / 5 s, scaled down
    calls = h.count_dialogue(monkeypatch, delay=0.4)
    attempts = await h.sim.send(h.sim.text(BUS, user="oRetry"))
    assert attempts.answers[0] is None and attempts.final is not None
    assert_bus_fare(attempts.final)
    assert len(calls) == 1


async def test_events_are_deduplicated_by_sender_and_time(wechat):
    h = await wechat()
    event = h.sim.event("CLICK", user="oClick", EventKey="bus-fare")
    first, retry = await h.sim.post(event), await h.sim.post(event)
    assert first.text == retry.text and first.text
    later = {**event, "CreateTime": event["CreateTime"] + 1}
    assert (await h.sim.post(later)).text == first.text          # a new click is answered again


async def test_slow_reply_says_success_then_arrives_by_customer_service(wechat, fake_api, monkeypatch):
    h = await wechat("safe", deadline=0.3, timeout=1.0)
    calls = h.count_dialogue(monkeypatch, delay=0.6)
    fields = h.sim.text(BUS, user="oSlow")
    first = await h.sim.post(fields)
    assert (first.status, first.body) == (200, "success")
    retry = await h.sim.post(fields)                        # WeChat stops after "success"; a stray retry
    assert retry.body == "success"                          # must not get a second copy
    sends = await fake_api.wait_for_sends(1)
    assert len(sends) == 1 and len(calls) == 1
    assert sends[0]["touser"] == "oSlow" and sends[0]["msgtype"] == "text"
    assert "2元" in sends[0]["text"]["content"]
    assert fake_api.token_fetches == 1


async def test_wrong_appid_in_settings_never_answers(wechat):
    h = await wechat("safe")
    h.sim.crypt.appid = h.sim.appid = "wx9999999999999999"     # a callback meant for another account
    answer = await h.sim.post(h.sim.text(BUS))
    assert answer.status == 403 and APPID not in answer.body


def test_plain_signature_is_wechats():
    from bot.channels.wechat.envelope import signature
    assert signature("pamtest", "1409304348", "xxxxxx") == sign("pamtest", "1409304348", "xxxxxx")
