"""Redis that degrades instead of failing: every call is bounded in time, and when Redis is slow or gone
the citizen-facing state falls back to "nothing remembered" so the channels still answer, statelessly.

- The client: short socket and connect timeouts (WeChat allows 5 s for a whole reply), no retries (a
  retried write may apply twice), a health check before reusing an idle connection, a bounded pool.
- `Breaker`: after a failure Redis is skipped for `cooldown` seconds (each call would otherwise wait out
  its own timeout); the pool is emptied so no connection from before the fault is reused.
- `ResilientStore`: the Store with each call guarded; its fallbacks are what a fresh visitor would see.
- `ResilientLock`: a per-user lock whose expiry is an absolute time (SET PXAT), so a SET queued in a
  stalled server and run after it has already expired; with Redis away the turn runs unlocked.
"""
from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from bot.observability import metrics
from bot.observability.logs import pseudonym
from bot.state.store import SESSION_TTL, Session, Store, decoded

log = logging.getLogger(__name__)

CLIENT_NAME = "citizen-bot"   # CLIENT SETNAME prefix: tells bot processes apart on a shared server
CALL_TIMEOUT = 0.5          # seconds any one Redis call may take before the request goes on without it
COOLDOWN = 1.0              # seconds Redis is skipped after a failure before it is tried again
LOCK_TTL = 5.0              # a turn takes milliseconds; a lock left by a dead process lapses this soon
LOCK_WAIT = 3.0             # queue this long behind the same user's other turns, then answer anyway
POOL_SIZE = 64
HEALTH_CHECK = 5            # seconds idle after which a pooled connection is PINGed before reuse
DEGRADED = object()         # what a guarded call returns when Redis could not be asked
FAULTS = (RedisError, OSError, TimeoutError)
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
# A turn's Redis work is two round trips: take the user's lock and read the session (_BEGIN), then write
# the session and free the lock (_END, pipelined with the question log). KEYS: the lock, the session.
# _BEGIN returns {1 if the lock was taken, the session or nothing}; the session is read even when the
# lock is busy, so a turn that gives up waiting still sees the latest state.
_BEGIN = """
local took = redis.call('set', KEYS[1], ARGV[1], 'NX', 'PXAT', ARGV[2])
return {took and 1 or 0, redis.call('get', KEYS[2])}
"""
# ARGV: the lock token ('' when the turn ran unlocked), the session, its time to live in seconds. The
# session is written either way (as a plain SET after the turn was); the lock is freed only if ours.
_END = """
redis.call('set', KEYS[2], ARGV[2], 'EX', ARGV[3])
if ARGV[1] ~= '' and redis.call('get', KEYS[1]) == ARGV[1] then redis.call('del', KEYS[1]) end
return 1
"""

# A WeChat message's arrival (see remember_then_claim). KEYS: its nonce, its stored reply, its claim. ARGV:
# the message's key, the nonce's time to live (s), the claim's expiry (absolute, ms). {earlier} alone when
# the nonce came with another message (then nothing is claimed); else {earlier or '', 1, reply} or
# {earlier or '', 0, 1 if claimed else 0}.
_REMEMBER_THEN_CLAIM = """
local earlier = false
if not redis.call('set', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  earlier = redis.call('get', KEYS[1])
  if earlier and earlier ~= ARGV[1] then return {earlier} end
end
local stored = redis.call('get', KEYS[2])
if stored then return {earlier or '', 1, stored} end
return {earlier or '', 0, redis.call('set', KEYS[3], '1', 'NX', 'PXAT', ARGV[3]) and 1 or 0}
"""


def client_options(call_timeout: float = CALL_TIMEOUT) -> dict:
    """Keyword arguments for redis.asyncio clients that never wait longer than WeChat can."""
    return dict(socket_timeout=call_timeout, socket_connect_timeout=call_timeout, retry=Retry(NoBackoff(), 0),
                retry_on_timeout=False, health_check_interval=HEALTH_CHECK)


def connect(url: str | None = None, unix_socket_path: str | None = None, name: str | None = None) -> Redis:
    """A client with bounded calls and a bounded pool (waiting for a free connection is bounded too)."""
    kwargs = client_options() | {"max_connections": POOL_SIZE, "timeout": CALL_TIMEOUT}
    if name:
        kwargs["client_name"] = name
    if url:
        pool = BlockingConnectionPool.from_url(url, **kwargs)
    else:
        from redis.asyncio.connection import UnixDomainSocketConnection
        pool = BlockingConnectionPool(connection_class=UnixDomainSocketConnection, path=unix_socket_path, **kwargs)
    return Redis(connection_pool=pool)


