"""The missed-questions inbox: what citizens asked that the bot did not answer well, grouped for staff.

A question lands here when it got no match (fallback), a refusal, an excerpt, a low-confidence answer,
or an answer the citizen rated "not helpful". Questions with the same focus (the asking clause,
normalised, homophones repaired, city names removed: `Understood.asked`) or one close to it by
rapidfuzz's ratio join one group; a group counts its questions, channels, cities and kinds, and keeps
first and last seen.

Anonymous traffic cannot flush it: one wording is one entry however often it is sent (de-duplicated by
its normalised text), one user adds at most PER_USER to a group's count and opens at most OPENS_PER_DAY
new groups a day (so one sender's many different questions cannot push citizens' groups out), a group
keeps at most WORDINGS wordings and USERS user hashes, and the inbox at most MAX_GROUPS groups (the
longest unseen go first). Users are stored only as keyed hashes (see bot.state.identity).

Keys, all under `{prefix}:inbox:` (a key space of its own, never shared with staff data that must not
expire):
  inbox:index        ZSET  group id -> last seen (epoch seconds)
  inbox:counts       ZSET  group id -> questions counted (the list's order)
  inbox:focus        HASH  group id -> focus (for the similarity scan)
  inbox:texts        HASH  sha1(normalised text)[:16] -> group id (de-duplication)
  inbox:g:{id}       HASH  focus, status, reason, topic, actor, first, last, count, channels, cities, kinds
  inbox:q:{id}       HASH  wording -> count
  inbox:u:{id}       HASH  user hash -> questions counted
  inbox:opened:{u}   counter of groups user hash {u} opened, expires a day after its last opening
TTLs: every group's keys expire KEEP seconds (180 days) after its last question or staff action, the
shared keys (index, counts, focus, texts) 180 days after the last question, and the index drops groups
not seen for that long. The inbox is derived from traffic: under memory pressure
(`volatile-lru`) Redis may evict it, never the knowledge, accounts or audit log, which have no TTL.
Staff actions on groups are also recorded in the audit log.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass

from rapidfuzz import fuzz, process
from redis.asyncio import Redis

from bot.state.store import decoded

KEEP = 180 * 24 * 3600
MAX_GROUPS = 5000
WORDINGS = 20            # distinct wordings kept per group
USERS = 1000             # user hashes tracked per group
PER_USER = 3             # questions one user adds to one group's count
OPENS_PER_DAY = 20       # new groups one user opens a day
SIMILAR = 72             # rapidfuzz ratio (0-100) at which two foci are one question
STATUSES = ("new", "in_progress", "done", "dismissed")
KINDS = ("fallback", "refuse", "excerpt", "low", "not_helpful")


@dataclass(frozen=True)
class Missed:
    """One question for the inbox."""
    text: str            # as the citizen wrote it
    norm: str            # normalised (bot.understanding.text.normalize)
    focus: str           # the asking part, city names removed
    kind: str            # one of KINDS
    channel: str
    city: str | None
    user: str            # keyed hash of the user id
    at: float = 0.0


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:16]


class Inbox:
    def __init__(self, redis: Redis, prefix: str, max_groups: int = MAX_GROUPS):
        self.redis = redis
        self._prefix = f"{prefix}:inbox"
        self.max_groups = max_groups
        # the foci, cached: re-read only when the inbox's number of groups changed behind our back
        self._foci: dict[str, str] = {}

    def _key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    # ----------------------------------------------------------------------------------- writing

    async def add(self, m: Missed) -> str | None:
        """File a question; returns its group id, or None when it was not counted (user cap).
        Five round trips: the group's id, whether it exists, the user's count with the group's state
        read in the same transaction, the writes, the trim (it was ten: a fifth of citizens' questions
        land here, so these were most of the Redis traffic under load)."""
        at = m.at or time.time()
        gid = await self._group_for(m)
        if not await self.redis.exists(self._key("g", gid)) and not await self._may_open(m.user):
            return None
        g, q, users = self._key("g", gid), self._key("q", gid), self._key("u", gid)
        async with self.redis.pipeline(transaction=True) as pipe:   # never a moment without its TTL
            pipe.hincrby(users, m.user, 1).expire(users, KEEP).hlen(users)
            pipe.hgetall(g).hlen(q).hexists(q, m.text)
            used, _, n_users, raw, wordings, repeated = await pipe.execute()
        if used > PER_USER:
            await self.redis.hincrby(users, m.user, -1)    # the hash stays bounded at PER_USER
            return None
        group = {k.decode(): v.decode() for k, v in raw.items()}
        await self._count(gid, m, at, group, counted=wordings < WORDINGS or repeated, crowded=n_users > USERS)
        await self._trim(at)
        return gid

    async def _may_open(self, user: str) -> bool:
        key = self._key("opened", user)
        async with self.redis.pipeline(transaction=True) as pipe:
            opened, _ = await pipe.incr(key).expire(key, 24 * 3600).execute()
        return opened <= OPENS_PER_DAY

    async def _group_for(self, m: Missed) -> str:
        async with self.redis.pipeline(transaction=False) as pipe:     # one trip for both lookups
            pipe.hget(self._key("texts"), _sha(m.norm)).hlen(self._key("focus"))
            known, n_foci = await pipe.execute()
        if known:
            return known.decode()
        foci = await self._cached_foci(n_foci)
        best = process.extractOne(m.focus, foci, scorer=fuzz.ratio, score_cutoff=SIMILAR) if foci else None
        return best[2] if best else _sha(m.focus)

    async def _cached_foci(self, size: int) -> dict[str, str]:
        if size != len(self._foci):
            raw = await self.redis.hgetall(self._key("focus"))
            self._foci = {k.decode(): v.decode() for k, v in raw.items()}
        return self._foci

    async def _count(self, gid: str, m: Missed, at: float, group: dict, counted: bool, crowded: bool) -> None:
        """The group's writes, in one transaction. `group` is its hash as read; `counted`: this wording is
        (or may become) one of its WORDINGS; `crowded`: more than USERS user hashes are tracked."""
        g, q, u = self._key("g", gid), self._key("q", gid), self._key("u", gid)
        fresh = not group
        tallies = {f: json.loads(group.get(f, "{}")) for f in ("channels", "cities", "kinds")}
        for name, value in (("channels", m.channel), ("cities", m.city or "未说明"), ("kinds", m.kind)):
            tallies[name][value] = tallies[name].get(value, 0) + 1
        async with self.redis.pipeline(transaction=True) as pipe:
            if fresh:
                pipe.hset(g, mapping={"focus": m.focus, "status": "new", "first": repr(at), "count": 0})
                pipe.hset(self._key("focus"), gid, m.focus)
                self._foci[gid] = m.focus
            if counted:
                pipe.hincrby(q, m.text, 1)
                pipe.hset(self._key("texts"), _sha(m.norm), gid)
            if crowded:
                pipe.delete(u)                  # forget who asked long ago; counts stay
            pipe.hincrby(g, "count", 1)
            pipe.zincrby(self._key("counts"), 1, gid)
            pipe.hset(g, mapping={"last": repr(at), **{k: json.dumps(v, ensure_ascii=False)
                                                        for k, v in tallies.items()}})
            pipe.zadd(self._key("index"), {gid: at})
            for key in (g, q, u, *self._shared()):
                pipe.expire(key, KEEP)
            await pipe.execute()

    def _shared(self) -> tuple[str, ...]:
        return tuple(self._key(name) for name in ("index", "counts", "focus", "texts"))

    async def _trim(self, now: float) -> None:
        """Drop groups unseen for KEEP seconds, then the longest unseen beyond `max_groups`."""
        index = self._key("index")
        async with self.redis.pipeline(transaction=False) as pipe:
            old, size = await pipe.zrangebyscore(index, 0, now - KEEP).zcard(index).execute()
        extra = max(0, size - len(old) - self.max_groups)
        if extra:
            old += await self.redis.zrange(index, len(old), len(old) + extra - 1)
        for gid in old:
            await self.forget(decoded(gid))

    async def forget(self, gid: str) -> None:
        self._foci.pop(gid, None)
        wordings = await self.redis.hkeys(self._key("q", gid))
        async with self.redis.pipeline(transaction=True) as pipe:
            for w in wordings:
                pipe.hdel(self._key("texts"), _sha(_norm(w.decode())))
            pipe.zrem(self._key("index"), gid).zrem(self._key("counts"), gid).hdel(self._key("focus"), gid)
            pipe.delete(self._key("g", gid), self._key("q", gid), self._key("u", gid))
            await pipe.execute()

    async def set_status(self, gid: str, status: str, actor: str, *, topic: str = "", reason: str = "") -> dict:
        if status not in STATUSES:
            raise ValueError(status)
        g = self._key("g", gid)
        fields = {"status": status, "actor": actor, "changed": repr(time.time()), "topic": topic, "reason": reason}
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(g, mapping=fields)
            for key in (g, self._key("q", gid), self._key("u", gid)):
                pipe.expire(key, KEEP)
            await pipe.execute()
        return fields

    # ----------------------------------------------------------------------------------- reading

    async def group(self, gid: str) -> dict | None:
        found = await self._load([gid])
        return found[0] if found else None

    async def _load(self, ids: list[str], details: bool = True) -> list[dict]:
        """Groups by id, in one round trip (two with their wordings and user counts)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for gid in ids:
                pipe.hgetall(self._key("g", gid))
            raws = await pipe.execute()
        groups = [_group(gid, raw) for gid, raw in zip(ids, raws) if raw]
        if details and groups:
            async with self.redis.pipeline(transaction=False) as pipe:
                for g in groups:
                    pipe.hgetall(self._key("q", g["id"])).hlen(self._key("u", g["id"]))
                extra = await pipe.execute()
            for g, wordings, users in zip(groups, extra[::2], extra[1::2]):
                counts = {k.decode(): int(v) for k, v in wordings.items()}
                g["users"] = users
                g["questions"] = [{"text": t, "count": n}
                                  for t, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        return groups

    async def groups(self, status: str | None = None, limit: int = 100) -> list[dict]:
        """Biggest first (then most recently seen)."""
        found, start, batch = [], 0, max(limit, 200)
        while len(found) < limit:                  # by count, a batch at a time, until `limit` match
            ids = [g.decode() for g in await self.redis.zrevrange(self._key("counts"), start, start + batch - 1)]
            found += [g for g in await self._load(ids, details=False) if not status or g["status"] == status]
            if len(ids) < batch:
                break
            start += batch
        found.sort(key=lambda g: (-g["count"], -g["last_seen"]))
        return await self._load([g["id"] for g in found[:limit]])

    async def size(self) -> int:
        return await self.redis.zcard(self._key("index"))


def _norm(text: str) -> str:
    from bot.understanding.text import normalize     # text normalisation lives with the understanding
    return normalize(text)


def _group(gid: str, raw: dict) -> dict:
    g = {k.decode(): v.decode() for k, v in raw.items()}
    return {"id": gid, "focus": g["focus"], "status": g.get("status", "new"), "count": int(g.get("count", 0)),
            "users": 0, "first_seen": float(g["first"]), "last_seen": float(g.get("last", g["first"])),
            "channels": json.loads(g.get("channels", "{}")), "cities": json.loads(g.get("cities", "{}")),
            "kinds": json.loads(g.get("kinds", "{}")), "topic": g.get("topic") or None,
            "reason": g.get("reason") or None, "actor": g.get("actor") or None, "questions": []}
