"""Question -> ranked topics with a confidence, and an explicit "no match".

Each example question is a document of its topic; each city's answer (text and quotes) is a document of
that topic for that city, so a question worded like the briefing still finds its topic.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz import fuzz

from bot.knowledge.schema import Knowledge
from bot.understanding.index import CoverageIndex, TfIdfIndex, positions, run_starts
from bot.understanding.text import normalize
from bot.understanding.tokens import Tokenizer

# An answer document is written in the briefing's register, not the citizen's: trust it a little less.
ANSWER_DOC_WEIGHT = 0.85
# A topic that has an answer for the asked city wins close calls against one that does not.
CITY_BONUS = 0.04
# The best single document says how closely the question is worded like one; the topic's coverage (its
# whole vocabulary: examples, keywords, answer) says whether the question's distinctive words belong to
# the topic at all. "心脏支架集采后便宜了多少" is worded like a 波立维 example but only the stent topic has
# 心脏支架; "普查了多少个窨井" is worded like no example but the manhole answer has 普查 and 窨井.
TOPIC_SHARE = 0.5
# Only a shortlist is compared character by character, so the cost stays flat as the knowledge grows.
RERANK = 12
FUZZ_SHARE = 0.2
# Out-of-scope questions share a word or two with some topic ("护照怎么办理" with 医保电子凭证怎么办理):
# a topic whose vocabulary holds less than this IDF-weighted share of the question's content words
# is scored down in proportion.
CONTENT_COVER = 0.55
# The story around a question ("我在驻马店扫大街…这保险每人每年多少钱") names the topic as often as the
# question does, but it also talks of much else: it holds this share of a topic's score.
STORY_SHARE = 0.45
# ... and a topic must explain at least this share of the question's own content words, however well it
# explains the story (lower than CONTENT_COVER: a short question often leans on the story for its subject).
FOCUS_COVER = 0.34
FOCUS_IDF = 4.5            # a word this rare (about 1 topic-city in 40 or fewer) names a thing distinctly
# A long story has a hundred features; its commonest ones walk the longest postings and say the least.
# Only this many of its most distinctive features are looked up (a typed question has far fewer).
QUERY_FEATURES = 40


@lru_cache(maxsize=20_000)
def _in_order(word: str) -> re.Pattern:
    """A word's characters in order, at most one other between each (公车 in 公交车)."""
    return re.compile(".?".join(map(re.escape, word)))


@dataclass(frozen=True)
class Reading:
    """One way to read a message: the text to match, the story around it (context at STORY_SHARE), and
    the question a topic must explain as well (see `Matcher.rank`)."""
    text: str
    story: str = ""
    focus: str = ""
    marked: bool = False      # the question was introduced as one: 想问下, 请问, 我想知道


@dataclass(frozen=True)
class Match:
    topic: str
    score: float