def connect_sentinel(sentinels: tuple[tuple[str, int], ...], master: str, name: str | None = None) -> Redis:
    """A client for the master Sentinel names, with connect()'s bounds on every call. Each new connection
    asks the sentinels (each query bounded too) where the master is; after a failover the breaker empties
    the pool, so the next connections go to the promoted replica, and a connection that finds its server
    demoted (READONLY) is dropped by redis-py. Sentinel's pool is not a blocking one: past POOL_SIZE a
    call fails at once (and answers degraded) instead of waiting for a free connection."""
    from redis.asyncio.sentinel import Sentinel
    kwargs = client_options() | {"max_connections": POOL_SIZE}
    if name:
        kwargs["client_name"] = name
    return Sentinel(list(sentinels), sentinel_kwargs=client_options()).master_for(master, **kwargs)


class Breaker:
    """This process's view of Redis: closed (use it) or open until `open_until` (skip it)."""

    def __init__(self, cooldown: float = COOLDOWN, clock: Callable[[], float] = time.monotonic):
        self.cooldown, self._clock = cooldown, clock
        self.open_until = 0.0

    @property
    def is_open(self) -> bool:
        return self._clock() < self.open_until

    def trip(self) -> bool:
        """Open the breaker; True if it was closed (the first failure of an outage)."""
        was_closed = not self.is_open
        self.open_until = self._clock() + self.cooldown
        return was_closed


@dataclass
class TurnState:
    session: Session
    token: str                      # the lock's token; "" when the turn runs unlocked
    extra: list[Callable[[Any], None]] = field(default_factory=list)

    def also(self, queue: Callable[[Any], None]) -> None:
        """`queue(pipeline)` adds commands to the turn's closing round trip."""
        self.extra.append(queue)


