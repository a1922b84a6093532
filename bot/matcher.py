"""Question -> ranked topics with a confidence, and an explicit "no match".

Each example question is a document of its topic; each city's answer (text and quotes) is a document of
that topic for that city, so a question worded like the briefing still finds its topic.
"""
from __future__ import annotations

from dataclasses import dataclass

from .index import TfIdfIndex
from .knowledge import Knowledge
from .text import normalize
from .tokens import Tokenizer

# An answer document is written in the briefing's register, not the citizen's: trust it a little less.
ANSWER_DOC_WEIGHT = 0.85
# A topic that has an answer for the asked city wins close calls against one that does not.
CITY_BONUS = 0.04


@dataclass(frozen=True)
class Match:
    topic: str
    score: float


class Matcher:
    def __init__(self, knowledge: Knowledge, tokenizer: Tokenizer):
        self._kn = knowledge
        self._tok = tokenizer
        self._index = TfIdfIndex()
        for topic in knowledge.topics:
            for example in (topic.title, *topic.examples):
                self._index.add((topic.id, None, 1.0), tokenizer.features(normalize(example)))
            for city, ans in topic.answers.items():
                text = normalize(" ".join((topic.title, *topic.keywords, ans.text)))
                self._index.add((topic.id, city, ANSWER_DOC_WEIGHT), tokenizer.features(text))
        self._index.build()

    def rank(self, text: str, city: str | None = None, limit: int = 5) -> list[Match]:
        """Topics for an already normalised, place-stripped text, best first."""
        feats = self._tok.features(text)
        if not feats:
            return []
        keep = None if city is None else (lambda key: key[1] in (None, city))
        best: dict[str, float] = {}
        for (topic_id, _, weight), cos in self._index.query(feats, keep):
            best[topic_id] = max(best.get(topic_id, 0.0), cos * weight)
        if city:
            for topic_id in best:
                if city in self._kn.by_id[topic_id].answers:
                    best[topic_id] += CITY_BONUS
        ranked = sorted(best.items(), key=lambda kv: kv[1], reverse=True)[:limit]
        return [Match(t, min(s, 1.0)) for t, s in ranked]
