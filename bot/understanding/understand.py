"""understand(text) -> Understood: what one message says, before any topic is chosen.

Pure: the same message always reads the same way; the session is the dialogue's business.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.understanding.focus import find_focus
from bot.understanding.matcher import Reading
from bot.understanding.places import Gazetteer
from bot.understanding.spelling import SoundAlike
from bot.understanding.text import normalize, strip_greeting

# Words that carry no topic: "那定州呢", "我是寿光的", "我住在定州", "不对，是寿光".
_NO_TOPIC = re.compile(r"那么|那边|那里|这边|还有|的话|怎么样|如何|情况|我是|我在|我住在|住在|我来自|来自|我家在|本地|当地"
                       r"|不对|不是|错了|搞错|说错|弄错|我说的|我问的|我指的|应该|我是说"
                       r"|人|市|那|呢|的|吗|呀|啊|是|在|我")
_ELLIPSIS = re.compile(r"^(那|那么|还有|再问|另外|其中|这其中|里面|这里面)|呢$")
# "我是寿光的", "我住在定州", "俺在东侨开发区开厂": the user says where they live, which holds for every
# later question; a city merely named in a question holds only for its follow-ups.
_DECLARES_HOME = re.compile(r"(我|俺|我们|我家|咱)(是|在|住在|住|来自|家在|家住)|^(住在|来自)")
# "不对，是寿光", "我说的是宁德", "不是定州，是宁德": the city changes, the topic stays. The city meant is
# the one after the last 是.
_CORRECTION = re.compile(r"^(不对|不是|错了|搞错了|说错了|弄错了)|我(说|问|指)的是|我是说|应该是")


@dataclass(frozen=True)
class Understood:
    text: str                # the message: normalised, homophones repaired, city names removed
    question: str = ""       # its interrogative clause(s), in the same form; "" when it is all question
    story: str = ""          # the rest of a long message, in the same form
    lead: str = ""           # the story clause just before the question ("听说…建污水处理设施"), same form
    parts: tuple[str, ...] = ()   # the separate questions asked, when a message asks several
    city: str | None = None  # a briefing city named in this message
    other: str | None = None  # a place the briefings do not cover
    elliptical: bool = False  # "那困人次数呢", "居民呢": leans on the previous question
    declares_home: bool = False  # "我是寿光的"
    correction: bool = False  # "不对，是寿光": the previous topic, another city
    names_topic: bool = True  # False for "定州", "那驻马店呢", "我是寿光的": a city and nothing else
    marked: bool = False     # the question was introduced as one ("想问下…"): the story is only context

    @property
    def readings(self) -> tuple[Reading, ...]:
        """Ways to match the message: whole; for a long one also its question with the story as context,
        and with the story clause before it ("听说有…试点幼儿园，一共几所"). Each must also explain the
        question itself, not only the story."""
        if not self.story:
            return (Reading(self.text),)
        out = [Reading(self.text, "", self.question, self.marked), Reading(self.question, self.story)]
        if self.lead:
            out.append(Reading(self.lead + self.question, self.story, self.question, self.marked))
        return tuple(out)

    @property
    def asked(self) -> str:
        """What was asked, without the story: remembered for follow-ups, searched in the briefings."""
        return self.question or self.text


def understand(text: str, gazetteer: Gazetteer, spelling: SoundAlike) -> Understood:
    """Read one raw message (already cut to the length the bot reads)."""
    focus = find_focus(text, lambda clause: spelling.repair(strip_greeting(normalize(clause))))
    norm = focus.whole
    places = gazetteer.find(norm)
    correction = bool(_CORRECTION.search(norm))
    city = places.city
    if correction:
        city = gazetteer.find(norm.rsplit("是", 1)[-1]).city or city

    def strip(piece: str) -> str:
        return gazetteer.find(piece).stripped if piece else ""
    return Understood(
        text=places.stripped, question=strip(focus.question) if focus.story else "",
        story=strip(focus.story), lead=strip(focus.lead),
        parts=tuple(strip(p) for p in focus.parts) if len(focus.parts) > 1 else (),
        city=city, other=places.other, elliptical=bool(_ELLIPSIS.search(norm)),
        declares_home=bool(places.city and not correction and _DECLARES_HOME.search(norm)),
        correction=correction, names_topic=bool(_NO_TOPIC.sub("", places.stripped)), marked=focus.marked)
