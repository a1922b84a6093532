"""The long tail: when no curated topic fits, a sentence of the asked city's own briefing may answer,
shown as a labelled excerpt. A sentence that holds a lost figure is never shown."""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.knowledge.check import gap_holes
from bot.knowledge.schema import Knowledge, Seed
from bot.understanding.index import CoverageIndex
from bot.understanding.text import normalize
from bot.understanding.tokens import Tokenizer

_SENTENCE_END = re.compile(r"(?<=[。！？!?；;\n])")
# Shapes of a figure lost in transcription beyond the listed gaps: a unit with no number before it.
_LOST_FIGURE = re.compile(r"(?:^|[^\d０-９.零一二三四五六七八九十百千万亿两几多余半])(?:%|万元|元/|公里|\.\d)"
                          r"|(?:达到|提高至|降到|约|为|是|才|省|自|争)(?:元|%|年|万元|件|名|人|个|家|户|项|套|种|多元)"
                          r"|(?:^|[,，、;；(（])(?:个|家|项|名|户|套|种)[^\d]")
MIN_LEN, MAX_LEN = 12, 160


@dataclass(frozen=True)
class Passage:
    seed: str
    city: str
    text: str


def sentences(seed: Seed) -> list[str]:
    """The briefing's sentences that are whole: long enough to say something, without a lost figure."""
    holes, out, offset = gap_holes(seed), [], 0
    for raw in _SENTENCE_END.split(seed.text):
        start, offset = offset, offset + len(raw)
        s = raw.strip()
        if not MIN_LEN <= len(s) <= MAX_LEN or any(start < h < offset for h in holes):
            continue
        if _LOST_FIGURE.search(s):
            continue
        out.append(s)
    return out


class PassageSearch:
    def __init__(self, knowledge: Knowledge, tokenizer: Tokenizer):
        self._tok = tokenizer
        self._passages: list[Passage] = []
        # Coverage, not cosine: a briefing sentence is long and the question short; what matters is how
        # much of the question the sentence speaks to.
        self._index = CoverageIndex()
        for seed in knowledge.seeds.values():
            for s in sentences(seed):
                self._index.add(len(self._passages), tokenizer.features(normalize(s)))
                self._passages.append(Passage(seed.file, seed.city, s))
        self._index.build()

    def best(self, text: str, city: str) -> tuple[Passage, float] | None:
        """The best sentence of `city`'s briefing for a normalised, place-stripped question."""
        feats = self._tok.features(text)
        hits = self._index.query(feats, lambda i: self._passages[i].city == city)
        top = max(hits, key=lambda kv: kv[1], default=None)
        return None if top is None else (self._passages[top[0]], top[1])
