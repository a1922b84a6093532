"""One turn of a conversation: session in, reply out. Knows nothing of channels.

`Dialogue.handle` takes the user's lock, loads the session, runs the pure `Turn` logic and saves the
session; everything a citizen sees is decided in `Turn`, which is easy to test without Redis.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.dialogue import replies, smalltalk
from bot.dialogue.lanes import Inline
from bot.knowledge.schema import Topic
from bot.models import Inbound, Reply
from bot.observability import metrics
from bot.state.store import Session, Store
from bot.understanding.matcher import Match
from bot.understanding.text import normalize

if TYPE_CHECKING:
    from bot.understanding.brain import Brain

MAX_INPUT = 500          # characters of a message that are read; the rest of a pasted essay is ignored
MATCH_MIN = 0.30         # below this a topic is not an answer: "no match"
SURE = 0.55              # below this, a runner-up within MARGIN is offered first among the suggestions
MARGIN = 0.05            # how close a runner-up must be to count as another reading of the question
PASSAGE_MIN = 0.40       # an excerpt must cover this share of the question (IDF-weighted)
REFUSE_MIN = 0.45        # "X's briefing has nothing on this" needs a topic that clearly fits the question
REFUSE_LEAD = 0.12       # ... and, if the city has a weaker fitting topic, to beat it by this much
# Words that carry no topic: "那定州呢", "我是寿光的", "我住在定州".
_FILLER = re.compile(r"那么|那边|那里|这边|还有|的话|怎么样|如何|情况|我是|我在|我住在|住在|我来自|来自|我家在|本地|当地"
                     r"|人|市|那|呢|的|吗|呀|啊|是|在|我")
_WORDS = re.compile(r"[^\W_]")     # a letter, digit or Chinese character
_ELLIPSIS = re.compile(r"^(那|那么|还有|再问|另外)|呢$")
# "我是寿光的", "我住在定州", "俺在东侨开发区开厂": the user says where they live, which holds for every
# later question; a city merely named in a question holds only for its follow-ups.
_DECLARES_HOME = re.compile(r"(我|俺|我们|我家|咱)(是|在|住在|住|来自|家在|家住)|^(住在|来自)")


@dataclass(frozen=True)
class Understood:
    text: str                # normalised question with places removed
    city: str | None         # a briefing city named in this message
    other: str | None        # a place the briefings do not cover
    elliptical: bool         # "那困人次数呢", "居民呢": leans on the previous question
    declares_home: bool      # "我是寿光的"


class Dialogue:
    lanes = Inline()          # where a turn's CPU work runs; the app puts it in worker threads (lanes.py)

    def __init__(self, brain: Brain, store: Store):
        self._kn, self._matcher, self._passages = brain.knowledge, brain.matcher, brain.passages
        self._gaz, self._spelling = brain.gazetteer, brain.spelling
        self._store = store

    async def handle(self, inbound: Inbound) -> Reply:
        async with self._store.user_lock(inbound.user_id):
            session = await self._store.load_session(inbound.user_id)
            reply, session = await self.lanes.run(inbound.channel, self.turn, inbound.text, session,
                                                  inbound.city_hint)
            await self._store.save_session(inbound.user_id, session)
        metrics.ANSWERS.labels(inbound.channel, reply.kind).inc()
        if reply.kind in ("fallback", "refuse", "excerpt"):
            await self._store.log_unanswered(inbound.text[:MAX_INPUT], reply.city, inbound.channel, reply.kind,
                                             user=inbound.user_id)
        return reply

    async def remember_city(self, user_id: str, city: str) -> None:
        """Set the session's city without a question (a WeChat LOCATION event, a city picker)."""
        async with self._store.user_lock(user_id):
            session = await self._store.load_session(user_id)
            await self._store.save_session(user_id, session.evolve(home=city, city=city))

    async def reset(self, user_id: str) -> None:
        async with self._store.user_lock(user_id):
            await self._store.clear_session(user_id)

    def turn(self, text: str, session: Session, city_hint: str | None = None) -> tuple[Reply, Session]:
        return Turn(self, session, city_hint).run(text)


