"""The read-only Brain: everything answering needs, built from one knowledge version."""
from __future__ import annotations

from dataclasses import dataclass

from bot.knowledge.schema import CITIES, Knowledge
from bot.understanding.matcher import Matcher
from bot.understanding.passages import PassageSearch
from bot.understanding.places import Gazetteer
from bot.understanding.spelling import SoundAlike
from bot.understanding.text import normalize
from bot.understanding.tokens import Tokenizer


@dataclass(frozen=True)
class Brain:
    """Everything read-only that answering needs, built once from the knowledge."""
    knowledge: Knowledge
    matcher: Matcher
    passages: PassageSearch
    gazetteer: Gazetteer
    spelling: SoundAlike


def build_brain(kn: Knowledge) -> Brain:
    """A few seconds of CPU for the whole knowledge: run it off the event loop (asyncio.to_thread)."""
    gazetteer = Gazetteer(kn)
    vocabulary = [w for t in kn.topics for w in (t.title, *t.keywords)] + list(gazetteer.place_names())
    tokenizer = Tokenizer(vocabulary)
    spelling = SoundAlike(_knowledge_words(kn, tokenizer) + vocabulary + list(CITIES), tokenizer.is_word,
                          tokenizer.cut)
    return Brain(kn, Matcher(kn, tokenizer), PassageSearch(kn, tokenizer), gazetteer, spelling)


def _knowledge_words(kn: Knowledge, tokenizer: Tokenizer) -> list[str]:
    texts = [text for t in kn.topics for text in (*t.examples, *(a.text for a in t.answers.values()))]
    return [w for text in texts for w in tokenizer.words(normalize(text))]