class ResilientStore(Store):
    """The Store, each call bounded and guarded; with Redis away, the answer is "nothing known"."""

    def __init__(self, redis: Redis, prefix: str = "citizen-bot", session_ttl: int = SESSION_TTL,
                 breaker: Breaker | None = None, call_timeout: float = CALL_TIMEOUT):
        super().__init__(redis, prefix, session_ttl)
        self.breaker = breaker or Breaker()
        self._timeout = call_timeout

    async def guarded(self, what: str, call: Callable[[], Awaitable[Any]]) -> Any:
        """call() within the timeout, or DEGRADED (counted, and logged once per outage)."""
        if self.breaker.is_open:
            metrics.DEGRADED.labels(what).inc()
            return DEGRADED
        try:
            # asyncio.timeout, not wait_for: wait_for wraps the call in a task of its own, one more task
            # and loop pass per Redis call, a measurable share of a request (docs/performance.md)
            async with asyncio.timeout(self._timeout + 0.1):
                return await call()
        except FAULTS as exc:
            await self.fault(what, exc)
            return DEGRADED

    async def fault(self, what: str, exc: BaseException) -> None:
        """A Redis call failed (here, or in a caller that does not degrade, such as the staff console):
        counted, and the breaker opened (logged, and the pool emptied, once per outage)."""
        metrics.REDIS_ERRORS.labels(type(exc).__name__).inc()
        metrics.DEGRADED.labels(what).inc()
        if self.breaker.trip():
            log.warning("redis unavailable (%s: %s): answering without state for %.1fs",
                        type(exc).__name__, exc, self.breaker.cooldown)
            await self._drop_connections()

    async def _drop_connections(self) -> None:
        """Connections opened before the fault may hold unread replies: none is used again."""
        try:
            await self.redis.connection_pool.disconnect(inuse_connections=True)
        except Exception:  # noqa: BLE001  closing a broken socket may fail in any way; it is gone either way
            log.debug("redis: closing pooled connections failed", exc_info=True)

    async def _or(self, what: str, call, fallback):
        result = await self.guarded(what, call)
        return fallback if result is DEGRADED else result

    # -- sessions and history: forgotten while Redis is away ------------------------------------------
    async def load_session(self, user_id: str) -> Session:
        return await self._or("load_session", lambda: super(ResilientStore, self).load_session(user_id), Session())

    async def save_session(self, user_id: str, session: Session) -> None:
        await self._or("save_session", lambda: super(ResilientStore, self).save_session(user_id, session), None)

    async def clear_session(self, user_id: str) -> None:
        await self._or("clear_session", lambda: super(ResilientStore, self).clear_session(user_id), None)

    async def append_history(self, conversation: str, *entries: dict, keep: int = 100) -> None:
        call = lambda: super(ResilientStore, self).append_history(conversation, *entries, keep=keep)  # noqa: E731
        await self._or("append_history", call, None)

    async def history(self, conversation: str) -> list[dict]:
        return await self._or("history", lambda: super(ResilientStore, self).history(conversation), [])

    async def clear_history(self, conversation: str) -> None:
        await self._or("clear_history", lambda: super(ResilientStore, self).clear_history(conversation), None)

    async def register_browser(self, browser_id: str) -> None:
        await self._or("register_browser", lambda: super(ResilientStore, self).register_browser(browser_id), None)

    async def browser_known(self, browser_id: str) -> bool:
        # Unverifiable while Redis is away; harmless, since nothing stored can be read with it meanwhile.
        return await self._or("browser_known", lambda: super(ResilientStore, self).browser_known(browser_id), True)

    async def put_more(self, user_id: str, text: str, ttl: int = SESSION_TTL) -> None:
        await self._or("put_more", lambda: super(ResilientStore, self).put_more(user_id, text, ttl), None)

    async def pop_more(self, user_id: str) -> str | None:
        return await self._or("pop_more", lambda: super(ResilientStore, self).pop_more(user_id), None)

    # -- WeChat hand-off: with Redis away, every process answers what reaches it (no de-duplication) ---
    async def claim(self, name: str, ttl: int) -> bool:
        """Like Store.claim, but the expiry is absolute: a claim queued in a stalled server lapses on time."""
        until = int((time.time() + ttl) * 1000)
        call = lambda: self.redis.set(self._key("claim", name), "1", nx=True, pxat=until)  # noqa: E731
        result = await self.guarded("claim", call)
        if result is DEGRADED:
            log.warning("redis unavailable: a message answered without de-duplication",
                        extra={"message_key": pseudonym(name)})
            return True
        return bool(result)

    async def result_or_claim(self, name: str, ttl: int) -> tuple[str | None, bool]:
        """Redis away: nothing stored, and claimed (every process answers what reaches it)."""
        result = await self.guarded("claim", lambda: super(ResilientStore, self).result_or_claim(name, ttl))
        if result is DEGRADED:
            log.warning("redis unavailable: a message answered without de-duplication",
                        extra={"message_key": pseudonym(name)})
            return None, True
        return result

    async def put_result(self, name: str, value: str, ttl: int, only_new: bool = False) -> bool | None:
        """True stored, False one was already stored, None unknown (Redis away)."""
        result = await self.guarded("put_result", lambda: super(ResilientStore, self).put_result(
            name, value, ttl, only_new))
        return None if result is DEGRADED else result

    async def get_result(self, name: str) -> str | None:
        return await self._or("get_result", lambda: super(ResilientStore, self).get_result(name), None)

    async def remember(self, name: str, value: str, ttl: int) -> str | None:
        """Store `value` under `name` unless something is stored; the earlier value, or None if this is the
        first (or Redis is away: fail open)."""
        key = self._key("seen", name)

        async def call():
            if await self.redis.set(key, value, nx=True, ex=ttl):
                return None
            raw = await self.redis.get(key)
            return decoded(raw)
        return await self._or("remember", call, None)

    async def remember_then_claim(self, name: str, value: str, ttl: int, claim: str,
                                  lease: int) -> tuple[str | None, tuple[str | None, bool] | None]:
        """`remember(name, value, ttl)` and, unless an earlier value differs from `value`, then
        `result_or_claim(claim, lease)`, in one round trip: (the earlier value, (stored result, claimed)
        or None when nothing was claimed). Redis away: (None, (None, True)), as the two would say."""
        keys = (self._key("seen", name), self._key("result", claim), self._key("claim", claim))

        async def call():
            until = int((time.time() + lease) * 1000)
            return await self.redis.eval(_REMEMBER_THEN_CLAIM, 3, *keys, value, ttl, until)
        got = await self.guarded("claim", call)
        if got is DEGRADED:
            log.warning("redis unavailable: a message answered without de-duplication",
                        extra={"message_key": pseudonym(claim)})
            return None, (None, True)
        earlier = decoded(got[0]) or None
        if len(got) == 1:
            return earlier, None
        found, value = got[1], got[2]
        return earlier, ((decoded(value), False) if found else (None, bool(value)))

    async def get_secret(self, name: str) -> str | None:
        return await self._or("get_secret", lambda: super(ResilientStore, self).get_secret(name), None)

    async def put_secret(self, name: str, value: str, ttl: int) -> None:
        await self._or("put_secret", lambda: super(ResilientStore, self).put_secret(name, value, ttl), None)

    # -- a turn: lock and session in two round trips ----------------------------------------------------
    @asynccontextmanager
    async def turn(self, user_id: str):
        """The user's session for one turn, under their lock (see _BEGIN/_END). Set `state.session` to
        what the turn made of it; `state.also(queue)` adds writes to the closing round trip. With Redis
        away, the turn runs on a fresh session and nothing is saved; if the turn fails, only the lock
        is freed."""
        state = await self._begin_turn(user_id)
        try:
            yield state
        except BaseException:
            if state.token:
                await self.release(self._key("lock", user_id), state.token)
            raise
        await self.guarded("end_turn", lambda: self._end_turn(user_id, state))

    async def _begin_turn(self, user_id: str) -> TurnState:
        token = secrets.token_hex(8)
        keys = (self._key("lock", user_id), self._key("session", user_id))
        loop = asyncio.get_running_loop()
        until = loop.time() + LOCK_WAIT
        while True:
            expiry = int((time.time() + LOCK_TTL) * 1000)      # absolute: see ResilientLock
            got = await self.guarded("begin_turn", lambda: self.redis.eval(_BEGIN, 2, *keys, token, expiry))
            if got is DEGRADED:
                return TurnState(Session(), "")
            took, raw = got[0], (got[1] if len(got) > 1 else None)
            if took or loop.time() >= until:
                if not took:
                    _gave_up_waiting(keys[0], LOCK_WAIT)
                return TurnState(self.parse_session(raw), token if took else "")
            await _pause()

    async def _end_turn(self, user_id: str, state: TurnState) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.eval(_END, 2, self._key("lock", user_id), self._key("session", user_id), state.token,
                      self.dump_session(state.session), self._ttl)
            for queue in state.extra:
                queue(pipe)
            await pipe.execute()

    # -- locks -----------------------------------------------------------------------------------------
    async def release(self, key: str, token: str) -> None:
        """Free a lock if it is still the holder's (`token`); it lapses by itself otherwise."""
        await self.guarded("unlock", lambda: self.redis.eval(_RELEASE, 1, key, token))

    def user_lock(self, user_id: str, timeout: float = LOCK_TTL):
        return ResilientLock(self, self._key("lock", user_id), ttl=min(timeout, LOCK_TTL), wait=LOCK_WAIT)

    def lock(self, name: str, timeout: float = 10.0):
        return ResilientLock(self, self._key("joblock", name), ttl=timeout, wait=timeout)


