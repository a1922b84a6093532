"""The question log behind the dashboard: every question, per day, and counters per day.

Keys, under `{prefix}:qlog:` (derived from anonymous traffic, in a key space of its own):
  qlog:day:{YYYY-MM-DD}    LIST of JSON entries {at, channel, kind, topic, city, user, text, confidence,
                           version}, newest last, at most DAY_MAX a day (later questions are counted
                           but not listed)
  qlog:stats:{YYYY-MM-DD}  HASH of counters: "channel:web", "kind:answer", "topic:bus-fare",
                           "rate:{topic}|{city}|{version}:up|down"
Both expire KEEP_DAYS after their day. Days are Beijing dates. `user` is a keyed hash, never the id
(bot/state/identity.py).
"""
from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from redis.asyncio import Redis

# KEYS: the day's list, the day's counters. ARGV: the entry, DAY_MAX, the keys' time to live, then the
# counters to add one to. The list keeps the day's first DAY_MAX entries; both keys get the TTL.
_QUEUE = """
redis.call('rpush', KEYS[1], ARGV[1])
redis.call('ltrim', KEYS[1], 0, tonumber(ARGV[2]) - 1)
for i = 4, #ARGV do redis.call('hincrby', KEYS[2], ARGV[i], 1) end
redis.call('expire', KEYS[1], ARGV[3])
redis.call('expire', KEYS[2], ARGV[3])
return 1
"""
ZONE = ZoneInfo("Asia/Shanghai")
KEEP_DAYS = 180
DAY_MAX = 20_000
TEXT_MAX = 200


def day_of(at: float) -> str:
    return datetime.fromtimestamp(at, ZONE).date().isoformat()


def today() -> date:
    return datetime.now(ZONE).date()


class QuestionLog:
    def __init__(self, redis: Redis, prefix: str):
        self.redis = redis
        self._prefix = f"{prefix}:qlog"

    def _key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    async def record(self, **entry) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            self.queue(pipe, **entry)
            await pipe.execute()

    def queue(self, pipe, *, channel: str, kind: str, topic: str | None, city: str | None, user: str,
              text: str, confidence: float, version: int, at: float | None = None) -> None:
        """Add the entry's writes to `pipe` (a turn sends them with its session, in one round trip)."""
        at = at or time.time()
        day = day_of(at)
        entry = {"at": round(at, 3), "channel": channel, "kind": kind, "topic": topic, "city": city, "user": user,
                 "text": text[:TEXT_MAX], "confidence": round(confidence, 3), "version": version}
        log, stats = self._key("day", day), self._key("stats", day)
        ttl = KEEP_DAYS * 24 * 3600 + 2 * 24 * 3600
        counters = [f"channel:{channel}", f"kind:{kind}"]
        if topic and kind in ("answer", "clarify", "refuse"):
            counters.append(f"topic:{topic}")
        # one command in the turn's closing pipeline instead of seven: redis-py packs and parses each,
        # and every answered question paid for all seven (docs/performance.md)
        pipe.eval(_QUEUE, 2, log, stats, json.dumps(entry, ensure_ascii=False), DAY_MAX, ttl, *counters)

    async def rate(self, *, topic: str | None, city: str | None, version: int, helpful: bool,
                   at: float | None = None) -> None:
        stats = self._key("stats", day_of(at or time.time()))
        name = f"rate:{topic or '-'}|{city or '-'}|{version}:{'up' if helpful else 'down'}"
        async with self.redis.pipeline(transaction=True) as pipe:
            await pipe.hincrby(stats, name, 1).expire(stats, (KEEP_DAYS + 2) * 24 * 3600).execute()

    async def stats(self, day: str) -> dict[str, int]:
        raw = await self.redis.hgetall(self._key("stats", day))
        return {k.decode(): int(v) for k, v in raw.items()}

    async def entries(self, day: str) -> list[dict]:
        return [json.loads(e) for e in await self.redis.lrange(self._key("day", day), 0, -1)]


def last_days(days: int, until: date | None = None) -> list[str]:
    """The `days` Beijing dates ending today (or `until`), oldest first."""
    end = until or today()
    return [(end - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]