class Turn:
    """The decisions of one turn, over a snapshot of the session."""

    def __init__(self, dialogue: Dialogue, session: Session, city_hint: str | None):
        self.d, self.kn, self.session = dialogue, dialogue._kn, session
        self.runner_up: Topic | None = None
        if city_hint and not session.home:
            self.session = session.evolve(home=city_hint)

    def run(self, text: str) -> tuple[Reply, Session]:
        if not text or not text.strip():
            return replies.empty_input(), self.session
        norm = normalize(text[:MAX_INPUT])
        if not _WORDS.search(norm):       # emoji or punctuation only: not a follow-up to the last answer
            return replies.unreadable_input(), self.session
        kind = smalltalk.classify(norm)
        if kind == "reset":
            return self._smalltalk(kind), Session()
        if kind:
            return self._smalltalk(kind), self.session
        return self._question(self._understand(smalltalk.strip_greeting(norm)))

    def _smalltalk(self, kind: str) -> Reply:
        return Reply(smalltalk.REPLIES[kind], None, None, 1.0, (), self._popular(self.session.home), "smalltalk")

    def _understand(self, norm: str) -> Understood:
        places = self.d._gaz.find(self.d._spelling.repair(norm))
        return Understood(places.stripped, places.city, places.other, bool(_ELLIPSIS.search(norm)),
                          bool(places.city and _DECLARES_HOME.search(norm)))

    def _question(self, u: Understood) -> tuple[Reply, Session]:
        if u.declares_home:
            self.session = self.session.evolve(home=u.city)
        if not _FILLER.sub("", u.text):
            return self._city_only(u)
        city = self._city_for(u)
        if u.city:                       # a city the user names is remembered, whatever comes of the question
            self.session = self.session.evolve(city=u.city)
        ranked = self._ranked(u, city)
        choice = self._choose(ranked, city)
        if choice is None:
            return self._unmatched(u, city)
        return self._topic_reply(self.kn.by_id[choice.topic], choice.score, u, city)

    def _city_for(self, u: Understood) -> str | None:
        """The city a question is about: the one it names; for a follow-up, the one just discussed; else
        the user's own city, if they said it. A city named for one topic does not carry to the next."""
        if u.city or u.other:
            return u.city
        if u.elliptical:
            return self.session.city or self.session.home
        return self.session.home

    def _city_only(self, u: Understood) -> tuple[Reply, Session]:
        """"定州" after a clarifying question, "那驻马店呢" after an answer, "我是寿光的" on its own."""
        if u.city:
            topic = self.kn.topic(self.session.pending or self.session.topic)
            if topic:
                return self._for_city(topic, u.city, 1.0, self.session.last_text)
            suggestions = self._popular(u.city)
            return replies.ask_city_topic(u.city, suggestions), self.session.evolve(city=u.city, pending=None)
        if u.other:
            return replies.refuse_other_place(u.other, None, 0.0), self.session
        return replies.fallback(self._popular(self.session.home)), self.session

    def _ranked(self, u: Understood, city: str | None) -> list[Match]:
        """Topics for this message; an elliptical one ("居民呢") is also read with the question before it."""
        ranked = self.d._matcher.rank(u.text, city)
        leaning = self.session.last_text and (u.elliptical or not ranked or ranked[0].score < MATCH_MIN)
        if not leaning:
            return ranked
        combined = self.d._matcher.rank(self.session.last_text + u.text, city)
        if not combined or (not u.elliptical and ranked and ranked[0].score >= combined[0].score):
            return ranked
        # The previous question supplies the subject, this one what changes: "职工…起付线" + "居民呢"
        # must land on the 居民 topic, so a candidate of the same subject area is also judged by the new
        # words alone. Other areas are not: "以前呢" alone fits any before-and-after topic.
        previous = self.kn.topic(self.session.topic)
        area = previous.category if previous else None
        alone = {m.topic: m.score for m in ranked if self.kn.by_id[m.topic].category == area}
        rescored = [Match(m.topic, (m.score + alone.get(m.topic, 0.0)) / 2) for m in combined]
        top = max(rescored, key=lambda m: m.score)
        return [Match(top.topic, combined[0].score)] + [m for m in combined if m.topic != top.topic]

    def _choose(self, ranked: list[Match], city: str | None) -> Match | None:
        """The topic to answer, or None. With a city known, a topic that city's briefing covers is
        preferred; one it lacks is chosen (to refuse honestly) only when it clearly fits. A close runner-up
        is kept in `self.runner_up` and offered first among the suggestions."""
        if city:
            have = [m for m in ranked if city in self.kn.by_id[m.topic].answers]
            lack = [m for m in ranked if city not in self.kn.by_id[m.topic].answers]
            lacking = lack[0] if lack and lack[0].score >= REFUSE_MIN else None
            if have and have[0].score >= MATCH_MIN:
                if lacking and lacking.score >= have[0].score + REFUSE_LEAD:
                    return lacking
                ranked = have
            else:
                return lacking
        if not ranked or ranked[0].score < MATCH_MIN:
            return None
        top, rest = ranked[0], ranked[1:]
        # An unsure near-tie is still answered (the better guess is right more often than a question
        # back is welcome), with the other reading offered as the first thing to tap.
        close = [m for m in rest if m.score >= MATCH_MIN and top.score - m.score < MARGIN]
        if top.score < SURE and close:
            self.runner_up = self.kn.by_id[close[0].topic]
        return top

    def _topic_reply(self, topic: Topic, score: float, u: Understood, city: str | None) -> tuple[Reply, Session]:
        if u.other and not u.city:
            return replies.refuse_other_place(u.other, topic, score), self.session.evolve(topic=topic.id)
        if city:
            return self._for_city(topic, city, score, u.text)
        if len(topic.answers) == 1:
            return self._for_city(topic, topic.cities()[0], score, u.text, remember_city=False)
        session = self.session.evolve(pending=topic.id, topic=topic.id, last_text=u.text)
        return replies.clarify_city(topic, score), session

    def _for_city(self, topic: Topic, city: str, score: float, text: str | None,
                  remember_city: bool = True) -> tuple[Reply, Session]:
        session = self.session.evolve(topic=topic.id, pending=None, last_text=text,
                                      city=city if remember_city else self.session.city)
        if city not in topic.answers:
            return replies.refuse_city(topic, city, score), session
        return replies.answer(self.kn, topic, city, score, self._related(topic, city)), session

    def _unmatched(self, u: Understood, city: str | None) -> tuple[Reply, Session]:
        if u.other and not u.city:
            return replies.refuse_other_place(u.other, None, 0.0), self.session
        if city:
            found = self.d._passages.best(u.text, city)
            if found and found[1] >= PASSAGE_MIN:
                return replies.excerpt(self.kn, *found), self.session.evolve(pending=None)
        return replies.fallback(self._popular(city)), self.session

    def _related(self, topic: Topic, city: str) -> tuple[str, ...]:
        """Up to three next questions: a close runner-up, the topic's own `related`, then its category,
        all for this city."""
        pool = [self.runner_up] + [self.kn.topic(r) for r in topic.related]
        pool += [t for t in self.kn.topics if t.category == topic.category]
        seen, out = {topic.id}, []
        for t in pool:
            if t and t.id not in seen and city in t.answers:
                seen.add(t.id)
                out.append(replies.canonical_question(t, city))
        return tuple(out[:3])

    def _popular(self, city: str | None) -> tuple[str, ...]:
        """Sample questions: the first topics of different categories (for the city, if known)."""
        out, categories = [], set()
        for t in self.kn.topics:
            if t.category not in categories and (city is None or city in t.answers):
                categories.add(t.category)
                c = city or t.cities()[0]
                out.append(replies.canonical_question(t, c))
        return tuple(out[:3])
