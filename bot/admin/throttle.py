"""Login throttling: lock an account after repeated failures, and slow down an address that keeps failing.

Counters live in `{prefix}:admin-volatile:` (they expire; staff data does not):
  fail:user:{name}   failures of one account within the lockout period
  lock:{name}        present while the account is locked
  fail:addr:{addr}   failures from one address within the address window
"""
from __future__ import annotations

from redis.asyncio import Redis

from bot.settings import AdminSettings

# INCR with a TTL set by the first failure only: the window does not slide with each new attempt.
_COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""


class Throttle:
    def __init__(self, redis: Redis, prefix: str, settings: AdminSettings):
        self.redis, self.settings = redis, settings
        self._prefix = f"{prefix}:admin-volatile"
        self._count = redis.register_script(_COUNT)

    def _key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    async def address_blocked(self, address: str) -> bool:
        count = await self.redis.get(self._key("fail", "addr", address))
        return int(count or 0) >= self.settings.address_failures

    async def locked_for(self, username: str) -> float:
        """Seconds until the account unlocks; 0 when it is not locked."""
        ms = await self.redis.pttl(self._key("lock", username))
        return ms / 1000 if ms > 0 else 0.0

    async def failed(self, username: str, address: str) -> bool:
        """Count a failed login; True when it just locked the account."""
        s = self.settings
        await self._count([self._key("fail", "addr", address)], [int(s.address_window * 1000)])
        if not username:
            return False
        n = await self._count([self._key("fail", "user", username)], [int(s.lockout_seconds * 1000)])
        if n < s.lockout_failures:
            return False
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key("lock", username), 1, px=int(s.lockout_seconds * 1000))
            pipe.delete(self._key("fail", "user", username))
            await pipe.execute()
        return True

    async def succeeded(self, username: str) -> None:
        await self.redis.delete(self._key("fail", "user", username))