class Matcher:
    def __init__(self, knowledge: Knowledge, tokenizer: Tokenizer):
        self._tok = tokenizer
        self._index, self._coverage = TfIdfIndex(), CoverageIndex()
        self._topic_ids = [t.id for t in knowledge.topics]
        self._examples = {t.id: tuple(normalize(e) for e in (t.title, *t.examples)) for t in knowledge.topics}
        self._synonyms: dict[str, frozenset[str]] = {}     # the synonym groups a topic's words belong to
        self._texts: dict[str, str] = {}        # everything a topic says, to find words segmented otherwise
        for topic in knowledge.topics:
            vocabulary = Counter()
            for example in (topic.title, *topic.examples):
                feats = tokenizer.features(normalize(example))
                vocabulary.update(feats)
                self._index.add((topic.id, None, 1.0), feats)
            vocabulary.update(tokenizer.features(normalize(" ".join(topic.keywords))))
            for city, ans in topic.answers.items():
                feats = tokenizer.features(normalize(" ".join((topic.title, *topic.keywords, ans.text))))
                self._index.add((topic.id, city, ANSWER_DOC_WEIGHT), feats)
                self._coverage.add((topic.id, city), vocabulary + feats)
                vocabulary.update(feats)
            self._synonyms[topic.id] = frozenset(f for f in vocabulary if f.startswith("s:"))
            self._texts[topic.id] = "|".join((*self._examples[topic.id], *topic.keywords,
                                              *(normalize(a.text) for a in topic.answers.values())))
        self._index.build()
        self._coverage.build()
        cities = _Cities(knowledge)
        self._docs = _DocTable(self._index.keys, self._topic_ids, cities)
        self._cover_docs = _DocTable([(t, c, 1.0) for t, c in self._coverage.keys], self._topic_ids, cities)

    def rank_readings(self, readings: Iterable[Reading], city: str | None = None,
                      memo: dict | None = None) -> list[Match]:
        """Topics for several (question, story) readings of one message, each topic at its best score:
        a reading can only add to what the others find. `memo` keeps the pieces' scores for reuse; it
        holds one city's scores only."""
        best: dict[str, float] = {}
        memo = {} if memo is None else memo
        for r in readings:
            for m in self.rank(r.text, city, story=r.story, memo=memo, focus=r.focus, marked=r.marked):
                best[m.topic] = max(best.get(m.topic, 0.0), m.score)
        return [Match(t, s) for t, s in sorted(best.items(), key=lambda kv: kv[1], reverse=True)]

    def rank(self, text: str, city: str | None = None, limit: int = 5, story: str = "",
             memo: dict | None = None, focus: str = "", marked: bool = False
             ) -> list[Match]:
        """Topics for an already normalised, place-stripped question, best first.

        A topic the asked city has is scored on its examples and that city's answer; a topic it lacks is
        scored on everything it has, so "寿光社保卡多久能拿到" still clearly finds 驻马店's social-security
        card topic, and the dialogue can say honestly that 寿光's briefing has nothing on it.

        `story` is the rest of a long message: it lends its topic cues at STORY_SHARE of the score, and
        the question alone must be explained by the topic (a story cannot carry a topic in by itself).
        `focus` is the question of a long message: a topic must also explain FOCUS_COVER of the distinct
        things it names ("…课后服务挺好的，问问护照怎么办理" is about 护照, whatever the story says), or
        of all its content words when the citizen marked it as the question ("想问下驾照到期了怎么换")."""
        memo = {} if memo is None else memo     # readings of one message share their pieces
        for piece in (text, story):
            if piece and piece not in memo:
                memo[piece] = self._scores(piece, city)
        topics, scores = memo.get(text, _NOTHING)
        if story:
            told, told_scores = memo[story]
            union = _union(topics, told)
            scores = ((1 - STORY_SHARE) * _aligned(union, topics, scores)
                      + STORY_SHARE * _aligned(union, told, told_scores))
            topics = union
        if not len(topics):
            return []
        words = self._weighed(self._tok.content_words(text))
        focus_words = []
        if focus and focus != text:
            focus_words = self._weighed(self._tok.content_words(focus) if marked else self._things(focus))
        ranked = sorted(((t, self._rerank(text, words, t, s, focus_words)) for t, s in self._shortlist(topics, scores)),
                        key=lambda kv: kv[1], reverse=True)
        return [Match(t, min(s, 1.0)) for t, s in ranked[:limit]]

    def _shortlist(self, topics: np.ndarray, scores: np.ndarray) -> list[tuple[str, float]]:
        """The RERANK best (topic id, score), best first; ties go to the topic listed first."""
        if len(topics) > RERANK:
            top = np.argpartition(-scores, RERANK - 1)[:RERANK]
            topics, scores = topics[top], scores[top]
        order = np.lexsort((topics, -scores))
        ids = self._topic_ids
        return [(ids[t], s) for t, s in zip(topics[order].tolist(), scores[order].tolist())]

    def _scores(self, text: str, city: str | None) -> tuple[np.ndarray, np.ndarray]:
        """(topics, scores): each topic sharing a feature with `text` (ascending topic positions), its
        best document's cosine blended with its coverage."""
        feats = self._tok.features(text)
        if not feats:
            return _NOTHING
        if len(feats) > QUERY_FEATURES:
            names = list(feats)
            weight = np.fromiter(feats.values(), dtype=np.float64, count=len(names)) * self._index.idfs(names)
            top = sorted(range(len(names)), key=lambda i: weight[i], reverse=True)[:QUERY_FEATURES]
            feats = Counter({names[i]: feats[names[i]] for i in top})
        # A document counts if it is an example, or the answer of a city the question may be about: the
        # asked city when the topic has it, else any of the topic's cities.
        docs, cosines = self._index.query(feats)
        usable = self._docs.usable(docs, city)
        docs = docs[usable]
        touched, best = self._docs.best_per_topic(docs, cosines[usable] * self._docs.weight[docs])
        cdocs, shares = self._coverage.shares(feats)
        usable = self._cover_docs.usable(cdocs, city)
        covered, cover = self._cover_docs.best_per_topic(cdocs[usable], shares[usable])
        blended = ((1 - TOPIC_SHARE) * best + TOPIC_SHARE * _aligned(touched, covered, cover)
                   + CITY_BONUS * self._docs.has_city(city)[touched])
        return touched, blended

    def _things(self, question: str) -> list[str]:
        """The distinctive things a question names (护照 in "想问问护照怎么办理"): nouns of high IDF. Verbs
        ("拿出了多少钱") and common nouns (部门) say too little about the topic to rule one out."""
        return [w for w in self._tok.content_words(question)
                if self._tok.names_a_thing(w) and self._coverage.idf("w:" + w) >= FOCUS_IDF]

    def _rerank(self, text: str, words: list[tuple[str, float]], topic_id: str, score: float,
                focus_words: list[tuple[str, float]]) -> float:
        """Blend in edit-distance likeness to the topic's closest example: the index sees shared pieces,
        this sees the whole question in order ("社保卡多久能拿到" against "社保卡多久能拿到手"); then
        scale down a topic that leaves much of the question's content unexplained."""
        likeness = max(fuzz.ratio(text, e) for e in self._examples[topic_id]) / 100
        blended = (1 - FUZZ_SHARE) * score + FUZZ_SHARE * likeness
        blended *= min(1.0, self._content_cover(words, topic_id) / CONTENT_COVER)
        if focus_words:
            blended *= min(1.0, self._content_cover(focus_words, topic_id) / FOCUS_COVER)
        return blended

    def _weighed(self, words: list[str]) -> list[tuple[str, float]]:
        """Content words with their IDF, looked up once for all the shortlist's topics."""
        return list(zip(words, self._coverage.idfs(["w:" + w for w in words]).tolist())) if words else []

    def _content_cover(self, words: list[tuple[str, float]], topic_id: str) -> float:
        if not words:
            return 1.0
        covered = sum(wt for w, wt in words if self._explains(w, topic_id))
        return covered / (sum(wt for _, wt in words) or 1.0)

    def _explains(self, word: str, topic_id: str) -> bool:
        """A topic accounts for a word it says (窨井 inside 窨井盖 too), for a contraction of what it says
        (公车 for 公交车, 社保 for 社会保障: the characters in order, at most one between), or for a
        synonym."""
        synonym = self._tok.synonym(word)
        if synonym is not None and "s:" + synonym in self._synonyms[topic_id]:
            return True
        return _in_order(word).search(self._texts[topic_id]) is not None


