"""One hit test: a question through the real turn logic on a given Brain, and why it matched."""
from __future__ import annotations

from rapidfuzz import fuzz, process

from bot.dialogue.turn import Dialogue
from bot.state.store import Session
from bot.understanding.text import normalize

RUNNERS_UP = 5


def hit(brain, text: str, city: str | None) -> dict:
    """The reply a citizen asking this first thing would get (the production turn, a fresh session), the
    topic's best-matching example question, and the matcher's other candidates with their scores."""
    reply, _ = Dialogue(brain, None).turn(text, Session(), city)
    kn = brain.knowledge
    topic = kn.topic(reply.topic) if reply.topic else None
    question = _without_cities(normalize(text), kn.cities)
    ranked = brain.matcher.rank(question, reply.city or city, limit=RUNNERS_UP + 1)
    return {"reply": reply.text, "topic": reply.topic, "topic_title": topic.title if topic else None,
            "city": reply.city, "kind": reply.kind, "score": round(reply.confidence, 3),
            "matched_example": _closest(question, topic) if topic else None,
            "runners_up": [{"topic": m.topic, "title": _title(kn, m.topic), "score": round(m.score, 3)}
                           for m in ranked if m.topic != reply.topic][:RUNNERS_UP],
            "sources": [{"seed": s.seed, "city": s.city, "quote": s.quote} for s in reply.sources]}


def _without_cities(text: str, cities: tuple[str, ...]) -> str:
    for city in cities:
        text = text.replace(city, "")
    return text


def _closest(question: str, topic) -> str | None:
    examples = [topic.title, *topic.examples]
    best = process.extractOne(question, [normalize(e) for e in examples], scorer=fuzz.ratio)
    return examples[best[2]] if best else None


def _title(kn, topic_id: str) -> str:
    topic = kn.topic(topic_id)
    return topic.title if topic else topic_id
