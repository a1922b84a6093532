"""Rate limits shared by every process through Redis, by name, failing open when Redis is away.

A limit is "at most `count` requests per `per` seconds" for one key (an address, a user, an account
name) in fixed windows: one INCR per request, the window's key expiring with it, so the key space is
bounded by the traffic of one window. `RateLimiter.hit(name, key)` is all a caller needs; the admin's
login uses it as `hit("login", address)` and `hit("login-user", username)` (bot/admin/throttle.py).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bot.observability import metrics
from bot.state.limits import DEFAULTS, Limit
from bot.state.resilient import DEGRADED, ResilientStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after: int = 0          # seconds until the window ends (for the Retry-After header)


class RateLimiter:
    def __init__(self, store: ResilientStore, limits: dict[str, Limit] | None = None,
                 clock=time.time):
        self._store, self.limits, self._clock = store, {**DEFAULTS, **(limits or {})}, clock

    async def hit(self, name: str, key: str) -> Verdict:
        """Count one request of `key` against limit `name`. Redis away: allowed (and counted as degraded)."""
        limit = self.limits[name]
        now = self._clock()
        window = int(now // limit.per)
        redis_key = self._store._key("rate", name, key, str(window))

        async def count() -> int:
            async with self._store.redis.pipeline(transaction=True) as pipe:
                used, _ = await pipe.incr(redis_key).expire(redis_key, limit.per + 1).execute()
            return used
        used = await self._store.guarded("rate_limit", count)
        if used is DEGRADED or used <= limit.count:
            return Verdict(True)
        metrics.RATE_LIMITED.labels(name).inc()
        return Verdict(False, max(1, int((window + 1) * limit.per - now + 0.999)))
