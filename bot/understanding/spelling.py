"""Homophone repair: 社宝卡 -> 社保卡, 医宝 -> 医保, 大并保险 -> 大病保险.

Citizens type with pinyin input methods and dictate by voice, so the typical error is a character that
sounds like the right one. A stretch of the question that is no word at all, but sounds like a word of
the knowledge, is taken to mean that word. Sounds are compared loosely (zh/z, ch/c, sh/s, n/l, in/ing,
en/eng, an/ang) because accents and voice recognition blur exactly those.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

from bot.understanding.tokens import syllable

_LOOSE = ((re.compile(r"^([zcs])h"), r"\1"), (re.compile(r"^n"), "l"), (re.compile(r"(in|en|an)g$"), r"\1"))
_HAN = re.compile(r"[\u4e00-\u9fff]")
WINDOWS = (4, 3, 2)
# Function characters are typed right far more often than they are mistyped, and a window holding one
# mostly straddles two words ("线是" sounds like 显示).
_FUNCTION_CHARS = frozenset("的了吗呢啊吧呀是在有能要和与或及我你他她它这那哪么几多少个吗就都还也又不没去来到给让被把从对")


def sound(word: str) -> str:
    parts = []
    for ch in word:
        s = syllable(ch)
        for rx, repl in _LOOSE:
            s = rx.sub(repl, s)
        parts.append(s)
    return "-".join(parts)


class SoundAlike:
    def __init__(self, vocabulary: Iterable[str], is_word: Callable[[str], bool],
                 cut: Callable[[str], list[str]]):
        counts = Counter(w for w in vocabulary if 2 <= len(w) <= 4 and all(_HAN.match(c) for c in w))
        self._known = set(counts)
        self._is_word, self._cut = is_word, cut
        self._by_sound: dict[str, str] = {}
        for word, _ in counts.most_common():           # the commoner spelling wins a shared sound
            self._by_sound.setdefault(sound(word), word)

    def repair(self, text: str) -> str:
        """`text` with every non-word stretch that sounds like a knowledge word replaced by that word."""
        bounds = self._boundaries(text)
        out, i = [], 0
        while i < len(text):
            for n in WINDOWS:
                piece = text[i:i + n]
                if len(piece) == n and self._replaceable(piece) and self._aligned(i, i + n, bounds):
                    word = self._by_sound.get(sound(piece))
                    if word:
                        out.append(word)
                        i += n
                        break
            else:
                out.append(text[i])
                i += 1
        return "".join(out)

    def _boundaries(self, text: str) -> set[int]:
        """Offsets a repair may start or end at: word boundaries, and anywhere inside a non-word (社宝卡)."""
        bounds, offset = {0}, 0
        for token in self._cut(text):
            if len(token) > 1 and not self._is_word(token):
                bounds.update(range(offset, offset + len(token)))
            offset += len(token)
            bounds.add(offset)
        return bounds

    @staticmethod
    def _aligned(start: int, end: int, bounds: set[int]) -> bool:
        return start in bounds and end in bounds

    def _replaceable(self, piece: str) -> bool:
        return (piece not in self._known and not self._is_word(piece)
                and all(_HAN.match(c) and c not in _FUNCTION_CHARS for c in piece))
