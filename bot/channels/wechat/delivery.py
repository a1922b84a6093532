"""Answer each WeChat message once, within WeChat's patience, whichever process its retries reach.

WeChat waits 5 s for a reply and then sends the same message again, up to three times, possibly to
another process. The first process to claim the message in Redis produces the reply and stores it;
a retry waits for that stored reply instead of asking the dialogue again. If the reply is not ready
by the deadline, the callback answers "success" (WeChat then stops retrying) and the reply goes out
later through the customer-service API.
"""
from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable

from bot.state.store import Store

log = logging.getLogger(__name__)

LATE = "\x00late"     # stored instead of a reply: it is on its way through the customer-service API
HOLD = 300            # seconds a reply is kept for retries (WeChat's last retry comes after ~15 s)
POLL = 0.05


class Delivery:
    def __init__(self, store: Store, deadline: float = 4.0, poll: float = POLL, lease: int | None = None):
        self._store, self._deadline, self._poll = store, deadline, poll
        # the claim outlives the deadline, by when a reply or LATE is stored; a claim left by a
        # process that died lapses, and a later retry produces the reply itself
        self._lease = lease or math.ceil(deadline) + 2
        self._jobs: set[asyncio.Task] = set()

    async def reply_once(self, key: str, produce: Callable[[], Awaitable[str]],
                         send_late: Callable[[str], Awaitable[None]]) -> str:
        """The reply text for message `key` ("" for nothing to say now), produced once across processes."""
        loop = asyncio.get_running_loop()
        until = loop.time() + self._deadline
        name = "wechat:" + key
        while True:
            stored = await self._store.get_result(name)
            if stored is not None:
                return "" if stored == LATE else stored
            if await self._store.claim(name, self._lease):
                return await self._produce(name, produce, send_late, until - loop.time())
            if loop.time() >= until:
                return await self._give_up(name)
            await asyncio.sleep(self._poll)

    async def _produce(self, name: str, produce, send_late, budget: float) -> str:
        # the job lives on its own: if WeChat hangs up, this handler is cancelled, not the answer
        job = asyncio.ensure_future(self._complete(name, produce, send_late))
        self._track(job)
        try:
            await asyncio.wait_for(asyncio.shield(job), max(budget, 0))
        except TimeoutError:
            return await self._give_up(name)
        stored = await self._store.get_result(name)
        return "" if stored in (None, LATE) else stored

    async def _give_up(self, name: str) -> str:
        """Past the deadline: mark the reply LATE unless it has just been stored, in which case use it."""
        if await self._store.put_result(name, LATE, HOLD, only_new=True):
            return ""
        stored = await self._store.get_result(name)
        return "" if stored in (None, LATE) else stored

    async def _complete(self, name: str, produce, send_late) -> None:
        """Produce the reply and store it for retries, or, if a deadline has passed, send it by API."""
        try:
            text = await produce()
            if not await self._store.put_result(name, text, HOLD, only_new=True) and text:
                await send_late(text)
        except Exception:
            log.exception("wechat: a reply could not be produced or sent")

    def _track(self, task: asyncio.Task) -> None:
        self._jobs.add(task)      # keep a reference: the loop holds tasks only weakly
        task.add_done_callback(self._jobs.discard)

    async def close(self, grace: float = 10.0) -> None:
        """Let replies in progress finish (they are owed to citizens) before the process stops."""
        if self._jobs:
            await asyncio.wait(set(self._jobs), timeout=grace)
