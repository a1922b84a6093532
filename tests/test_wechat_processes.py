"""Two real `python -m bot serve` processes sharing one real redis-server, called as WeChat calls them:
a retry that lands on the other process is answered once, with the same reply, and a WeChat user's
conversation carries over from one process to the other."""
from __future__ import annotations

import asyncio

import pytest

from bot.state.questions import QuestionLog, day_of

from .served import Served
from .wechat_fixtures import AES_KEY, APPID, APPSECRET, TOKEN
from .wechat_sim import WeChatSim

SAFE_MODE = {"WECHAT_TOKEN": TOKEN, "WECHAT_APPID": APPID, "WECHAT_AES_KEY": AES_KEY, "WECHAT_APPSECRET": APPSECRET,
             "WECHAT_API_BASE": "http://127.0.0.1:9"}
UNANSWERABLE = "火星移民签证怎么办理"        # a fallback: each dialogue turn logs it once


@pytest.fixture(scope="module")
async def servers(redis_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("wechat-serve")
    started = []
    try:
        for name in ("a", "b"):
            (root / name).mkdir()
            started.append(Served(redis_server.url, root / name / "serve.log", env=SAFE_MODE))
        await asyncio.gather(*(s.wait_ready() for s in started))
        yield started
    finally:
        for s in started:
            s.stop()


@pytest.fixture
async def sim(servers, redis):
    sim = WeChatSim(servers[0].wechat, TOKEN, appid=APPID, aes_key=AES_KEY, mode="safe")
    yield sim
    await sim.close()


async def test_retry_reaching_the_other_process_gets_the_same_reply_once(servers, sim, redis):
    a, b = servers
    fields = sim.text(UNANSWERABLE, user="oAcross")
    attempts = await sim.send(fields, urls=[a.wechat, b.wechat], drop=1)     # A's answer is lost; WeChat retries to B
    assert attempts.answers[0] is None and attempts.final.status == 200
    again = await sim.post(fields, url=a.wechat)
    assert attempts.final.text == again.text and "12345" in again.text
    assert await asked(redis) == 1                   # the dialogue ran once


async def test_simultaneous_copies_on_both_processes_are_answered_once(servers, sim, redis):
    a, b = servers
    fields = sim.text(UNANSWERABLE, user="oBoth")
    answers = await asyncio.gather(sim.post(fields, url=a.wechat), sim.post(fields, url=b.wechat))
    assert answers[0].text == answers[1].text and answers[0].text
    assert await asked(redis) == 1


async def test_conversation_carries_over_between_processes(servers, sim):
    a, b = servers
    ask = await sim.post(sim.text("老旧小区改造进展怎么样", user="oMoving"), url=a.wechat)
    assert "哪个城市" in ask.text
    answer = await sim.post(sim.text("定州", user="oMoving"), url=b.wechat)
    assert "定州" in answer.text and "来源" in answer.text
    await sim.post(sim.location_event(41.0, 118.7, user="oMoving"), url=a.wechat)
    fare = await sim.post(sim.text("坐公交车要多少钱", user="oMoving"), url=b.wechat)
    assert "2元" in fare.text and "平泉" in fare.text


async def asked(redis) -> int:
    """How often the dialogue ran on UNANSWERABLE today, by the question log."""
    import time
    entries = await QuestionLog(redis, "citizen-bot").entries(day_of(time.time()))
    return sum(e["text"] == UNANSWERABLE for e in entries)
