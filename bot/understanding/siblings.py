"""Sibling topics across cities: what one briefing calls 养老服务中心 another calls 街道综合养老服务中心.

When a citizen moves a question to another city ("那驻马店呢") and the topic just discussed has no answer
for it, the topic of that city's briefing that names the same thing is the honest answer; a refusal is
right only when there is none.
"""
from __future__ import annotations

from itertools import pairwise

from bot.knowledge.schema import Knowledge, Topic
from bot.understanding.matcher import Matcher
from bot.understanding.text import normalize

# A sibling must also fit the question as asked, for the new city, at least this well.
SIBLING_MIN = 0.45
# Share of the shorter title's character pairs that the other title must hold.
TITLE_OVERLAP = 0.6


def _pairs(text: str) -> set[str]:
    return {a + b for a, b in pairwise(normalize(text))}


def title_overlap(a: str, b: str) -> float:
    """How much of the shorter title the longer one holds, by character pairs (养老服务中心 in
    街道综合养老服务中心: 1.0)."""
    pa, pb = _pairs(a), _pairs(b)
    return len(pa & pb) / (min(len(pa), len(pb)) or 1)


def names_the_same(a: Topic, b: Topic) -> bool:
    """Two topics of one category that name the same thing: overlapping titles or a shared keyword."""
    if a.id == b.id or a.category != b.category:
        return False
    return title_overlap(a.title, b.title) >= TITLE_OVERLAP or bool(set(a.keywords) & set(b.keywords))


def sibling(matcher: Matcher, kn: Knowledge, topic: Topic, city: str, asked: str | None) -> Topic | None:
    """The topic `city`'s briefing has for what `topic` (which it lacks) is about, or None."""
    kin = {t.id: t for t in kn.topics if city in t.answers and names_the_same(topic, t)}
    if not kin:
        return None
    query = normalize((asked or "") + topic.title)
    fitting = [m for m in matcher.rank(query, city, limit=len(kin) + 12) if m.topic in kin]
    return kin[fitting[0].topic] if fitting and fitting[0].score >= SIBLING_MIN else None
