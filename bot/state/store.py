"""Redis-backed state: sessions, per-user locks, message de-duplication, conversation history.

(Questions the bot missed go to the inbox, bot/state/inbox.py, through bot/dialogue/record.py.)

One small interface over a client passed in; every key is built in `_key`, every session has a TTL.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, replace

from redis.asyncio import Redis

from bot.state import keyspace

SESSION_TTL = 30 * 60
# KEYS: a WeChat message's stored reply, its claim. {1, reply} when a reply is stored; else {0, 1 if this
# caller took the claim, else 0}.
_RESULT_OR_CLAIM = """
local stored = redis.call('get', KEYS[1])
if stored then return {1, stored} end
return {0, redis.call('set', KEYS[2], '1', 'NX', 'PXAT', ARGV[1]) and 1 or 0}
"""


@dataclass(frozen=True)
class Session:
    home: str | None = None          # the user's own city, once they say it ("我是寿光的") or share a location
    city: str | None = None          # the city of the topic under discussion, for follow-ups ("那困人次数呢")
    topic: str | None = None         # the last topic answered or asked about
    pending: str | None = None       # a topic waiting for the user to name a city
    last_text: str | None = None     # the last question, for elliptical follow-ups ("居民呢")

    def evolve(self, **changes) -> Session:
        return replace(self, **changes)


def decoded(raw: bytes | str | None) -> str | None:
    """A Redis reply as text (the clients here do not decode responses)."""
    return raw.decode() if isinstance(raw, bytes) else raw


class Store:
    def __init__(self, redis: Redis, prefix: str = "citizen-bot", session_ttl: int = SESSION_TTL):
        self.redis = redis
        self._prefix = prefix
        self._ttl = session_ttl
        self.history_ttl = session_ttl * 48   # a conversation outlives its session: the page shows it again

    async def guarded(self, what: str, call):
        """call(); ResilientStore bounds it and answers without state while Redis is away."""
        return await call()

    def _key(self, *parts: str) -> str:
        return keyspace.key(self._prefix, *parts)      # a user's keys share one Redis Cluster slot

    async def load_session(self, user_id: str) -> Session:
        return self.parse_session(await self.redis.get(self._key("session", user_id)))

    @staticmethod
    def parse_session(raw: bytes | str | None) -> Session:
        if not raw:
            return Session()
        try:
            data = json.loads(raw)
            return Session(**{k: data.get(k) for k in Session.__dataclass_fields__})
        except (ValueError, TypeError):
            return Session()   # a corrupt session must not lock a citizen out: start afresh

    @staticmethod
    def dump_session(session: Session) -> str:
        return json.dumps(asdict(session))

    async def save_session(self, user_id: str, session: Session) -> None:
        await self.redis.set(self._key("session", user_id), self.dump_session(session), ex=self._ttl)

    async def clear_session(self, user_id: str) -> None:
        await self.redis.delete(self._key("session", user_id))

    def user_lock(self, user_id: str, timeout: float = 10.0):
        """Serialises one user's turns across processes, so a session is read after the lock is taken."""
        return self.redis.lock(self._key("lock", user_id), timeout=timeout, blocking_timeout=timeout)

    async def append_history(self, conversation: str, *entries: dict, keep: int = 100) -> None:
        """Remember a conversation's messages (the web page shows them again after a reload)."""
        key = self._key("history", conversation)
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.rpush(key, *(json.dumps(e, ensure_ascii=False) for e in entries))
            await pipe.ltrim(key, -keep, -1).expire(key, self.history_ttl).execute()

    async def history(self, conversation: str) -> list[dict]:
        return [json.loads(e) for e in await self.redis.lrange(self._key("history", conversation), 0, -1)]

    async def clear_history(self, conversation: str) -> None:
        await self.redis.delete(self._key("history", conversation))

    async def register_browser(self, browser_id: str) -> None:
        """Record an identifier this server issued, so a browser cannot make one up and be believed."""
        await self.redis.set(self._key("browser", browser_id), "1", ex=self.history_ttl)

    async def browser_known(self, browser_id: str) -> bool:
        """True (and its lifetime renewed) if this server issued `browser_id` and it has not expired."""
        return bool(await self.redis.expire(self._key("browser", browser_id), self.history_ttl))

    async def claim(self, name: str, ttl: int) -> bool:
        """True for the first caller to claim `name` within `ttl` seconds (de-duplication across processes)."""
        return bool(await self.redis.set(self._key("claim", name), "1", nx=True, ex=ttl))

    async def result_or_claim(self, name: str, ttl: int) -> tuple[str | None, bool]:
        """(the stored result, False) if there is one; else (None, whether this caller claimed `name`
        for `ttl` seconds). One round trip for what `get_result` and then `claim` would do in two."""
        until = int((time.time() + ttl) * 1000)   # absolute: a claim queued in a stalled server lapses
        keys = (self._key("result", name), self._key("claim", name))
        found, value = await self.redis.eval(_RESULT_OR_CLAIM, 2, *keys, until)
        if found:
            return decoded(value), False
        return None, bool(value)

    async def put_result(self, name: str, value: str, ttl: int, only_new: bool = False) -> bool:
        """Store a result; with `only_new`, only if none is stored yet (False when one was)."""
        return bool(await self.redis.set(self._key("result", name), value, ex=ttl, nx=only_new))

    async def get_result(self, name: str) -> str | None:
        raw = await self.redis.get(self._key("result", name))
        return decoded(raw)

    async def put_more(self, user_id: str, text: str, ttl: int = SESSION_TTL) -> None:
        """The rest of a reply too long for one message, sent when the user asks for more."""
        if text:
            await self.redis.set(self._key("more", user_id), text, ex=ttl)
        else:
            await self.redis.delete(self._key("more", user_id))

    async def pop_more(self, user_id: str) -> str | None:
        raw = await self.redis.getdel(self._key("more", user_id))
        return decoded(raw)

    async def get_secret(self, name: str) -> str | None:
        raw = await self.redis.get(self._key("secret", name))
        return decoded(raw)

    async def put_secret(self, name: str, value: str, ttl: int) -> None:
        """A short-lived credential shared by all processes (WeChat's access token)."""
        await self.redis.set(self._key("secret", name), value, ex=ttl)

    def lock(self, name: str, timeout: float = 10.0):
        """A lock across processes, for work only one of them should do at a time."""
        return self.redis.lock(self._key("joblock", name), timeout=timeout, blocking_timeout=timeout)
