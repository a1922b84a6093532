"""The live Brain of this process, kept in step with the live knowledge version in Redis.

One holder per app. It follows publishes through pub/sub and, should a message be missed (a dropped
connection, a restart of Redis), through a poll of the live number about every second. A new Brain is
built off the event loop and swapped in with one assignment; turns read `holder.brain` once, at their
start, so a turn in flight finishes on the Brain it began with.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from redis.exceptions import RedisError

from bot.knowledge.dump import body_of, brain_key
from bot.knowledge.load import load
from bot.understanding.brain import Brain, build_brain

if TYPE_CHECKING:
    from bot.knowledge.schema import Knowledge
    from bot.knowledge.versions import Versions
    from bot.understanding.stored import StoredBrains

log = logging.getLogger(__name__)
POLL = 1.0            # seconds between checks of the live number, should a pub/sub message be missed
LISTEN_WAKE = 0.2     # how often the listener looks up from pub/sub to see whether it should stop


class BrainCache:
    """Brains by content digest, so equal knowledge is built once (a build takes seconds of CPU).
    One per holder; a test session may share one between apps. Given `stored`, published versions'
    Brains are also kept on disk, for the next process to start from."""

    def __init__(self, size: int = 3, stored: StoredBrains | None = None):
        self._size = size
        self._built: dict[str, Brain] = {}
        self._stored = stored
        self._storing: set[asyncio.Task] = set()

    async def get(self, key: str, knowledge, previous: Brain | None = None, keep: bool = False) -> Brain:
        """The Brain for `key`, built off the event loop from `await knowledge()` when not cached.
        `keep`: read it from disk if stored there, and store it when built (a draft's is not kept)."""
        if key not in self._built:
            stored = self._stored if keep else None
            brain = await asyncio.to_thread(stored.read, key) if stored else None
            if brain is None:
                brain = await asyncio.to_thread(build_brain, await knowledge(), previous)
                if stored:          # after the answer it holds up, not before: a fraction of a second
                    task = asyncio.create_task(asyncio.to_thread(stored.write, key, brain))
                    self._storing.add(task)
                    task.add_done_callback(self._storing.discard)
            self._built = {**dict(list(self._built.items())[-(self._size - 1):] if self._size > 1 else []), key: brain}
        return self._built[key]


class BrainHolder:
    def __init__(self, versions: Versions, poll: float = POLL, cache: BrainCache | None = None):
        self.versions = versions
        self._poll = poll
        self._cache = cache or BrainCache()
        self._live: tuple[int, Brain] | None = None      # (version number, its Brain), swapped whole
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task] = []
        self._stopping = False

    @property
    def brain(self) -> Brain:
        return self._live[1]

    @property
    def number(self) -> int:
        return self._live[0] if self._live else 0

    async def start(self) -> None:
        """Seed version 1 if Redis has none, build the live Brain, then follow publishes. With Redis
        unreachable, answer from the release's intents/ meanwhile: citizens are still answered, with
        figures checked against the briefings, and the poll swaps in the live version once Redis is back."""
        try:
            await self.refresh()
        except (RedisError, OSError) as exc:
            log.warning("redis unreachable at start (%s): answering from the release's intents/ until it "
                        "is back", exc)
            await self._from_release()
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._watch())]

    async def _from_release(self) -> None:
        knowledge = await asyncio.to_thread(load, self.versions.root)

        async def given() -> Knowledge:
            return knowledge
        self._live = (0, await self._cache.get(brain_key(body_of(knowledge), knowledge.seeds), given))  # 0: none

    async def stop(self) -> None:
        self._stopping = True
        listen, watch = self._tasks or (None, None)
        if watch:
            watch.cancel()
            await asyncio.wait([listen, watch], timeout=LISTEN_WAKE * 4)
        self._tasks = []

    async def refresh(self) -> int:
        """Build and swap in the live version's Brain if it is not the one held. Returns the number."""
        async with self._lock:                           # one build at a time; a second caller finds it done
            number = await self.versions.live_number() or await self.versions.ensure_seeded()
            if number != self.number:
                await self.versions.refresh_seeds()
                key = brain_key(await self.versions.body(number), self.versions.seeds)
                previous = self._live[1] if self._live else None
                self._live = (number, await self._cache.get(key, lambda: self.versions.knowledge(number), previous,
                                                            keep=True))
                log.info("knowledge version %s is live here", number)
            return self.number

    async def draft_brain(self, versions: Versions | None = None) -> Brain:
        """The draft's Brain, rebuilt only when the draft changed (keyed by its digest)."""
        versions = versions or self.versions
        return await self._cache.get(await versions.draft_digest(), versions.draft_knowledge, self.brain)

    async def _listen(self) -> None:
        # Not cancelled but stopped by a flag: redis-py's pub/sub read does not always end on cancel.
        while not self._stopping:
            pubsub = self.versions.redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self.versions.channel)
                while not self._stopping:
                    if await pubsub.get_message(timeout=LISTEN_WAKE):
                        await self._refresh_logged()
            except (RedisError, OSError) as exc:
                log.warning("knowledge channel lost (%s); the poll covers until it is back", exc)
                await self._nap(self._poll)
            finally:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.shield(pubsub.aclose()), 1.0)

    async def _nap(self, seconds: float) -> None:
        """Sleep, but wake at once when stopping."""
        end = asyncio.get_running_loop().time() + seconds
        while not self._stopping and asyncio.get_running_loop().time() < end:
            await asyncio.sleep(LISTEN_WAKE / 4)

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._poll)
            await self._refresh_logged()

    async def _refresh_logged(self) -> None:
        try:
            await self.refresh()
        except (RedisError, OSError, KeyError) as exc:
            log.warning("could not load the live knowledge: %s", exc)
