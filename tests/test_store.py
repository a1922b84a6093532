"""The Redis store: sessions expire, survive corruption, and one user's turns never interleave."""
import asyncio

from bot.models import Inbound
from bot.state.store import Session, Store


async def test_sessions_round_trip_with_a_ttl(redis):
    store = Store(redis, "t", session_ttl=120)
    await store.save_session("u", Session(city="寿光", topic="x"))
    assert (await store.load_session("u")).city == "寿光"
    assert 0 < await redis.ttl("t:session:{u}") <= 120


async def test_a_corrupt_session_starts_afresh(redis):
    store = Store(redis, "t")
    await redis.set("t:session:{u}", b"\xff not json")
    assert await store.load_session("u") == Session()


async def test_concurrent_turns_of_one_user_do_not_lose_state(dialogue, redis):
    # the clarification and its answer arrive together; the lock makes the second see the first's session
    first = dialogue.handle(Inbound("test", "racer", "老旧小区改造进展怎么样"))
    await asyncio.sleep(0)
    second = dialogue.handle(Inbound("test", "racer", "定州"))
    a, b = await asyncio.gather(first, second)
    assert a.kind == "clarify" and b.city == "定州" and "100个" in b.text
