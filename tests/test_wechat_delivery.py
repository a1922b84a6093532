"""Once-only replies across processes, at the level of the Redis hand-off (each Delivery is one process)."""
from __future__ import annotations

import asyncio

from bot.channels.wechat.delivery import Delivery
from bot.state.store import Store


class Reply:
    """A reply that takes `delay` seconds to produce, and the record of how it was delivered."""

    def __init__(self, text: str, delay: float = 0.0):
        self.text, self.delay = text, delay
        self.produced, self.sent_late = 0, []

    async def produce(self) -> str:
        self.produced += 1
        await asyncio.sleep(self.delay)
        return self.text

    async def send_late(self, text: str) -> None:
        self.sent_late.append(text)


async def test_claim_left_by_a_process_that_died_lapses_and_a_retry_answers(redis):
    store = Store(redis)
    await store.claim("wechat:msg:1", 1)                  # the owner died right after claiming
    reply = Reply("答复")
    assert await Delivery(store, deadline=2.5, lease=1).reply_once("msg:1", reply.produce, reply.send_late) == "答复"
    assert reply.produced == 1


async def test_retry_past_its_deadline_hands_the_reply_to_the_customer_service_api(redis):
    owner, retry = Delivery(Store(redis), deadline=5.0), Delivery(Store(redis), deadline=0.2)
    reply = Reply("慢的答复", delay=0.5)
    first = asyncio.ensure_future(owner.reply_once("msg:2", reply.produce, reply.send_late))
    await asyncio.sleep(0.05)
    assert await retry.reply_once("msg:2", reply.produce, reply.send_late) == ""   # "success"
    assert await first == ""                  # the owner learns the reply is late and does not repeat it
    assert reply.sent_late == ["慢的答复"] and reply.produced == 1


async def test_reply_finished_in_time_is_kept_for_later_retries(redis):
    delivery = Delivery(Store(redis), deadline=1.0)
    reply = Reply("答复")
    answers = [await delivery.reply_once("msg:3", reply.produce, reply.send_late) for _ in range(3)]
    assert answers == ["答复"] * 3 and reply.produced == 1 and reply.sent_late == []


async def test_owner_shutting_down_finishes_late_replies_first(redis):
    delivery = Delivery(Store(redis), deadline=0.1)
    reply = Reply("答复", delay=0.3)
    assert await delivery.reply_once("msg:4", reply.produce, reply.send_late) == ""
    await delivery.close()
    assert reply.sent_late == ["答复"]
