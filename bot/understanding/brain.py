"""The read-only Brain: everything answering needs, built from one knowledge version."""
from __future__ import annotations

from dataclasses import dataclass

from bot import memory
from bot.knowledge.schema import Knowledge
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
    tokenizer: Tokenizer | None = None
    vocabulary: tuple[str, ...] = ()


def build_brain(kn: Knowledge, previous: Brain | None = None) -> Brain:
    """Seconds of CPU for the whole knowledge: run it off the event loop (asyncio.to_thread).

    Given the `previous` Brain, what the new knowledge leaves unchanged is reused: its tokenizer (and
    the features it remembers) when titles, keywords and places are the same, and the briefing search
    when the briefings are. A wording change is then built in a fraction of the time."""
    gazetteer = Gazetteer(kn)
    vocabulary = tuple([w for t in kn.topics for w in (t.title, *t.keywords)] + list(gazetteer.place_names()))
    same = previous is not None and previous.vocabulary == vocabulary and previous.tokenizer is not None
    tokenizer = previous.tokenizer if same else Tokenizer(vocabulary)
    same_seeds = same and previous.knowledge.seeds == kn.seeds
    passages = previous.passages if same_seeds else PassageSearch(kn, tokenizer)
    spelling = SoundAlike(_knowledge_words(kn, tokenizer) + list(vocabulary) + list(kn.cities), tokenizer.is_word,
                          tokenizer.cut)
    brain = Brain(kn, Matcher(kn, tokenizer), passages, gazetteer, spelling, tokenizer, vocabulary)
    memory.give_back()           # the build's temporaries
    return brain


def _knowledge_words(kn: Knowledge, tokenizer: Tokenizer) -> list[str]:
    texts = [text for t in kn.topics for text in (*t.examples, *(a.text for a in t.answers.values()))]
    return [w for text in texts for w in tokenizer.words(normalize(text))]
