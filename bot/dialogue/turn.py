"""One turn of a conversation: session in, reply out. Knows nothing of channels.

`Dialogue.handle` takes the user's lock, loads the session, runs the pure `Turn` logic and saves the
session; everything a citizen sees is decided in `Turn`, which is easy to test without Redis.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.dialogue import replies, smalltalk
from bot.dialogue.lanes import Inline
from bot.dialogue.memo import TurnMemo
from bot.knowledge.schema import Topic
from bot.models import Inbound, Reply
from bot.observability import metrics
from bot.state.store import Session, Store
from bot.understanding.brain import Brain
from bot.understanding.matcher import Match
from bot.understanding.siblings import sibling
from bot.understanding.text import normalize
from bot.understanding.understand import Understood, understand

if TYPE_CHECKING:
    from bot.dialogue.record import Recorder
    from bot.understanding.holder import BrainHolder

MAX_INPUT = 500          # characters of a message that are read; the rest of a pasted essay is ignored
MATCH_MIN = 0.30         # below this a topic is not an answer: "no match"
SURE = 0.55              # below this, a runner-up within MARGIN is offered first among the suggestions
MARGIN = 0.05            # how close a runner-up must be to count as another reading of the question
PASSAGE_MIN = 0.40       # an excerpt must cover this share of the question (IDF-weighted)
REFUSE_MIN = 0.45        # "X's briefing has nothing on this" needs a topic that clearly fits the question
REFUSE_LEAD = 0.12       # ... and, if the city has a weaker fitting topic, to beat it by this much
# "一共花了多少钱，救助了多少人": a second question in one message gets its own topic's answer too, when
# that topic fits the part this well, beats the main topic on it by PART_LEAD, and is kin to the main
# topic (same category or related). A short part alone ("已经完工几个") fits too many topics to trust.
PART_MIN = 0.45
PART_LEAD = 0.10
_WORDS = re.compile(r"[^\W_]")     # a letter, digit or Chinese character


class Dialogue:
    """`brain` is a Brain, or a holder whose `.brain` is the live one: each turn takes the Brain once, at
    its start, so a turn in flight finishes on the Brain it began with while a new version swaps in."""
    lanes = Inline()          # where a turn's CPU work runs; the app puts it in worker threads (lanes.py)
    memo = TurnMemo(0)        # replies to repeated questions; the app turns it on (memo.py)

    def __init__(self, brain: Brain | BrainHolder, store: Store | None, recorder: Recorder | None = None):
        self._source = brain
        self._store = store
        self.recorder = recorder       # the question log and the missed-questions inbox (record.py)

    @property
    def brain(self) -> Brain:
        return self._source if isinstance(self._source, Brain) else self._source.brain

    async def handle(self, inbound: Inbound) -> Reply:
        async with self._store.turn(inbound.user_id) as state:     # two Redis round trips in all
            # A repeated question is answered here; only new work goes to a lane's thread.
            brain, key = self.brain, (inbound.text, state.session, inbound.city_hint)
            reply, state.session = self.memo.get(brain, key) or await self.lanes.run(
                inbound.channel, self._work, brain, key)
            user = await self.recorder.user(inbound.user_id) if self.recorder else None   # None: Redis away
            if user is not None:
                state.also(lambda pipe: self.recorder.queue(pipe, inbound, reply, user, MAX_INPUT))
        metrics.ANSWERS.labels(inbound.channel, reply.kind).inc()
        if user is not None:              # a missed question into the inbox; skipped while Redis is away
            await self._store.guarded("record",
                                      lambda: self.recorder.file_missed(inbound, reply, user, MAX_INPUT))
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
        brain = self.brain
        return self.memo.get_or_run(brain, (text, session, city_hint),
                                    lambda: Turn(brain, session, city_hint).run(text))

    def _work(self, brain: Brain, key: tuple[str, Session, str | None]) -> tuple[Reply, Session]:
        """A turn the memo did not know (already asked): worked out and remembered."""
        text, session, city_hint = key
        done = Turn(brain, session, city_hint).run(text)
        self.memo.put(brain, key, done)
        return done


class Turn:
    """The decisions of one turn, over a snapshot of the session and one Brain."""

    def __init__(self, brain: Brain, session: Session, city_hint: str | None):
        self.d, self.kn, self.session = brain, brain.knowledge, session
        self.runner_up: Topic | None = None
        self.u: Understood | None = None         # the message being answered, once understood
        self.memo: dict = {}                     # topic scores of the pieces of this message, by text
        if city_hint and not session.home:
            self.session = session.evolve(home=city_hint)

    def run(self, text: str) -> tuple[Reply, Session]:
        if not text or not text.strip():
            return replies.empty_input(self.kn), self.session
        norm = normalize(text[:MAX_INPUT])
        if not _WORDS.search(norm):       # emoji or punctuation only: not a follow-up to the last answer
            return replies.unreadable_input(self.kn), self.session
        kind = smalltalk.classify(norm)
        if kind == "reset":
            return self._smalltalk(kind), Session()
        if kind:
            return self._smalltalk(kind), self.session
        return self._question(understand(text[:MAX_INPUT], self.d.gazetteer, self.d.spelling))

    def _smalltalk(self, kind: str) -> Reply:
        text = smalltalk.reply(kind, self.kn.answered_cities)
        return Reply(text, None, None, 1.0, (), self._popular(self.session.home), "smalltalk")

    def _question(self, u: Understood) -> tuple[Reply, Session]:
        self.u = u
        if u.declares_home:
            self.session = self.session.evolve(home=u.city)
        if not u.names_topic:
            return self._city_only(u)
        city = self._city_for(u)
        if u.city:                       # a city the user names is remembered, whatever comes of the question
            self.session = self.session.evolve(city=u.city)
        ranked, leaned = self._ranked(u, city)
        choice = self._choose(ranked, city)
        if choice is None:
            return self._unmatched(u, city)
        if self._continues(u, choice, leaned):
            city = self.session.city
        return self._topic_reply(self.kn.by_id[choice.topic], choice.score, u, city)

    def _continues(self, u: Understood, choice: Match, leaned: bool) -> bool:
        """"目前已经整治好多少座了" after "驻马店窨井盖整治是怎么搞的": a question that names no place and
        leans on the one before, or stays on the topic just answered, is about the same city."""
        if u.city or u.other or not self.session.city or self.session.pending:
            return False
        return leaned or choice.topic == self.session.topic

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
            if topic and u.city not in topic.answers:     # another name in that city's briefing?
                topic = sibling(self.d.matcher, self.kn, topic, u.city, self.session.last_text) or topic
            if topic:
                return self._for_city(topic, u.city, 1.0, self.session.last_text)
            suggestions = self._popular(u.city)
            return replies.ask_city_topic(u.city, suggestions), self.session.evolve(city=u.city, pending=None)
        if u.other:
            return replies.refuse_other_place(self.kn, u.other, None, 0.0), self.session
        return replies.fallback(self.kn, self._popular(self.session.home)), self.session

    def _ranked(self, u: Understood, city: str | None) -> tuple[list[Match], bool]:
        """Topics for this message, and whether it leans on the question before it: an elliptical one
        ("居民呢"), or one that finds no topic by itself ("目前已经整治好多少座了"), is read with it."""
        ranked = self._read(u, city)
        # An unsure reading of a message that names no place may be a sub-aspect of the topic just
        # discussed ("已经完成多少件了"): it is read with the previous question too, and leans on it
        # only if that reading is better.
        unsure = not ranked or ranked[0].score < MATCH_MIN or (ranked[0].score < SURE and not u.city)
        leaning = self.session.last_text and (u.elliptical or unsure)
        if not leaning:
            return ranked, False
        follow = city if (u.city or u.other) else (self.session.city or city)
        combined = self.d.matcher.rank(self.session.last_text + u.asked, follow)
        if not combined or (not u.elliptical and ranked and ranked[0].score >= combined[0].score):
            return ranked, False
        # The previous question supplies the subject, this one what changes: "职工…起付线" + "居民呢"
        # must land on the 居民 topic, so a candidate of the same subject area is also judged by the new
        # words alone. Other areas are not: "以前呢" alone fits any before-and-after topic.
        previous = self.kn.topic(self.session.topic)
        area = previous.category if previous else None
        alone = {m.topic: m.score for m in ranked if self.kn.by_id[m.topic].category == area}
        rescored = [Match(m.topic, (m.score + alone.get(m.topic, 0.0)) / 2) for m in combined]
        top = max(rescored, key=lambda m: m.score)
        return [Match(top.topic, combined[0].score)] + [m for m in combined if m.topic != top.topic], True

    def _read(self, u: Understood, city: str | None) -> list[Match]:
        return self.d.matcher.rank_readings(u.readings, city, self.memo)

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
            return replies.refuse_other_place(self.kn, u.other, topic, score), self.session.evolve(topic=topic.id)
        if city:
            return self._for_city(topic, city, score, u.asked)
        if len(topic.answers) == 1:
            return self._for_city(topic, topic.cities()[0], score, u.asked, remember_city=False)
        session = self.session.evolve(pending=topic.id, topic=topic.id, last_text=u.asked)
        return replies.clarify_city(topic, score), session

    def _for_city(self, topic: Topic, city: str, score: float, text: str | None,
                  remember_city: bool = True) -> tuple[Reply, Session]:
        session = self.session.evolve(topic=topic.id, pending=None, last_text=text,
                                      city=city if remember_city else self.session.city)
        if city not in topic.answers:
            return replies.refuse_city(topic, city, score), session
        asked = self._also(topic, city, self.u) if self.u else (topic,)
        return replies.answer(self.kn, asked, city, score, self._related(topic, city)), session

    def _also(self, topic: Topic, city: str, u: Understood) -> tuple[Topic, ...]:
        """Topics of the other questions in a message that asked several things (see PART_MIN), with the
        main topic among them, in the order they were asked."""
        found: list[Topic] = []
        for part in u.parts:
            # the whole message is each part's context: "心脏支架以前多少钱 集采后多少钱" asks both
            # parts about 心脏支架
            scores = {m.topic: m.score for m in self.d.matcher.rank(part, city, story=u.text, memo=self.memo)}
            best = next((self.kn.by_id[t] for t in scores if city in self.kn.by_id[t].answers), None)
            if best is None or best in found:
                continue
            if best.id == topic.id:
                found.append(topic)
            elif self._kin(topic, best) \
                    and scores[best.id] >= max(PART_MIN, scores.get(topic.id, 0.0) + PART_LEAD):
                found.append(best)
        if topic not in found:
            found.insert(0, topic)
        return tuple(found)

    @staticmethod
    def _kin(a: Topic, b: Topic) -> bool:
        return a.category == b.category or b.id in a.related or a.id in b.related

    def _unmatched(self, u: Understood, city: str | None) -> tuple[Reply, Session]:
        if u.other and not u.city:
            return replies.refuse_other_place(self.kn, u.other, None, 0.0), self.session
        if city:
            found = self.d.passages.best(u.asked, city)
            if found and found[1] >= PASSAGE_MIN:
                return replies.excerpt(self.kn, *found), self.session.evolve(pending=None)
        return replies.fallback(self.kn, self._popular(city)), self.session

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
