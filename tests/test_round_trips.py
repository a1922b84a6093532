"""A turn's Redis work is two round trips: lock and session read, then session write, unlock and the
question log (the issue's serving target; each trip is a few hundred microseconds under load)."""
import time

import pytest
from redis.asyncio.connection import AbstractConnection

from bot.app import make_dialogue
from bot.models import Inbound
from bot.state.questions import day_of
from bot.state.store import Session

from . import wechat_fixtures

wechat, fake_api = wechat_fixtures.wechat, wechat_fixtures.fake_api     # fixtures


@pytest.fixture
def trips(monkeypatch):
    """Counts what is sent to Redis: one count per command or pipeline written to a connection."""
    sent = []
    original = AbstractConnection.send_packed_command

    async def counting(self, command, check_health=True):
        sent.append(command)
        return await original(self, command, check_health)
    monkeypatch.setattr(AbstractConnection, "send_packed_command", counting)
    return sent


@pytest.fixture
def recorded(settings, redis, brain):
    return make_dialogue(settings, redis, brain, record=True)


async def test_an_answered_turn_costs_two_round_trips(recorded, redis, trips):
    dialogue, store = recorded
    await dialogue.recorder.user("warm-up")      # the hashing secret is fetched once per process
    trips.clear()
    reply = await dialogue.handle(Inbound("web", "trips-1", "平泉公交基础票价是多少"))
    assert reply.kind == "answer" and "2元" in reply.text
    assert len(trips) == 2
    # ... and both did their work: the session is saved, the lock is free, the question is logged
    assert (await store.load_session("trips-1")).topic == reply.topic
    assert await redis.keys("*lock*") == []
    assert len(await dialogue.recorder.log.entries(day_of(time.time()))) == 1


async def test_a_follow_up_sees_the_session_the_first_turn_saved(recorded, trips):
    dialogue, _ = recorded
    await dialogue.recorder.user("warm-up")
    trips.clear()
    first = await dialogue.handle(Inbound("web", "trips-2", "老旧小区改造进展怎么样"))
    second = await dialogue.handle(Inbound("web", "trips-2", "定州"))
    assert first.kind == "clarify" and second.city == "定州" and "100个" in second.text
    assert len(trips) == 4


async def test_a_busy_lock_is_waited_for_and_then_the_turn_goes_on(recorded, redis):
    dialogue, store = recorded
    await redis.set("citizen-bot:lock:{trips-3}", "someone-else", px=300)
    reply = await dialogue.handle(Inbound("web", "trips-3", "平泉公交基础票价是多少"))
    assert reply.kind == "answer"
    assert await redis.get("citizen-bot:lock:{trips-3}") is None       # theirs lapsed; ours was freed


async def test_a_turn_that_fails_frees_the_lock_and_saves_nothing(recorded, redis):
    _, store = recorded
    with pytest.raises(RuntimeError):
        async with store.turn("trips-4") as state:
            state.session = Session(city="寿光")
            raise RuntimeError("the turn broke")
    assert await redis.keys("*trips-4*") == []


async def test_a_chat_request_costs_three_round_trips_with_its_rate_limits(client, trips):
    # the address and user limits are counted together, then the turn's two; the first request opens
    # the pooled connections (their handshake is not per request)
    await client.post("/api/chat", json={"user_id": "trips-5", "text": "定州路灯装了多少"})
    trips.clear()
    response = await client.post("/api/chat", json={"user_id": "trips-6", "text": "平泉公交基础票价是多少"})
    assert response.status == 200 and "2元" in (await response.json())["reply"]
    assert len(trips) == 3


async def test_a_missed_question_is_filed_in_the_inbox_in_a_few_round_trips(recorded, trips):
    # a fifth of the development questions are missed (fallback, refusal, excerpt, low confidence): the
    # inbox's writes were ten round trips on top of the turn's two, most of the Redis traffic under load
    dialogue, _ = recorded
    await dialogue.recorder.user("warm-up")
    await dialogue.handle(Inbound("web", "trips-7", "火星移民签证怎么办理"))      # opens the group
    trips.clear()
    reply = await dialogue.handle(Inbound("web", "trips-8", "火星移民签证怎么办理"))
    assert reply.kind == "fallback"
    assert len(trips) == 2 + 5            # the turn's two, the inbox's five
    [group] = await dialogue.recorder.inbox.groups()
    assert group["count"] == 2 and group["users"] == 2


async def test_a_wechat_question_costs_six_round_trips(wechat, trips):
    # the nonce with the stored reply or the claim (one script, was three); the turn's two; the
    # rating offer with the "1"/"2" it awaits (one transaction, was two); the rest of a long reply
    # ("继续"); the reply kept for retries
    h = await wechat("safe")
    await h.sim.post(h.sim.text("定州路灯装了多少", user="oTrips1"))     # opens the pooled connections
    trips.clear()
    answer = await h.sim.post(h.sim.text("平泉公交基础票价是多少", user="oTrips2"))
    assert answer.status == 200 and "2元" in answer.text
    assert len(trips) == 6
