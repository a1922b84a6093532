"""Normalisation of citizen text: width, traditional -> simplified, numerals, punctuation.

Both the knowledge (examples, answers) and every incoming question go through `normalize`, so the
matcher only ever compares like with like.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import zhconv

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
           "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_BIG = {"万": 10_000, "亿": 100_000_000}
# A run of numerals is converted only where it is clearly a quantity: it has a unit character (十百千)
# or it is followed by a measure word. "一站式", "一起" stay as they are.
_MEASURE = "个岁年月日天号元块角人户所家次名件座辆台条公里米期批项场套倍万亿分秒小点周"
_NUMERAL_RUN = re.compile(r"[零〇一二两三四五六七八九十百千万亿]+")
_PUNCT = re.compile(r"[\s\u3000!-/:-@\[-`{-~，。、；：？！…—·“”‘’「」『』（）《》〈〉【】〔〕～￥]+")


@lru_cache(maxsize=32_768)
def to_simplified(text: str) -> str:
    """Full-width -> half-width (NFKC) and traditional -> simplified characters. Remembered: a pure
    function, and the slowest step of rebuilding the Brain for a new knowledge version."""
    return zhconv.convert(unicodedata.normalize("NFKC", text), "zh-cn")


def chinese_to_int(run: str) -> int | None:
    """Value of a Chinese numeral run such as 十二, 三百零五, 一万二千, 二零二一; None if malformed."""
    if all(c in _DIGITS for c in run):  # digit-by-digit form: 二零二一
        return int("".join(str(_DIGITS[c]) for c in run)) if len(run) > 1 else _DIGITS[run]
    total, section, digit = 0, 0, None
    for c in run:
        if c in _DIGITS:
            digit = _DIGITS[c]
        elif c in _UNITS:
            section += (1 if digit is None else digit) * _UNITS[c]
            digit = None
        elif c in _BIG:
            total = (total + section + (digit or 0)) * _BIG[c]
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0)


def _convert_run(match: re.Match) -> str:
    run, text, end = match.group(0), match.string, match.end()
    following = text[end:end + 1]
    quantity = any(c in _UNITS for c in run) or (following and following in _MEASURE) or len(run) > 1
    if not quantity or run in ("万", "亿"):
        return run
    # keep a trailing 万/亿 as a unit word ("3万人") rather than multiplying it out
    tail = ""
    while run and run[-1] in _BIG and len(run) > 1:
        tail, run = run[-1] + tail, run[:-1]
    value = chinese_to_int(run)
    return run + tail if value is None else f"{value}{tail}"


def arabic_numerals(text: str) -> str:
    """Rewrite Chinese numeral quantities as Arabic digits: 十二个工作日 -> 12个工作日."""
    return _NUMERAL_RUN.sub(_convert_run, text)


def strip_punctuation(text: str) -> str:
    return _PUNCT.sub("", text)


_GREETING_PREFIX = re.compile(r"^(你好|您好|哈喽|嗨|hello|hi|在吗|请问)+")


def strip_greeting(text: str) -> str:
    """"你好请问平泉公交多少钱" -> "平泉公交多少钱"."""
    return _GREETING_PREFIX.sub("", text)


def normalize(text: str) -> str:
    """Canonical form for matching: simplified, half-width, lower-case, Arabic numerals, no punctuation."""
    return strip_punctuation(arabic_numerals(to_simplified(text).lower()))
