"""Where a turn's CPU work runs: off the event loop, in one worker thread per lane, with admission control.

Understanding a long question costs up to ~100 ms of CPU. On the event loop, sixty of them would stall
every other request, WeChat's 5-second deadline included (the deadline's own timer could not fire).
In a worker thread the loop keeps turning (the GIL is handed over every few milliseconds), and WeChat
has a lane of its own, so a flood of web questions queues behind itself, never in front of a WeChat
message. A lane with `limit` turns already waiting refuses more at once (`Busy`): better a quick
"busy, retry in a moment" than an answer after the caller has given up.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from bot.observability import metrics

T = TypeVar("T")
LIMITS = {"wechat": 64, "web": 16}      # turns waiting or running per lane and process


class Busy(Exception):
    """The lane is full; `retry_after` seconds is a fair wait."""

    def __init__(self, lane: str, retry_after: int = 2):
        super().__init__(f"the {lane} lane is full")
        self.lane, self.retry_after = lane, retry_after


class Lanes:
    def __init__(self, limits: dict[str, int] | None = None):
        self._limits = dict(limits or LIMITS)
        self._pools = {lane: ThreadPoolExecutor(1, thread_name_prefix=f"turn-{lane}") for lane in self._limits}
        self._waiting = dict.fromkeys(self._limits, 0)

    @staticmethod
    def lane_of(channel: str) -> str:
        return "wechat" if channel == "wechat" else "web"

    async def run(self, channel: str, work: Callable[..., T], *args: Any) -> T:
        lane = self.lane_of(channel)
        if self._waiting[lane] >= self._limits[lane]:
            metrics.SHED.labels(lane).inc()
            raise Busy(lane)
        self._waiting[lane] += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(self._pools[lane], work, *args)
        finally:
            self._waiting[lane] -= 1

    def close(self) -> None:
        for pool in self._pools.values():
            pool.shutdown(wait=False, cancel_futures=True)


class Inline:
    """No threads: the turn runs on the loop (the CLI, and tests of the dialogue alone)."""

    async def run(self, channel: str, work: Callable[..., T], *args: Any) -> T:
        return work(*args)

    def close(self) -> None:
        pass
