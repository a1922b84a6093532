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

from bot.observability import metrics
from bot.state.store import Store

log = logging.getLogger(__name__)

LATE = "\x00late"     # stored instead of a reply: it is on its way through the customer-service API
HOLD = 300            # seconds a reply is kept for retries (WeChat's last retry comes after ~15 s)
POLL = 0.05


class Delivery:
    def __init__(self, store: Store, deadline: float = 4.0, poll: float = POLL, lease: int | None = None,
                 hold: int = HOLD):
        self._store, self._deadline, self._poll = store, deadline, poll
        self._hold = hold         # at least the replay window: a replay accepted by time is recognised
        self._late: set[str] = set()     # replies of ours past their deadline: they go by API
        # the claim outlives the deadline, by when a reply or LATE is stored; a claim left by a
        # process that died lapses, and a later retry produces the reply itself
        self._lease = lease or math.ceil(deadline) + 2
        self._jobs: set[asyncio.Task] = set()

    def claim_of(self, key: str) -> tuple[str, int]:
        """(name, lease) of message `key`'s claim, for a caller that asks Redis on its behalf (the
        replay guard, in its own round trip): its answer is `reply_once`'s `first`."""
        return "wechat:" + key, self._lease

    async def reply_once(self, key: str, produce: Callable[[], Awaitable[str]],
                         send_late: Callable[[str], Awaitable[None]],
                         first: tuple[str | None, bool] | None = None) -> str:
        """The reply text for message `key` ("" for nothing to say now), produced once across processes.
        `first`: the (stored reply, claimed) already asked for, so the first pass needs no round trip."""
        loop = asyncio.get_running_loop()
        until = loop.time() + self._deadline
        name, _ = self.claim_of(key)
        while True:
            stored, claimed = first or await self._store.result_or_claim(name, self._lease)
            first = None
            if stored is not None:
                metrics.DEDUP_HITS.inc()
                return "" if stored == LATE else stored
            if claimed:
                return await self._produce(name, produce, send_late, until - loop.time())
            if loop.time() >= until:
                return await self._give_up(name)
            await asyncio.sleep(self._poll)

    async def _produce(self, name: str, produce, send_late, budget: float) -> str:
        # the job lives on its own: if WeChat hangs up, this handler is cancelled, not the answer
        job = asyncio.ensure_future(self._complete(name, produce, send_late))
        self._track(job)
        try:
            text, went_late = await asyncio.wait_for(asyncio.shield(job), max(budget, 0))
        except TimeoutError:
            self._late.add(name)          # before any await: the job, finishing later, sees it
            return await self._give_up(name)
        return "" if went_late else text

    async def _give_up(self, name: str) -> str:
        """Past the deadline: mark the reply LATE unless it has just been stored, in which case use it.
        With Redis away (None) only this process knows, and its job sends the reply late."""
        marked = await self._store.put_result(name, LATE, self._hold, only_new=True)
        if marked or marked is None:
            return ""
        stored = await self._store.get_result(name)
        return "" if stored in (None, LATE) else stored

    async def _complete(self, name: str, produce, send_late) -> tuple[str, bool]:
        """Produce the reply and store it for retries, or, if a deadline has passed, send it by API.
        (text, True) when it went (or was to go) by API."""
        try:
            text = await produce()
            stored = await self._store.put_result(name, text, self._hold, only_new=True)
            late = name in self._late if stored is None else not stored
            if late and text:
                await self._send_late(send_late, text)
            return text, late
        except Exception:
            log.exception("wechat: a reply could not be produced or sent")
            return "", True
        finally:
            self._late.discard(name)

    @staticmethod
    async def _send_late(send_late, text: str) -> None:
        try:
            await send_late(text)        # counts "sent" (or "dropped") itself
        except Exception:
            metrics.LATE_SENDS.labels("failed").inc()
            raise

    def _track(self, task: asyncio.Task) -> None:
        self._jobs.add(task)      # keep a reference: the loop holds tasks only weakly
        task.add_done_callback(self._jobs.discard)

    async def close(self, grace: float = 10.0) -> None:
        """Let replies in progress finish (they are owed to citizens) before the process stops."""
        if self._jobs:
            await asyncio.wait(set(self._jobs), timeout=grace)
