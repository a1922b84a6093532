"""Features of a normalised text: words (jieba with a knowledge-built dictionary), character bigrams,
and pinyin bigrams, which make 社宝卡 look like 社保卡 and 公交車 like 公交车."""
from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import jieba
from pypinyin import lazy_pinyin

jieba.setLogLevel(logging.WARNING)

# Particles and politeness that carry no topic; question words stay (IDF already discounts them).
_STOP_WORDS = frozenset("的 了 吗 呢 啊 吧 呀 嘛 哦 哈 呗 么 请问 请 问 问一下 一下 想 想问 我想 我想问 你好 您好 "
                        "告诉 我 我们 咱 咱们 你 您 那 那么 那个 这个 就 都 还 也 又 是 在".split())
_STOP_CHARS = frozenset("的了吗呢啊吧呀嘛哦哈呗么")
WORD, BIGRAM, PINYIN = 1.0, 0.6, 0.5


@lru_cache(maxsize=20_000)
def _syllable(char: str) -> str:
    # Character by character: the same on both sides of a comparison, and cacheable, which whole-phrase
    # conversion is not; a polyphone's reading matters less here than speed.
    return lazy_pinyin(char)[0]


class Tokenizer:
    def __init__(self, vocabulary: Iterable[str] = ()):
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        for word in vocabulary:
            if len(word) > 1:
                self._jieba.add_word(word, freq=2000)

    def words(self, text: str) -> list[str]:
        return [w for w in self._jieba.lcut(text) if w.strip() and w not in _STOP_WORDS]

    def features(self, text: str) -> Counter:
        """Weighted feature counts of an already normalised text."""
        feats: Counter = Counter()
        for w in self.words(text):
            feats["w:" + w] += WORD
        chars = [c for c in text if c not in _STOP_CHARS]
        for a, b in zip(chars, chars[1:]):
            feats["b:" + a + b] += BIGRAM
        syllables = [_syllable(c) for c in chars]
        for a, b in zip(syllables, syllables[1:]):
            feats["p:" + a + b] += PINYIN
        if len(chars) == 1:
            feats["b:" + chars[0]] += BIGRAM
        return feats
