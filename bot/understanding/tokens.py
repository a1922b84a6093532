"""Features of a normalised text: words (jieba with a knowledge-built dictionary), character bigrams,
and pinyin bigrams, which make 社宝卡 look like 社保卡 and 公交車 like 公交车."""
from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

import jieba

from bot.understanding.segmenter import Segmenter
from bot.understanding.segmenter import key as segment_key

jieba.setLogLevel(logging.WARNING)

# Particles and politeness that carry no topic.
_STOP_WORDS = frozenset(["的", "了", "吗", "呢", "啊", "吧", "呀", "嘛", "哦", "哈", "呗", "么", "请问", "请", "问", "问一下", "一下", "想", "想问", "我想", "我想问", "你好", "您好", "告诉", "我", "我们", "咱", "咱们", "你", "您", "那", "那么", "那个", "这个", "就", "都", "还", "也", "又", "是", "在",
                         "就是", "然后", "还是", "俺", "俺们", "大家", "麻烦", "帮", "帮我", "给我", "说说",
                         "说一下", "讲讲", "看看", "一个", "有个"])
_STOP_CHARS = frozenset("的了吗呢啊吧呀嘛哦哈呗么")
# How people ask, not what they ask about. Colloquial forms (咋样, 搞得) are rare in the knowledge, so
# IDF would call them distinctive; they keep a small fixed weight as words and are cut out of the
# character and pinyin bigrams, which are meant for content.
_QUESTION_FORMS = re.compile(
    "怎么样|咋样|怎样|如何|怎么|咋|搞得|弄得|做得|情况|进展|多少|几个|几家|几所|几次|几天|多久|多长时间|多大|多远|"
    "什么|啥|哪些|哪里|哪儿|在哪|哪|能不能|可不可以|可以|有没有|是不是|是否|了没有|了没|没有|现在|目前|今年|"
    "到底|具体|一般|大概|都有|一共|总共|请问|一下|知道|了解|想问|告诉我|是")
# A figure the citizen mentions ("50岁", "2个") is about their case, not about which topic they mean.
_FIGURE = re.compile(r"^[\d.]+[^\d]?$")
WORD, BIGRAM, PINYIN, FORM = 1.0, 0.6, 0.5, 0.5


_PINYIN_FILE = Path(__file__).with_name("data") / "pinyin.txt"


def syllable(char: str) -> str:
    """The character's first reading without tones (ü as v), as pypinyin's lazy_pinyin gives it; any
    other character unchanged."""
    # Character by character: the same on both sides of a comparison, and a table lookup, which
    # whole-phrase conversion is not; a polyphone's reading matters less here than speed.
    return _readings().get(char, char)


@lru_cache(maxsize=1)
def _readings() -> dict[str, str]:
    # A table made from pypinyin (scripts/make_pinyin_table.py): importing pypinyin cost 0.2-0.4 s
    # and 50 MB per process, for its phrase dictionaries, which one character never needs.
    lines = _PINYIN_FILE.read_text(encoding="utf-8").splitlines()
    return {char: reading for reading, chars in (line.split(" ") for line in lines if not line.startswith("#"))
            for char in chars}


def general_non_nouns(dictionary: Path | None = None) -> frozenset[str]:
    """The words jieba's general dictionary tags as anything but a noun (its 3rd column not n*)."""
    # What jieba.posseg's word_tag_tab says, read without importing posseg: its HMM tables cost
    # 0.2-0.4 s and 50 MB per process, and only these tags are used. Nouns are the larger share
    # (230k of 349k words) and every one of them is a word of the tokenizer, so only the others are kept.
    dictionary = dictionary or Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME)
    non_nouns: set[str] = set()
    with dictionary.open(encoding="utf-8") as lines:
        for line in lines:
            word, _, tag = line.strip().rpartition(" ")
            word = word.partition(" ")[0]
            if tag.startswith("n"):
                non_nouns.discard(word)      # the last line of a word wins, as in posseg
            elif word:
                non_nouns.add(word)
    return frozenset(non_nouns)


_SYNONYMS_FILE = Path(__file__).with_name("data") / "synonyms.txt"


