"""Replays on /wechat: a signed callback is good only near its timestamp, once per nonce and message."""
from __future__ import annotations

import time

import pytest

from bot import keys

from . import wechat_fixtures
from .redis_server import citizen_keys
from .wechat_sim import sign

wechat, fake_api = wechat_fixtures.wechat, wechat_fixtures.fake_api     # fixtures
UNANSWERABLE = "火星移民签证怎么办理"        # a fallback: each dialogue turn counts it once in the inbox


def signed_at(sim, timestamp: int, nonce: str = "4242") -> dict:
    return {"signature": sign(sim.token, str(timestamp), nonce), "timestamp": str(timestamp), "nonce": nonce}


@pytest.mark.parametrize("when", [lambda: 0, lambda: 1, lambda: time.time() - 310, lambda: time.time() + 310,
                                  lambda: 99_999_999_999], ids=["0", "1", "-310s", "+310s", "year-5138"])
async def test_timestamps_outside_the_window_are_403(wechat, redis, when):
    h = await wechat("plain")
    fields = h.sim.text(UNANSWERABLE)
    answer = await h.sim.post(fields, query=signed_at(h.sim, int(when())))
    assert answer.status == 403
    assert await citizen_keys(redis) == []


async def test_url_verification_with_an_old_timestamp_is_403(wechat):
    h = await wechat("plain")
    query = {**signed_at(h.sim, int(time.time()) - 3600), "echostr": "123"}
    async with h.sim.http.get(h.sim.url, params=query) as response:
        assert response.status == 403


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_a_replayed_message_is_answered_from_memory_never_processed_twice(wechat, redis, mode):
    h = await wechat(mode)
    fields = h.sim.text(UNANSWERABLE, user="oReplay")
    query, body = h.sim.envelope(fields)
    first = await h.sim.post(fields, query=query, body=body)
    again = await h.sim.post(fields, query=query, body=body)          # the same bytes, captured and sent again
    assert first.status == again.status == 200 and first.text == again.text
    [missed] = await h.app[keys.RECORDER].inbox.groups()
    assert missed["count"] == 1                                       # the dialogue ran once
    # The reply (hence the dedup) outlives the window in which the timestamp is accepted at all.
    [result] = await redis.keys("*:result:*")
    assert await redis.ttl(result) >= 2 * 300


async def test_a_captured_query_cannot_carry_another_body(wechat, redis):
    """Plaintext mode: the signature covers only token, timestamp and nonce."""
    h = await wechat("plain")
    fields = h.sim.text("平泉坐公交车要多少钱", user="oVictim")
    query, body = h.sim.envelope(fields)
    assert (await h.sim.post(fields, query=query, body=body)).status == 200
    forged = h.sim.text(UNANSWERABLE, user="oVictim")
    answer = await h.sim.post(forged, query=query)
    assert answer.status == 403
    assert await h.app[keys.RECORDER].inbox.groups() == []


async def test_replay_window_setting_is_validated():
    from bot.channels.wechat.settings import wechat_from_env
    from bot.settings import SettingsError
    assert wechat_from_env({"WECHAT_TOKEN": "abc123", "WECHAT_REPLAY_WINDOW": "120"}).replay_window == 120
    with pytest.raises(SettingsError, match="WECHAT_REPLAY_WINDOW"):
        wechat_from_env({"WECHAT_TOKEN": "abc123", "WECHAT_REPLAY_WINDOW": "0"})


async def test_a_refused_nonce_claims_nothing(wechat, redis):
    """The nonce and the claim share a round trip: a message refused for its nonce must not hold a claim
    that would keep its MsgId from being answered when it really arrives."""
    h = await wechat("plain")
    fields = h.sim.text("平泉坐公交车要多少钱", user="oNonce")
    query, body = h.sim.envelope(fields)
    assert (await h.sim.post(fields, query=query, body=body)).status == 200
    forged = h.sim.text(UNANSWERABLE, user="oNonce")
    assert (await h.sim.post(forged, query=query)).status == 403
    assert await redis.keys(f"*:claim:wechat:msg:{forged['MsgId']}") == []
    assert await redis.keys(f"*:result:wechat:msg:{forged['MsgId']}") == []
    assert (await h.sim.post(forged)).status == 200          # the real delivery, with its own nonce
