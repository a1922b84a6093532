"""Citizens' ids as staff and logs see them: HMAC-SHA256 under the deployment's one secret.

The secret is USER_HASH_SECRET (LOG_HASH_SECRET, its old name, is read as an alias). Unset, one is made
on the first start and kept in Redis at `{prefix}:admin:user-hash-secret` (the staff key space: no TTL,
never evicted), so hashes stay stable across restarts and processes. The question log, the inbox,
rating offers and the logs all hash with it: a log line's `u:` pseudonym is the first 16 hex digits of
the `user` the question log stores for the same citizen.

Redis may be unreachable when the app starts: the app starts anyway, and the secret is fetched (or
made) at the first use after Redis is back. Until then nothing is recorded (Redis is away for that too)
and logs hash under a random per-process key, marked `p:` instead of `u:`: those match nothing else.
"""
from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from hashlib import sha256
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.state.resilient import ResilientStore


def user_hash(secret: bytes, user_id: str) -> str:
    """A citizen's id as stored anywhere staff can see it."""
    return hmac.new(secret, user_id.encode("utf-8", "surrogatepass"), sha256).hexdigest()[:20]


class UserHashes:
    """The deployment's secret, from the settings or from Redis (fetched once, when Redis answers)."""

    def __init__(self, store: ResilientStore, prefix: str, configured: str = "",
                 on_known: Callable[[bytes], None] | None = None):
        self._store, self._key, self._on_known = store, f"{prefix}:admin:user-hash-secret", on_known
        self._secret: bytes | None = None
        if configured:
            self._known(configured.encode("utf-8"))

    def _known(self, secret: bytes) -> None:
        self._secret = secret
        if self._on_known:
            self._on_known(secret)

    async def secret(self) -> bytes | None:
        """The secret; None while it lives in Redis and Redis has not answered yet."""
        if self._secret is None:
            found = await self._store.guarded("user_hash_secret", self._fetch)
            if isinstance(found, bytes):          # else DEGRADED: asked again next time
                self._known(found)
        return self._secret

    async def _fetch(self) -> bytes:
        await self._store.redis.set(self._key, secrets.token_hex(32), nx=True)
        return await self._store.redis.get(self._key)

    async def of(self, user_id: str) -> str | None:
        secret = await self.secret()
        return user_hash(secret, user_id) if secret else None