def _gave_up_waiting(key: str, waited: float) -> None:
    """Another holder kept a lock past the wait: the caller goes on without it (counted and logged)."""
    metrics.DEGRADED.labels("lock_wait").inc()
    log.warning("a user's lock still held after %.1fs: answering without it", waited,
                extra={"lock": pseudonym(key)})


async def _pause() -> None:
    """Between two tries for a busy lock: 10-30 ms, jittered so waiting callers do not retry in step."""
    await asyncio.sleep(0.01 + secrets.randbelow(20) / 1000)


class ResilientLock:
    """A Redis lock with an absolute expiry. `async with` waits up to `wait` and then goes on unlocked:
    a citizen's answer matters more than the order of two of their own messages."""

    def __init__(self, store: ResilientStore, key: str, ttl: float, wait: float):
        self._store, self.key, self._ttl, self._wait = store, key, ttl, wait
        self._token = secrets.token_hex(8)
        self.held = False

    async def _try(self) -> bool | None:
        until = int((time.time() + self._ttl) * 1000)
        call = lambda: self._store.redis.set(self.key, self._token, nx=True, pxat=until)  # noqa: E731
        result = await self._store.guarded("lock", call)
        return None if result is DEGRADED else bool(result)

    async def acquire(self, blocking: bool = True, blocking_timeout: float | None = None) -> bool:
        """True when held, or when Redis is away (nothing to serialise against); False when another
        holder kept it past the wait."""
        loop = asyncio.get_running_loop()
        until = loop.time() + (self._wait if blocking_timeout is None else blocking_timeout)
        while True:
            got = await self._try()
            if got is None:
                return True
            if got:
                self.held = True
                return True
            if not blocking or loop.time() >= until:
                return False
            await _pause()

    async def release(self) -> None:
        if self.held:
            self.held = False
            await self._store.release(self.key, self._token)

    async def __aenter__(self) -> ResilientLock:
        if not await self.acquire():
            _gave_up_waiting(self.key, self._wait)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.release()