def load_synonyms(path: Path = _SYNONYMS_FILE) -> dict[str, str]:
    """word -> the first word of its group in data/synonyms.txt."""
    groups = [line.split() for line in path.read_text(encoding="utf-8").splitlines()
              if line.strip() and not line.startswith("#")]
    return {word: group[0] for group in groups for word in group}


# Enough for every text of the real knowledge (about 6,000 with the briefings' sentences); a province's
# knowledge cannot be held anyway, and 32k entries of Counters were 100 MB there.
FEATURES_MEMO = 8192


class Tokenizer:
    def __init__(self, vocabulary: Iterable[str] = (), synonyms: dict[str, str] | None = None):
        plain = jieba.Tokenizer()
        plain.initialize()
        self._synonyms = load_synonyms() if synonyms is None else synonyms
        for word in [*vocabulary, *self._synonyms]:
            if len(word) > 1:
                plain.add_word(word, freq=2000)
        # The same dictionary in 17 MB less (segmenter.py), and the non-nouns as its very keys, not
        # copies: 10 MB less, here and in a stored Brain.
        self._jieba, self._non_nouns = Segmenter.of(plain, general_non_nouns())
        self._memos()

    def _memos(self) -> None:
        # A new knowledge version re-reads thousands of unchanged texts: features are remembered, so a
        # Brain built with this tokenizer's vocabulary again costs little (bounded; copies handed out).
        self._features = lru_cache(maxsize=FEATURES_MEMO)(self._count_features)
        self._words = lru_cache(maxsize=FEATURES_MEMO)(self._cut_words)

    def __getstate__(self) -> dict:
        # For a Brain stored on disk: the memos start empty again (they only speed up rebuilds).
        return {k: v for k, v in self.__dict__.items() if k not in ("_features", "_words")}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self._memos()

    def is_word(self, text: str) -> bool:
        """Whether jieba's dictionary (with the knowledge's words) holds `text` as a word."""
        return bool(self._jieba.freq(text))

    def cut(self, text: str) -> list[str]:
        return self._jieba.lcut(text)

    def words(self, text: str) -> list[str]:
        return list(self._words(text))

    def _cut_words(self, text: str) -> tuple[str, ...]:
        return tuple(w for w in self._jieba.lcut(text) if w.strip() and w not in _STOP_WORDS)

    def names_a_thing(self, word: str) -> bool:
        """Whether a word is a noun by jieba's general dictionary, or a term the knowledge added to it:
        护照, 健身房, 配送车, but not 拿出, 转给, 几种, nor a stray segment such as 代了."""
        return segment_key(word) not in self._non_nouns and self.is_word(word)

    def synonym(self, word: str) -> str | None:
        """The first word of `word`'s synonym group, if it has one."""
        return self._synonyms.get(word)

    def content_words(self, text: str) -> list[str]:
        """The words of a question that say what it is about (no particles, no question forms)."""
        # Question forms are cut out before segmenting: left in, "一共建了几个" segments as 一/共建.
        # Single characters (说, 个) are too common to show whether a topic explains the question.
        return [w for part in _QUESTION_FORMS.split(text) for w in self.words(part)
                if len(w) > 1 and not _FIGURE.match(w)]

    def features(self, text: str) -> Counter:
        """Weighted feature counts of an already normalised text."""
        return Counter(self._features(text))

    def _count_features(self, text: str) -> Counter:
        feats: Counter = Counter()
        for w in self.words(text):
            feats["w:" + w] += FORM if _QUESTION_FORMS.fullmatch(w) else WORD
            if w in self._synonyms:             # 大夫 and 村医 meet at 医生
                feats["s:" + self._synonyms[w]] += WORD
        for part in _QUESTION_FORMS.split(text):
            chars = [c for c in part if c not in _STOP_CHARS]
            for a, b in pairwise(chars):
                feats["b:" + a + b] += BIGRAM
            syllables = [syllable(c) for c in chars]
            for a, b in pairwise(syllables):
                feats["p:" + a + b] += PINYIN
            if len(chars) == 1:
                feats["b:" + chars[0]] += BIGRAM
        return feats
