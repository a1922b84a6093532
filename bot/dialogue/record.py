"""What a turn leaves behind for staff: the question log, the missed-questions inbox, rating offers.

`Dialogue.handle` calls `Recorder.record` after each reply; the channels call `offer` for an answer a
citizen may rate and `rate` with the rating. Users are only ever stored as keyed hashes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from bot.models import Inbound, Reply
from bot.state.feedback import Offer, Offers
from bot.state.inbox import Inbox, Missed
from bot.state.identity import UserHashes
from bot.state.questions import QuestionLog
from bot.state.resilient import DEGRADED, ResilientStore
from bot.understanding.text import normalize
from bot.understanding.understand import understand

if TYPE_CHECKING:
    from bot.understanding.brain import Brain
    from bot.understanding.holder import BrainHolder

LOW_CONFIDENCE = 0.45        # an answer below this goes to the inbox too ("low")
MISSED = {"fallback": "fallback", "refuse": "refuse", "excerpt": "excerpt"}
RATED = ("answer", "excerpt")


def missed_kind(reply: Reply) -> str | None:
    if reply.kind == "answer" and reply.confidence < LOW_CONFIDENCE:
        return "low"
    return MISSED.get(reply.kind)


class Recorder:
    """Every write is guarded by the store (`record` by the Dialogue that calls it, the others here): with
    Redis away a turn records nothing and offers no rating, and the citizen still gets the answer."""

    def __init__(self, log: QuestionLog, inbox: Inbox, offers: Offers, hashes: UserHashes,
                 brains: Brain | BrainHolder, store: ResilientStore):
        self.log, self.inbox, self.offers = log, inbox, offers
        self.hashes, self._brains, self._store = hashes, brains, store

    async def user(self, user_id: str) -> str | None:
        """The keyed hash staff see; None while the secret is unknown (Redis away since start)."""
        return await self.hashes.of(user_id)

    async def _guarded(self, what: str, call):
        result = await self._store.guarded(what, call)
        return None if result is DEGRADED else result

    @property
    def version(self) -> int:
        return getattr(self._brains, "number", 0)

    def _brain(self) -> Brain:
        return getattr(self._brains, "brain", self._brains)

    async def record(self, inbound: Inbound, reply: Reply, max_input: int = 500) -> None:
        user = await self.user(inbound.user_id)
        if user is None:
            return
        async with self.log.redis.pipeline(transaction=True) as pipe:
            self.queue(pipe, inbound, reply, user, max_input)
            await pipe.execute()
        await self.file_missed(inbound, reply, user, max_input)

    def queue(self, pipe, inbound: Inbound, reply: Reply, user: str, max_input: int = 500) -> None:
        """The question log's writes for this turn, added to `pipe` (the turn's closing round trip);
        `user` is the citizen's hash (`await user(...)`)."""
        text = inbound.text[:max_input]
        if reply.kind in ("smalltalk", "ack") or not text.strip():
            return
        self.log.queue(pipe, channel=inbound.channel, kind=reply.kind, topic=reply.topic, city=reply.city,
                       user=user, text=text, confidence=reply.confidence, version=self.version)

    async def file_missed(self, inbound: Inbound, reply: Reply, user: str, max_input: int = 500) -> None:
        """A missed question into the inbox (it groups by what is there already: its own round trips);
        `user` is the citizen's hash."""
        text = inbound.text[:max_input]
        kind = missed_kind(reply)
        if kind and text.strip() and reply.kind not in ("smalltalk", "ack"):
            await self.inbox.add(self.missed(text, kind, inbound.channel, reply.city, user))

    def missed(self, text: str, kind: str, channel: str, city: str | None, user: str) -> Missed:
        brain = self._brain()
        norm = normalize(text)
        u = understand(text, brain.gazetteer, brain.spelling)
        return Missed(text=text, norm=norm, focus=u.asked or norm, kind=kind, channel=channel,
                      city=city or u.city, user=user)

    async def offer(self, inbound: Inbound, reply: Reply, awaited: bool = False) -> str | None:
        """An id the citizen rates this answer with, or None when it is not an answer (or Redis is away).
        With `awaited`, their next "1" or "2" rates it (`await_rating`, in the same round trip)."""
        user = await self.user(inbound.user_id) if reply.kind in RATED else None
        if user is None:
            return None
        offer = Offer(reply.topic, reply.city, self.version, user, inbound.channel, inbound.text[:500],
                      reply.kind)
        return await self._guarded("offer", lambda: self.offers.make(offer, awaited))

    async def rate(self, offer_id: str, user_id: str, helpful: bool) -> Offer | None:
        """Record a rating; None when the offer is unknown, expired, someone else's or already rated."""
        user = await self.user(user_id)
        return await self._guarded("rate", lambda: self._rate(offer_id, user, helpful)) if user else None

    async def _rate(self, offer_id: str, user: str, helpful: bool) -> Offer | None:
        offer = await self.offers.take(offer_id, user)
        if offer is None:
            return None
        await self.log.rate(topic=offer.topic, city=offer.city, version=offer.version, helpful=helpful)
        if not helpful:
            await self.inbox.add(self.missed(offer.text, "not_helpful", offer.channel, offer.city, offer.user))
        return offer

    async def await_rating(self, user_id: str, offer_id: str | None) -> None:
        """Which offer a WeChat user's next "1" or "2" rates (None: none)."""
        user = await self.user(user_id)
        if user:
            await self._guarded("await_rating", lambda: self.offers.await_rating(user, offer_id))

    async def awaited(self, user_id: str) -> str | None:
        user = await self.user(user_id)
        return await self._guarded("awaited", lambda: self.offers.awaited(user)) if user else None
