"""What a turn leaves behind for staff: the question log, the missed-questions inbox, rating offers.

`Dialogue.handle` calls `Recorder.record` after each reply; the channels call `offer` for an answer a
citizen may rate and `rate` with the rating. Users are only ever stored as keyed hashes.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from bot.models import Inbound, Reply
from bot.state.feedback import Offer, Offers
from bot.state.inbox import Inbox, Missed
from bot.state.questions import QuestionLog, user_hash
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
    def __init__(self, log: QuestionLog, inbox: Inbox, offers: Offers, secret: bytes,
                 brains: Brain | BrainHolder):
        self.log, self.inbox, self.offers = log, inbox, offers
        self._secret, self._brains = secret, brains

    def user(self, user_id: str) -> str:
        return user_hash(self._secret, user_id)

    @property
    def version(self) -> int:
        return getattr(self._brains, "number", 0)

    def _brain(self) -> Brain:
        return getattr(self._brains, "brain", self._brains)

    async def record(self, inbound: Inbound, reply: Reply, max_input: int = 500) -> None:
        async with self.log.redis.pipeline(transaction=True) as pipe:
            self.queue(pipe, inbound, reply, max_input)
            await pipe.execute()
        await self.file_missed(inbound, reply, max_input)

    def queue(self, pipe, inbound: Inbound, reply: Reply, max_input: int = 500) -> None:
        """The question log's writes for this turn, added to `pipe` (the turn's closing round trip)."""
        text = inbound.text[:max_input]
        if reply.kind in ("smalltalk", "ack") or not text.strip():
            return
        self.log.queue(pipe, channel=inbound.channel, kind=reply.kind, topic=reply.topic, city=reply.city,
                       user=self.user(inbound.user_id), text=text, confidence=reply.confidence,
                       version=self.version)

    async def file_missed(self, inbound: Inbound, reply: Reply, max_input: int = 500) -> None:
        """A missed question into the inbox (it groups by what is there already: its own round trips)."""
        text = inbound.text[:max_input]
        kind = missed_kind(reply)
        if kind and text.strip() and reply.kind not in ("smalltalk", "ack"):
            await self.inbox.add(self.missed(text, kind, inbound.channel, reply.city, self.user(inbound.user_id)))

    def missed(self, text: str, kind: str, channel: str, city: str | None, user: str) -> Missed:
        brain = self._brain()
        norm = normalize(text)
        u = understand(text, brain.gazetteer, brain.spelling)
        return Missed(text=text, norm=norm, focus=u.asked or norm, kind=kind, channel=channel,
                      city=city or u.city, user=user)

    async def offer(self, inbound: Inbound, reply: Reply) -> str | None:
        """An id the citizen rates this answer with, or None when it is not an answer."""
        if reply.kind not in RATED:
            return None
        return await self.offers.make(Offer(reply.topic, reply.city, self.version, self.user(inbound.user_id),
                                            inbound.channel, inbound.text[:500], reply.kind))

    async def rate(self, offer_id: str, user_id: str, helpful: bool) -> Offer | None:
        """Record a rating; None when the offer is unknown, expired, someone else's or already rated."""
        offer = await self.offers.take(offer_id, self.user(user_id))
        if offer is None:
            return None
        await self.log.rate(topic=offer.topic, city=offer.city, version=offer.version, helpful=helpful)
        if not helpful:
            await self.inbox.add(self.missed(offer.text, "not_helpful", offer.channel, offer.city, offer.user))
        return offer
