"""Login throttling, every refusal a 429 with Retry-After: a rate limit on attempts per address and per
account name, an account locked after repeated failures, and an address that keeps failing held off.

The rate limits are the shared fixed windows of bot/state/ratelimit.py (`login`, `login-user`; set by
RATE_LIMIT_LOGIN and RATE_LIMIT_LOGIN_USER): shared by every process through Redis, and allowing
everything while Redis is away (the login itself is then refused by the admin gate: it needs Redis).
They also bound the audit log: an attempt they refuse is counted in metrics, not audited, so a flood
cannot grow the staff key space.

Failure counters live in `{prefix}:admin-volatile:` (they expire; staff data does not):
  fail:user:{name}   failures of one account within the lockout period
  lock:{name}        present while the account is locked
  fail:addr:{addr}   failures from one address within the address window
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from redis.asyncio import Redis

from bot.settings import AdminSettings
from bot.state.ratelimit import RateLimiter

# INCR with a TTL set by the first failure only: the window does not slide with each new attempt.
_COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
"""


@dataclass(frozen=True)
class Refusal:
    """Why a login is refused before its password is looked at; answered 429 with Retry-After."""
    message: str
    retry_after: int          # whole seconds, at least 1
    audit: str = ""           # the audit log's result ("throttled", "locked"); "" = not audited
    locked: bool = False


class Throttle:
    def __init__(self, redis: Redis, prefix: str, settings: AdminSettings,
                 limiter: RateLimiter | None = None):
        self.redis, self.settings, self.limiter = redis, settings, limiter
        self._prefix = f"{prefix}:admin-volatile"
        self._count = redis.register_script(_COUNT)

    def _key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    async def refusal(self, username: str, address: str) -> Refusal | None:
        """A refusal for this attempt, or None to go on and check the password."""
        return (await self._rate_limited(username, address) or await self._address_blocked(address)
                or await self._locked(username))

    async def _rate_limited(self, username: str, address: str) -> Refusal | None:
        if self.limiter is None:                  # the command line: no HTTP attempts to limit
            return None
        for name, key in (("login", address), ("login-user", username)):
            verdict = await self.limiter.hit(name, key)
            if not verdict.allowed:
                return Refusal(f"登录尝试过于频繁，请{verdict.retry_after}秒后再试", verdict.retry_after)
        return None

    async def _address_blocked(self, address: str) -> Refusal | None:
        key = self._key("fail", "addr", address)
        async with self.redis.pipeline(transaction=False) as pipe:
            count, ms = await pipe.get(key).pttl(key).execute()
        if int(count or 0) < self.settings.address_failures:
            return None
        wait = _seconds(ms)
        return Refusal(f"这个地址登录失败次数过多，请{wait}秒后再试", wait, "throttled")

    async def _locked(self, username: str) -> Refusal | None:
        wait = _seconds(await self.redis.pttl(self._key("lock", username)))
        if not wait:
            return None
        return Refusal(f"账号因多次登录失败已锁定，请{math.ceil(wait / 60)}分钟后再试", wait, "locked", locked=True)

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


def _seconds(pttl_ms: int) -> int:
    """A key's remaining life as Retry-After seconds (rounded up); 0 when it has none or is gone."""
    return math.ceil(pttl_ms / 1000) if pttl_ms > 0 else 0
