"""Ratings of answers: each answer a citizen may rate gets an offer; one rating per offer.

Keys, under `{prefix}:fb:` (short-lived, derived from traffic):
  fb:offer:{id}     JSON {topic, city, version, user, channel, text, kind}, expires after OFFER_TTL;
                    taken (GETDEL) by the rating, so an answer is rated once
  fb:await:{user}   the offer a WeChat user's next "1" or "2" rates, expires after AWAIT_TTL
The rating itself goes to the question log's counters (per topic, city and version) and, when "not
helpful", to the missed-questions inbox.
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from redis.asyncio import Redis

OFFER_TTL = 24 * 3600
AWAIT_TTL = 10 * 60


@dataclass(frozen=True)
class Offer:
    topic: str | None
    city: str | None
    version: int
    user: str            # keyed hash of the user id
    channel: str
    text: str            # the question that was answered
    kind: str


class Offers:
    def __init__(self, redis: Redis, prefix: str):
        self.redis = redis
        self._prefix = f"{prefix}:fb"

    def _key(self, *parts: str) -> str:
        return ":".join((self._prefix, *parts))

    async def make(self, offer: Offer, awaited: bool = False) -> str:
        """A new offer's id; with `awaited`, also the offer its user's next "1" or "2" rates, in the same
        round trip (a WeChat answer did both in two)."""
        offer_id = secrets.token_urlsafe(12)
        async with self.redis.pipeline(transaction=True) as pipe:
            stored = json.dumps(offer.__dict__, ensure_ascii=False)
            pipe.set(self._key("offer", offer_id), stored, ex=OFFER_TTL)
            if awaited:
                pipe.set(self._key("await", offer.user), offer_id, ex=AWAIT_TTL)
            await pipe.execute()
        return offer_id

    async def take(self, offer_id: str, user: str) -> Offer | None:
        """The offer, once, and only for the user it was made to."""
        if not offer_id or len(offer_id) > 64:
            return None
        key = self._key("offer", offer_id)
        raw = await self.redis.get(key)
        if not raw:
            return None
        offer = Offer(**json.loads(raw))
        if offer.user != user or not await self.redis.delete(key):
            return None
        return offer

    async def await_rating(self, user: str, offer_id: str | None) -> None:
        if offer_id:
            await self.redis.set(self._key("await", user), offer_id, ex=AWAIT_TTL)
        else:
            await self.redis.delete(self._key("await", user))

    async def awaited(self, user: str) -> str | None:
        raw = await self.redis.getdel(self._key("await", user))
        return raw.decode() if raw else None