class _Cities:
    """Per city, which topics (by position) have an answer for it."""

    def __init__(self, kn: Knowledge):
        self.code = {c: i for i, c in enumerate(dict.fromkeys(c for t in kn.topics for c in t.answers))}
        self._has = np.zeros((len(self.code), len(kn.topics)), dtype=bool)
        for i, t in enumerate(kn.topics):
            for c in t.answers:
                self._has[self.code[c], i] = True
        self._none = np.zeros(len(kn.topics), dtype=bool)

    def of(self, city: str | None) -> int | None:
        return self.code.get(city) if city else None

    def topics_with(self, code: int | None) -> np.ndarray:
        """Per topic: whether it has an answer for the city (none for an unknown one)."""
        return self._none if code is None else self._has[code]


class _DocTable:
    """Per document, as arrays: its topic, its city (-1 for an example) and its weight. Filtering and
    taking the best document of each topic are then array operations over the documents a query
    touched."""

    def __init__(self, keys: list[tuple[str, str | None, float]], topic_ids: list[str], cities: _Cities):
        position = {t: i for i, t in enumerate(topic_ids)}
        self._cities = cities
        self.topic = np.array([position[t] for t, _, _ in keys], dtype=np.int32)
        self.city = np.array([cities.code[c] if c else -1 for _, c, _ in keys], dtype=np.int32)
        self.weight = np.array([w for _, _, w in keys], dtype=np.float64)
        assert np.all(np.diff(self.topic) >= 0), "a topic's documents are added together"

    def has_city(self, city: str | None) -> np.ndarray:
        """Per topic: whether it has an answer for `city`."""
        return self._cities.topics_with(self._cities.of(city))

    def usable(self, docs: np.ndarray, city: str | None) -> np.ndarray:
        """An example; the asked city's answer; or any answer of a topic the asked city lacks."""
        c = self._cities.of(city)
        if c is None:
            return np.ones(len(docs), dtype=bool)
        doc_city = self.city[docs]
        return (doc_city == -1) | (doc_city == c) | ~self._cities.topics_with(c)[self.topic[docs]]

    def best_per_topic(self, docs: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(topics, each one's best score) over `docs` in ascending order. A topic's documents were added
        together, so ascending documents are grouped by topic and each group's maximum is one reduceat:
        the work follows the documents touched, not the number of topics."""
        topics = self.topic[docs]
        if not len(topics):
            return topics, scores[:0].astype(np.float64)
        starts = run_starts(topics)
        return topics[starts], np.maximum.reduceat(scores.astype(np.float64), starts)


_NOTHING = (np.zeros(0, dtype=np.int32), np.zeros(0))


def _union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Two ascending arrays of distinct topics merged (np.union1d hashes: 1 ms for 20,000 topics)."""
    both = np.concatenate((a, b))
    both.sort(kind="stable")                 # two ascending runs: a merge
    return both[run_starts(both)]


def _aligned(topics: np.ndarray, others: np.ndarray, values: np.ndarray) -> np.ndarray:
    """`values` (of the ascending `others`) for each of the ascending `topics`; 0 where absent."""
    at = positions(others, topics)
    return np.where(at >= 0, values[at], 0.0) if len(others) else np.zeros(len(topics))
