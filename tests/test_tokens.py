"""The tokenizer's lexicons that replace pypinyin and jieba.posseg at run time give exactly their answers."""
from __future__ import annotations

import pytest

from bot.understanding.tokens import Tokenizer, syllable


def test_syllable_is_lazy_pinyin_over_the_whole_basic_plane():
    from pypinyin import lazy_pinyin
    points = [p for p in range(0x10000) if not 0xD800 <= p <= 0xDFFF]
    points += [0x20000, 0x2A6D6, 0x30000, 0x1F600]          # a few beyond it: ext. B, ext. G, an emoji
    wrong = [(hex(p), syllable(chr(p)), lazy_pinyin(chr(p))[0]) for p in points
             if syllable(chr(p)) != lazy_pinyin(chr(p))[0]]
    assert wrong == []


def test_syllable_samples():
    assert [syllable(c) for c in "社保绿女a1 "] == ["she", "bao", "lv", "nv", "a", "1", " "]


@pytest.fixture(scope="module")
def tokenizer() -> Tokenizer:
    return Tokenizer(["健身房", "配送车", "代办员"])


def test_names_a_thing_is_what_posseg_said(tokenizer):
    from jieba import posseg

    def said(word: str) -> bool:           # names_a_thing as it was, with jieba.posseg
        tag = posseg.dt.word_tag_tab.get(word)
        return tag.startswith("n") if tag else tokenizer.is_word(word)
    words = [*posseg.dt.word_tag_tab, "健身房", "配送车", "代办员", "代了", "转给", "护照", "", "x"]
    assert [w for w in words if tokenizer.names_a_thing(w) != said(w)] == []
    assert tokenizer.names_a_thing("护照") and not tokenizer.names_a_thing("拿出")


def test_segmentation_is_jiebas_over_every_text_the_bot_knows_and_is_asked(brain):
    import jieba
    import yaml

    from bot.settings import ROOT
    from bot.understanding.passages import sentences
    from bot.understanding.text import normalize
    from bot.understanding.tokens import load_synonyms
    plain = jieba.Tokenizer()
    for word in [*brain.vocabulary, *load_synonyms()]:
        if len(word) > 1:
            plain.add_word(word, freq=2000)
    kn = brain.knowledge
    texts = [x for t in kn.topics for x in (t.title, *t.examples, *(a.text for a in t.answers.values()))]
    texts += [s for seed in kn.seeds.values() for s in sentences(seed)]
    texts += [line.strip() for f in (ROOT / "tests" / "data").glob("*.yaml")
              for line in yaml.safe_dump(yaml.safe_load(f.read_text(encoding="utf-8")), allow_unicode=True,
                                         width=10_000).splitlines()]
    texts += ["\ud800社保", "𠀀𠀁社保卡", "a b  c", "", "社宝卡怎么办理啊？？"]
    texts += [normalize(t) for t in texts]
    assert len(texts) > 8000
    assert [t for t in texts if brain.tokenizer.cut(t) != plain.lcut(t)] == []


def test_a_lone_surrogate_in_a_question_is_matched_like_any_character(brain):
    from bot.understanding.index import feature_hash
    from bot.understanding.text import normalize
    assert feature_hash("b:\ud800社") == feature_hash("b:\ud800社") != feature_hash("b:社")
    assert brain.matcher.rank(normalize("社保卡\ud800怎么办"))
