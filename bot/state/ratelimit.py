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
# KEYS: one counter per limit; ARGV: their times to live, in the same order. Each counter is incremented
# and given its TTL atomically (never a moment without one); the counts come back in order. One command
# where a MULTI of INCR and EXPIRE pairs was 2n + 2: each costs redis-py packing and parsing.
_COUNT = """
local counts = {}
for i, key in ipairs(KEYS) do
  counts[i] = redis.call('incr', key)
  redis.call('expire', key, ARGV[i])
end
return counts
"""


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
        return await self.hit_all((name, key))

    async def hit_all(self, *pairs: tuple[str, str]) -> Verdict:
        """Count one request against several limits in one round trip (a chat request is counted per
        address and per user); refused if any refuses, with the longest wait."""
        now = self._clock()
        counted = []
        for name, key in pairs:
            limit = self.limits[name]
            window = int(now // limit.per)
            counted.append((name, limit, window, self._store._key("rate", name, key, str(window))))

        async def count() -> list[int]:
            keys, ttls = [c[3] for c in counted], [c[1].per + 1 for c in counted]
            return await self._store.redis.eval(_COUNT, len(keys), *keys, *ttls)
        used = await self._store.guarded("rate_limit", count)
        if used is DEGRADED:
            return Verdict(True)
        waits = []
        for (name, limit, window, _), n in zip(counted, used):
            if n > limit.count:
                metrics.RATE_LIMITED.labels(name).inc()
                waits.append(max(1, int((window + 1) * limit.per - now + 0.999)))
        return Verdict(False, max(waits)) if waits else Verdict(True)
