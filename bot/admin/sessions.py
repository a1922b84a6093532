"""Server-side sessions of the staff console, in Redis.

Unlike staff data, sessions expire, so they live in their own key space, `{prefix}:admin-volatile:`:
  admin-volatile:session:{sha256 of the id}   hash: user, epoch, csrf, created, seen
The cookie carries a fresh random id made at each login; Redis holds only its hash, so a copy of the
database opens no session. A session ends after `idle` seconds unused or `absolute` seconds after login,
whichever comes first; the key's TTL follows the same bound so nothing stale lingers.
"""
from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

from redis.asyncio import Redis

COOKIE = "citizen_admin"
COOKIE_PATH = "/api/admin"


@dataclass(frozen=True)
class Session:
    id: str
    username: str
    epoch: int              # the account's epoch at login; a change of it revokes the session
    csrf: str               # the per-session CSRF secret, sent back in X-CSRF-Token
    created: float


class Sessions:
    def __init__(self, redis: Redis, prefix: str, idle: float, absolute: float):
        self.redis, self.idle, self.absolute = redis, idle, absolute
        self._prefix = f"{prefix}:admin-volatile:session"

    def _key(self, session_id: str) -> str:
        return f"{self._prefix}:{hashlib.sha256(session_id.encode()).hexdigest()}"

    async def open(self, username: str, epoch: int) -> Session:
        now = time.time()
        session = Session(secrets.token_urlsafe(32), username, epoch, secrets.token_urlsafe(32), now)
        key = self._key(session.id)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, mapping={"user": username, "epoch": epoch, "csrf": session.csrf,
                                    "created": repr(now), "seen": repr(now)})
            pipe.pexpire(key, _ms(min(self.idle, self.absolute)))
            await pipe.execute()
        return session

    async def find(self, session_id: str | None) -> Session | None:
        """The live session for a cookie value, its idle clock restarted; None when there is none."""
        if not session_id or len(session_id) > 100:
            return None
        key = self._key(session_id)
        raw = await self.redis.hgetall(key)
        if not raw:
            return None
        m = {k.decode(): v.decode() for k, v in raw.items()}
        now = time.time()
        created, seen = float(m["created"]), float(m["seen"])
        if now - seen >= self.idle or now - created >= self.absolute:
            await self.redis.delete(key)
            return None
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, "seen", repr(now))
            pipe.pexpire(key, _ms(min(self.idle, created + self.absolute - now)))
            await pipe.execute()
        return Session(session_id, m["user"], int(m["epoch"]), m["csrf"], created)

    async def close(self, session_id: str) -> None:
        await self.redis.delete(self._key(session_id))


def _ms(seconds: float) -> int:
    return max(1, int(seconds * 1000))
